"""Tables of the member side of membership: receipts, reminders, HelloAsso, unmatched payments.

The treasurer side (memberships, payments, statements) lives in ``backoffice.membership``;
these tables only point at it. Vocabulary: *attestation d'adhésion* is ``MembershipReceipt``,
*relance* is a reminder (``ReminderLog``), *paiement non rapproché* is ``UnmatchedPayment``.
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Enum, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.formatting import format_date_short, format_money
from backoffice.lifecycle import Lifecycle
from backoffice.models import Money, TimestampMixin


def _enum(enum_class, length=20):
    return Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


# --------------------------------------------------------------------------------------------
# Receipts (attestations d'adhésion)
# --------------------------------------------------------------------------------------------

class ReceiptStatus(StrEnum):
    PENDING = "pending"    # asked for, the document job has not produced it yet
    READY = "ready"        # the .docx is on disk
    FAILED = "failed"      # the job failed (its task says why); a new payment or "regenerate" retries

    @property
    def label(self):
        return {"pending": "En préparation", "ready": "Disponible", "failed": "Échec"}[self.value]


_RS = ReceiptStatus
# A receipt is asked for (pending), then its job stores the document (ready) or finds the
# membership no longer paid (failed); a new payment or « Régénérer » asks for it again.
RECEIPT_LIFECYCLE = Lifecycle("membership_receipt", {
    _RS.PENDING: {_RS.READY, _RS.FAILED},
    _RS.READY: {_RS.PENDING,   # asked for again (a new payment, « Régénérer »)
                _RS.FAILED},   # generated again (a retried job) after a reversal: no longer paid
    _RS.FAILED: {_RS.PENDING,  # asked for again
                 _RS.READY},   # generated again by a retried job
}, noun="l'attestation")


@RECEIPT_LIFECYCLE.bind
class MembershipReceipt(TimestampMixin, db.Model):
    """The attestation d'adhésion of one membership (one per membership, regenerated in place).

    ``number`` (``2026-0042``) is given once, per organisation and year of the period, and kept
    when the document is regenerated. ``document`` is the version in force of the membership's
    ``membership_receipt`` durable document (``backoffice.documents.generated``), whose file
    and fingerprint it holds; earlier versions are kept there, superseded.
    """

    __tablename__ = "membership_receipts"
    __table_args__ = (
        UniqueConstraint("membership_id", name="uq_membership_receipts_membership"),
        UniqueConstraint("organisation_id", "number", name="uq_membership_receipts_org_number"),
        UniqueConstraint("token", name="uq_membership_receipts_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    number: Mapped[str] = mapped_column(String(20))
    status: Mapped[ReceiptStatus] = mapped_column(_enum(ReceiptStatus), default=ReceiptStatus.PENDING)
    token: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("generated_documents.id", ondelete="SET NULL"))
    generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by the same commit as the mail: a retried job does not mail twice.
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mailed_to: Mapped[str | None] = mapped_column(String(200))
    # Whether the next generation should e-mail the member (false for bulk regeneration).
    mail_wanted: Mapped[bool] = mapped_column(Boolean, default=True)
    task_id: Mapped[int | None] = mapped_column(Integer)

    membership = relationship("Membership")
    document = relationship("GeneratedDocument")

    @property
    def filename(self):
        return f"attestation-adhesion-{self.number}.docx"

    @property
    def is_ready(self):
        return self.status is ReceiptStatus.READY and self.document_id is not None


# --------------------------------------------------------------------------------------------
# Reminders (relances)
# --------------------------------------------------------------------------------------------

class ReminderSettings(TimestampMixin, db.Model):
    """When an organisation reminds its members (one row per organisation, created on demand).

    ``renewal_notice_days``: the renewal-opening mail goes this many days before the next
    period starts. ``overdue_days``: reminders this many days after the due date, e.g.
    ``[15, 45]``. ``enabled`` off: the scheduled job sends nothing (manual reminders still work).
    """

    __tablename__ = "membership_reminder_settings"
    __audited__ = True
    __table_args__ = (CheckConstraint("renewal_notice_days >= 0", name="notice_days_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    renewal_notice_days: Mapped[int] = mapped_column(Integer, default=30)
    overdue_days: Mapped[list] = mapped_column(JSON, default=lambda: [15, 45])

    def __str__(self):
        return "Paramètres des relances"


class ReminderLog(db.Model):
    """One reminder sent to one member, so that nobody gets the same reminder twice.

    ``kind``: ``renewal`` (renewal opening), ``overdue_<n>`` (n days after the due date),
    ``manual`` (sent by hand by the treasurer; may repeat). ``period_id`` is the period the
    reminder asks money for; ``membership_id`` the membership concerned (for a renewal, the
    previous one). A partial unique index makes the scheduled kinds once per member and period,
    even if two runs overlap.
    """

    __tablename__ = "membership_reminder_logs"
    __table_args__ = (
        Index("uq_membership_reminder_logs_once", "organisation_id", "party_id", "period_id", "kind", unique=True,
              postgresql_where=text("kind <> 'manual'"), sqlite_where=text("kind <> 'manual'")),
        Index("ix_membership_reminder_logs_org_sent", "organisation_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("membership_periods.id"))
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10), default="email")
    recipient: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    party = relationship("Party")
    period = relationship("MembershipPeriod")
    membership = relationship("Membership")
    sent_by = relationship("User")

    @property
    def kind_label(self):
        return reminder_kind_label(self.kind)


def reminder_kind_label(kind):
    if kind == "renewal":
        return "Ouverture du renouvellement"
    if kind == "manual":
        return "Relance manuelle"
    if kind.startswith("overdue_"):
        return f"Relance à J+{kind.removeprefix('overdue_')}"
    return kind


# --------------------------------------------------------------------------------------------
# HelloAsso
# --------------------------------------------------------------------------------------------

class HelloAssoAccount(TimestampMixin, db.Model):
    """An organisation's HelloAsso API access (Mon compte > Intégrations et API on HelloAsso).

    ``client_secret_encrypted`` is the secret encrypted with a key derived from SECRET_KEY
    (``backoffice.membership.helloasso.encrypt_secret``); it is never shown back.
    """

    __tablename__ = "membership_helloasso_accounts"
    __audited__ = True
    __audit_exclude__ = {"client_secret_encrypted"}

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    client_id: Mapped[str] = mapped_column(String(100), default="")
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    organisation_slug: Mapped[str] = mapped_column(String(150), default="")
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(500))

    @property
    def configured(self):
        return bool(self.client_id and self.client_secret_encrypted and self.organisation_slug)

    @property
    def active(self):
        return self.enabled and self.configured

    def __str__(self):
        return "Compte HelloAsso"


class CheckoutStatus(StrEnum):
    CREATED = "created"      # the member was sent to HelloAsso
    PAID = "paid"            # the order was fetched back from the API and the payment recorded
    REJECTED = "rejected"    # the order fetched back did not fit (amount, organisation…): nothing recorded

    @property
    def label(self):
        return {"created": "En cours", "paid": "Payé", "rejected": "Refusé"}[self.value]


CHECKOUT_LIFECYCLE = Lifecycle("helloasso_checkout", {
    CheckoutStatus.CREATED: {CheckoutStatus.PAID, CheckoutStatus.REJECTED},
    CheckoutStatus.PAID: set(),
    CheckoutStatus.REJECTED: set(),
}, noun="le paiement en ligne")


@CHECKOUT_LIFECYCLE.bind
class HelloAssoCheckout(TimestampMixin, db.Model):
    """A checkout intent created for a membership (what we asked HelloAsso to collect)."""

    __tablename__ = "membership_helloasso_checkouts"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "checkout_intent_id", name="uq_membership_helloasso_checkouts_intent"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    checkout_intent_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    redirect_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[CheckoutStatus] = mapped_column(_enum(CheckoutStatus), default=CheckoutStatus.CREATED)
    order_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    membership = relationship("Membership")


    def __str__(self):
        return f"Paiement HelloAsso de {format_money(self.amount)}"


# --------------------------------------------------------------------------------------------
# Unmatched payments
# --------------------------------------------------------------------------------------------

class UnmatchedStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"     # attached to a membership: a payment was recorded
    DISMISSED = "dismissed"   # not a membership fee (a donation…), kept for the record

    @property
    def label(self):
        return {"open": "À rapprocher", "resolved": "Rapproché", "dismissed": "Écarté"}[self.value]


UNMATCHED_LIFECYCLE = Lifecycle("unmatched_payment", {
    UnmatchedStatus.OPEN: {UnmatchedStatus.RESOLVED,    # attached to a membership
                           UnmatchedStatus.DISMISSED},  # not a membership fee
    UnmatchedStatus.RESOLVED: set(),
    UnmatchedStatus.DISMISSED: set(),
}, noun="le paiement non rapproché")


@UNMATCHED_LIFECYCLE.bind
class UnmatchedPayment(TimestampMixin, db.Model):
    """Money received online that names no membership we know (no metadata, another e-mail…).

    Only facts fetched from the payment platform's API are stored here, never a notification's
    body. ``external_id`` (the platform's payment id) is unique per organisation and source:
    a replayed notification adds nothing.
    """

    __tablename__ = "membership_unmatched_payments"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "source", "external_id", name="uq_membership_unmatched_payments_external"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_membership_unmatched_payments_org_status", "organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20), default="helloasso")
    external_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date] = mapped_column(Date)
    payer_name: Mapped[str | None] = mapped_column(String(200))
    payer_email: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(250))
    reason: Mapped[str | None] = mapped_column(String(250))     # why it was not matched, in French
    details: Mapped[dict | None] = mapped_column(JSON)           # the order as fetched from the API
    status: Mapped[UnmatchedStatus] = mapped_column(_enum(UnmatchedStatus), default=UnmatchedStatus.OPEN)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("membership_payments.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    membership = relationship("Membership")
    payment = relationship("MembershipPayment")

    @property
    def idempotency_key(self):
        return f"{self.source}:{self.external_id}"

    def __str__(self):
        return f"Paiement non rapproché de {format_money(self.amount)} du {format_date_short(self.paid_on)}"
