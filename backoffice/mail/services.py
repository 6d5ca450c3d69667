"""Sending mail: real SMTP from configuration, or the development outbox.

Two ways in:

* :func:`queue_mail`, for web requests: the mail is a row of ``outgoing_mails`` written in the
  request's transaction and delivered by a job (``jobs.mail.deliver_mail``) enqueued once that
  transaction has committed. A slow mail server never holds a web worker, and a rolled-back
  request sends nothing.
* :func:`send_mail`, the delivery itself, for code that already runs in a job (receipts,
  reminders) and for that delivery job.
"""
from __future__ import annotations

import logging
import smtplib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, has_request_context, render_template, url_for
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select

from backoffice.extensions import db, rq
from backoffice.lifecycle import StatusChange, move
from backoffice.mail.models import MailStatus, OutboxMessage, OutgoingMail
from backoffice.models import utcnow
from backoffice.transactions import after_commit

log = logging.getLogger(__name__)


class MailError(Exception):
    """The mail server refused or could not be reached; worth retrying later."""


def send_mail(recipient, subject, body, attachments=(), connection=None):
    """Send a plain-text French mail. ``attachments`` are ``(filename, bytes, mimetype)``.

    ``connection`` is an open :func:`smtp_connection`, for code that sends many mails (one
    connection for all of them); without it, one connection is opened for this mail.
    With MAIL_BACKEND=outbox the mail is stored (flushed, committed by the caller)
    and shown on the outbox page instead of being sent.
    """
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    if config["MAIL_BACKEND"] == "outbox":
        names = "".join(f"\n[pièce jointe : {name}]" for name, _, _ in attachments)
        db.session.add(OutboxMessage(sender=sender, recipient=recipient, subject=subject, body=body + names))
        db.session.flush()
        return
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    for filename, data, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    try:
        if connection is not None:
            connection.send_message(message)
        else:
            with _smtp(config) as smtp:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Envoi du message à {recipient} impossible : {exc}") from exc


@contextmanager
def smtp_connection():
    """One connection to the mail server for several :func:`send_mail` (``connection=``).

    Yields None with MAIL_BACKEND=outbox (``send_mail`` needs none). Raises :class:`MailError`
    if the server cannot be reached or refuses the login; the connection is closed at the end.
    """
    config = current_app.config
    if config["MAIL_BACKEND"] == "outbox":
        yield None
        return
    try:
        smtp = _smtp(config)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Connexion au serveur de messagerie {config['MAIL_SERVER']} impossible : {exc}") from exc
    try:
        yield smtp
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _smtp(config) -> smtplib.SMTP:
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
    try:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def external_url(endpoint, **values):
    """``url_for(endpoint, _external=True)`` that works in a request, a job or a command.

    Outside a request, the base is ``PUBLIC_BASE_URL`` (e.g. ``https://maillage.example.org``), else ``SERVER_NAME``, else ``http://localhost``.
    """
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=base or "http://localhost"):
        return url_for(endpoint, _external=True, **values)


def render_mail(template, **context):
    """(subject, body) of a plain-text mail template whose first line is the subject."""
    subject, _, body = render_template(template, **context).partition("\n")
    return subject.strip(), body.lstrip("\n")


# --- mails of web requests -------------------------------------------------------------------

# A mail still queued this long after its creation is given up by the reconciliation.
GIVE_UP_AFTER = timedelta(days=1)


def queue_mail(recipient, subject, body, user=None) -> OutgoingMail:
    """Record a plain-text mail to ``recipient``, sent once the caller's transaction commits.

    The row is added (and flushed) in the caller's transaction; the caller commits as usual.
    Right after that commit, ``jobs.mail.deliver_mail`` is enqueued with the row's id (with
    ``JOBS_INLINE``, the same delivery runs at once in this process). If the transaction rolls
    back, nothing is sent. If Redis does not answer, the row waits and the periodic
    reconciliation enqueues it later. ``user`` is the account the mail is about (its admins
    may see a failure on the job monitor).
    """
    mail = OutgoingMail(recipient=recipient, subject=subject, body=body, status=MailStatus.QUEUED, attempts=0,
                        user_id=user.id if user is not None else None)
    db.session.add(mail)
    db.session.flush()
    mail_id = mail.id
    after_commit(lambda: _hand_over(mail_id))
    return mail


def queue_mails(messages) -> list[OutgoingMail]:
    """``queue_mail`` for many ``(recipient, subject, body)`` at once (a job telling each of a
    thousand applicants): the rows flushed together, each handed over after the commit."""
    mails = [OutgoingMail(recipient=recipient, subject=subject, body=body, status=MailStatus.QUEUED, attempts=0)
             for recipient, subject, body in messages]
    if not mails:
        return []
    db.session.add_all(mails)
    db.session.flush()
    mail_ids = [mail.id for mail in mails]
    after_commit(lambda: [_hand_over(mail_id) for mail_id in mail_ids])
    return mails


def _hand_over(mail_id):
    """Once the mail's transaction has committed: to a worker (or, JOBS_INLINE, sent here)."""
    if current_app.config.get("JOBS_INLINE"):
        _deliver_inline(mail_id)
    else:
        enqueue_mail(mail_id)


def _deliver_inline(mail_id) -> None:
    """Development without Redis (and the tests): the job's own delivery, in this process."""
    from jobs.mail import deliver_mail

    try:
        deliver_mail(mail_id)
    except Exception:  # noqa: BLE001 - the row records the failure, as in a worker
        db.session.rollback()
        log.warning("mail %s: inline delivery failed", mail_id, exc_info=True)


def mail_job_id(mail_id: int) -> str:
    # One RQ job id per mail: the reconciliation asks RQ whether that job is still alive.
    return f"{current_app.config['RQ_QUEUE_PREFIX']}-mail-{mail_id}"


def enqueue_mail(mail_id: int) -> bool:
    """Put the delivery of mail ``mail_id`` on the ``mail`` queue; False if Redis does not answer."""
    from jobs.mail import deliver_mail

    try:
        deliver_mail.enqueue(mail_id, job_id=mail_job_id(mail_id), description=f"e-mail {mail_id}")
    except RedisError as exc:
        log.warning("mail %s: could not enqueue (Redis: %s); the reconciliation will", mail_id, exc)
        return False
    return True


def reconcile_queued_mails(now=None) -> list[int]:
    """Queued mails whose job vanished (Redis down or restarted empty): enqueue them again.

    Only mails older than ``JOB_RECONCILE_GRACE_SECONDS`` (their job is being enqueued) and
    whose RQ job is not queued, scheduled for a retry or running. A mail still queued after
    :data:`GIVE_UP_AFTER` is failed instead: its link would be long expired. Commits.
    """
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    now = now or utcnow()
    queued = select(OutgoingMail).where(OutgoingMail.status == MailStatus.QUEUED)
    for mail in db.session.scalars(queued.where(OutgoingMail.created_at < now - GIVE_UP_AFTER)):
        log.error("mail %s: still queued after %s, given up", mail.id, GIVE_UP_AFTER)
        give_up(mail, "Non envoyé : resté en attente plus d'un jour (serveur de tâches arrêté ?).")
    db.session.commit()
    grace = now - timedelta(seconds=current_app.config["JOB_RECONCILE_GRACE_SECONDS"])
    ids = db.session.scalars(queued.with_only_columns(OutgoingMail.id).where(
        OutgoingMail.created_at < grace).order_by(OutgoingMail.id)).all()
    db.session.rollback()  # no transaction left open while talking to Redis
    connection = next(iter(rq.queues.values())).connection
    alive = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}
    requeued = []
    for mail_id in ids:
        try:
            if Job.fetch(mail_job_id(mail_id), connection=connection).get_status(refresh=False) in alive:
                continue
        except NoSuchJobError:
            pass
        log.warning("mail %s: queued, but its job is gone: enqueued again", mail_id)
        if enqueue_mail(mail_id):
            requeued.append(mail_id)
    return requeued


# Sent and failed mails are kept this long (the monitor shows recent failures), then deleted.
KEEP_FINISHED = timedelta(days=30)


def purge_finished_mails(now=None) -> int:
    """Delete sent and failed mails older than :data:`KEEP_FINISHED`; returns how many. Commits."""
    limit = (now or utcnow()) - KEEP_FINISHED
    finished = select(OutgoingMail.id).where(
        OutgoingMail.status.in_([MailStatus.SENT, MailStatus.FAILED]), OutgoingMail.created_at < limit)
    # Their history goes with them: a status change naming a deleted mail tells nobody anything.
    db.session.execute(delete(StatusChange).where(
        StatusChange.subject_table == OutgoingMail.__tablename__, StatusChange.subject_id.in_(finished)))
    deleted = db.session.execute(delete(OutgoingMail).where(OutgoingMail.id.in_(finished))).rowcount
    db.session.commit()
    return deleted


def give_up(mail: OutgoingMail, error: str) -> None:
    """Give ``mail`` up with ``error``; its body (maybe a sign-in link) is not kept."""
    move(mail, MailStatus.FAILED, reason=error[:500])
    mail.last_error = error[:500]
    mail.body = ""


# --- monitoring ------------------------------------------------------------------------------

@dataclass
class MailOverview:
    queued: int = 0
    failed: int = 0
    latest_failures: list[OutgoingMail] = field(default_factory=list)


def mail_overview(visible_organisation_ids, limit: int = 10) -> MailOverview:
    """Counts of queued and failed mails (platform-wide), and the latest failures about accounts
    that have a role in one of ``visible_organisation_ids`` (their recipient is personal data)."""
    from backoffice.auth.models import RoleAssignment

    counts = dict(db.session.execute(select(OutgoingMail.status, func.count()).where(
        OutgoingMail.status != MailStatus.SENT).group_by(OutgoingMail.status)).all())
    visible_users = select(RoleAssignment.user_id).where(
        RoleAssignment.organisation_id.in_(visible_organisation_ids))
    failures = db.session.scalars(select(OutgoingMail).where(
        OutgoingMail.status == MailStatus.FAILED, OutgoingMail.user_id.in_(visible_users))
        .order_by(OutgoingMail.created_at.desc(), OutgoingMail.id.desc()).limit(limit)).all()
    return MailOverview(queued=counts.get(MailStatus.QUEUED, 0), failed=counts.get(MailStatus.FAILED, 0),
                        latest_failures=list(failures))
