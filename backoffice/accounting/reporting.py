"""Reading the books: trial balance, general ledger, journal, monthly results, what is not
lettered, and the stream of journal lines the exports are written from.

Everything reads **posted** entries only (see ``db_guards``). Aggregates are computed by the
database (``GROUP BY``); line listings are paginated or streamed (``yield_per``), never loaded
whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, null, select
from sqlalchemy.orm import joinedload, selectinload

from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    EntryStatus,
    Journal,
    JournalEntry,
    JournalLine,
)
from backoffice.extensions import db
from backoffice.models import ZERO

POSTED = EntryStatus.POSTED.value
STREAM_CHUNK = 5000


def _money(value):
    """Sums come back as ``Decimal`` (or ``None`` when there is no row)."""
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------------------------
# Trial balance
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BalanceRow:
    account_id: int
    account_number: str
    account_label: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self):
        return self.debit - self.credit

    @property
    def balance_debit(self):
        return self.balance if self.balance > 0 else ZERO

    @property
    def balance_credit(self):
        return -self.balance if self.balance < 0 else ZERO


@dataclass(frozen=True)
class TrialBalance:
    rows: list
    start: date
    end: date

    @property
    def total_debit(self):
        return sum((row.debit for row in self.rows), ZERO)

    @property
    def total_credit(self):
        return sum((row.credit for row in self.rows), ZERO)

    @property
    def total_balance_debit(self):
        return sum((row.balance_debit for row in self.rows), ZERO)

    @property
    def total_balance_credit(self):
        return sum((row.balance_credit for row in self.rows), ZERO)

    @property
    def is_balanced(self):
        return self.total_debit == self.total_credit

    def by_account(self):
        return {row.account_number: row for row in self.rows}


def trial_balance(organisation, start, end, account_class=None):
    """Totals per general account (auxiliary accounts roll up into their collective account)
    of the entries dated ``start``–``end``, sorted by account number."""
    stmt = (
        select(Account.id, Account.number, Account.label, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(Account, JournalLine.account_id == Account.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .group_by(Account.id, Account.number, Account.label)
        .order_by(Account.number)
    )
    if account_class:
        stmt = stmt.where(Account.number.startswith(str(account_class)))
    rows = [BalanceRow(account_id, number, label, _money(debit), _money(credit))
            for account_id, number, label, debit, credit in db.session.execute(stmt)]
    return TrialBalance(rows, start, end)


def auxiliary_balances(organisation, start=None, end=None, account=None):
    """Totals per auxiliary account: ``[(AuxiliaryAccount, debit, credit)]``."""
    stmt = (
        select(AuxiliaryAccount, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .join(JournalLine, JournalLine.auxiliary_id == AuxiliaryAccount.id)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED)
        .group_by(AuxiliaryAccount.id)
        .order_by(AuxiliaryAccount.number)
    )
    if start is not None:
        stmt = stmt.where(JournalEntry.entry_date >= start)
    if end is not None:
        stmt = stmt.where(JournalEntry.entry_date <= end)
    if account is not None:
        stmt = stmt.where(AuxiliaryAccount.account_id == account.id)
    return [(aux, _money(debit), _money(credit)) for aux, debit, credit in db.session.execute(stmt)]


# --------------------------------------------------------------------------------------------
# Ledger of one account, journal
# --------------------------------------------------------------------------------------------

def _ledger_order():
    return (JournalEntry.entry_date, JournalEntry.fiscal_year, JournalEntry.number, JournalLine.position,
            JournalLine.id)


def _ledger_filter(stmt, organisation, account, start, end, auxiliary=None):
    stmt = stmt.where(JournalLine.organisation_id == organisation.id, JournalLine.account_id == account.id,
                      JournalEntry.status == POSTED, JournalEntry.entry_date >= start,
                      JournalEntry.entry_date <= end)
    if auxiliary is not None:
        stmt = stmt.where(JournalLine.auxiliary_id == auxiliary.id)
    return stmt


def account_ledger(organisation, account, start, end, page=1, per_page=50, auxiliary=None):
    """One page of an account's lines with a running balance (debit minus credit), plus the
    balance carried from the previous pages and the period totals.

    Returns ``(pagination, rows, opening, totals)``: ``rows`` are ``(line, running balance)``.
    """
    base = _ledger_filter(select(JournalLine).join(JournalEntry, JournalLine.entry_id == JournalEntry.id),
                          organisation, account, start, end, auxiliary)
    pagination = db.paginate(
        base.options(joinedload(JournalLine.entry).joinedload(JournalEntry.journal),
                     joinedload(JournalLine.auxiliary)).order_by(*_ledger_order()),
        page=page, per_page=per_page, error_out=False,
    )
    skipped = (pagination.page - 1) * pagination.per_page
    opening = ZERO
    if skipped:
        previous = _ledger_filter(
            select((JournalLine.debit - JournalLine.credit).label("amount"))
            .join(JournalEntry, JournalLine.entry_id == JournalEntry.id),
            organisation, account, start, end, auxiliary,
        ).order_by(*_ledger_order()).limit(skipped).subquery()
        opening = _money(db.session.scalar(select(func.sum(previous.c.amount))))
    totals_row = db.session.execute(_ledger_filter(
        select(func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .select_from(JournalLine).join(JournalEntry, JournalLine.entry_id == JournalEntry.id),
        organisation, account, start, end, auxiliary)).one()
    totals = (_money(totals_row[0]), _money(totals_row[1]))
    rows, running = [], opening
    for line in pagination.items:
        running += line.debit - line.credit
        rows.append((line, running))
    return pagination, rows, opening, totals


def journal_query(organisation, start, end, journal=None, search=None, order="number"):
    """Posted entries of the period (lines loaded with them), for ``db.paginate``."""
    stmt = (
        select(JournalEntry)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .options(joinedload(JournalEntry.journal),
                 selectinload(JournalEntry.lines).joinedload(JournalLine.account),
                 selectinload(JournalEntry.lines).joinedload(JournalLine.auxiliary))
    )
    if journal is not None:
        stmt = stmt.where(JournalEntry.journal_id == journal.id)
    if search:
        pattern = f"%{search.strip()}%"
        stmt = stmt.where(JournalEntry.label.ilike(pattern) | JournalEntry.piece_ref.ilike(pattern))
    orders = {
        "number": (JournalEntry.fiscal_year, JournalEntry.number),
        "-number": (JournalEntry.fiscal_year.desc(), JournalEntry.number.desc()),
        "date": (JournalEntry.entry_date, JournalEntry.number),
        "-date": (JournalEntry.entry_date.desc(), JournalEntry.number.desc()),
    }
    return stmt.order_by(*orders.get(order, orders["number"]))


# --------------------------------------------------------------------------------------------
# Monthly income and expense
# --------------------------------------------------------------------------------------------

def monthly_results(organisation, start, end):
    """``[(first day of month, income, expense)]`` for each month of ``start``–``end``:
    income is class 7 (credit minus debit), expense class 6 (debit minus credit)."""
    account_class = func.substr(Account.number, 1, 1)
    stmt = (
        select(JournalEntry.entry_date, account_class, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(Account, JournalLine.account_id == Account.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= start, JournalEntry.entry_date <= end, account_class.in_(("6", "7")))
        .group_by(JournalEntry.entry_date, account_class)
    )
    months = {}
    day = date(start.year, start.month, 1)
    while day <= end:
        months[day] = [ZERO, ZERO]
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    for entry_date, cls, debit, credit in db.session.execute(stmt):
        bucket = months.setdefault(date(entry_date.year, entry_date.month, 1), [ZERO, ZERO])
        if cls == "7":
            bucket[0] += _money(credit) - _money(debit)
        else:
            bucket[1] += _money(debit) - _money(credit)
    return [(month, income, expense) for month, (income, expense) in sorted(months.items())]


def bar_chart(monthly, width=720, height=270, margin=30, label_space=60):
    """Geometry of the grouped bar chart of income and expense per month (``backoffice.charts``):
    ``label_space`` under the axis holds the month names, written in full and slanted."""
    from backoffice.charts import grouped_bars

    return grouped_bars(monthly, ("income", "expense"), width=width, height=height, margin=margin,
                        label_space=label_space)


# --------------------------------------------------------------------------------------------
# Lettering
# --------------------------------------------------------------------------------------------

def unlettered_by_auxiliary(organisation, account=None):
    """Posted lines on auxiliary accounts not yet lettered, grouped: ``[(aux, lines, balance)]``."""
    stmt = (
        select(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(AuxiliaryAccount, JournalLine.auxiliary_id == AuxiliaryAccount.id)
        .where(JournalLine.organisation_id == organisation.id, JournalLine.lettering_code.is_(None),
               JournalEntry.status == POSTED)
        .options(joinedload(JournalLine.entry), joinedload(JournalLine.auxiliary).joinedload(AuxiliaryAccount.account))
        .order_by(AuxiliaryAccount.number, JournalEntry.entry_date, JournalEntry.number, JournalLine.id)
    )
    if account is not None:
        stmt = stmt.where(JournalLine.account_id == account.id)
    groups = []
    for line in db.session.scalars(stmt):
        if not groups or groups[-1][0].id != line.auxiliary_id:
            groups.append((line.auxiliary, [], [ZERO]))
        groups[-1][1].append(line)
        groups[-1][2][0] += line.debit - line.credit
    return [(aux, lines, balance[0]) for aux, lines, balance in groups]


def unlettered_count(organisation):
    return db.session.scalar(
        select(func.count()).select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.organisation_id == organisation.id, JournalLine.auxiliary_id.is_not(None),
               JournalLine.lettering_code.is_(None), JournalEntry.status == POSTED))


# --------------------------------------------------------------------------------------------
# The stream the exports are written from
# --------------------------------------------------------------------------------------------

def export_lines_select(organisation, start, end, order="entry", final=False):
    """A Core ``SELECT`` of the posted lines dated ``start``–``end`` whose rows have the fields
    of ``exports.ExportLine`` in its order (so a row is used as one, by attribute or by
    position). ``order``: ``entry`` (number, then line: journal and FEC) or ``account``
    (account number, date, number: general ledger). ``final``: the entry number is the
    definitive one given at the closing of the year (``final_number``, in date order), and
    ``entry`` orders by it (the FEC of a closed year)."""
    line = JournalLine.__table__
    entry = JournalEntry.__table__
    account = Account.__table__
    journal = Journal.__table__
    aux = AuxiliaryAccount.__table__
    stmt = (
        select(
            journal.c.code.label("journal_code"),
            journal.c.label.label("journal_label"),
            (entry.c.final_number if final else entry.c.number).label("entry_number"),
            entry.c.entry_date.label("entry_date"),
            account.c.number.label("account_number"),
            account.c.label.label("account_label"),
            aux.c.number.label("aux_number"),
            aux.c.label.label("aux_label"),
            entry.c.piece_ref.label("piece_ref"),
            entry.c.piece_date.label("piece_date"),
            func.coalesce(line.c.label, entry.c.label).label("label"),
            line.c.debit.label("debit"),
            line.c.credit.label("credit"),
            line.c.lettering_code.label("lettering_code"),
            line.c.lettering_date.label("lettering_date"),
            entry.c.validated_on.label("validation_date"),
            null().label("currency_amount"),
            null().label("currency"),
        )
        .select_from(
            line.join(entry, line.c.entry_id == entry.c.id)
            .join(account, line.c.account_id == account.c.id)
            .join(journal, entry.c.journal_id == journal.c.id)
            .outerjoin(aux, line.c.auxiliary_id == aux.c.id)
        )
        .where(entry.c.organisation_id == organisation.id, entry.c.status == POSTED,
               entry.c.entry_date >= start, entry.c.entry_date <= end)
    )
    if order == "account":
        return stmt.order_by(account.c.number, entry.c.entry_date, entry.c.fiscal_year, entry.c.number,
                             line.c.position)
    if order == "auxiliary":  # the lines of auxiliary accounts only, by auxiliary account
        return stmt.where(line.c.auxiliary_id.is_not(None)).order_by(
            aux.c.number, entry.c.entry_date, entry.c.fiscal_year, entry.c.number, line.c.position)
    if final:
        return stmt.order_by(entry.c.fiscal_year, entry.c.final_number, line.c.position)
    return stmt.order_by(entry.c.fiscal_year, entry.c.number, line.c.position)


def stream_export_lines(organisation, start, end, order="entry", chunk=STREAM_CHUNK, final=False):
    """Iterate the lines of ``export_lines_select`` ``chunk`` rows at a time (a server-side
    cursor on PostgreSQL): memory does not grow with the number of lines."""
    result = db.session.execute(export_lines_select(organisation, start, end, order, final),
                                execution_options={"yield_per": chunk})
    try:
        yield from result
    finally:
        result.close()


def export_line_count(organisation, start, end):
    return db.session.scalar(
        select(func.count()).select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= start, JournalEntry.entry_date <= end))


def carried_balances(organisation, start, by_auxiliary=False):
    """What the fiscal year of ``start`` carries into ``start`` (its posted lines dated before
    it, the opening entry included): ``{account number: (label, debit minus credit)}``, or per
    auxiliary account number with ``by_auxiliary``; empty when ``start`` is the first day of
    the year (the opening entry is then a line of the period)."""
    first, _ = organisation.fiscal_year_bounds(organisation.fiscal_year_of(start))
    if start <= first:
        return {}
    key = (AuxiliaryAccount.number, AuxiliaryAccount.label) if by_auxiliary else (Account.number, Account.label)
    stmt = (
        select(*key, func.sum(JournalLine.debit) - func.sum(JournalLine.credit))
        .select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(Account, JournalLine.account_id == Account.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= first, JournalEntry.entry_date < start)
        .group_by(*key)
    )
    if by_auxiliary:
        stmt = stmt.join(AuxiliaryAccount, JournalLine.auxiliary_id == AuxiliaryAccount.id)
    return {number: (label, _money(balance)) for number, label, balance in db.session.execute(stmt) if balance}


def auxiliary_balance_rows(organisation, start, end):
    """The auxiliary trial balance (*balance auxiliaire*): per auxiliary account, its
    collective account, number and label, the opening entry's debit and credit (à-nouveaux,
    ``rules.OPENING_EVENT``) and the other debits and credits of ``start``–``end``, by
    collective account then auxiliary number: ``[(account, aux, label, an_debit, an_credit,
    debit, credit)]``."""
    from sqlalchemy import case

    from backoffice.accounting.rules import OPENING_EVENT

    opening = JournalEntry.event == OPENING_EVENT

    def part(column, wanted):
        return func.sum(case((opening if wanted else ~opening, column), else_=0))

    stmt = (
        select(Account.number, AuxiliaryAccount.number, AuxiliaryAccount.label,
               part(JournalLine.debit, True), part(JournalLine.credit, True),
               part(JournalLine.debit, False), part(JournalLine.credit, False))
        .select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(Account, JournalLine.account_id == Account.id)
        .join(AuxiliaryAccount, JournalLine.auxiliary_id == AuxiliaryAccount.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .group_by(Account.number, AuxiliaryAccount.number, AuxiliaryAccount.label)
        .order_by(Account.number, AuxiliaryAccount.number)
    )
    return [(account, aux, label, *(_money(v) for v in values))
            for account, aux, label, *values in db.session.execute(stmt)]


def balance_export_rows(organisation, start, end):
    """The trial balance as rows with ``account_number``, ``account_label``, ``debit`` and
    ``credit`` (what ``exports.trial_balance_rows`` reads), aggregated by the database."""
    return [
        _BalanceLine(row.account_number, row.account_label, row.debit, row.credit)
        for row in trial_balance(organisation, start, end).rows
    ]


@dataclass(frozen=True)
class _BalanceLine:
    account_number: str
    account_label: str
    debit: Decimal
    credit: Decimal
