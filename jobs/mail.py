"""Mails of web requests: the delivery of one ``outgoing_mails`` row, and their reconciliation.

``backoffice.mail.services.queue_mail`` writes the row in the request's transaction and
enqueues :func:`deliver_mail` after the commit (or runs it inline with ``JOBS_INLINE``). When many
are queued at once, the first job delivers the others on its connection (``deliver_waiting_mails``).
"""
import logging
import time
from contextlib import ExitStack

from flask import current_app
from redis.exceptions import RedisError
from rq import get_current_job
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.mail import services
from backoffice.mail.models import MailStatus, OutgoingMail
from backoffice.models import utcnow
from jobs import TRANSIENT_ERRORS, periodic_job, plain_job

log = logging.getLogger(__name__)


# A delivery job in a worker also sends the other mails waiting (300 sign-in links asked for in
# the minute before an assembly), on its connection, committed by chunks as they go…
WAITING_MAILS_PER_COMMIT = 20
# …for at most MAIL_BATCH_SECONDS (config.py); the rest keep their own jobs.


@plain_job(queue="mail")
def deliver_mail(mail_id: int):
    """Send mail ``mail_id`` with ``send_mail`` and mark it sent; returns its status.

    Idempotent: a mail that is no longer queued (sent, failed, gone) is left alone, and the row
    is locked while it is sent (PostgreSQL), so that two runs of the job never both send it.
    On an error the attempt and the error are recorded, then the error is re-raised: RQ retries
    a transient one (``MailError``) with the ``mail`` queue's delays; after the last retry, or
    at once for any other error, the mail is ``failed`` with ``last_error``.

    In a worker, once its own mail is sent and committed, the job goes on with the other mails
    waiting for their first attempt, on the same connection (:func:`deliver_waiting_mails`),
    and takes their own jobs off the queue. A mail being retried is left to its own job's delays.
    """
    mail = _lock_mail(mail_id)
    if mail is None or mail.status is not MailStatus.QUEUED:
        status = mail.status.value if mail is not None else "gone"
        db.session.rollback()
        log.info("mail %s: %s, not sent again", mail_id, status)
        return status
    with ExitStack() as stack:
        try:
            connection = stack.enter_context(services.smtp_connection())
            services.send_mail(mail.recipient, mail.subject, mail.body, connection=connection)
        except Exception as exc:
            db.session.rollback()
            _record_failure(mail_id, exc)
            raise
        _mark_sent(mail)
        db.session.commit()
        if get_current_job() is not None:  # in a worker; inline (a web request, a test): this mail only
            deliver_waiting_mails(connection)
    return MailStatus.SENT.value


def _lock_mail(mail_id: int) -> OutgoingMail | None:
    return db.session.scalar(select(OutgoingMail).where(OutgoingMail.id == mail_id).with_for_update())


def warm_up() -> None:
    """What every delivery job runs first, run once by the worker before it forks (see
    :func:`jobs.warm_up_jobs`): mail 0 does not exist, nothing is locked."""
    _lock_mail(0)


def deliver_waiting_mails(connection, seconds: float | None = None) -> int:
    """Send the queued mails not tried yet on ``connection``, oldest first, for at most
    ``seconds`` (``MAIL_BATCH_SECONDS``); returns how many.

    Each chunk of rows is locked without waiting (``SKIP LOCKED``: a mail whose own job holds it
    is that job's), sent, marked and committed; then the chunk's own jobs still waiting in the
    queue are taken off it (they would find their mail sent: a fork each for nothing). The first
    error ends the batch and leaves the mail to its own job (which records it and retries); a
    problem here never fails the caller.
    """
    if seconds is None:
        seconds = current_app.config["MAIL_BATCH_SECONDS"]
    deadline = time.monotonic() + seconds
    delivered = 0
    waiting = (select(OutgoingMail).where(OutgoingMail.status == MailStatus.QUEUED, OutgoingMail.attempts == 0)
               .order_by(OutgoingMail.id).limit(WAITING_MAILS_PER_COMMIT).with_for_update(skip_locked=True))
    try:
        while time.monotonic() < deadline:
            chunk = db.session.scalars(waiting).all()
            if not chunk:
                break
            sent = []
            for mail in chunk:
                try:
                    services.send_mail(mail.recipient, mail.subject, mail.body, connection=connection)
                except Exception as exc:  # noqa: BLE001 - its own job tries again, and records it
                    log.info("mail %s: not sent with the batch (%s); left to its own job", mail.id, exc)
                    break
                _mark_sent(mail)
                sent.append(mail.id)
            db.session.commit()
            delivered += len(sent)
            _withdraw_jobs(sent)
            if len(sent) < len(chunk):
                break
    except Exception:  # noqa: BLE001 - the caller's own mail is delivered; the others keep their jobs
        db.session.rollback()
        log.warning("mails waiting: batch interrupted after %d", delivered, exc_info=True)
    if delivered:
        log.info("%d waiting mail(s) delivered on the same connection", delivered)
    return delivered


def _withdraw_jobs(mail_ids) -> None:
    """Take the delivery jobs of these sent mails off the queue, if they are still waiting there.

    Only a job still in the queue's list is removed (``LREM`` says so), then its hash deleted: one
    a worker has already taken runs, finds its mail sent and does nothing.
    """
    from rq.job import Job

    from backoffice.extensions import rq
    from jobs import queue_name

    queue = rq.get_queue(queue_name("mail"))
    job_ids = [services.mail_job_id(mail_id) for mail_id in mail_ids]
    if not job_ids:
        return
    try:
        with queue.connection.pipeline(transaction=False) as pipeline:
            for job_id in job_ids:
                pipeline.lrem(queue.key, 0, job_id)
            removed = [job_id for job_id, count in zip(job_ids, pipeline.execute()) if count]
        if removed:
            queue.connection.delete(*(Job.key_for(job_id) for job_id in removed))
    except RedisError as exc:  # they will run, find their mail sent and do nothing
        log.info("could not take %d delivery job(s) off the queue: %s", len(job_ids), exc)


def _mark_sent(mail: OutgoingMail) -> None:
    move(mail, MailStatus.SENT)
    mail.sent_at = utcnow()
    mail.attempts += 1
    mail.last_error = None
    mail.body = ""  # it may carry a sign-in or password link: not kept once delivered


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
