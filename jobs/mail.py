"""Mails of web requests: the delivery of one ``outgoing_mails`` row, and their reconciliation.

``backoffice.mail.services.queue_mail`` writes the row in the request's transaction and
enqueues :func:`deliver_mail` after the commit (or runs it inline with ``JOBS_INLINE``).
"""
import logging

from rq import get_current_job
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.mail import services
from backoffice.mail.models import MailStatus, OutgoingMail
from backoffice.models import utcnow
from jobs import TRANSIENT_ERRORS, periodic_job, plain_job

log = logging.getLogger(__name__)


@plain_job(queue="mail")
def deliver_mail(mail_id: int):
    """Send mail ``mail_id`` with ``send_mail`` and mark it sent; returns its status.

    Idempotent: a mail that is no longer queued (sent, failed, gone) is left alone, and the row
    is locked while it is sent (PostgreSQL), so that two runs of the job never both send it.
    On an error the attempt and the error are recorded, then the error is re-raised: RQ retries
    a transient one (``MailError``) with the ``mail`` queue's delays; after the last retry, or
    at once for any other error, the mail is ``failed`` with ``last_error``.
    """
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.id == mail_id).with_for_update())
    if mail is None or mail.status is not MailStatus.QUEUED:
        status = mail.status.value if mail is not None else "gone"
        db.session.rollback()
        log.info("mail %s: %s, not sent again", mail_id, status)
        return status
    try:
        services.send_mail(mail.recipient, mail.subject, mail.body)
    except Exception as exc:
        db.session.rollback()
        _record_failure(mail_id, exc)
        raise
    mail.status = MailStatus.SENT
    mail.sent_at = utcnow()
    mail.attempts += 1
    mail.last_error = None
    mail.body = ""  # it may carry a sign-in or password link: not kept once delivered
    db.session.commit()
    return MailStatus.SENT.value


def _record_failure(mail_id: int, exc: Exception) -> None:
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None:
        return
    mail.attempts += 1
    error = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    job = get_current_job()
    retries_left = (job.retries_left or 0) if job is not None else 0
    if isinstance(exc, TRANSIENT_ERRORS) and retries_left:
        log.warning("mail %s: attempt %s failed, RQ retries (%s left): %s", mail_id, mail.attempts, retries_left,
                    error)
        mail.last_error = error[:500]
    else:
        log.error("mail %s: failed after %s attempt(s): %s", mail_id, mail.attempts, error)
        services.give_up(mail, error)
    db.session.commit()


@periodic_job(interval=60)
def watch_mails():
    """Enqueue again the queued mails whose job was lost (Redis down or restarted empty)."""
    requeued = services.reconcile_queued_mails()
    if requeued:
        log.warning("watch_mails: %d lost mail job(s) enqueued again", len(requeued))
    return {"requeued": requeued}


@periodic_job(cron="29 3 * * *")
def purge_finished_mails():
    """Sent and failed mails are history after a month (their bodies were emptied already)."""
    return {"deleted": services.purge_finished_mails()}
