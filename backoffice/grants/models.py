"""Equipment grants (aides à l'équipement): programmes, their funders, applications, attachments.

Vocabulary: *programme* is ``GrantProgramme`` (e.g. « Dermatoscopes 2026 »), *financeur* is
``GrantFunder``, *demande d'aide* is ``GrantApplication``, *pièce justificative* is
``GrantAttachment``, *convention d'attribution* is the durable document ``grant_agreement``
(``backoffice.grants.documents``).

Money rules:

* ``GrantProgramme.granted_total`` is the sum of the amounts granted to the programme's
  applications that are approved and not cancelled; it changes only under the programme's row
  lock (``services.lock_programme``) and the database refuses it above the envelope
  (``ck_grant_programmes_within_envelope``): two approvals at the same instant cannot overspend.
* ``GrantApplication.amount_granted`` is at most the amount requested, which is at most the
  quoted price (checks in the database too).
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Enum, ForeignKey, Index, Integer, Numeric,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle, LifecycleError
from backoffice.models import ZERO, Money, TimestampMixin, utcnow


def _enum(enum_class, length=24):
    """A portable enum column: a VARCHAR holding the members' values (no native type)."""
    return Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


class GrantLifecycleError(LifecycleError):
    """A move of an application that its lifecycle refuses (French message)."""


class OnePer(StrEnum):
    """How many grants a programme gives: one per professional, one per practice, or no limit."""

    PROFESSIONAL = "professional"
    PRACTICE = "practice"
    NONE = "none"

    @property
    def label(self):
        return {"professional": "Une aide par professionnel", "practice": "Une aide par cabinet (lieu d'exercice)",
                "none": "Pas de limite"}[self.value]


class ProgrammeMode(StrEnum):
    """How a programme helps: money paid to the beneficiary (a grant), or equipment the
    organisation buys and lends under a custody convention (in kind)."""

    GRANT = "grant"
    IN_KIND = "in_kind"

    @property
    def label(self):
        return {"grant": "Aide financière (versement)", "in_kind": "En nature (matériel prêté)"}[self.value]


DEFAULT_DEPRECIATION_YEARS = 3


class AttachmentKind(StrEnum):
    QUOTE = "quote"
    TRAINING_CERTIFICATE = "training_certificate"
    SIGNED_AGREEMENT = "signed_agreement"
    INVOICE = "invoice"
    OTHER = "other"

    @property
    def label(self):
        return {"quote": "Devis", "training_certificate": "Attestation de formation",
                "signed_agreement": "Convention signée", "invoice": "Facture", "other": "Autre pièce"}[self.value]


class GrantStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    AGREEMENT_ISSUED = "agreement_issued"
    AGREEMENT_SIGNED = "agreement_signed"
    PAID = "paid"
    DELIVERED = "delivered"
    REPAYMENT_CLAIMED = "repayment_claimed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return GRANT_STATUS_LABELS[self]

    @property
    def badge(self):
        """Bootstrap colour of the status badge."""
        return {"draft": "light", "submitted": "info", "approved": "primary", "rejected": "danger",
                "agreement_issued": "primary", "agreement_signed": "primary", "paid": "success",
                "delivered": "success", "repayment_claimed": "warning", "closed": "secondary",
                "withdrawn": "dark", "cancelled": "dark"}[self.value]


GRANT_STATUS_LABELS = {
    GrantStatus.DRAFT: "Brouillon",
    GrantStatus.SUBMITTED: "Déposée",
    GrantStatus.APPROVED: "Accordée",
    GrantStatus.REJECTED: "Refusée",
    GrantStatus.AGREEMENT_ISSUED: "Convention émise",
    GrantStatus.AGREEMENT_SIGNED: "Convention signée",
    GrantStatus.PAID: "Versée",
    GrantStatus.DELIVERED: "Matériel livré",
    GrantStatus.REPAYMENT_CLAIMED: "Remboursement demandé",
    GrantStatus.CLOSED: "Clôturée",
    GrantStatus.WITHDRAWN: "Retirée",
    GrantStatus.CANCELLED: "Annulée",
}

S = GrantStatus
# Statuses whose granted amount counts in the programme's envelope.
GRANTED_STATUSES = (S.APPROVED, S.AGREEMENT_ISSUED, S.AGREEMENT_SIGNED, S.PAID, S.DELIVERED,
                    S.REPAYMENT_CLAIMED, S.CLOSED)
# Granted but not yet paid: the commitment.
COMMITTED_STATUSES = (S.APPROVED, S.AGREEMENT_ISSUED, S.AGREEMENT_SIGNED)
# Statuses that no longer hold a place (one grant per professional or practice).
ENDED_WITHOUT_GRANT = (S.REJECTED, S.WITHDRAWN, S.CANCELLED)

GRANT_LIFECYCLE = Lifecycle("grant_application", {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.APPROVED: {S.AGREEMENT_ISSUED, S.CANCELLED},
    S.REJECTED: set(),
    S.AGREEMENT_ISSUED: {S.AGREEMENT_SIGNED, S.CANCELLED},
    S.AGREEMENT_SIGNED: {S.PAID, S.CANCELLED},
    S.PAID: {S.DELIVERED, S.REPAYMENT_CLAIMED},
    S.DELIVERED: {S.CLOSED, S.REPAYMENT_CLAIMED},
    S.REPAYMENT_CLAIMED: {S.CLOSED},
    S.CLOSED: set(),
    S.WITHDRAWN: set(),
    S.CANCELLED: set(),
}, noun="la demande", verbs={
    (S.DRAFT, S.SUBMITTED): "Déposer la demande",
    (S.SUBMITTED, S.APPROVED): "Accorder",
    (S.SUBMITTED, S.REJECTED): "Refuser",
    (S.APPROVED, S.AGREEMENT_ISSUED): "Émettre la convention",
    (S.AGREEMENT_ISSUED, S.AGREEMENT_SIGNED): "Enregistrer la signature",
    (S.AGREEMENT_SIGNED, S.PAID): "Enregistrer le versement",
    (S.PAID, S.DELIVERED): "Enregistrer la livraison",
    (S.DELIVERED, S.CLOSED): "Clôturer",
    (S.REPAYMENT_CLAIMED, S.CLOSED): "Clôturer",
    (S.PAID, S.REPAYMENT_CLAIMED): "Demander le remboursement",
    (S.DELIVERED, S.REPAYMENT_CLAIMED): "Demander le remboursement",
    (S.DRAFT, S.WITHDRAWN): "Retirer",
    (S.SUBMITTED, S.WITHDRAWN): "Retirer",
    (S.APPROVED, S.CANCELLED): "Annuler",
    (S.AGREEMENT_ISSUED, S.CANCELLED): "Annuler",
    (S.AGREEMENT_SIGNED, S.CANCELLED): "Annuler",
}, reason_required={S.REJECTED, S.WITHDRAWN, S.CANCELLED, S.REPAYMENT_CLAIMED}, error=GrantLifecycleError)


# The documents a programme may require, and at which step (the status they are needed to reach).
DEFAULT_REQUIRED_DOCUMENTS = {
    AttachmentKind.QUOTE.value: S.SUBMITTED.value,
    AttachmentKind.TRAINING_CERTIFICATE.value: S.SUBMITTED.value,
    AttachmentKind.SIGNED_AGREEMENT.value: S.AGREEMENT_SIGNED.value,
    AttachmentKind.INVOICE.value: S.PAID.value,
}
DOCUMENT_STEPS = (S.SUBMITTED, S.AGREEMENT_SIGNED, S.PAID, S.DELIVERED)


class GrantProgramme(TimestampMixin, db.Model):
    """A grant programme of an organisation: its envelope, ceiling, dates and eligibility rules."""

    __tablename__ = "grant_programmes"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("envelope > 0", name="envelope_positive"),
        CheckConstraint("granted_total >= 0", name="granted_not_negative"),
        CheckConstraint("granted_total <= envelope", name="within_envelope"),
        CheckConstraint("ceiling_amount IS NULL OR ceiling_amount > 0", name="ceiling_positive"),
        CheckConstraint("ceiling_rate IS NULL OR (ceiling_rate > 0 AND ceiling_rate <= 100)", name="rate_percent"),
        CheckConstraint("closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on", name="dates"),
        CheckConstraint("depreciation_years BETWEEN 1 AND 20", name="depreciation_years_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    equipment_kind: Mapped[str | None] = mapped_column(String(120))  # « Dermatoscope »
    envelope: Mapped[Decimal] = mapped_column(Money)
    granted_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    ceiling_amount: Mapped[Decimal | None] = mapped_column(Money)
    ceiling_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # % of the quoted price covered
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    requires_membership: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_training: Mapped[bool] = mapped_column(Boolean, default=False)
    training_label: Mapped[str | None] = mapped_column(String(200))
    one_per: Mapped[OnePer] = mapped_column(_enum(OnePer), default=OnePer.PROFESSIONAL)
    professions: Mapped[list] = mapped_column(JSON, default=list)  # profession codes; empty: every one
    required_documents: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_REQUIRED_DOCUMENTS))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # In kind: the organisation buys the devices (assets, 2154) and lends them; depreciated over
    # ``depreciation_years`` (the accountant's choice for the kind of equipment).
    mode: Mapped[ProgrammeMode] = mapped_column(_enum(ProgrammeMode, 10), default=ProgrammeMode.GRANT)
    depreciation_years: Mapped[int] = mapped_column(Integer, default=DEFAULT_DEPRECIATION_YEARS)

    organisation = relationship("Organisation")
    funders = relationship("GrantFunder", back_populates="programme", order_by="GrantFunder.position",
                           cascade="all, delete-orphan")

    def __str__(self):
        return self.name

    @property
    def remaining(self) -> Decimal:
        return self.envelope - self.granted_total

    def is_open_on(self, day: date) -> bool:
        return (self.opens_on is None or self.opens_on <= day) and (self.closes_on is None or day <= self.closes_on)

    @property
    def in_kind(self) -> bool:
        return self.mode is ProgrammeMode.IN_KIND

    def documents_for(self, status) -> list[AttachmentKind]:
        """The kinds of document needed to reach ``status``."""
        status = GrantStatus(status)
        return [AttachmentKind(kind) for kind, step in (self.required_documents or {}).items() if step == status.value]


class GrantFunder(db.Model):
    """A funder of a programme (ARS — FIR, CPAM…) and the amount it committed."""

    __tablename__ = "grant_funders"
    __scoped_through__ = "programme"
    __audited__ = True
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("grant_programmes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str | None] = mapped_column(String(120))  # the funder's decision, e.g. « FIR 2026-044 »
    received_on: Mapped[date | None] = mapped_column(Date)
    accounting_entry_id: Mapped[int | None] = mapped_column(Integer)  # the subsidy received, once posted
    position: Mapped[int] = mapped_column(Integer, default=0)

    programme = relationship(GrantProgramme, back_populates="funders")

    def __str__(self):
        return self.name


@GRANT_LIFECYCLE.bind
class GrantApplication(TimestampMixin, db.Model):
    """An application for a grant: who asks, for which practice and equipment, how much, and where
    it stands (``GRANT_LIFECYCLE``; every move is a ``status_changes`` row: who, when, why)."""

    __tablename__ = "grant_applications"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("quoted_price > 0", name="quote_positive"),
        CheckConstraint("amount_requested > 0 AND amount_requested <= quoted_price", name="requested_within_quote"),
        CheckConstraint("amount_granted IS NULL OR (amount_granted > 0 AND amount_granted <= amount_requested)",
                        name="granted_within_requested"),
        CheckConstraint("amount_paid IS NULL OR amount_paid > 0", name="paid_positive"),
        Index("ix_grant_applications_programme_status", "programme_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("grant_programmes.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[GrantStatus] = mapped_column(_enum(GrantStatus), default=GrantStatus.DRAFT)
    equipment_kind: Mapped[str] = mapped_column(String(120))
    equipment_model: Mapped[str | None] = mapped_column(String(200))
    supplier: Mapped[str | None] = mapped_column(String(200))
    quoted_price: Mapped[Decimal] = mapped_column(Money)
    amount_requested: Mapped[Decimal] = mapped_column(Money)
    amount_granted: Mapped[Decimal | None] = mapped_column(Money)
    training_on: Mapped[date | None] = mapped_column(Date)  # the training attended, when required
    note: Mapped[str | None] = mapped_column(Text)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    # Signature of the convention: a scan uploaded, or online by the beneficiary (click, when, IP,
    # and the fingerprint of the document he signed).
    signature_method: Mapped[str | None] = mapped_column(String(10))  # "scan" | "online"
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_ip: Mapped[str | None] = mapped_column(String(45))
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Payment on the invoice, then delivery of the equipment.
    invoice_reference: Mapped[str | None] = mapped_column(String(120))
    amount_paid: Mapped[Decimal | None] = mapped_column(Money)
    paid_on: Mapped[date | None] = mapped_column(Date)
    serial_number: Mapped[str | None] = mapped_column(String(120))
    delivered_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    programme = relationship(GrantProgramme)
    applicant = relationship("Party")
    site = relationship("Site")
    attachments = relationship("GrantAttachment", back_populates="application", order_by="GrantAttachment.id",
                               cascade="all, delete-orphan")

    def __str__(self):
        return f"Demande n° {self.id}"

    @property
    def reference(self):
        return f"AIDE-{self.id:05d}"

    @property
    def lifecycle(self):
        return GRANT_LIFECYCLE

    def attachments_of(self, kind):
        return [a for a in self.attachments if a.kind == AttachmentKind(kind)]


class GrantAttachment(db.Model):
    """A document uploaded with an application (quote, training certificate, signed convention,
    invoice), checked by its content and stored under the organisation's folder."""

    __tablename__ = "grant_attachments"
    __scoped_through__ = "application"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(_enum(AttachmentKind))
    filename: Mapped[str] = mapped_column(String(200))  # as the user named it (shown, never used as a path)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(100))  # under STORAGE_DIR/<org>/grants/
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application = relationship(GrantApplication, back_populates="attachments")

    def __str__(self):
        return f"{self.kind.label} — {self.filename}"


class GrantFollowUp(db.Model):
    """The activity a beneficiary reports for a quarter (what the funders ask): screenings
    performed with the equipment and referrals to a dermatologist. One report per quarter."""

    __tablename__ = "grant_follow_ups"
    __scoped_through__ = "application"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("application_id", "year", "quarter", name="uq_grant_follow_ups_quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        CheckConstraint("screenings >= 0 AND referrals >= 0 AND referrals <= screenings", name="counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_applications.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    screenings: Mapped[int] = mapped_column(Integer)
    referrals: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application = relationship(GrantApplication)

    def __str__(self):
        return f"T{self.quarter} {self.year}"


class GrantFollowUpReminder(db.Model):
    """A reminder e-mailed to a beneficiary whose quarterly report is late: at most one per
    application and quarter (the unique constraint), so a rerun of the job sends nothing twice."""

    __tablename__ = "grant_follow_up_reminders"
    __scoped_through__ = "application"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("application_id", "year", "quarter", name="uq_grant_follow_up_reminders_quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_applications.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application = relationship(GrantApplication)

    def __str__(self):
        return f"Relance T{self.quarter} {self.year}"


# --------------------------------------------------------------------------------------------
# In kind: the devices the organisation buys and lends (assets), and who holds them
# --------------------------------------------------------------------------------------------

class DeviceStatus(StrEnum):
    IN_STOCK = "in_stock"
    LENT = "lent"
    TRANSFERRED = "transferred"
    RETURNED = "returned"
    RETIRED = "retired"

    @property
    def label(self):
        return {"in_stock": "En stock", "lent": "Prêté", "transferred": "Transféré", "returned": "Rendu",
                "retired": "Sorti de l'inventaire"}[self.value]

    @property
    def badge(self):
        return {"in_stock": "light", "lent": "success", "transferred": "success", "returned": "info",
                "retired": "secondary"}[self.value]


D = DeviceStatus
# Statuses in which a practice holds the device (under a custody convention).
HELD_STATUSES = (D.LENT, D.TRANSFERRED)

DEVICE_LIFECYCLE = Lifecycle("grant_device", {
    D.IN_STOCK: {D.LENT, D.RETIRED},
    # A transfer moves the device from one practice to another: again and again if need be.
    D.LENT: {D.TRANSFERRED, D.RETURNED, D.RETIRED},
    D.TRANSFERRED: {D.TRANSFERRED, D.RETURNED, D.RETIRED},
    D.RETURNED: {D.LENT, D.RETIRED},
    D.RETIRED: set(),
}, noun="le matériel", verbs={
    (D.IN_STOCK, D.LENT): "Prêter",
    (D.RETURNED, D.LENT): "Prêter à nouveau",
    (D.LENT, D.TRANSFERRED): "Transférer à un autre cabinet",
    (D.TRANSFERRED, D.TRANSFERRED): "Transférer à un autre cabinet",
    (D.LENT, D.RETURNED): "Enregistrer le retour",
    (D.TRANSFERRED, D.RETURNED): "Enregistrer le retour",
    (D.IN_STOCK, D.RETIRED): "Sortir de l'inventaire",
    (D.LENT, D.RETIRED): "Sortir de l'inventaire",
    (D.TRANSFERRED, D.RETIRED): "Sortir de l'inventaire",
    (D.RETURNED, D.RETIRED): "Sortir de l'inventaire",
}, reason_required={D.RETIRED}, error=GrantLifecycleError)


@DEVICE_LIFECYCLE.bind
class GrantDevice(TimestampMixin, db.Model):
    """A device bought by the organisation for an in-kind programme: an asset (2154) lent to
    practices, depreciated at each year-end (D 6811 / C 28154) until it is worth nothing."""

    __tablename__ = "grant_devices"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "serial_number", name="uq_grant_devices_serial"),
        CheckConstraint("purchase_amount > 0", name="purchase_amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("grant_programmes.id"), index=True)
    status: Mapped[DeviceStatus] = mapped_column(_enum(DeviceStatus, 16), default=DeviceStatus.IN_STOCK)
    equipment_kind: Mapped[str] = mapped_column(String(120))
    equipment_model: Mapped[str | None] = mapped_column(String(200))
    serial_number: Mapped[str] = mapped_column(String(80))
    purchased_on: Mapped[date] = mapped_column(Date)
    purchase_amount: Mapped[Decimal] = mapped_column(Money)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))  # its auxiliary account on 404
    invoice_reference: Mapped[str | None] = mapped_column(String(60))
    paid_on: Mapped[date | None] = mapped_column(Date)
    retired_on: Mapped[date | None] = mapped_column(Date)
    # The purchase invoice, checked by backoffice.uploads, under STORAGE_DIR/<org>/grants/.
    invoice_filename: Mapped[str | None] = mapped_column(String(200))
    invoice_content_type: Mapped[str | None] = mapped_column(String(40))
    invoice_size: Mapped[int | None] = mapped_column(Integer)
    invoice_sha256: Mapped[str | None] = mapped_column(String(64))
    invoice_stored_name: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    programme = relationship(GrantProgramme)
    supplier = relationship("Party")
    custodies = relationship("GrantDeviceCustody", back_populates="device", order_by="GrantDeviceCustody.id")

    def __str__(self):
        return f"{self.equipment_kind} n° {self.serial_number}"

    @property
    def current_custody(self):
        return next((c for c in reversed(self.custodies) if c.ended_on is None), None)


class GrantDeviceCustody(db.Model):
    """One holder of a device: the practice (site) and the beneficiary (an approved application
    of the programme) who keep it under a *convention de mise à disposition*, from ``started_on``
    until it is returned, transferred or retired (``ended_on``). The rows are the holders' history."""

    __tablename__ = "grant_device_custodies"
    __scoped_through__ = "device"
    __audited__ = True
    __table_args__ = (CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("grant_devices.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_applications.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(20))  # "transferred" | "returned" | "retired"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    device = relationship(GrantDevice, back_populates="custodies")
    application = relationship(GrantApplication)
    site = relationship("Site")

    def __str__(self):
        return f"{self.device} — {self.application.applicant.display_name}"
