"""The annual accounts: *compte de résultat* and *bilan* in the presentation of the
associations' accounting regulation (règlement ANC n° 2018-06), with the previous year beside.

Both statements are computed from the fiscal year's posted lines by **one grouped query per
year** (``year_balances``: totals per account and, on collective accounts, per auxiliary
account — read from the totals kept at posting, ``AccountTotal``, not from the lines), then placed on presentation lines by ``PRESENTATION``, the one table that says where
each account goes:

* a row is ``(prefix, line when the balance is debit, line when it is credit)``; the longest
  prefix of an account's number wins, so ``6894`` (reports en fonds dédiés) is not « autres
  charges » (``6``); one-digit prefixes catch accounts an organisation adds to its chart;
* income and expense accounts (classes 6 and 7) have one line whatever their balance (a
  refund of a charge lowers the charge); balance-sheet accounts of classes 4 and 5 go to the
  actif when their balance is debit and to the passif when it is credit (a member who paid his
  next fee in advance is a debt, a bank overdraft is a bank debt), decided **per auxiliary
  account** on collective accounts, never netted across members;
* the year's result (produits − charges) appears in the passif as « Excédent ou déficit de
  l'exercice », so that the bilan balances before the closing; the result of the previous year
  that the AN carried to 120/129 and the AG has not allocated yet is « Résultat en instance
  d'affectation ».

Amounts are ``Decimal`` to the cent; every line keeps the accounts it was made of, so that a
test (and the accountant) can add them up again from the trial balance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import func, select

from backoffice.accounting.models import Account, AccountTotal, EntryStatus, Journal, JournalEntry, JournalKind, JournalLine
from backoffice.extensions import db
from backoffice.models import ZERO

POSTED = EntryStatus.POSTED.value

# --------------------------------------------------------------------------------------------
# The presentation lines, in the order of the regulation's model statements
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineSpec:
    key: str
    label: str
    section: str


@dataclass(frozen=True)
class SectionSpec:
    key: str
    label: str
    statement: str  # income | expense | assets | liabilities | in_kind

    @property
    def sign(self):
        """Debit minus credit times this is the amount shown: charges, assets and in-kind uses
        are debit balances; income, the passif and in-kind resources credit balances."""
        return 1 if self.statement in ("expense", "assets") or self.key == "in_kind_uses" else -1


SECTIONS = (
    SectionSpec("operating_income", "Produits d'exploitation", "income"),
    SectionSpec("operating_expense", "Charges d'exploitation", "expense"),
    SectionSpec("financial_income", "Produits financiers", "income"),
    SectionSpec("financial_expense", "Charges financières", "expense"),
    SectionSpec("exceptional_income", "Produits exceptionnels", "income"),
    SectionSpec("exceptional_expense", "Charges exceptionnelles", "expense"),
    SectionSpec("tax", "Impôts et participation", "expense"),
    SectionSpec("in_kind_resources", "Contributions volontaires en nature (ressources)", "in_kind"),
    SectionSpec("in_kind_uses", "Contributions volontaires en nature (emplois)", "in_kind"),
    SectionSpec("fixed_assets", "Actif immobilisé", "assets"),
    SectionSpec("current_assets", "Actif circulant", "assets"),
    SectionSpec("own_funds", "Fonds propres", "liabilities"),
    SectionSpec("dedicated_funds", "Fonds reportés et dédiés", "liabilities"),
    SectionSpec("provisions", "Provisions", "liabilities"),
    SectionSpec("debts", "Dettes", "liabilities"),
)
SECTION_BY_KEY = {section.key: section for section in SECTIONS}

LINES = (
    # Compte de résultat
    LineSpec("fees", "Cotisations", "operating_income"),
    LineSpec("sales", "Ventes de biens et services", "operating_income"),
    LineSpec("production", "Production stockée et immobilisée", "operating_income"),
    LineSpec("subsidies", "Concours publics et subventions d'exploitation", "operating_income"),
    LineSpec("generosity", "Ressources liées à la générosité du public (dons, mécénat, legs)", "operating_income"),
    LineSpec("contributions", "Contributions financières", "operating_income"),
    LineSpec("reversals", "Reprises sur amortissements, dépréciations, provisions et transferts de charges",
             "operating_income"),
    LineSpec("dedicated_funds_used", "Utilisations des fonds dédiés", "operating_income"),
    LineSpec("other_income", "Autres produits", "operating_income"),
    LineSpec("goods_purchases", "Achats de marchandises (y compris variation de stock)", "operating_expense"),
    LineSpec("supplies_purchases", "Achats de matières et approvisionnements (y compris variation de stock)",
             "operating_expense"),
    LineSpec("external_charges", "Autres achats et charges externes", "operating_expense"),
    LineSpec("grants_paid", "Aides financières", "operating_expense"),
    LineSpec("taxes", "Impôts, taxes et versements assimilés", "operating_expense"),
    LineSpec("salaries", "Salaires et traitements", "operating_expense"),
    LineSpec("social_charges", "Charges sociales", "operating_expense"),
    LineSpec("depreciation", "Dotations aux amortissements et aux dépréciations", "operating_expense"),
    LineSpec("provisions_charge", "Dotations aux provisions", "operating_expense"),
    LineSpec("dedicated_funds_set_aside", "Reports en fonds dédiés", "operating_expense"),
    LineSpec("other_charges", "Autres charges", "operating_expense"),
    LineSpec("financial_income", "Produits financiers", "financial_income"),
    LineSpec("financial_charges", "Charges financières", "financial_expense"),
    LineSpec("exceptional_income", "Produits exceptionnels", "exceptional_income"),
    LineSpec("exceptional_charges", "Charges exceptionnelles", "exceptional_expense"),
    LineSpec("profit_sharing", "Participation des salariés aux résultats", "tax"),
    LineSpec("income_tax", "Impôts sur les bénéfices", "tax"),
    LineSpec("in_kind_resources", "Dons en nature, prestations en nature et bénévolat", "in_kind_resources"),
    LineSpec("in_kind_uses", "Secours en nature, mises à disposition, prestations et personnel bénévole",
             "in_kind_uses"),
    # Bilan — actif
    LineSpec("intangible_assets", "Immobilisations incorporelles", "fixed_assets"),
    LineSpec("tangible_assets", "Immobilisations corporelles", "fixed_assets"),
    LineSpec("bequest_assets", "Biens reçus par legs ou donations destinés à être cédés", "fixed_assets"),
    LineSpec("financial_assets", "Immobilisations financières", "fixed_assets"),
    LineSpec("stocks", "Stocks et en-cours", "current_assets"),
    LineSpec("advances_paid", "Avances et acomptes versés sur commandes", "current_assets"),
    LineSpec("member_receivables", "Créances usagers et comptes rattachés", "current_assets"),
    LineSpec("other_receivables", "Autres créances", "current_assets"),
    LineSpec("securities", "Valeurs mobilières de placement", "current_assets"),
    LineSpec("cash", "Disponibilités", "current_assets"),
    LineSpec("prepaid_charges", "Charges constatées d'avance", "current_assets"),
    # Bilan — passif
    LineSpec("capital", "Capital", "own_funds"),
    LineSpec("funds_without_recovery", "Fonds propres sans droit de reprise", "own_funds"),
    LineSpec("revaluation", "Écarts de réévaluation", "own_funds"),
    LineSpec("reserves", "Réserves", "own_funds"),
    LineSpec("retained_earnings", "Report à nouveau", "own_funds"),
    LineSpec("controlled_result", "Résultat sous contrôle de tiers financeurs", "own_funds"),
    LineSpec("pending_result", "Résultat en instance d'affectation", "own_funds"),
    LineSpec("year_result", "Excédent ou déficit de l'exercice", "own_funds"),
    LineSpec("funds_with_recovery", "Fonds propres avec droit de reprise", "own_funds"),
    LineSpec("investment_subsidies", "Subventions d'investissement", "own_funds"),
    LineSpec("regulated_provisions", "Provisions réglementées", "own_funds"),
    LineSpec("deferred_funds", "Fonds reportés liés aux legs ou donations", "dedicated_funds"),
    LineSpec("dedicated_funds", "Fonds dédiés", "dedicated_funds"),
    LineSpec("provisions", "Provisions pour risques et charges", "provisions"),
    LineSpec("bank_debts", "Emprunts et dettes auprès des établissements de crédit", "debts"),
    LineSpec("other_financial_debts", "Emprunts et dettes financières diverses", "debts"),
    LineSpec("supplier_debts", "Dettes fournisseurs et comptes rattachés", "debts"),
    LineSpec("asset_debts", "Dettes sur immobilisations et comptes rattachés", "debts"),
    LineSpec("tax_social_debts", "Dettes fiscales et sociales", "debts"),
    LineSpec("other_debts", "Autres dettes", "debts"),
    LineSpec("deferred_income", "Produits constatés d'avance", "debts"),
)
LINE_BY_KEY = {line.key: line for line in LINES}
# The computed line: no account is mapped to it (classes 6 and 7 make it).
YEAR_RESULT = "year_result"

# Where each account goes: (prefix, line of a debit balance, line of a credit balance). One
# line named once is both. The longest prefix wins; one-digit rows catch accounts added later.
PRESENTATION = (
    # Class 1: own funds, dedicated funds, provisions, borrowings (passif whatever the sign).
    ("1", "funds_without_recovery"),
    ("101", "capital"), ("102", "funds_without_recovery"), ("103", "funds_with_recovery"),
    ("104", "capital"), ("105", "revaluation"), ("106", "reserves"), ("108", "capital"),
    ("11", "retained_earnings"), ("115", "controlled_result"), ("12", "pending_result"),
    ("13", "investment_subsidies"), ("14", "regulated_provisions"), ("15", "provisions"),
    ("16", "other_financial_debts"), ("164", "bank_debts"), ("17", "other_financial_debts"),
    ("18", "other_debts"), ("19", "dedicated_funds"), ("191", "deferred_funds"),
    # Class 2: fixed assets, net of depreciation (28x, 29x on the line of their assets).
    ("2", "tangible_assets"), ("20", "intangible_assets"), ("21", "tangible_assets"), ("22", "tangible_assets"),
    ("23", "tangible_assets"), ("28", "tangible_assets"), ("29", "tangible_assets"), ("280", "intangible_assets"),
    ("290", "intangible_assets"), ("24", "bequest_assets"), ("26", "financial_assets"),
    ("27", "financial_assets"), ("296", "financial_assets"), ("297", "financial_assets"),
    # Class 3: stocks.
    ("3", "stocks"),
    # Class 4: third parties, side by balance.
    ("4", "other_receivables", "other_debts"),
    ("40", "other_receivables", "supplier_debts"), ("404", "other_receivables", "asset_debts"),
    ("405", "other_receivables", "asset_debts"), ("4091", "advances_paid", "supplier_debts"),
    ("41", "member_receivables", "other_debts"), ("419", "member_receivables", "other_debts"),
    ("42", "other_receivables", "tax_social_debts"), ("43", "other_receivables", "tax_social_debts"),
    ("44", "other_receivables", "tax_social_debts"),
    ("45", "other_receivables", "other_financial_debts"), ("457", "other_receivables", "other_debts"),
    ("46", "other_receivables", "other_debts"), ("47", "other_receivables", "other_debts"),
    ("48", "other_receivables", "other_debts"), ("49", "other_receivables"),
    ("486", "prepaid_charges"), ("487", "deferred_income"), ("491", "member_receivables"),
    # Class 5: treasury, side by balance (an overdraft is a bank debt).
    ("5", "cash", "other_debts"), ("50", "securities"), ("59", "securities"),
    ("51", "cash", "bank_debts"), ("53", "cash"), ("54", "cash"), ("58", "cash", "other_debts"), ("519", "cash", "bank_debts"),
    # Class 6: charges.
    ("6", "other_charges"),
    ("60", "external_charges"), ("601", "supplies_purchases"), ("602", "supplies_purchases"),
    ("6031", "supplies_purchases"), ("6032", "supplies_purchases"), ("6037", "goods_purchases"),
    ("607", "goods_purchases"), ("61", "external_charges"), ("62", "external_charges"),
    ("63", "taxes"), ("64", "salaries"), ("645", "social_charges"), ("646", "social_charges"),
    ("647", "social_charges"), ("65", "other_charges"), ("657", "grants_paid"), ("66", "financial_charges"),
    ("67", "exceptional_charges"), ("68", "depreciation"), ("6815", "provisions_charge"),
    ("686", "financial_charges"), ("687", "exceptional_charges"), ("689", "dedicated_funds_set_aside"),
    ("69", "income_tax"), ("691", "profit_sharing"),
    # Class 7: income.
    ("7", "other_income"),
    ("70", "sales"), ("71", "production"), ("72", "production"), ("74", "subsidies"),
    ("75", "other_income"), ("754", "generosity"), ("757", "generosity"), ("755", "contributions"), ("756", "fees"),
    ("76", "financial_income"), ("77", "exceptional_income"), ("78", "reversals"),
    ("786", "financial_income"), ("787", "exceptional_income"), ("789", "dedicated_funds_used"),
    ("79", "reversals"), ("796", "financial_income"), ("797", "exceptional_income"),
    # Class 8: contributions volontaires en nature (outside the result and the bilan).
    ("86", "in_kind_uses"), ("87", "in_kind_resources"),
)
# Depreciation and impairment accounts: the « amortissements et dépréciations » column.
CONTRA_PREFIXES = ("28", "29", "39", "49", "59")


@dataclass(frozen=True)
class Placement:
    prefix: str
    debit_line: str
    credit_line: str

    @property
    def split(self):
        return self.debit_line != self.credit_line


def _placements():
    rows = {}
    for row in PRESENTATION:
        prefix, debit_line, credit_line = row[0], row[1], row[-1]
        if prefix in rows:
            raise RuntimeError(f"presentation prefix {prefix} is declared twice")
        rows[prefix] = Placement(prefix, debit_line, credit_line)
    return rows


PLACEMENTS = _placements()


@lru_cache(maxsize=4096)
def placement(number: str) -> Placement | None:
    """The presentation row of account ``number`` (its longest declared prefix), or None for an
    account outside classes 1–8."""
    for length in range(len(number), 0, -1):
        found = PLACEMENTS.get(number[:length])
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------------------------
# One grouped query per year
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    """Totals of one account (and one auxiliary account on collective accounts) over a year."""

    account_number: str
    auxiliary_id: int | None
    debit: Decimal
    credit: Decimal

    @property
    def balance(self):
        return self.debit - self.credit


def _money(value):
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))


def account_numbers(organisation) -> dict:
    """``{account id: number}`` of the organisation's chart."""
    return dict(db.session.execute(select(Account.id, Account.number)
                                   .where(Account.organisation_id == organisation.id)).all())


def _whole_months(start, end):
    return start.day == 1 and (end + timedelta(days=1)).day == 1


def year_balances(organisation, start, end, numbers=None) -> list[Balance]:
    """Debit and credit totals per account and auxiliary account of the posted lines dated
    ``start``–``end``: what the statements are made of. A period of whole months (a fiscal
    year always is) is read from the totals kept at posting (``AccountTotal``: a few thousand
    rows a year, whatever the number of lines); any other period sums its lines
    (``line_balances``). The account numbers come from the organisation's chart."""
    if not _whole_months(start, end):
        return line_balances(organisation, start, end, numbers)
    totals = db.session.execute(
        select(AccountTotal.account_id, AccountTotal.auxiliary_key, func.sum(AccountTotal.debit),
               func.sum(AccountTotal.credit))
        .where(AccountTotal.organisation_id == organisation.id, AccountTotal.month >= start,
               AccountTotal.month <= end)
        .group_by(AccountTotal.account_id, AccountTotal.auxiliary_key)).all()
    return _balances(organisation, [(account_id, aux or None, debit, credit) for account_id, aux, debit, credit
                                    in totals], numbers)


def line_balances(organisation, start, end, numbers=None) -> list[Balance]:
    """``year_balances`` summed from the posted lines themselves: one grouped query by the
    lines' own integer columns (no join to the chart, which would group by text). The reference
    the kept totals are checked against."""
    stmt = (
        select(JournalLine.account_id, JournalLine.auxiliary_id, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .group_by(JournalLine.account_id, JournalLine.auxiliary_id)
    )
    return _balances(organisation, db.session.execute(stmt).all(), numbers)


def _balances(organisation, totals, numbers):
    if not totals:
        return []
    numbers = numbers if numbers is not None else account_numbers(organisation)
    return [Balance(numbers[account_id], aux, _money(debit), _money(credit)) for account_id, aux, debit, credit in totals]


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------

@dataclass
class Amounts:
    """What one year puts on a line: the amount shown, and for the actif the gross value and the
    depreciation (``amount = gross − depreciation``); the accounts it came from."""

    amount: Decimal = ZERO
    gross: Decimal = ZERO
    depreciation: Decimal = ZERO
    accounts: dict = field(default_factory=dict)  # account number -> its part of the amount

    def add(self, number, value, contra=False):
        self.amount += value
        if contra:
            self.depreciation -= value
        else:
            self.gross += value
        self.accounts[number] = self.accounts.get(number, ZERO) + value


def place(balances) -> dict[str, Amounts]:
    """``{line key: Amounts}`` of one year's balances (every account falls on exactly one line)."""
    lines: dict[str, Amounts] = {}
    for row in balances:
        rule = placement(row.account_number)
        if rule is None or row.balance == 0:
            continue
        key = rule.debit_line if row.balance > 0 else rule.credit_line
        sign = SECTION_BY_KEY[LINE_BY_KEY[key].section].sign
        lines.setdefault(key, Amounts()).add(row.account_number, sign * row.balance,
                                             row.account_number.startswith(CONTRA_PREFIXES))
    return lines


@dataclass(frozen=True)
class Row:
    """A line as shown: ``current`` and ``previous`` year; ``kind``: line, total, result."""

    key: str
    label: str
    current: Decimal
    previous: Decimal
    kind: str = "line"
    gross: Decimal = ZERO
    depreciation: Decimal = ZERO
    accounts: tuple = ()

    @property
    def change(self):
        return self.current - self.previous


@dataclass(frozen=True)
class Block:
    key: str
    label: str
    rows: tuple
    total: Row | None


@dataclass(frozen=True)
class AnnualAccounts:
    """The compte de résultat and the bilan of ``year`` with ``previous`` year beside."""

    organisation_id: int
    year: int
    start: object
    end: object
    previous_year: int
    income_statement: tuple  # Blocks and result Rows, in order
    assets: tuple  # Blocks
    liabilities: tuple
    in_kind: tuple
    total_income: Row
    total_expense: Row
    result: Row
    total_assets: Row
    total_liabilities: Row
    lines: dict  # line key -> Row (every line, shown or not)
    opening_missing: bool

    @property
    def is_balanced(self):
        return (self.total_assets.current == self.total_liabilities.current
                and self.total_assets.previous == self.total_liabilities.previous)


def _total(rows, key, label, kind="total"):
    return Row(key, label, sum((r.current for r in rows), ZERO), sum((r.previous for r in rows), ZERO), kind,
               sum((r.gross for r in rows), ZERO), sum((r.depreciation for r in rows), ZERO))


def _result(key, label, plus, minus):
    return Row(key, label, plus.current - minus.current, plus.previous - minus.previous, "result")


def build(organisation, year, current_balances, previous_balances, opening_missing=False) -> AnnualAccounts:
    """The statements from two years of ``year_balances`` (pure: no query)."""
    now, before = place(current_balances), place(previous_balances)
    results = {}
    for placed, which in ((now, "current"), (before, "previous")):
        income = sum((a.amount for k, a in placed.items() if SECTION_BY_KEY[LINE_BY_KEY[k].section].statement == "income"), ZERO)
        expense = sum((a.amount for k, a in placed.items() if SECTION_BY_KEY[LINE_BY_KEY[k].section].statement == "expense"), ZERO)
        results[which] = income - expense
        placed[YEAR_RESULT] = Amounts(amount=income - expense)

    rows = {}
    for spec in LINES:
        a, b = now.get(spec.key, Amounts()), before.get(spec.key, Amounts())
        rows[spec.key] = Row(spec.key, spec.label, a.amount, b.amount, "line", a.gross, a.depreciation,
                             tuple(sorted(a.accounts.items())))

    def blocks(statement):
        out = []
        for section in SECTIONS:
            if section.statement not in statement:
                continue
            section_rows = [rows[s.key] for s in LINES if s.section == section.key]
            total = _total(section_rows, f"total_{section.key}", f"Total {section.label[0].lower()}{section.label[1:]}")
            shown = tuple(r for r in section_rows if r.current or r.previous or r.key == YEAR_RESULT)
            out.append(Block(section.key, section.label, shown, total))
        return out

    income_blocks = {b.key: b for b in blocks(("income", "expense"))}

    def pair(key):
        return income_blocks[key].total

    operating = _result("operating_result", "1. Résultat d'exploitation", pair("operating_income"),
                        pair("operating_expense"))
    financial = _result("financial_result", "2. Résultat financier", pair("financial_income"),
                        pair("financial_expense"))
    current_result = Row("current_result", "3. Résultat courant avant impôts (1 + 2)",
                         operating.current + financial.current, operating.previous + financial.previous, "result")
    exceptional = _result("exceptional_result", "4. Résultat exceptionnel", pair("exceptional_income"),
                          pair("exceptional_expense"))
    income_totals = [b.total for b in income_blocks.values() if SECTION_BY_KEY[b.key].statement == "income"]
    expense_totals = [b.total for b in income_blocks.values() if SECTION_BY_KEY[b.key].statement == "expense"]
    total_income = _total(income_totals, "total_income", "Total des produits")
    total_expense = _total(expense_totals, "total_expense", "Total des charges")
    result = _result("result", "Excédent ou déficit", total_income, total_expense)
    income_statement = (
        income_blocks["operating_income"], income_blocks["operating_expense"], operating,
        income_blocks["financial_income"], income_blocks["financial_expense"], financial, current_result,
        income_blocks["exceptional_income"], income_blocks["exceptional_expense"], exceptional,
        income_blocks["tax"], total_income, total_expense, result,
    )
    assets = tuple(blocks(("assets",)))
    liabilities = tuple(blocks(("liabilities",)))
    start, end = organisation.fiscal_year_bounds(year)
    return AnnualAccounts(
        organisation.id, year, start, end, year - 1, income_statement, assets, liabilities,
        tuple(blocks(("in_kind",))), total_income, total_expense, result,
        _total([b.total for b in assets], "total_assets", "Total de l'actif"),
        _total([b.total for b in liabilities], "total_liabilities", "Total du passif"),
        rows, opening_missing,
    )


def opening_missing(organisation, year, previous_balances) -> bool:
    """True when the previous year has balance-sheet balances but ``year`` has no entry in an
    opening (AN) journal on its first day: the bilan then shows the year's movements only.
    (The AN is dated on day one, so the look is one day of the entries' date index.)"""
    if not any(b.balance and b.account_number[:1] in "12345" for b in previous_balances):
        return False
    start, _ = organisation.fiscal_year_bounds(year)
    found = db.session.scalar(
        select(JournalEntry.id).join(Journal, JournalEntry.journal_id == Journal.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.entry_date == start,
               JournalEntry.status == POSTED, Journal.kind == JournalKind.OPENING.value).limit(1))
    return found is None


def annual_accounts(organisation, year) -> AnnualAccounts:
    """The compte de résultat and the bilan of fiscal year ``year`` with ``year - 1`` beside:
    two grouped queries, the chart's numbers and one look for the AN entry."""
    numbers = account_numbers(organisation)
    current = year_balances(organisation, *organisation.fiscal_year_bounds(year), numbers)
    previous = year_balances(organisation, *organisation.fiscal_year_bounds(year - 1), numbers)
    return build(organisation, year, current, previous, opening_missing(organisation, year, previous))


def actual_by_prefix(balances, prefix) -> Decimal:
    """What the year's balances put on the accounts starting with ``prefix`` of class 6 (debit
    − credit) or 7 (credit − debit): the « réalisé » of a budget line."""
    sign = 1 if prefix.startswith("6") else -1
    return sum((sign * b.balance for b in balances if b.account_number.startswith(prefix)), ZERO)
