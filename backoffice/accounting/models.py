"""The double-entry ledger of an organisation.

Tables (all prefixed ``accounting_``):

* ``ledgers``: one row per organisation whose books are set up (chart loaded, journals,
  posting rules); it also holds the counter of lettering codes.
* ``accounts``: the chart of accounts (*plan comptable*), per organisation.
* ``journals``: BQ (banque), CA (caisse), OD (opérations diverses)…
* ``auxiliary_accounts``: one per (party, collective account) — the member's own 411, the
  beneficiary's 467, the associate's 4551.
* ``entries`` and ``lines``: the journal entries (*écritures*) and their lines.
* ``sequences``: the counter of entry numbers per organisation and fiscal year.
* ``account_totals``: debit and credit totals of the posted lines per fiscal year, month,
  account and auxiliary account, kept by a trigger at posting (what the annual accounts read).
* ``posting_rules`` and ``payment_methods``: which accounts and journal each event uses.
* ``closed_periods``: months and fiscal years closed by the treasurer.
* ``exports``: the history of the files sent to accountants.

How balance is guaranteed (see ``db_guards``): an entry is inserted as a *draft*, its lines are
inserted, then the entry is switched to *posted* by an UPDATE that a database trigger refuses
unless the lines balance; once posted, triggers refuse any change to the entry's lines and to the
entry itself (only lettering columns of lines, and the validation stamp of the entry, may still
change). Every report reads posted entries only.
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    JSON,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backoffice.accounting.errors import AccountingError
from backoffice.accounting.rules import EVENTS, PAYMENT_METHODS
from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle, LifecycleError
from backoffice.formatting import format_money
from backoffice.models import ZERO, Money, TimestampMixin, utcnow


class EntryStatus(StrEnum):
    DRAFT = "draft"    # only between its insert and its numbering, inside one posting
    POSTED = "posted"  # numbered and immutable: corrected by a reversal, never edited

    @property
    def label(self):
        return {"draft": "Brouillon", "posted": "Comptabilisée"}[self.value]


class EntryStatusError(AccountingError, LifecycleError):
    """A refused move of an entry's status (posting a posted entry again)."""


# The entry's own columns say who posted it, when, under which number: no history row per entry.
ENTRY_LIFECYCLE = Lifecycle("journal_entry", {EntryStatus.DRAFT: {EntryStatus.POSTED}, EntryStatus.POSTED: set()},
                            noun="l'écriture", error=EntryStatusError, history=False)


class JournalKind(StrEnum):
    BANK = "bank"
    CASH = "cash"
    MISC = "misc"
    OPENING = "opening"
    SALES = "sales"
    PURCHASES = "purchases"

    @property
    def label(self):
        return JOURNAL_KIND_LABELS[self]


JOURNAL_KIND_LABELS = {
    JournalKind.BANK: "Banque",
    JournalKind.CASH: "Caisse",
    JournalKind.MISC: "Opérations diverses",
    JournalKind.OPENING: "À-nouveaux",
    JournalKind.SALES: "Ventes",
    JournalKind.PURCHASES: "Achats",
}

ACCOUNT_CLASS_LABELS = {
    "1": "Comptes de capitaux / fonds propres",
    "2": "Comptes d'immobilisations",
    "3": "Comptes de stocks",
    "4": "Comptes de tiers",
    "5": "Comptes financiers",
    "6": "Comptes de charges",
    "7": "Comptes de produits",
    "8": "Comptes spéciaux (contributions volontaires en nature)",
}


class Ledger(TimestampMixin, db.Model):
    """The books of one organisation: which chart they were built from, and counters."""

    __tablename__ = "accounting_ledgers"
    __audited__ = True

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    chart: Mapped[str] = mapped_column(String(20))
    # Lettering codes are allocated from this counter under a row lock: 0 → "AA", 1 → "AB"…
    lettering_counter: Mapped[int] = mapped_column(Integer, default=0)

    organisation = relationship("Organisation")

    def __str__(self):
        return f"Comptabilité ({self.chart})"


class Account(TimestampMixin, db.Model):
    """An account of the chart. ``collective`` accounts (401, 411, 467…) carry an auxiliary
    account (the party) on every line."""

    __tablename__ = "accounting_accounts"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "number", name="uq_accounting_accounts_org_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    collective: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def account_class(self):
        return self.number[:1]

    @property
    def class_label(self):
        return ACCOUNT_CLASS_LABELS.get(self.account_class, "")

    def __str__(self):
        return f"{self.number} {self.label}"


class Journal(TimestampMixin, db.Model):
    __tablename__ = "accounting_journals"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "code", name="uq_accounting_journals_org_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default=JournalKind.MISC.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def kind_label(self):
        try:
            return JournalKind(self.kind).label
        except ValueError:
            return self.kind

    def __str__(self):
        return f"{self.code} {self.label}"


class AuxiliaryAccount(TimestampMixin, db.Model):
    """The auxiliary account (*compte auxiliaire*, *compte de tiers*) of a party on one
    collective account: Marie DUPONT's own 411 in the CPTS's books."""

    __tablename__ = "accounting_auxiliary_accounts"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "party_id", "account_id", name="uq_accounting_aux_org_party_account"),
        UniqueConstraint("organisation_id", "number", name="uq_accounting_aux_org_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"))
    number: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))

    party = relationship("Party")
    account = relationship(Account)

    def __str__(self):
        return f"{self.number} {self.label}"


@ENTRY_LIFECYCLE.bind
class JournalEntry(TimestampMixin, db.Model):
    """An entry (*écriture*): balanced lines in one journal, on one date, for one piece."""

    __tablename__ = "accounting_entries"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'posted')", name="status"),
        CheckConstraint("status = 'draft' OR number IS NOT NULL", name="posted_numbered"),
        CheckConstraint("number IS NULL OR number > 0", name="number_positive"),
        UniqueConstraint("organisation_id", "fiscal_year", "number", name="uq_accounting_entries_org_year_number"),
        UniqueConstraint("reversal_of_id", name="uq_accounting_entries_reversal_of_id"),
        # Idempotency of automatic postings: one original entry per source and organisation.
        Index(
            "uq_accounting_entries_org_source", "organisation_id", "source", unique=True,
            postgresql_where=text("source IS NOT NULL"), sqlite_where=text("source IS NOT NULL"),
        ),
        Index("ix_accounting_entries_org_date", "organisation_id", "entry_date"),
        Index("uq_accounting_entries_org_year_final_number", "organisation_id", "fiscal_year", "final_number",
              unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journals.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    entry_date: Mapped[date] = mapped_column(Date)
    piece_ref: Mapped[str] = mapped_column(String(60))
    piece_date: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=EntryStatus.DRAFT.value)
    event: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(120))
    reversal_of_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when the entry is validated (FEC export or period closing); the entry is locked from then on.
    validated_on: Mapped[date | None] = mapped_column(Date)
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The definitive number, given at the closing of the fiscal year: 1, 2, 3… in the order of
    # the entry dates (then of ``number``); the EcritureNum of the closed year's FEC.
    final_number: Mapped[int | None] = mapped_column(Integer)

    journal = relationship(Journal)
    lines = relationship("JournalLine", back_populates="entry", order_by="JournalLine.position")
    reversal_of = relationship("JournalEntry", remote_side=[id], foreign_keys=[reversal_of_id])
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def reference(self):
        """The number as users see it: ``2026-00042``."""
        return f"{self.fiscal_year}-{self.number:05d}" if self.number else "brouillon"

    @property
    def is_locked(self):
        return self.validated_on is not None

    @property
    def total(self):
        return sum((line.debit for line in self.lines), ZERO)

    def __str__(self):
        return f"Écriture {self.reference} {self.label}"


class JournalLine(db.Model):
    """A line of an entry: an account (and its auxiliary account), a debit *or* a credit."""

    __tablename__ = "accounting_lines"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_not_negative"),
        CheckConstraint("(debit > 0 AND credit = 0) OR (credit > 0 AND debit = 0)", name="debit_xor_credit"),
        CheckConstraint("(lettering_code IS NULL) = (lettering_date IS NULL)", name="lettering_pair"),
        Index("ix_accounting_lines_org_account", "organisation_id", "account_id"),
        Index("ix_accounting_lines_aux_lettering", "auxiliary_id", "lettering_code"),
        Index("ix_accounting_lines_org_lettering", "organisation_id", "lettering_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("accounting_entries.id"), index=True)
    # Denormalised from the entry so that per-organisation queries need no join.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=1)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"))
    auxiliary_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_auxiliary_accounts.id"))
    label: Mapped[str | None] = mapped_column(String(200))
    debit: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    credit: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    lettering_code: Mapped[str | None] = mapped_column(String(8))
    lettering_date: Mapped[date | None] = mapped_column(Date)

    entry = relationship(JournalEntry, back_populates="lines")
    account = relationship(Account)
    auxiliary = relationship(AuxiliaryAccount)

    @property
    def amount(self):
        return self.debit or self.credit

    @property
    def display_label(self):
        return self.label or self.entry.label

    def __str__(self):
        return line_summary(self.account.number if self.account else self.account_id, self.debit, self.credit)


def line_summary(account, debit, credit):
    """``Ligne 411 : débit 30,00 €``: how a line is named (its audit rows' summary)."""
    side = f"débit {format_money(debit)}" if debit else f"crédit {format_money(credit)}"
    return f"Ligne {account} : {side}"


class EntrySequence(db.Model):
    """The last entry number given in an organisation's fiscal year (row locked to allocate)."""

    __tablename__ = "accounting_sequences"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class AccountTotal(db.Model):
    """What the posted lines add up to, kept in advance: debit and credit totals per
    organisation, fiscal year, month (its first day), account and auxiliary account.

    Maintained by a database trigger (``db_guards.totals_statements``) in the transaction that
    posts an entry — the *draft → posted* switch every posting path goes through (one by one, in
    a batch, a reversal, an AN) — and never otherwise: a posted entry's lines cannot change and a
    posted entry cannot be deleted, so the totals cannot drift. The annual accounts read these
    rows (a few thousand a year) instead of summing the year's lines (``annual.year_balances``).
    ``auxiliary_key`` is the auxiliary account's id, 0 for a line that has none: a key column
    cannot be NULL and still be one key (``NULL`` never equals ``NULL`` in a unique index)."""

    __tablename__ = "accounting_account_totals"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    # The month before the fiscal year in the key: the statements read a range of months.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounting_accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    auxiliary_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Wider than a line's Numeric(12, 2): a year of an account adds up many lines.
    debit: Mapped[Decimal] = mapped_column(Numeric(16, 2, asdecimal=True), default=ZERO)
    credit: Mapped[Decimal] = mapped_column(Numeric(16, 2, asdecimal=True), default=ZERO)


class PostingRule(TimestampMixin, db.Model):
    """The accounts and journal an event uses in one organisation. The side that is paid in
    or out of the treasury takes its account and journal from the payment method
    (``PaymentMethodRule``), so its column stays empty."""

    __tablename__ = "accounting_posting_rules"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "event", name="uq_accounting_posting_rules_org_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    debit_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_accounts.id"))
    credit_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_accounts.id"))
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_journals.id"))

    debit_account = relationship(Account, foreign_keys=[debit_account_id])
    credit_account = relationship(Account, foreign_keys=[credit_account_id])
    journal = relationship(Journal)

    def __str__(self):
        spec = EVENTS.get(self.event)
        return f"Règle « {spec.label if spec else self.event} »"


class PaymentMethodRule(TimestampMixin, db.Model):
    """Where money paid by a given method goes: transfer → 512 in BQ, cheque → 5112 in BQ…"""

    __tablename__ = "accounting_payment_methods"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "method", name="uq_accounting_payment_methods_org_method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"))
    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journals.id"))

    account = relationship(Account)
    journal = relationship(Journal)

    def __str__(self):
        return f"Moyen de paiement « {PAYMENT_METHODS.get(self.method, self.method)} »"


class ClosedPeriod(db.Model):
    """A closed month or fiscal year: no entry may be posted in it any more, and its entries
    are validated (locked). A closed fiscal year (``kind="year"``, made by
    ``closing.close_fiscal_year``) is frozen by the database (``db_guards``) and keeps what
    makes its FEC reproducible: the labels of its accounts, journals and auxiliary accounts as
    they were at the closing (``labels``) and the SHA-256 of its FEC in UTF-8 (``fec_sha256``)."""

    __tablename__ = "accounting_closed_periods"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("kind IN ('month', 'year')", name="kind"),
        CheckConstraint("start_date <= end_date", name="dates"),
        UniqueConstraint("organisation_id", "kind", "start_date", name="uq_accounting_closed_periods_org_kind_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Fiscal years only (see the class docstring).
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    entry_count: Mapped[int | None] = mapped_column(Integer)
    fec_sha256: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[dict | None] = mapped_column(JSON)

    closed_by = relationship("User")

    def __str__(self):
        if self.kind == "year":
            return f"Exercice clos du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"
        return f"Période close du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"


class ExportRecord(db.Model):
    """One file sent to accountants: kept with its fingerprint, for the history page.

    ``stored_path`` is relative to ``STORAGE_DIR`` (the copy kept by the application; a command
    line export also keeps one); ``output_path`` is where the command line wrote it.
    """

    __tablename__ = "accounting_exports"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    fmt: Mapped[str] = mapped_column(String(10))
    report: Mapped[str | None] = mapped_column(String(20))
    encoding: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    stored_path: Mapped[str | None] = mapped_column(String(400))
    notice_path: Mapped[str | None] = mapped_column(String(400))
    output_path: Mapped[str | None] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64))
    byte_count: Mapped[int] = mapped_column(Integer, default=0)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    entries_validated: Mapped[int] = mapped_column(Integer, default=0)
    # A FEC of a closed fiscal year is definitive; of an open year, provisional (its entries
    # are not validated by it, its notice says so). False for CSV and XLSX.
    definitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    origin: Mapped[str] = mapped_column(String(20), default="web")  # web | cli
    task_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)

    user = relationship("User")

    @property
    def format_label(self):
        return {"fec": "FEC", "csv": "CSV", "xlsx": "XLSX"}.get(self.fmt, self.fmt)

    @property
    def encoding_label(self):
        """The encoding as a treasurer reads it (Python's codec names are not for users)."""
        name = (self.encoding or "").lower().replace("_", "-")
        return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 avec BOM", "cp1252": "Windows-1252",
                "iso8859-15": "ISO-8859-15", "iso-8859-15": "ISO-8859-15"}.get(name, "") if name else ""

    @property
    def status_label(self):
        """« définitif » or « provisoire » for a FEC, ``None`` otherwise."""
        if self.fmt != "fec":
            return None
        return "définitif" if self.definitive else "provisoire"

    def __str__(self):
        return f"Export {self.format_label} {self.filename}"


# --------------------------------------------------------------------------------------------
# Posted entries are frozen: refused in Python first (a French message, before any SQL),
# and by the database triggers for anything that bypasses the ORM.
# --------------------------------------------------------------------------------------------

_ENTRY_FROZEN = ("organisation_id", "journal_id", "fiscal_year", "number", "entry_date", "piece_ref",
                 "piece_date", "label", "event", "source", "reversal_of_id", "status")
_LINE_FROZEN = ("entry_id", "organisation_id", "position", "account_id", "auxiliary_id", "label", "debit", "credit")


def _committed_value(obj, key):
    from sqlalchemy import inspect as sa_inspect

    history = sa_inspect(obj).attrs[key].history
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, key)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_posted_entries(session, flush_context, instances):
    from sqlalchemy import inspect as sa_inspect

    from backoffice.accounting.errors import AccountingError

    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, JournalEntry):
            if _committed_value(obj, "status") != EntryStatus.POSTED.value:
                continue
            if obj in session.deleted:
                raise AccountingError(f"L'écriture {obj.reference} est comptabilisée : elle ne peut pas être "
                                      "supprimée, seulement contre-passée.")
            state = sa_inspect(obj)
            changed = [key for key in _ENTRY_FROZEN if state.attrs[key].history.has_changes()]
            if state.attrs["validated_on"].history.deleted and state.attrs["validated_on"].history.deleted[0]:
                changed.append("validated_on")
            if changed:
                raise AccountingError(f"L'écriture {obj.reference} est comptabilisée"
                                      f"{' et validée' if _committed_value(obj, 'validated_on') else ''} : elle "
                                      "ne peut plus être modifiée ; passez une écriture de contre-passation.")
        elif isinstance(obj, JournalLine):
            entry = obj.entry
            if entry is None or _committed_value(entry, "status") != EntryStatus.POSTED.value:
                continue
            state = sa_inspect(obj)
            if obj in session.deleted or any(state.attrs[key].history.has_changes() for key in _LINE_FROZEN):
                raise AccountingError(f"L'écriture {entry.reference} est comptabilisée : ses lignes ne peuvent plus "
                                      "changer (seul le lettrage peut être modifié).")
    for obj in session.new:
        if isinstance(obj, JournalLine) and obj.entry is not None and obj.entry.id is not None \
                and _committed_value(obj.entry, "status") == EntryStatus.POSTED.value:
            raise AccountingError(f"L'écriture {obj.entry.reference} est comptabilisée : on ne peut plus y "
                                  "ajouter de ligne.")


# The database guards (triggers) are attached to the tables here so that ``create_all``
# (tests, ``seed-demo --reset``) installs them as the migration does.
from backoffice.accounting import db_guards  # noqa: E402

db_guards.attach(JournalEntry.__table__, JournalLine.__table__, ClosedPeriod.__table__, AccountTotal.__table__)
