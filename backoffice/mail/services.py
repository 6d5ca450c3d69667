"""Sending mail: real SMTP from configuration, or the development outbox."""
import smtplib
from email.message import EmailMessage

from flask import current_app

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
