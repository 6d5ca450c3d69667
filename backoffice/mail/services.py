"""Sending mail: real SMTP from configuration, or the development outbox."""
import smtplib
from email.message import EmailMessage

from flask import current_app, has_request_context, render_template, url_for

from backoffice.extensions import db
from backoffice.mail.models import OutboxMessage


class MailError(Exception):
    """The mail server refused or could not be reached; worth retrying later."""


def send_mail(recipient, subject, body, attachments=()):
    """Send a plain-text French mail. ``attachments`` are ``(filename, bytes, mimetype)``.

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
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Envoi du message à {recipient} impossible : {exc}") from exc


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
