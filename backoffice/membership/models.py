"""Membership (adhésions): fee grids, collèges, memberships, payments, SEPA mandates and runs.

Vocabulary: *cotisation* is the membership fee (``amount_due``), *collège* is ``College``,
*bordereau de remise de chèques* is ``ChequeDeposit``, *mandat de prélèvement* is
``SepaMandate``, *RUM* is ``SepaMandate.reference``, *ICS* is
``MembershipSettings.creditor_identifier``.

Money rules:

* ``Membership.amount_paid`` is the sum of the *confirmed* ``MembershipPayment.amount`` of the
  membership (signed: payments are positive, refunds and reversals negative); ``credit`` is what
  was paid above ``amount_due``. Both are kept up to date by ``services.recompute`` whenever a
  payment row is added or confirmed; never write them by hand.
* Nothing is deleted: a wrong payment is cancelled by a *reversal* row (``kind=reversal``,
  ``reverses_id`` = the payment, opposite amount), and its accounting entry is reversed too.
* ``accounting_entry_id`` columns hold the id of the journal entry that the accounting module
  returned (``backoffice.accounting.services.post_event``); plain integers, so that this module
  does not depend on the accounting tables.
"""
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, and_)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from backoffice.banking.models import BankStatementLine
from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle
from backoffice.membership.errors import MembershipStatusError
from backoffice.formatting import format_date_short, format_money
from backoffice.models import ZERO, Money, TimestampMixin


def _enum(enum_class, length=20):
    """A portable enum column: a VARCHAR holding the members' values (no native type)."""
    return Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


# --------------------------------------------------------------------------------------------
# Enumerations (French labels are what users read)
# --------------------------------------------------------------------------------------------

class CategoryKind(StrEnum):
    """What a fee category is for; drives ``services.suggest_category``."""

    PHYSICIAN = "physician"
    OTHER_PROFESSIONAL = "other_professional"
    STRUCTURE = "structure"
    FIRST_YEAR = "first_year"
    OTHER = "other"

    @property
    def label(self):
        return {
            "physician": "Médecin",
            "other_professional": "Autre professionnel de santé",
            "structure": "Structure",
            "first_year": "Première adhésion",
            "other": "Autre",
        }[self.value]


class MembershipStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    EXEMPT = "exempt"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return MEMBERSHIP_STATUS_LABELS[self]

    @property
    def badge(self):
        """Bootstrap colour of the status badge."""
        return {"awaiting_payment": "warning", "partially_paid": "info", "paid": "success",
                "exempt": "secondary", "cancelled": "dark"}[self.value]


MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.AWAITING_PAYMENT: "En attente de paiement",
    MembershipStatus.PARTIALLY_PAID: "Partiellement payée",
    MembershipStatus.PAID: "Payée",
    MembershipStatus.EXEMPT: "Exonérée",
    MembershipStatus.CANCELLED: "Annulée",
}

# Statuses of a membership that still expects money.
OPEN_STATUSES = (MembershipStatus.AWAITING_PAYMENT, MembershipStatus.PARTIALLY_PAID)
# Statuses that make someone a member in good standing for the period (may vote).
GOOD_STANDING_STATUSES = (MembershipStatus.PAID, MembershipStatus.EXEMPT)


class PaymentMethod(StrEnum):
    TRANSFER = "transfer"
    CHEQUE = "cheque"
    CASH = "cash"
    CARD = "card"
    DIRECT_DEBIT = "direct_debit"
    # Paid online through HelloAsso, which pays the association out later in one transfer:
    # the money waits in 517 (payment platforms) until that payout reaches the bank.
    HELLOASSO = "helloasso"
    # Credit moved from another membership of the same member: no money moves, so no entry.
    CREDIT = "credit"

    @property
    def label(self):
        return {
            "transfer": "Virement", "cheque": "Chèque", "cash": "Espèces", "card": "Carte bancaire",
            "direct_debit": "Prélèvement SEPA", "helloasso": "HelloAsso", "credit": "Avoir",
        }[self.value]


# What the treasurer can pick in the payment form.
TREASURER_METHODS = [m for m in PaymentMethod if m is not PaymentMethod.CREDIT]


class PaymentKind(StrEnum):
    PAYMENT = "payment"          # money in (amount > 0)
    REFUND = "refund"            # money given back (amount < 0)
    REVERSAL = "reversal"        # cancels another row (amount = -that row's amount)
    CREDIT_OUT = "credit_out"    # overpayment moved to another membership (amount < 0)

    @property
    def label(self):
        return {"payment": "Paiement", "refund": "Remboursement", "reversal": "Annulation",
                "credit_out": "Avoir reporté"}[self.value]


class PaymentStatus(StrEnum):
    PENDING = "pending"        # a direct debit sent to the bank, not yet collected
    CONFIRMED = "confirmed"    # counts in amount_paid
    FAILED = "failed"          # a pending direct debit that the bank rejected

    @property
    def label(self):
        return {"pending": "En attente", "confirmed": "Confirmé", "failed": "Rejeté"}[self.value]


class DirectDebitRunStatus(StrEnum):
    DRAFT = "draft"            # created, file being generated
    GENERATED = "generated"    # pain.008 file ready, payments pending
    COLLECTED = "collected"    # bank collected: payments confirmed

    @property
    def label(self):
        return {"draft": "En préparation", "generated": "Fichier généré", "collected": "Encaissé"}[self.value]


# --------------------------------------------------------------------------------------------
# Lifecycles (``backoffice.lifecycle``: every move through ``move()``, recorded in status_changes)
# --------------------------------------------------------------------------------------------

_S = MembershipStatus
# Which status may follow which. Payments derive awaiting/partially paid/paid (in both
# directions: a reversal or refund can bring a paid membership back); exempt and cancelled are
# treasurer decisions. A membership with money on it cannot be exempted or cancelled: refund or
# reverse first, so that the books stay right. A cancelled membership can only be *reinstated*
# (``REINSTATE``, see ``services.reinstate_membership``): the fee is due again, as on the first day.
MEMBERSHIP_TRANSITIONS = {
    _S.AWAITING_PAYMENT: {_S.PARTIALLY_PAID, _S.PAID, _S.EXEMPT, _S.CANCELLED},
    _S.PARTIALLY_PAID: {_S.AWAITING_PAYMENT, _S.PAID},
    _S.PAID: {_S.AWAITING_PAYMENT, _S.PARTIALLY_PAID},
    _S.EXEMPT: {_S.AWAITING_PAYMENT, _S.CANCELLED},
    _S.CANCELLED: {_S.AWAITING_PAYMENT},
}
# The one way out of a cancellation.
REINSTATE = (_S.CANCELLED, _S.AWAITING_PAYMENT)
MEMBERSHIP_LIFECYCLE = Lifecycle(
    "membership", MEMBERSHIP_TRANSITIONS, noun="l'adhésion", error=MembershipStatusError,
    verbs={(_S.AWAITING_PAYMENT, _S.EXEMPT): "Exonérer", (_S.AWAITING_PAYMENT, _S.CANCELLED): "Annuler",
           (_S.EXEMPT, _S.CANCELLED): "Annuler", (_S.EXEMPT, _S.AWAITING_PAYMENT): "Lever l'exonération",
           REINSTATE: "Rétablir"},
    reason_required={_S.EXEMPT, _S.CANCELLED})

_P = PaymentStatus
PAYMENT_TRANSITIONS = {
    _P.PENDING: {_P.CONFIRMED,  # the bank collected the direct debit
                 _P.FAILED},    # the bank rejected it
    _P.CONFIRMED: set(),        # undone by a reversal row, never by a status change
    _P.FAILED: set(),
}
PAYMENT_LIFECYCLE = Lifecycle("membership_payment", PAYMENT_TRANSITIONS, noun="le paiement",
                              error=MembershipStatusError)

_R = DirectDebitRunStatus
DIRECT_DEBIT_RUN_LIFECYCLE = Lifecycle("direct_debit_run", {
    _R.DRAFT: {_R.GENERATED},     # its pain.008 file is built
    _R.GENERATED: {_R.COLLECTED},  # the bank collected it: its payments are confirmed
    _R.COLLECTED: set(),
}, noun="le prélèvement", error=MembershipStatusError)


# --------------------------------------------------------------------------------------------
# Settings, periods, grid, collèges
# --------------------------------------------------------------------------------------------

class MembershipSettings(TimestampMixin, db.Model):
    """Membership settings of one organisation (one row per organisation, created on demand)."""

    __tablename__ = "membership_settings"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    # Identifiant créancier SEPA (ICS), e.g. FR12ZZZ123456; None when direct debit is not used.
    creditor_identifier: Mapped[str | None] = mapped_column(String(35))
    # Prefix of payment references: ADH + 2-digit year + "-" + 5 characters.
    reference_prefix: Mapped[str] = mapped_column(String(5), default="ADH")
    # The association's own transfer reference built from the member number, e.g.
    # ``COT{year}/{number:05}`` (``backoffice.membership.references``); None: the generated ones only.
    # Generated references stay recognised either way: they are printed on our documents.
    reference_scheme: Mapped[str | None] = mapped_column(String(40))
    # The last member number the scheme handed out to a member who had none (``memberships.
    # new_references``): the next one is above it and above every member number in use. The row
    # is locked while it moves, so two treasurers creating memberships at once get two numbers.
    member_counter: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Days after the start of the period when the fee is due (for reminders and "lapsed").
    due_days: Mapped[int] = mapped_column(Integer, default=90)

    organisation = relationship("Organisation")

    def __str__(self):
        return "Paramètres des adhésions"


class MembershipPeriod(TimestampMixin, db.Model):
    """A membership year of an organisation: its fiscal year (civil year by default).

    ``year`` is the year the period starts in (``Organisation.fiscal_year_bounds(year)``).
    """

    __tablename__ = "membership_periods"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "year", name="uq_membership_periods_org_year"),
        CheckConstraint("ends_on > starts_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # Renewals are open to members (self-service) while this is true.
    renewal_open: Mapped[bool] = mapped_column(Boolean, default=True)
    due_on: Mapped[date | None] = mapped_column(Date)

    organisation = relationship("Organisation")
    categories = relationship("FeeCategory", back_populates="period", order_by="FeeCategory.position",
                              cascade="all, delete-orphan")

    @property
    def label(self):
        if self.starts_on.year == self.ends_on.year:
            return str(self.year)
        return f"{self.starts_on.year}-{self.ends_on.year}"

    def __str__(self):
        return self.label


class FeeCategory(TimestampMixin, db.Model):
    """One line of the fee grid of a period: a category and its amount."""

    __tablename__ = "membership_fee_categories"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("period_id", "label", name="uq_membership_fee_categories_period_label"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("membership_periods.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CategoryKind] = mapped_column(_enum(CategoryKind), default=CategoryKind.OTHER)
    label: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Money)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    period = relationship(MembershipPeriod, back_populates="categories")

    def __str__(self):
        return self.label


class College(TimestampMixin, db.Model):
    """A collège of an organisation (libéraux, structures, usagers…), used for votes."""

    __tablename__ = "membership_colleges"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_membership_colleges_org_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(250))
    # Which party kind this collège is suggested for ("professional", "structure" or None).
    party_kind: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self):
        return self.name


# --------------------------------------------------------------------------------------------
# Memberships and payments
# --------------------------------------------------------------------------------------------

@MEMBERSHIP_LIFECYCLE.bind
class Membership(TimestampMixin, db.Model):
    """A party (professional or structure) member of an organisation for one period.

    ``status`` moves only through ``services`` (``MEMBERSHIP_LIFECYCLE``, ``backoffice.lifecycle.move``).
    ``payment_reference`` (e.g. ``ADH26-7KQ4M``) is what members write on their transfer.
    """

    __tablename__ = "memberships"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "party_id", "period_id", name="uq_memberships_org_party_period"),
        # The association's own references repeat across organisations (two CPTS both write
        # COT2026/00042) and, for a scheme without the year, across a member's years: unique in
        # an organisation's period, which is what a member's transfer designates.
        UniqueConstraint("organisation_id", "period_id", "payment_reference",
                         name="uq_memberships_org_period_reference"),
        CheckConstraint("amount_due >= 0", name="amount_due_not_negative"),
        CheckConstraint("credit >= 0", name="credit_not_negative"),
        Index("ix_memberships_org_period_status", "organisation_id", "period_id", "status"),
        Index("ix_memberships_org_member_number", "organisation_id", "member_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("membership_periods.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("membership_fee_categories.id"), index=True)
    college_id: Mapped[int | None] = mapped_column(ForeignKey("membership_colleges.id"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(_enum(MembershipStatus), default=MembershipStatus.AWAITING_PAYMENT)
    amount_due: Mapped[Decimal] = mapped_column(Money)
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    credit: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    # Ours (``ADH26-7KQ4M``) or, when the organisation has a reference scheme, its own
    # (``COT2026/00042``, ``memberships.new_references``): what members are shown everywhere.
    payment_reference: Mapped[str] = mapped_column(String(64))
    # The association's own member number (« N° d'adhérent » of its workbook), kept across years:
    # what its own reference scheme (``MembershipSettings.reference_scheme``) is built from.
    member_number: Mapped[str | None] = mapped_column(String(30))
    joined_on: Mapped[date] = mapped_column(Date)
    # The day since which the membership has been fully paid without interruption
    # (``roll.paid_since``), and the day it was exempted: the voter roll at a cut-off reads them.
    paid_on: Mapped[date | None] = mapped_column(Date)
    exempted_on: Mapped[date | None] = mapped_column(Date)
    exemption_reason: Mapped[str | None] = mapped_column(String(250))
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    cancellation_reason: Mapped[str | None] = mapped_column(String(250))
    # Where the renewal came from: "treasurer", "self_service", "import", "demo"…
    source: Mapped[str] = mapped_column(String(20), default="treasurer")
    fee_due_entry_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)

    organisation = relationship("Organisation")
    party = relationship("Party")
    period = relationship(MembershipPeriod)
    category = relationship(FeeCategory)
    college = relationship(College)
    payments = relationship("MembershipPayment", back_populates="membership", order_by="MembershipPayment.id",
                            foreign_keys="MembershipPayment.membership_id")

    @property
    def balance(self):
        """What is still owed (never negative)."""
        return max(self.amount_due - self.amount_paid, ZERO)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def __str__(self):
        return f"Adhésion {self.period.label if self.period else ''} — {self.party}"


@PAYMENT_LIFECYCLE.bind
class MembershipPayment(TimestampMixin, db.Model):
    """A money movement on a membership: payment, refund, reversal or credit carried over.

    ``amount`` is signed (see ``PaymentKind``). Only ``status=confirmed`` rows count. A reversal
    points to the row it cancels (``reverses_id``, unique: a row is reversed at most once).
    ``idempotency_key`` (unique per organisation) makes a double-submitted form record once.
    """

    __tablename__ = "membership_payments"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("(kind = 'payment' AND amount > 0) OR (kind IN ('refund', 'credit_out') AND amount < 0)"
                        " OR kind = 'reversal'", name="amount_sign"),
        UniqueConstraint("organisation_id", "idempotency_key", name="uq_membership_payments_org_idempotency_key"),
        UniqueConstraint("reverses_id", name="uq_membership_payments_reverses_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(_enum(PaymentKind), default=PaymentKind.PAYMENT)
    method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod))
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus), default=PaymentStatus.CONFIRMED)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date] = mapped_column(Date)
    # Bank reference of a transfer, cheque number, HelloAsso payment id…
    reference: Mapped[str | None] = mapped_column(String(100))
    cheque_bank: Mapped[str | None] = mapped_column(String(100))
    payer_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(250))
    # Where it came from: "treasurer", "statement", "direct_debit", "helloasso", "credit", "demo"…
    source: Mapped[str] = mapped_column(String(20), default="treasurer")
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("membership_payments.id"))
    # For CREDIT kinds: the other membership the credit came from / went to.
    related_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id"))
    cheque_deposit_id: Mapped[int | None] = mapped_column(ForeignKey("membership_cheque_deposits.id"), index=True)
    direct_debit_run_id: Mapped[int | None] = mapped_column(ForeignKey("membership_direct_debit_runs.id"), index=True)
    mandate_id: Mapped[int | None] = mapped_column(ForeignKey("membership_sepa_mandates.id"))
    accounting_entry_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    membership = relationship(Membership, back_populates="payments", foreign_keys=[membership_id])
    related_membership = relationship(Membership, foreign_keys=[related_membership_id])
    reverses = relationship("MembershipPayment", remote_side=[id], foreign_keys=[reverses_id],
                            backref=db.backref("reversed_by", uselist=False))
    cheque_deposit = relationship("ChequeDeposit", back_populates="cheques")
    direct_debit_run = relationship("DirectDebitRun", back_populates="payments")
    mandate = relationship("SepaMandate")
    created_by = relationship("User")

    @property
    def is_reversed(self):
        return self.reversed_by is not None

    @property
    def counts(self):
        return self.status is PaymentStatus.CONFIRMED

    def __str__(self):
        return f"{self.kind.label} de {format_money(self.amount)} ({self.method.label}) du {format_date_short(self.paid_on)}"


class ChequeDeposit(TimestampMixin, db.Model):
    """A bordereau de remise de chèques: cheques handed to the bank together."""

    __tablename__ = "membership_cheque_deposits"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("total > 0", name="total_positive"),
        UniqueConstraint("organisation_id", "number", name="uq_membership_cheque_deposits_org_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… per organisation
    deposited_on: Mapped[date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Money)
    cheque_count: Mapped[int] = mapped_column(Integer)
    # The document task that produced the slip (jobs module), when there is one.
    task_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    cheques = relationship(MembershipPayment, back_populates="cheque_deposit", order_by=MembershipPayment.id)


    def __str__(self):
        return f"Remise de chèques n° {self.number} du {format_date_short(self.deposited_on)}"


# A statement line's suggested membership (banking keeps lines generic: ``suggested_kind`` /
# ``suggested_id``), for the review screen: ``line.membership``.
BankStatementLine.membership = relationship(
    Membership, viewonly=True,
    primaryjoin=lambda: and_(BankStatementLine.suggested_kind == "memberships",
                             foreign(BankStatementLine.suggested_id) == Membership.id))


# --------------------------------------------------------------------------------------------
# SEPA direct debit
# --------------------------------------------------------------------------------------------

class SepaMandate(TimestampMixin, db.Model):
    """A SEPA direct debit mandate signed by a member (référence unique de mandat, RUM)."""

    __tablename__ = "membership_sepa_mandates"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "reference", name="uq_membership_sepa_mandates_org_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    reference: Mapped[str] = mapped_column(String(35))
    signed_on: Mapped[date] = mapped_column(Date)
    debtor_name: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    # Date of the first collection: later collections are "RCUR", the first one "FRST".
    first_used_on: Mapped[date | None] = mapped_column(Date)

    party = relationship("Party")

    def __str__(self):
        return f"Mandat SEPA {self.reference} — {self.debtor_name}"


@DIRECT_DEBIT_RUN_LIFECYCLE.bind
class DirectDebitRun(TimestampMixin, db.Model):
    """A collection run: one pain.008 file for a selection of awaiting memberships."""

    __tablename__ = "membership_direct_debit_runs"
    __audited__ = True
    __table_args__ = (CheckConstraint("total > 0", name="total_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    collection_date: Mapped[date] = mapped_column(Date)
    status: Mapped[DirectDebitRunStatus] = mapped_column(_enum(DirectDebitRunStatus), default=DirectDebitRunStatus.DRAFT)
    message_id: Mapped[str] = mapped_column(String(35))
    total: Mapped[Decimal] = mapped_column(Money)
    payment_count: Mapped[int] = mapped_column(Integer)
    # The generated pain.008 XML (small: a few kB per hundred debits).
    xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    task_id: Mapped[int | None] = mapped_column(Integer)
    collected_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    payments = relationship(MembershipPayment, back_populates="direct_debit_run", order_by=MembershipPayment.id)

    def __str__(self):
        return f"Prélèvement du {format_date_short(self.collection_date)}"
