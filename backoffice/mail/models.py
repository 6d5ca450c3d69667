from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle
from backoffice.models import utcnow


class OutboxMessage(db.Model):
    """A mail kept instead of sent, in development (MAIL_BACKEND=outbox)."""

    __tablename__ = "outbox_messages"
    __global__ = True  # the development outbox of the platform

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    sender: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text)


class MailStatus(StrEnum):
    QUEUED = "queued"  # committed, waiting for its job (or for a retry)
    SENT = "sent"
    FAILED = "failed"  # given up after the retries; ``last_error`` says why

    @property
    def label(self):
        return {"queued": "En attente", "sent": "Envoyé", "failed": "Abandonné"}[self.value]


# A mail is sent once or given up once: a failed one is written again, never re-sent as it was
# (its body, which may carry a sign-in link, is emptied when it is given up).
MAIL_LIFECYCLE = Lifecycle("outgoing_mail", {
    MailStatus.QUEUED: {MailStatus.SENT, MailStatus.FAILED},
    MailStatus.SENT: set(),
    MailStatus.FAILED: set(),
}, noun="le message")


@MAIL_LIFECYCLE.bind
class OutgoingMail(db.Model):
    """A mail asked for by a web request, delivered by a job after the request's commit.

    The request only writes this row (``queue_mail``): a slow or hanging mail server never
    holds a web worker, and the answer time no longer tells whether an address has an account.
    """

    __tablename__ = "outgoing_mails"
    __global__ = True  # the platform's mail queue
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        Index("ix_outgoing_mails_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(250))
    # Emptied once the mail is sent or given up: it may carry a sign-in or password link.
    body: Mapped[str] = mapped_column(Text)
    # The account the mail is about (sign-in link, invitation…): whose admins may see a failure.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[MailStatus] = mapped_column(
        Enum(MailStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self):
        return f"<OutgoingMail {self.id} {self.status} to {self.recipient}>"

    def __str__(self):
        return f"Message « {self.subject} » à {self.recipient}"
