"""Banking tables: an organisation's bank accounts, the statements imported into them, their
lines and what each line was matched to, and the bank details of the parties it pays.

* ``bank_accounts``: name, IBAN/BIC, the accounting journal (``BQ``) and ledger account
  (``512…``) that its movements are booked to; one per organisation is the default (the
  account shown to members, collected into by direct debit).
* ``bank_statements`` / ``bank_statement_lines``: one uploaded file and its lines, each line
  stored once per bank account (``fingerprint``). ``amount`` is signed: credits > 0.
* ``bank_line_matches``: what a line pays or is paid by — any row of any feature, named by its
  table (``target_kind``, e.g. ``membership_payments``) and id, with the part of the line's
  amount it accounts for (a split is several matches). A line whose matches add up to its
  amount is ``matched``.
* ``bank_csv_layouts``: the columns of each layout of an account's CSV export, recognised by
  the header's signature.
* ``bank_label_rules``: what the treasurer booked lines of a given label to (« MAIF » → 616),
  proposed again for the next statements (``reconciliation``).
* ``payee_bank_details``: the IBAN/BIC of a party the organisation pays (a grant beneficiary,
  a SISA associate) — per organisation, never on the shared directory.
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Enum, ForeignKey, Index, Integer, String,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.banking.errors import LineStatusError
from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle
from backoffice.formatting import format_date_short
from backoffice.models import Money, TimestampMixin, utcnow

DEFAULT_JOURNAL = "BQ"
DEFAULT_LEDGER_ACCOUNT = "512"


class LineStatus(StrEnum):
    UNMATCHED = "unmatched"    # nothing found, or not yet confirmed: waiting for someone
    SUGGESTED = "suggested"    # a feature proposed a target (``suggested_kind``/``suggested_id``)
    MATCHED = "matched"        # its matches add up to its amount
    IGNORED = "ignored"        # dismissed from the suggestions (can still be matched later)

    @property
    def label(self):
        return {"unmatched": "Non rapprochée", "suggested": "Suggestion", "matched": "Rapprochée",
                "ignored": "Ignorée"}[self.value]


class BankAccount(TimestampMixin, db.Model):
    """A bank account of an organisation. ``iban`` is unknown only for an account created by the
    migration for statements imported before accounts existed."""

    __tablename__ = "bank_accounts"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "name", name="uq_bank_accounts_org_name"),
        UniqueConstraint("organisation_id", "iban", name="uq_bank_accounts_org_iban"),
        CheckConstraint("ledger_account LIKE '512%'", name="ledger_account_512"),
        # At most one default account per organisation.
        Index("uq_bank_accounts_org_default", "organisation_id", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    journal_code: Mapped[str] = mapped_column(String(10), default=DEFAULT_JOURNAL)
    ledger_account: Mapped[str] = mapped_column(String(10), default=DEFAULT_LEDGER_ACCOUNT)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Columns of the bank's CSV export, chosen once: {"date": "Date", "label": "Libellé",
    # "amount": "Montant" | None, "debit": …, "credit": …, "reference": … | None}.
    statement_csv_mapping: Mapped[dict | None] = mapped_column(JSON)

    organisation = relationship("Organisation", back_populates="bank_accounts")
    csv_layouts = relationship("BankCsvLayout", back_populates="bank_account", order_by="BankCsvLayout.id",
                               cascade="all, delete-orphan")

    @property
    def grouped_iban(self):
        """``FR76 3000 4000 0312 3456 7890 143`` (as printed for people)."""
        compact = (self.iban or "").replace(" ", "")
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))

    def __str__(self):
        return self.name


class BankCsvLayout(TimestampMixin, db.Model):
    """The columns of one layout of a bank account's CSV export, chosen once by the treasurer
    and recognised on the next files by the header's ``signature`` (``parsers.layout_signature``):
    a bank that changes its export, or a second export (« détaillé »), is a second layout."""

    __tablename__ = "bank_csv_layouts"
    __audited__ = True
    __table_args__ = (UniqueConstraint("bank_account_id", "signature", name="uq_bank_csv_layouts_account_signature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), index=True)
    signature: Mapped[str] = mapped_column(String(64))
    columns: Mapped[list] = mapped_column(JSON)    # the header as the file writes it
    mapping: Mapped[dict] = mapped_column(JSON)    # {"date": "Date", "label": "Libellé", "debit": …}

    bank_account = relationship(BankAccount, back_populates="csv_layouts")

    def __str__(self):
        return f"Colonnes du relevé ({', '.join(self.columns)})"


class BankStatement(TimestampMixin, db.Model):
    """One uploaded statement file (CSV or CAMT.053) of a bank account."""

    __tablename__ = "bank_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    file_format: Mapped[str] = mapped_column(String(10))  # "csv" | "camt053"
    line_count: Mapped[int] = mapped_column(Integer, default=0)        # lines in the file
    new_line_count: Mapped[int] = mapped_column(Integer, default=0)    # lines not seen before
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The balance the bank gives at the end of the statement (read from the file's « Solde au… »
    # line or CAMT's CLBD, or typed by the treasurer): what reconciliation checks the books against.
    closing_date: Mapped[date | None] = mapped_column(Date)
    closing_balance: Mapped[Decimal | None] = mapped_column(Money)
    # What the import left out or changed, in French, one sentence a row (« Ligne 17 : « Total
    # des opérations » ignorée (solde ou total). », a reference cut, kept whole here).
    notes: Mapped[list | None] = mapped_column(JSON)

    bank_account = relationship(BankAccount)
    lines = relationship("BankStatementLine", back_populates="statement", order_by="BankStatementLine.id")

    def __str__(self):
        return f"Relevé « {self.filename} »"


_U, _S, _M, _I = LineStatus.UNMATCHED, LineStatus.SUGGESTED, LineStatus.MATCHED, LineStatus.IGNORED
# A suggestion comes and goes while the line is open; a line is matched when its matches add up
# (an ignored one too: booked later by accounting), and open again when a match is undone.
LINE_LIFECYCLE = Lifecycle("bank_statement_line", {
    _U: {_S, _M, _I},
    _S: {_U, _M, _I},
    _M: {_U, _S},   # a match undone (its payment reversed): waiting again
    _I: {_M},
}, noun="l'opération", error=LineStatusError)


@LINE_LIFECYCLE.bind
class BankStatementLine(TimestampMixin, db.Model):
    """A line of a bank statement, stored once per bank account (``fingerprint``).

    ``suggested_kind``/``suggested_id`` is what a feature proposed (e.g. ``memberships`` 12) and
    ``match_rule`` why; the confirmed targets are in ``matches``."""

    __tablename__ = "bank_statement_lines"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "fingerprint", name="uq_bank_statement_lines_account_fingerprint"),
        Index("ix_bank_statement_lines_org_status", "organisation_id", "status"),
        Index("ix_bank_statement_lines_suggested", "suggested_kind", "suggested_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statements.id"), index=True)
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)  # signed: credits > 0
    label: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str | None] = mapped_column(String(140))
    counterparty: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[LineStatus] = mapped_column(
        Enum(LineStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
             validate_strings=True), default=LineStatus.UNMATCHED)
    suggested_kind: Mapped[str | None] = mapped_column(String(40))
    suggested_id: Mapped[int | None] = mapped_column(Integer)
    match_rule: Mapped[str | None] = mapped_column(String(20))
    # The transactions of a batch entry (CAMT ``TxDtls``: a grouped transfer, a direct-debit
    # collection), kept on the one line the bank booked: [{"amount": "-600.00", "label": …,
    # "reference": …, "counterparty": …}, …]; None for a single operation.
    details: Mapped[list | None] = mapped_column(JSON)
    # What the suggesting feature found, for the review screen: {"flags": [...], "candidates":
    # [ids], "kind": a line that is no feature's (« cheque_deposit »…), "preticked": bool}.
    match_details: Mapped[dict | None] = mapped_column(JSON)

    statement = relationship(BankStatement, back_populates="lines")
    bank_account = relationship(BankAccount)
    matches = relationship("BankLineMatch", back_populates="line", order_by="BankLineMatch.id")

    @property
    def is_credit(self):
        return self.amount > 0

    @property
    def text(self):
        """Everything matching may look at."""
        return " ".join(p for p in (self.label, self.reference, self.counterparty) if p)

    def __str__(self):
        return f"Opération du {format_date_short(self.booked_on)} « {self.label} »"


class BankLineMatch(db.Model):
    """A statement line (or part of it) accounted for by a row of some feature.

    ``amount`` has the sign of the line; the matches of a line never exceed its amount."""

    __tablename__ = "bank_line_matches"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        UniqueConstraint("line_id", "target_kind", "target_id", name="uq_bank_line_matches_line_target"),
        Index("ix_bank_line_matches_target", "target_kind", "target_id"),
        # A line of the books is on the bank statement once: reconciliation matches each 512
        # line of an entry (``accounting_lines``) to one statement line at most.
        Index("uq_bank_line_matches_accounting_line", "target_id", unique=True,
              sqlite_where=text("target_kind = 'accounting_lines'"),
              postgresql_where=text("target_kind = 'accounting_lines'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("bank_statement_lines.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(40))   # the target's table, e.g. "membership_payments"
    target_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    matched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    matched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    line = relationship(BankStatementLine, back_populates="matches")


class BankLabelRule(TimestampMixin, db.Model):
    """« Lines whose label says ``keyword`` are booked to ``account_number`` »: remembered when
    the treasurer books a line, proposed (never applied unseen) on the next statements."""

    __tablename__ = "bank_label_rules"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "folded_keyword", name="uq_bank_label_rules_org_keyword"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    keyword: Mapped[str] = mapped_column(String(100))          # as typed: « MAIF »
    folded_keyword: Mapped[str] = mapped_column(String(100))   # its folded words: « maif »
    account_number: Mapped[str] = mapped_column(String(20))    # an account of the chart: « 616 »
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __str__(self):
        return f"Règle « {self.keyword} » → {self.account_number}"


class PayeeBankDetails(TimestampMixin, db.Model):
    """Where an organisation pays a party (grant beneficiary, SISA associate): IBAN, BIC, holder."""

    __tablename__ = "payee_bank_details"
    __audited__ = True
    __table_args__ = (UniqueConstraint("organisation_id", "party_id", name="uq_payee_bank_details_org_party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    holder_name: Mapped[str] = mapped_column(String(70))

    party = relationship("Party")

    def __str__(self):
        return f"Coordonnées bancaires de {self.holder_name}"
