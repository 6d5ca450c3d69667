"""SISA remuneration tables: associates' details, ACI income, deductions, scenarios of keys,
mission points, coordination meetings and attendance, frozen distributions and their shares.

Associates themselves are affiliations (``Role.ASSOCIATE``) and their bank details are
banking's payee details: these tables only hold what the SISA adds.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, String,
                        UniqueConstraint, event, inspect, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle
from backoffice.formatting import format_date_short, format_money
from backoffice.models import Money, TimestampMixin

Percentage = Numeric(5, 2, asdecimal=True)
Quantity = Numeric(10, 2, asdecimal=True)


class _Labelled(StrEnum):
    @property
    def label(self):
        return self._labels()[self]

    @classmethod
    def choices(cls):
        from wtforms.fields.choices import SelectChoice

        return [SelectChoice(member.value, member.label) for member in cls]


def _values_check(column, enum, name):
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name)


class IncomeKind(_Labelled):
    ADVANCE = "advance"
    BALANCE = "balance"
    OTHER = "other"

    @staticmethod
    def _labels():
        return {IncomeKind.ADVANCE: "Avance ACI", IncomeKind.BALANCE: "Solde ACI",
                IncomeKind.OTHER: "Autre financement d'équipe"}


class DeductionKind(_Labelled):
    COORDINATOR = "coordinator"
    SOFTWARE = "software"
    ACCOUNTANT = "accountant"
    RESERVE = "reserve"
    OTHER = "other"

    @staticmethod
    def _labels():
        return {DeductionKind.COORDINATOR: "Coordination", DeductionKind.SOFTWARE: "Logiciel",
                DeductionKind.ACCOUNTANT: "Expert-comptable", DeductionKind.RESERVE: "Mise en réserve",
                DeductionKind.OTHER: "Autre charge"}


class KeyBasis(_Labelled):
    EQUAL = "equal"
    HOURS = "hours"
    POINTS = "points"

    @staticmethod
    def _labels():
        return {KeyBasis.EQUAL: "Part égale par associé", KeyBasis.HOURS: "Au prorata des heures de coordination",
                KeyBasis.POINTS: "Au prorata des points de missions"}


class MeetingKind(_Labelled):
    RCP = "rcp"
    PROTOCOL = "protocol"
    TRAINING = "training"
    CPTS = "cpts"
    OTHER = "other"

    @staticmethod
    def _labels():
        return {MeetingKind.RCP: "Réunion de concertation pluriprofessionnelle", MeetingKind.PROTOCOL: "Protocole",
                MeetingKind.TRAINING: "Formation", MeetingKind.CPTS: "Mission CPTS", MeetingKind.OTHER: "Autre"}


class DistributionStatus(_Labelled):
    DRAFT = "draft"
    FROZEN = "frozen"
    PAID = "paid"
    SUPERSEDED = "superseded"

    @staticmethod
    def _labels():
        return {DistributionStatus.DRAFT: "Brouillon", DistributionStatus.FROZEN: "Validée",
                DistributionStatus.PAID: "Payée", DistributionStatus.SUPERSEDED: "Remplacée"}


class SisaAssociate(TimestampMixin, db.Model):
    """What the SISA records about one of its associates besides the affiliation: the share of capital."""

    __tablename__ = "sisa_associates"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "party_id", name="uq_sisa_associates_org_party"),
                      CheckConstraint("capital_share IS NULL OR capital_share >= 0", name="capital_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    capital_share: Mapped[Decimal | None] = mapped_column(Money)

    party = relationship("Party")

    def __str__(self):
        return f"Associé SISA : {self.party.display_name if self.party else self.party_id}"


class SisaIncome(TimestampMixin, db.Model):
    """A payment received for the team remuneration of a year (ACI advance, balance, other funding)."""

    __tablename__ = "sisa_income"
    __audited__ = True
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      _values_check("kind", IncomeKind, "kind"),
                      Index("ix_sisa_income_org_year", "organisation_id", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"))

    entry = relationship("JournalEntry")

    @property
    def kind_label(self):
        return IncomeKind(self.kind).label

    def __str__(self):
        return f"{self.label} ({self.year}) : {format_money(self.amount)}"


class SisaDeduction(TimestampMixin, db.Model):
    """A cost deducted before distribution: an amount, or a percentage of the year's income."""

    __tablename__ = "sisa_deductions"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("(amount IS NULL) <> (percentage IS NULL)", name="amount_or_percentage"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("percentage IS NULL OR (percentage > 0 AND percentage < 100)", name="percentage_range"),
        _values_check("kind", DeductionKind, "kind"),
        Index("ix_sisa_deductions_org_year", "organisation_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    percentage: Mapped[Decimal | None] = mapped_column(Percentage)
    # The charge account it is posted to (None for a reserve: retained result, no entry).
    account_number: Mapped[str | None] = mapped_column(String(20))
    posted_amount: Mapped[Decimal | None] = mapped_column(Money)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"))

    entry = relationship("JournalEntry")

    @property
    def kind_label(self):
        return DeductionKind(self.kind).label

    def __str__(self):
        what = format_money(self.amount) if self.amount is not None else f"{self.percentage} %"
        return f"Retenue {self.year} « {self.label} » : {what}"


class SisaScenario(TimestampMixin, db.Model):
    """A named set of distribution keys for a year (« Règlement intérieur 2025 », « Variante 50 % temps »)."""

    __tablename__ = "sisa_scenarios"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "year", "name", name="uq_sisa_scenarios_org_year_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))

    keys = relationship("SisaKey", back_populates="scenario", order_by="SisaKey.position",
                        cascade="all, delete-orphan")

    def __str__(self):
        return f"Scénario de répartition {self.year} « {self.name} »"


class SisaKey(db.Model):
    """One distribution key of a scenario: a percentage of the distributable amount and its basis."""

    __tablename__ = "sisa_keys"
    __audited__ = True
    __scoped_through__ = "scenario"
    __table_args__ = (
        UniqueConstraint("scenario_id", "position", name="uq_sisa_keys_scenario_position"),
        CheckConstraint("percentage > 0 AND percentage <= 100", name="percentage_range"),
        _values_check("basis", KeyBasis, "basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("sisa_scenarios.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(120))
    percentage: Mapped[Decimal] = mapped_column(Percentage)
    basis: Mapped[str] = mapped_column(String(20))
    prorate_presence: Mapped[bool] = mapped_column(Boolean, default=False)
    # {profession code: weight as text ("1.5")}; professions not listed weigh 1.
    profession_weights: Mapped[dict] = mapped_column(JSON, default=dict)

    scenario = relationship(SisaScenario, back_populates="keys")

    @property
    def basis_label(self):
        return KeyBasis(self.basis).label

    def __str__(self):
        return f"Clé « {self.label} » : {self.percentage} % ({self.basis_label})"


class SisaMissionPoints(TimestampMixin, db.Model):
    """Mission points of an associate for a year (a referent role, a protocol written, on-call)."""

    __tablename__ = "sisa_mission_points"
    __audited__ = True
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),
                      Index("ix_sisa_mission_points_org_year", "organisation_id", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    points: Mapped[Decimal] = mapped_column(Quantity)

    party = relationship("Party")

    def __str__(self):
        return f"Points de mission {self.year} « {self.label} » : {self.points}"


class SisaMeeting(TimestampMixin, db.Model):
    """A coordination meeting: date, duration, theme; its attendance in ``sisa_attendances``."""

    __tablename__ = "sisa_meetings"
    __audited__ = True
    __table_args__ = (CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration_range"),
                      _values_check("kind", MeetingKind, "kind"),
                      Index("ix_sisa_meetings_org_date", "organisation_id", "held_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    theme: Mapped[str] = mapped_column(String(200))

    attendances = relationship("SisaAttendance", back_populates="meeting", cascade="all, delete-orphan")

    @property
    def kind_label(self):
        return MeetingKind(self.kind).label

    @property
    def hours(self):
        return Decimal(self.duration_minutes) / 60

    def __str__(self):
        return f"Réunion du {format_date_short(self.held_on)} « {self.theme} »"


class SisaAttendance(db.Model):
    """An associate attended a meeting."""

    __tablename__ = "sisa_attendances"
    __scoped_through__ = "meeting"
    __table_args__ = (UniqueConstraint("meeting_id", "party_id", name="uq_sisa_attendances_meeting_party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("sisa_meetings.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)

    meeting = relationship(SisaMeeting, back_populates="attendances")
    party = relationship("Party")


class SisaDistribution(TimestampMixin, db.Model):
    """A version of a year's distribution. Frozen, it keeps its inputs (associates, hours, points,
    keys) in ``inputs`` so that it is recomputed identically years later; a correction is a new
    version that supersedes it."""

    __tablename__ = "sisa_distributions"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "year", "version", name="uq_sisa_distributions_version"),
                      CheckConstraint("distributable > 0", name="distributable_positive"),
                      _values_check("status", DistributionStatus, "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DistributionStatus.DRAFT.value)
    scenario_name: Mapped[str] = mapped_column(String(120))
    distributable: Mapped[Decimal] = mapped_column(Money)
    inputs: Mapped[dict] = mapped_column(JSON)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("sisa_distributions.id"))
    frozen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_on: Mapped[date | None] = mapped_column(Date)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    shares = relationship("SisaDistributionShare", back_populates="distribution", cascade="all, delete-orphan",
                          order_by="SisaDistributionShare.id")
    supersedes = relationship("SisaDistribution", remote_side=[id])
    entry = relationship("JournalEntry")

    @property
    def status_label(self):
        return DistributionStatus(self.status).label

    def __str__(self):
        return f"Répartition {self.year} version {self.version}"


class SisaDistributionShare(db.Model):
    """An associate's amount in a distribution version, with how it was computed (``detail``)."""

    __tablename__ = "sisa_distribution_shares"
    __scoped_through__ = "distribution"
    __table_args__ = (UniqueConstraint("distribution_id", "party_id", name="uq_sisa_distribution_shares_party"),
                      CheckConstraint("amount >= 0", name="amount_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("sisa_distributions.id", ondelete="CASCADE"),
                                                 index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    distribution = relationship(SisaDistribution, back_populates="shares")
    party = relationship("Party")


def _on_distribution_move(distribution, source, target, reason):
    if target == DistributionStatus.FROZEN:
        from backoffice.models import utcnow

        distribution.frozen_at = utcnow()


DISTRIBUTION_LIFECYCLE = Lifecycle("sisa_distribution", {
    DistributionStatus.DRAFT: {DistributionStatus.FROZEN},
    DistributionStatus.FROZEN: {DistributionStatus.PAID, DistributionStatus.SUPERSEDED},
    DistributionStatus.PAID: {DistributionStatus.SUPERSEDED},
    DistributionStatus.SUPERSEDED: set(),
}, noun="la répartition", on_move=_on_distribution_move,
   verbs={(DistributionStatus.DRAFT, DistributionStatus.FROZEN): "Valider",
          (DistributionStatus.FROZEN, DistributionStatus.PAID): "Marquer payée"})
DISTRIBUTION_LIFECYCLE.bind(SisaDistribution)


class FrozenDistributionChanged(ServiceError):
    """Code tried to change what a validated distribution computed (its inputs or amounts)."""


_FROZEN_COLUMNS = ("inputs", "distributable", "year", "version", "scenario_name")


@event.listens_for(SisaDistribution, "before_update")
def _keep_frozen_distribution(mapper, connection, distribution):
    state = inspect(distribution)
    before = state.attrs.status.history.deleted or [distribution.status]
    if before[0] == DistributionStatus.DRAFT.value:
        return
    for name in _FROZEN_COLUMNS:
        if state.attrs[name].history.has_changes():
            raise FrozenDistributionChanged("Une répartition validée ne peut plus être modifiée : créez une nouvelle "
                                            "version qui la remplace.")


def _status_of(connection, distribution_id):
    return connection.scalar(select(SisaDistribution.status).where(SisaDistribution.id == distribution_id))


@event.listens_for(SisaDistributionShare, "before_update")
def _keep_frozen_share(mapper, connection, share):
    changed = any(inspect(share).attrs[name].history.has_changes() for name in ("amount", "party_id"))
    if changed and _status_of(connection, share.distribution_id) != DistributionStatus.DRAFT.value:
        raise FrozenDistributionChanged("Une répartition validée ne peut plus être modifiée : créez une nouvelle "
                                        "version qui la remplace.")


@event.listens_for(SisaDistributionShare, "before_delete")
def _keep_frozen_share_row(mapper, connection, share):
    if _status_of(connection, share.distribution_id) not in (None, DistributionStatus.DRAFT.value):
        raise FrozenDistributionChanged("Une répartition validée ne peut plus être modifiée : créez une nouvelle "
                                        "version qui la remplace.")


# --------------------------------------------------------------------------------------------
# Expected ACI: the points grid of a contract year and the indicators reached
# --------------------------------------------------------------------------------------------

class SisaAciGrid(TimestampMixin, db.Model):
    """The ACI points grid of a contract year as the SISA keeps it (editable: the grid changes
    with the avenants): the value of a point, the share paid as an advance, the reference
    patientèle the variable points are scaled against and the structure's own patientèle
    (patients whose médecin traitant is in the structure)."""

    __tablename__ = "sisa_aci_grids"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "year", name="uq_sisa_aci_grids_org_year"),
                      CheckConstraint("point_value > 0", name="point_value_positive"),
                      CheckConstraint("advance_percentage >= 0 AND advance_percentage <= 100",
                                      name="advance_percentage_range"),
                      CheckConstraint("reference_patients > 0", name="reference_patients_positive"),
                      CheckConstraint("patients >= 0", name="patients_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    point_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("7.00"))
    advance_percentage: Mapped[Decimal] = mapped_column(Percentage, default=Decimal("60.00"))
    reference_patients: Mapped[int] = mapped_column(Integer, default=4000)
    patients: Mapped[int] = mapped_column(Integer, default=0)

    indicators = relationship("SisaAciIndicator", back_populates="grid", order_by="SisaAciIndicator.position",
                              cascade="all, delete-orphan")

    def __str__(self):
        return f"Grille ACI {self.year}"


class SisaAciIndicator(db.Model):
    """An indicator of the grid: its fixed points, its variable points (for the reference
    patientèle) and how far the structure reached it (0 to 100 %)."""

    __tablename__ = "sisa_aci_indicators"
    __audited__ = True
    __scoped_through__ = "grid"
    __table_args__ = (UniqueConstraint("grid_id", "position", name="uq_sisa_aci_indicators_grid_position"),
                      CheckConstraint("fixed_points >= 0 AND variable_points >= 0", name="points_not_negative"),
                      CheckConstraint("achievement >= 0 AND achievement <= 100", name="achievement_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("sisa_aci_grids.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    fixed_points: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    variable_points: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    achievement: Mapped[Decimal] = mapped_column(Percentage, default=Decimal(100))

    grid = relationship(SisaAciGrid, back_populates="indicators")

    def __str__(self):
        return f"Indicateur ACI « {self.label} »"


# --------------------------------------------------------------------------------------------
# Refunds: what a correction takes back from an associate already paid more
# --------------------------------------------------------------------------------------------

class RefundStatus(_Labelled):
    OWED = "owed"
    SETTLED = "settled"

    @staticmethod
    def _labels():
        return {RefundStatus.OWED: "À rembourser", RefundStatus.SETTLED: "Remboursé"}


class SisaRefund(TimestampMixin, db.Model):
    """An associate owes back what a correction took from a share he was already paid: posted as
    a receivable when the correction is validated (``entry``), then settled when his payment
    comes (``settlement_entry``, lettered against it). Never deleted."""

    __tablename__ = "sisa_refunds"
    __audited__ = True
    __table_args__ = (UniqueConstraint("distribution_id", "party_id", name="uq_sisa_refunds_distribution_party"),
                      CheckConstraint("amount > 0", name="amount_positive"),
                      _values_check("status", RefundStatus, "status"),
                      Index("ix_sisa_refunds_org_year", "organisation_id", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("sisa_distributions.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.OWED.value)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"))
    settled_on: Mapped[date | None] = mapped_column(Date)
    settlement_entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"))

    distribution = relationship(SisaDistribution)
    party = relationship("Party")
    entry = relationship("JournalEntry", foreign_keys=[entry_id])
    settlement_entry = relationship("JournalEntry", foreign_keys=[settlement_entry_id])

    offsets = relationship("SisaRefundOffset", back_populates="refund", order_by="SisaRefundOffset.id")

    @property
    def status_label(self):
        return RefundStatus(self.status).label

    @property
    def netted(self):
        """What was netted against later payments to him (``SisaRefundOffset``)."""
        return sum((offset.amount for offset in self.offsets), Decimal("0.00"))

    @property
    def outstanding(self):
        """What he still owes: the refund less what was netted (0 once settled)."""
        return Decimal("0.00") if self.status == RefundStatus.SETTLED.value else self.amount - self.netted

    def __str__(self):
        return f"Remboursement {self.year} de {self.party.display_name if self.party else self.party_id} : " \
               f"{format_money(self.amount)}"


REFUND_LIFECYCLE = Lifecycle("sisa_refund", {
    RefundStatus.OWED: {RefundStatus.SETTLED},
    RefundStatus.SETTLED: set(),
}, noun="le remboursement", verbs={(RefundStatus.OWED, RefundStatus.SETTLED): "Enregistrer le remboursement"})
REFUND_LIFECYCLE.bind(SisaRefund)


class SisaRefundOffset(TimestampMixin, db.Model):
    """Part of a refund netted against a later payment to the same associate (a later version
    of the year, or another year's distribution): the transfer of ``distribution`` pays him that
    much less, and the offset is posted D 4551 / C 467 on his auxiliary accounts (``entry``), so
    that his current account and his receivable both letter. Never more than the refund still
    owed nor than what ``distribution`` owes him: a transfer is never negative."""

    __tablename__ = "sisa_refund_offsets"
    __audited__ = True
    __table_args__ = (UniqueConstraint("refund_id", "distribution_id", name="uq_sisa_refund_offsets_refund_distribution"),
                      CheckConstraint("amount > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("sisa_refunds.id"), index=True)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("sisa_distributions.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    netted_on: Mapped[date] = mapped_column(Date)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"))

    refund = relationship(SisaRefund, back_populates="offsets")
    distribution = relationship(SisaDistribution)
    party = relationship("Party")
    entry = relationship("JournalEntry", foreign_keys=[entry_id])

    def __str__(self):
        return f"Compensation de {format_money(self.amount)} sur la répartition {self.distribution_id}"
