"""The budget prévisionnel: an amount per account or group of accounts of classes 6 and 7 for
a fiscal year, and the actual beside it.

A line names an account number or a prefix of the chart (``6226`` honoraires, or ``62`` for
every « autres services extérieurs »): its actual is what the year's posted lines put on the
accounts starting with it (charges debit − credit, produits credit − debit). Two lines of a year
may not overlap (``62`` and ``6226``), so that no euro is counted twice; an account the chart
does not have is refused in French, and so is a balance-sheet account.

The table is ``accounting_budget_lines`` (its model lives here, beside the rules, imported by
the accounting views so that the application always knows it).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.accounting.annual import actual_by_prefix, year_balances
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import Account
from backoffice.extensions import db
from backoffice.formatting import format_money
from backoffice.models import ZERO, Money, TimestampMixin

KIND_LABELS = {"6": "Charges", "7": "Produits"}


class BudgetLine(TimestampMixin, db.Model):
    """The amount budgeted for ``fiscal_year`` on the accounts starting with ``account_prefix``."""

    __tablename__ = "accounting_budget_lines"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("organisation_id", "fiscal_year", "account_prefix", name="uq_accounting_budget_lines_org_year_prefix"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    account_prefix: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)

    @property
    def kind(self):
        return KIND_LABELS.get(self.account_prefix[:1], "")

    def __str__(self):
        return f"Budget {self.fiscal_year} {self.account_prefix} {self.label} : {format_money(self.amount)}"


def budget_lines(organisation, year):
    return list(db.session.scalars(select(BudgetLine).where(
        BudgetLine.organisation_id == organisation.id, BudgetLine.fiscal_year == year)
        .order_by(BudgetLine.account_prefix)))


def _accounts_under(organisation, prefix):
    return list(db.session.scalars(select(Account).where(
        Account.organisation_id == organisation.id, Account.number.startswith(prefix, autoescape=True))
        .order_by(Account.number)))


def set_budget_line(organisation, year, account, amount, label=None):
    """Budget ``amount`` on the account or group ``account`` for ``year`` (a new line, or the
    line of that account updated). Refused: an account or group the chart does not have, a
    balance-sheet account, a group overlapping another line of the year."""
    prefix = (account or "").strip().replace(" ", "")
    if not prefix:
        raise AccountingError("Indiquez un compte ou un groupe de comptes (par exemple 6226 ou 62).", "account")
    if not prefix.isdigit():
        raise AccountingError(f"« {prefix} » n'est pas un numéro de compte : des chiffres seulement "
                              "(par exemple 6226, ou 62 pour le groupe).", "account")
    if prefix[0] not in KIND_LABELS:
        raise AccountingError(f"Le compte {prefix} n'est ni une charge (classe 6) ni un produit (classe 7) : "
                              "le budget prévisionnel ne porte que sur ces deux classes.", "account")
    accounts = _accounts_under(organisation, prefix)
    if not accounts:
        raise AccountingError(f"Le compte {prefix} n'existe pas dans le plan comptable de {organisation.name} "
                              "(ni aucun compte qui commence par ces chiffres).", "account")
    if amount is None or Decimal(amount) < 0:
        raise AccountingError("Le montant budgété doit être positif ou nul.", "amount")
    lines = budget_lines(organisation, year)
    existing = next((line for line in lines if line.account_prefix == prefix), None)
    for other in lines:
        if other is existing:
            continue
        if prefix.startswith(other.account_prefix) or other.account_prefix.startswith(prefix):
            wider, narrower = sorted((prefix, other.account_prefix), key=len)
            raise AccountingError(f"Le compte {narrower} est déjà compris dans la ligne {wider} "
                                  f"« {other.label if other.account_prefix == wider else label or ''} » du budget "
                                  f"{year} : modifiez cette ligne, ou détaillez le groupe compte par compte.",
                                  "account")
    label = (label or "").strip() or (accounts[0].label if len(accounts) == 1 or accounts[0].number == prefix
                                      else f"Comptes {prefix}")
    if len(label) > 200:
        raise AccountingError("Le libellé est trop long (200 caractères au plus).", "label")
    if existing is None:
        existing = BudgetLine(organisation_id=organisation.id, fiscal_year=year, account_prefix=prefix)
        db.session.add(existing)
    existing.label = label
    existing.amount = Decimal(amount).quantize(Decimal("0.01"))
    db.session.flush()
    return existing


def delete_budget_line(organisation, line_id):
    line = db.session.get(BudgetLine, line_id)
    if line is None or line.organisation_id != organisation.id:
        raise AccountingError("Cette ligne du budget n'existe plus.")
    db.session.delete(line)
    db.session.flush()
    return line


@dataclass(frozen=True)
class BudgetRow:
    prefix: str
    label: str
    budget: Decimal | None  # None: the actual not budgeted (« hors budget »)
    actual: Decimal
    line_id: int | None = None

    @property
    def gap(self):
        """Écart: actual − budget (a charge above its budget is a positive gap)."""
        return self.actual - (self.budget or ZERO)

    @property
    def gap_percent(self):
        """The gap as a percentage of the budget (None when nothing was budgeted)."""
        if not self.budget:
            return None
        return (self.gap * 100 / self.budget).quantize(Decimal("0.1"))

    @property
    def gap_percent_text(self):
        """« +12,5 % », « −3,0 % », or « — » when nothing was budgeted."""
        value = self.gap_percent
        if value is None:
            return "—"
        return f"{'+' if value > 0 else '−' if value < 0 else ''}{abs(value)} %".replace(".", ",")


@dataclass(frozen=True)
class BudgetSide:
    kind: str  # "6" charges, "7" produits
    label: str
    rows: tuple
    total: BudgetRow


@dataclass(frozen=True)
class BudgetReport:
    year: int
    charges: BudgetSide
    income: BudgetSide
    result: BudgetRow  # produits − charges, budgeted and actual

    @property
    def is_empty(self):
        return not any(row.line_id for row in self.charges.rows + self.income.rows)


def budget_report(organisation, year, balances=None) -> BudgetReport:
    """Actual against budget for ``year``: one row per budget line, then what the year put on
    accounts no line covers (« Autres, hors budget »), per side; ``balances`` are the year's
    ``year_balances`` when the caller has them already."""
    if balances is None:
        balances = year_balances(organisation, *organisation.fiscal_year_bounds(year))
    return build_budget_report(year, budget_lines(organisation, year), balances)


def build_budget_report(year, lines, balances) -> BudgetReport:
    """The report from budget lines (anything with ``account_prefix``, ``label``, ``amount``,
    ``id``) and a year's balances (pure: no query)."""
    sides = {}
    for kind, label in KIND_LABELS.items():
        own = [line for line in lines if line.account_prefix.startswith(kind)]
        rows = [BudgetRow(line.account_prefix, line.label, line.amount, actual_by_prefix(balances, line.account_prefix),
                          line.id) for line in own]
        whole = actual_by_prefix(balances, kind)
        rest = whole - sum((row.actual for row in rows), ZERO)
        if rest:
            rows.append(BudgetRow(kind, "Autres, hors budget", None, rest))
        total = BudgetRow(kind, f"Total des {label.lower()}", sum((r.budget or ZERO for r in rows), ZERO), whole)
        sides[kind] = BudgetSide(kind, label, tuple(rows), total)
    charges, income = sides["6"], sides["7"]
    result = BudgetRow("", "Résultat (produits − charges)", income.total.budget - charges.total.budget,
                       income.total.actual - charges.total.actual)
    return BudgetReport(year, charges, income, result)
