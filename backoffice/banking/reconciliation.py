"""Bank reconciliation (*rapprochement bancaire*): every statement line of a bank account, money
in and out, against the lines of the books on that account's ledger account (``512…``).

* A statement line is **reconciled** when lines of the books account for its whole amount:
  lines matched to it directly (banking's target ``accounting_lines``), or the posting of the
  row it was matched to by a feature — a line matched to a membership payment is reconciled
  through that payment's entry (``source = "membership_payments:<id>"``) when the entry hit the
  bank's ledger account. A line of the books is on the statement once (a unique index).
* ``auto_reconcile``: same amount, dates at most ``DATE_TOLERANCE`` days apart, and one candidate
  each way; anything ambiguous is left to the treasurer, who picks the line (``reconcile``), or
  the lines of a payment split over several entries (``reconcile_split``: they add up to the
  statement line exactly, or nothing is reconciled).
* ``unreconcile``: a reconciliation undone; when it was a booking from the statement, the entry
  booked is reversed at the same time (never deleted). An entry and its reversal, both off the
  statement, net out of the lines of the books to reconcile.
* ``booking``: a line that is no feature's (bank fees, insurance, a subsidy, salaries, an
  internal transfer) is booked from the statement in one step, with rules remembered by label.
* ``reconciliation_statement``: the *état de rapprochement* at a date — ledger balance, lines of
  the books not on the bank, bank lines not in the books, the bank balance they give — checked
  against the statement's closing balance (``check``: a French message when it does not add up).
* ``unreconciled_lines(organisation, start, end)``: what the closing checklist counts.

Reconciliation starts with the account's first imported statement line: lines of the books
dated earlier (less the tolerance), and the opening entries (*à-nouveaux*, journal of kind
« opening »), are taken as already in the bank's balance. The ledger balance at a date counts
from the latest fiscal year that opens with an AN in force (``accounting.opening``), since
that AN carries the years before; a line of an earlier year still not on the bank stays listed.

Services flush, never commit; refusals are ``ReconciliationError`` (a ``BankingError``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from backoffice.banking import services as banking
from backoffice.banking.errors import BankingError
from backoffice.banking.models import BankAccount, BankLineMatch, BankStatementLine, LineStatus
from backoffice.extensions import db
from backoffice.formatting import format_money
from backoffice.models import ZERO

TARGET = "accounting_lines"    # banking's target kind for a line of the books
DATE_TOLERANCE = 5             # days between the entry's date and the bank's (weekends, value dates)
SOURCE_CHUNK = 500             # sources looked up per query (SQLite's parameter limit is far above)


class ReconciliationError(BankingError):
    """A reconciliation refused: a line of the books that cannot be this statement line's, a
    statement that does not add up, a booking on an account that cannot take it."""


# --------------------------------------------------------------------------------------------
# What the books hold on the bank's ledger account
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerLine:
    """A line of the books on the bank's ledger account; ``amount`` signed like the bank's
    (a debit of 512, money in, is positive)."""

    id: int
    entry_id: int
    entry_date: date
    reference: str
    piece_ref: str
    label: str
    amount: Decimal
    reversal_of_id: int | None = None  # the entry this line's entry reverses


def ledger_account(bank_account):
    """The ``Account`` of the books ``bank_account`` is booked to (None before the books exist)."""
    from backoffice.accounting.models import Account

    return db.session.scalar(select(Account).where(Account.organisation_id == bank_account.organisation_id,
                                                   Account.number == bank_account.ledger_account))


def _ledger_select(account):
    from backoffice.accounting.models import EntryStatus, JournalEntry, JournalLine

    return (select(JournalLine.id, JournalLine.entry_id, JournalEntry.entry_date, JournalEntry.fiscal_year,
                   JournalEntry.number, JournalEntry.piece_ref, func.coalesce(JournalLine.label, JournalEntry.label),
                   JournalLine.debit, JournalLine.credit, JournalEntry.reversal_of_id)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalLine.organisation_id == account.organisation_id, JournalLine.account_id == account.id,
                   JournalEntry.status == EntryStatus.POSTED.value))


def _ledger_line(row):
    return LedgerLine(row[0], row[1], row[2], f"{row[3]}-{row[4]:05d}", row[5], row[6], row[7] - row[8], row[9])


def start_of(bank_account):
    """The first day reconciliation looks at: the account's first statement line, less the
    tolerance (None when no statement was imported)."""
    first = db.session.scalar(select(func.min(BankStatementLine.booked_on))
                              .where(BankStatementLine.bank_account_id == bank_account.id))
    return first - timedelta(days=DATE_TOLERANCE) if first else None


def ledger_lines(bank_account, start=None, end=None):
    """The lines of the books on the bank's ledger account between ``start`` and ``end``, opening
    entries left out, by date."""
    from backoffice.accounting.models import Journal, JournalEntry, JournalKind, JournalLine

    account = ledger_account(bank_account)
    if account is None:
        return []
    query = (_ledger_select(account).join(Journal, Journal.id == JournalEntry.journal_id)
             .where(Journal.kind != JournalKind.OPENING.value))
    if start is not None:
        query = query.where(JournalEntry.entry_date >= start)
    if end is not None:
        query = query.where(JournalEntry.entry_date <= end)
    return [_ledger_line(row) for row in db.session.execute(
        query.order_by(JournalEntry.entry_date, JournalEntry.number, JournalLine.position))]


def ledger_balance(bank_account, as_of):
    """Balance (debit − credit) of the bank's ledger account at the end of ``as_of``: from the
    latest fiscal year up to ``as_of``'s that opens with an AN entry in force (which carries the
    years before it), else every posted entry up to ``as_of``."""
    from backoffice.accounting.models import EntryStatus, JournalEntry, JournalLine
    from backoffice.accounting.opening import years_in_force

    account = ledger_account(bank_account)
    if account is None:
        return ZERO
    organisation = bank_account.organisation
    opened = [year for year in years_in_force(organisation) if year <= organisation.fiscal_year_of(as_of)]
    query = (select(func.sum(JournalLine.debit - JournalLine.credit))
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .where(JournalLine.organisation_id == account.organisation_id, JournalLine.account_id == account.id,
                    JournalEntry.status == EntryStatus.POSTED.value, JournalEntry.entry_date <= as_of))
    if opened:  # the AN of that year stands for every entry before it
        query = query.where(JournalEntry.fiscal_year >= max(opened))
    total = db.session.scalar(query)
    return ZERO if total is None else Decimal(total).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------------------------
# Which statement lines and lines of the books go together
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """A statement line and a line of the books reconciled together. ``match_id`` is the
    banking match (direct: ``accounting_lines``; else the feature's row whose posting it is)."""

    statement_line_id: int
    journal_line_id: int
    amount: Decimal
    match_id: int
    direct: bool


def links(bank_account):
    """Every ``Link`` of the account: direct matches, and matches to rows whose posting
    (``source = "<table>:<id>"``) hit the bank's ledger account. Three queries."""
    from backoffice.accounting.models import EntryStatus, JournalEntry, JournalLine

    matches = db.session.execute(
        select(BankLineMatch.id, BankLineMatch.line_id, BankLineMatch.target_kind, BankLineMatch.target_id,
               BankLineMatch.amount)
        .join(BankStatementLine, BankStatementLine.id == BankLineMatch.line_id)
        .where(BankStatementLine.bank_account_id == bank_account.id)).all()
    found = [Link(m.line_id, m.target_id, m.amount, m.id, True) for m in matches if m.target_kind == TARGET]
    through = {f"{m.target_kind}:{m.target_id}": m for m in matches if m.target_kind != TARGET}
    account = ledger_account(bank_account) if through else None
    if account is not None:
        sources = list(through)
        for at in range(0, len(sources), SOURCE_CHUNK):
            rows = db.session.execute(
                select(JournalEntry.source, func.min(JournalLine.id))
                .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
                .where(JournalEntry.organisation_id == bank_account.organisation_id,
                       JournalEntry.status == EntryStatus.POSTED.value,
                       JournalEntry.source.in_(sources[at:at + SOURCE_CHUNK]), JournalLine.account_id == account.id)
                .group_by(JournalEntry.source))
            for source, journal_line_id in rows:
                m = through[source]
                found.append(Link(m.line_id, journal_line_id, m.amount, m.id, False))
    return found


@dataclass
class OpenLine:
    """A statement line and what of it the books do not account for yet."""

    line: BankStatementLine
    reconciled: Decimal = ZERO
    links: list = field(default_factory=list)

    @property
    def left(self):
        return self.line.amount - self.reconciled


def _lines(bank_account, start=None, end=None):
    query = select(BankStatementLine).where(BankStatementLine.bank_account_id == bank_account.id)
    if start is not None:
        query = query.where(BankStatementLine.booked_on >= start)
    if end is not None:
        query = query.where(BankStatementLine.booked_on <= end)
    return list(db.session.scalars(query.order_by(BankStatementLine.booked_on, BankStatementLine.id)))


@dataclass
class Position:
    """Where an account's reconciliation stands up to ``as_of`` (everything when None): every
    statement line with what is reconciled of it, the lines of the books not on the statement."""

    bank_account: BankAccount
    as_of: date | None
    lines: list            # [OpenLine], by date
    ledger_open: list      # [LedgerLine] not reconciled (up to as_of), by date
    reconciled_ids: set    # journal line ids reconciled (up to as_of)

    @property
    def open_lines(self):
        return [o for o in self.lines if o.left != 0]


def position(bank_account, as_of=None):
    """The ``Position`` of ``bank_account`` at the end of ``as_of``: a pair counts as reconciled
    at that date only when both its lines are dated on or before it (a cheque written on the
    30th and cashed on the 2nd is « not on the bank » at the end of the month)."""
    start = start_of(bank_account)
    all_links = links(bank_account)
    ledger = ledger_lines(bank_account, start, as_of) if start is not None else []
    dates = {line.id: line.entry_date for line in ledger}
    if as_of is not None:
        outside = {link.journal_line_id for link in all_links if link.journal_line_id not in dates}
        dates.update(_entry_dates(outside))
    statement_lines = _lines(bank_account, end=as_of)
    booked = {line.id: line.booked_on for line in statement_lines}
    by_line, reconciled_ids = defaultdict(list), set()
    for link in all_links:
        if link.statement_line_id not in booked:
            continue  # after as_of
        if as_of is not None and dates.get(link.journal_line_id, as_of) > as_of:
            continue
        by_line[link.statement_line_id].append(link)
        reconciled_ids.add(link.journal_line_id)
    if as_of is not None:  # a line of the books up to as_of reconciled with a bank line after it
        reconciled_here = reconciled_ids
    else:
        reconciled_here = {link.journal_line_id for link in all_links}
    lines = [OpenLine(line, sum((link.amount for link in by_line[line.id]), ZERO), by_line[line.id])
             for line in statement_lines]
    return Position(bank_account, as_of, lines,
                    _without_reversed_pairs([line for line in ledger if line.id not in reconciled_here]),
                    reconciled_here)


def _without_reversed_pairs(ledger_open):
    """The lines of the books to reconcile, less each line whose entry was reversed together
    with its mirror line in the reversal (a booking from the statement undone, a payment
    cancelled): both are in the books, neither will ever be on the bank, and they net to zero —
    so the état de rapprochement's total is the same with or without them."""
    originals = defaultdict(list)
    for ledger in ledger_open:
        originals[ledger.entry_id].append(ledger)
    paired = set()
    for ledger in ledger_open:
        mirror = next((o for o in originals.get(ledger.reversal_of_id, ())
                       if o.amount == -ledger.amount and o.id not in paired), None)
        if mirror is not None:
            paired |= {mirror.id, ledger.id}
    return [ledger for ledger in ledger_open if ledger.id not in paired]


def _entry_dates(journal_line_ids):
    from backoffice.accounting.models import JournalEntry, JournalLine

    if not journal_line_ids:
        return {}
    return dict(db.session.execute(select(JournalLine.id, JournalEntry.entry_date)
                                   .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                                   .where(JournalLine.id.in_(list(journal_line_ids)))).all())


def _close(day, other):
    return abs((day - other).days) <= DATE_TOLERANCE


def candidates(open_line, ledger_open, limit=20):
    """Lines of the books ``open_line`` could be reconciled with, by hand: same sign, no more
    than what is left; same amount first, then the nearest date."""
    left = open_line.left
    fits = [ledger for ledger in ledger_open
            if ledger.amount and (ledger.amount > 0) == (left > 0) and abs(ledger.amount) <= abs(left)]
    fits.sort(key=lambda ledger: (ledger.amount != left, abs((ledger.entry_date - open_line.line.booked_on).days)))
    return fits[:limit]


# --------------------------------------------------------------------------------------------
# Reconciling
# --------------------------------------------------------------------------------------------

def auto_reconcile(bank_account, by=None):
    """Reconcile each statement line with nothing reconciled yet with the one line of the books
    of the same amount dated at most ``DATE_TOLERANCE`` days apart — only when that line of the
    books has no other such statement line either. Returns the number of lines reconciled;
    ambiguous lines are left alone for the treasurer.

    The features' own matchers run first (``Feature.bank_matchers``: a grant's transfer by its
    reference, a pain.001 batch's one debit with its payments together); their lines count."""
    from backoffice.features import bank_matchers

    done = sum(matcher(bank_account, by=by) for matcher in bank_matchers(bank_account.organisation))
    state = position(bank_account)
    free = [o for o in state.lines if o.reconciled == 0 and o.line.amount != 0]
    by_amount = defaultdict(list)
    for ledger in state.ledger_open:
        by_amount[ledger.amount].append(ledger)
    lines_by_amount = defaultdict(list)
    for o in free:
        lines_by_amount[o.line.amount].append(o.line)
    for o in free:
        fits = [ledger for ledger in by_amount[o.line.amount] if _close(ledger.entry_date, o.line.booked_on)]
        if len(fits) != 1:
            continue
        rivals = [line for line in lines_by_amount[o.line.amount] if _close(fits[0].entry_date, line.booked_on)]
        if len(rivals) != 1:
            continue
        banking.match_line(o.line, TARGET, fits[0].id, fits[0].amount, by=by)
        done += 1
    db.session.flush()
    return done


def _journal_line(bank_account, journal_line_id):
    from backoffice.accounting.models import JournalLine

    account = ledger_account(bank_account)
    journal_line = db.session.get(JournalLine, int(journal_line_id)) if journal_line_id else None
    if journal_line is None or account is None or journal_line.organisation_id != bank_account.organisation_id:
        raise ReconciliationError("Choisissez la ligne d'écriture à rapprocher.", field="journal_line_id")
    if journal_line.account_id != account.id:
        raise ReconciliationError(
            f"Cette ligne d'écriture n'est pas au compte {bank_account.ledger_account} du compte bancaire "
            f"« {bank_account.name} » : elle ne peut pas figurer sur son relevé.", field="journal_line_id")
    if journal_line.entry.status != "posted":
        raise ReconciliationError("Seule une écriture comptabilisée peut être rapprochée.", field="journal_line_id")
    return journal_line


def _reconcilable(bank_account, line, left, journal_line, reconciled_ids):
    """The amount of ``journal_line`` (signed like the bank) once checked against what is left
    of statement ``line``; refused in French otherwise (nothing written)."""
    amount = journal_line.debit - journal_line.credit
    if journal_line.id in reconciled_ids:
        raise ReconciliationError(f"La ligne de l'écriture {journal_line.entry.reference} est déjà rapprochée "
                                  "d'une opération du relevé.", field="journal_line_id")
    what = f"L'opération du {line.booked_on:%d/%m/%Y} « {line.label} »"
    if left == 0:
        raise ReconciliationError(f"{what} est déjà entièrement rapprochée.")
    if (amount > 0) != (left > 0):
        raise ReconciliationError(
            f"{what} est {'un crédit' if left > 0 else 'un débit'} ; l'écriture {journal_line.entry.reference} "
            f"est {'un débit' if left > 0 else 'un crédit'} du compte {bank_account.ledger_account} "
            "en sens inverse.", field="journal_line_id")
    if abs(amount) > abs(left):
        raise ReconciliationError(
            f"L'écriture {journal_line.entry.reference} ({format_money(abs(amount))}) dépasse ce qui reste à "
            f"rapprocher de l'opération du {line.booked_on:%d/%m/%Y} ({format_money(abs(left))}).",
            field="journal_line_id")
    if line.status is LineStatus.MATCHED:
        # Matched in banking's sense (e.g. to a payment) but not through the books: the lines
        # of the books account for what the match does not.
        raise ReconciliationError(f"{what} est déjà affectée ; défaites d'abord son affectation.")
    return amount


def _left_and_reconciled(bank_account, line):
    state = position(bank_account)
    return next(o for o in state.lines if o.line.id == line.id).left, {link.journal_line_id for link in links(bank_account)}


def reconcile(line, journal_line_id, by=None):
    """The treasurer says the line of the books ``journal_line_id`` is (part of) statement
    ``line``. Refused: a line of another account, already reconciled, of the other sign, or
    larger than what is left of the statement line."""
    bank_account = line.bank_account
    journal_line = _journal_line(bank_account, journal_line_id)
    left, reconciled_ids = _left_and_reconciled(bank_account, line)
    amount = _reconcilable(bank_account, line, left, journal_line, reconciled_ids)
    return banking.match_line(line, TARGET, journal_line.id, amount, by=by)


def reconcile_split(line, journal_line_ids, by=None):
    """Statement ``line`` paid over several entries (a split payment, two fees in one
    transfer): reconcile it with the lines of the books ``journal_line_ids`` at once, whose
    amounts must add up to exactly what is left of it. Everything is checked before anything is
    written: one refusal (a line that cannot be this one's, a sum that differs) and nothing is
    reconciled. Returns the matches."""
    bank_account = line.bank_account
    wanted = list(dict.fromkeys(int(i) for i in journal_line_ids if i))
    if not wanted:
        raise ReconciliationError("Choisissez les lignes d'écriture à rapprocher.", field="journal_line_id")
    journal_lines = [_journal_line(bank_account, journal_line_id) for journal_line_id in wanted]
    left, reconciled_ids = _left_and_reconciled(bank_account, line)
    amounts = [_reconcilable(bank_account, line, left, journal_line, reconciled_ids) for journal_line in journal_lines]
    total = sum(amounts, ZERO)
    if total != left:
        references = ", ".join(journal_line.entry.reference for journal_line in journal_lines)
        raise ReconciliationError(
            f"Les écritures choisies ({references}) totalisent {format_money(abs(total))} ; l'opération du "
            f"{line.booked_on:%d/%m/%Y} « {line.label} » attend {format_money(abs(left))} "
            f"(écart {format_money(abs(left - total))}). Rien n'a été rapproché.", field="journal_line_id")
    return [banking.match_line(line, TARGET, journal_line.id, amount, by=by)
            for journal_line, amount in zip(journal_lines, amounts)]


def unreconcile(match, by=None):
    """Undo a reconciliation made here (a line of the books matched directly). An entry booked
    from the statement (``booking.book_line``) is not left in the books unexplained: it is
    reversed (*contre-passée*, never deleted) in the same step, and the two net out of the lines
    to reconcile. Returns the reversal entry, or None when the line of the books was another's."""
    from backoffice.banking.booking import booked_entry

    if match.target_kind != TARGET:
        raise ReconciliationError("Ce rapprochement vient d'un paiement : défaites-le depuis le paiement.")
    entry = booked_entry(match)
    reversal = None
    if entry is not None:  # reversed first: a refusal leaves the reconciliation as it was
        from backoffice.accounting.errors import AccountingError
        from backoffice.accounting.services import reverse_entry

        try:
            reversal = reverse_entry(entry, user=by, label=f"Annulation de la comptabilisation depuis le relevé – "
                                                           f"{entry.label}"[:200])
        except AccountingError as exc:
            raise ReconciliationError(f"{exc} Le rapprochement n'a pas été défait.") from None
    banking.unmatch(match)
    return reversal


# --------------------------------------------------------------------------------------------
# The reconciliation statement (état de rapprochement) and the balance check
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReconciliationStatement:
    """The *état de rapprochement* of ``bank_account`` at ``as_of``.

    ledger balance − lines of the books not on the bank + bank lines not in the books
    = the bank balance they give (``expected_bank_balance``), to be the statement's."""

    bank_account: BankAccount
    as_of: date
    ledger_balance: Decimal
    ledger_not_in_bank: list   # [LedgerLine]
    bank_not_in_ledger: list   # [OpenLine] (``left`` is what the books lack)
    stated_balance: Decimal | None

    @property
    def ledger_not_in_bank_total(self):
        return sum((line.amount for line in self.ledger_not_in_bank), ZERO)

    @property
    def bank_not_in_ledger_total(self):
        return sum((o.left for o in self.bank_not_in_ledger), ZERO)

    @property
    def expected_bank_balance(self):
        return self.ledger_balance - self.ledger_not_in_bank_total + self.bank_not_in_ledger_total

    @property
    def difference(self):
        """Statement's balance − what the books give (None without a statement balance)."""
        return None if self.stated_balance is None else self.stated_balance - self.expected_bank_balance

    @property
    def balance_gap(self):
        """Statement's balance − ledger balance: what the items listed must explain."""
        return None if self.stated_balance is None else self.stated_balance - self.ledger_balance

    @property
    def adds_up(self):
        return self.difference == 0

    def summary(self):
        """``[(label, amount)]``: the état as it is read, line by line, on screen and in the file.
        No label starts with + − or = (a spreadsheet would take it for a formula)."""
        day = f"{self.as_of:%d/%m/%Y}"
        ledger = [line.amount for line in self.ledger_not_in_bank]
        bank = [o.left for o in self.bank_not_in_ledger]

        def total(amounts, positive):
            return sum((a for a in amounts if (a > 0) == positive), ZERO)

        return [
            (f"Solde comptable du {self.bank_account.ledger_account} au {day}", self.ledger_balance),
            ("À déduire : écritures non passées en banque (débits)", -total(ledger, True)),
            ("À ajouter : écritures non passées en banque (crédits)", -total(ledger, False)),
            ("À ajouter : opérations du relevé non comptabilisées (crédits)", total(bank, True)),
            ("À déduire : opérations du relevé non comptabilisées (débits)", total(bank, False)),
            (f"Solde bancaire selon la comptabilité au {day}", self.expected_bank_balance),
            (f"Solde du relevé au {day}", self.stated_balance),
            ("Écart", self.difference),
        ]

    @property
    def message(self):
        """The balance check in French: both balances, their difference, and whether the items
        listed explain it."""
        account = self.bank_account.ledger_account
        if self.stated_balance is None:
            return (f"Solde comptable du {account} au {self.as_of:%d/%m/%Y} : {format_money(self.ledger_balance)}. "
                    "Indiquez le solde du relevé à cette date pour le contrôler.")
        text = (f"Solde du relevé au {self.as_of:%d/%m/%Y} : {format_money(self.stated_balance)} ; solde comptable "
                f"du {account} à cette date : {format_money(self.ledger_balance)} ; différence "
                f"{format_money(self.balance_gap)}.")
        if self.adds_up:
            if self.balance_gap == 0:
                return text + " Le compte est rapproché."
            return text + (f" Elle est expliquée par {len(self.ledger_not_in_bank)} écriture(s) non passée(s) en "
                           f"banque et {len(self.bank_not_in_ledger)} opération(s) du relevé non comptabilisée(s).")
        return text + (f" Après les écritures non passées en banque ({format_money(self.ledger_not_in_bank_total)}) "
                       f"et les opérations non comptabilisées ({format_money(self.bank_not_in_ledger_total)}), "
                       f"il reste un écart inexpliqué de {format_money(self.difference)} : le rapprochement ne "
                       "tombe pas juste.")


def reconciliation_statement(bank_account, as_of, stated_balance=None):
    """The ``ReconciliationStatement`` of ``bank_account`` at the end of ``as_of``."""
    state = position(bank_account, as_of)
    return ReconciliationStatement(bank_account, as_of, ledger_balance(bank_account, as_of), state.ledger_open,
                                   state.open_lines, stated_balance)


def statement_check(statement):
    """The ``ReconciliationStatement`` at the statement's closing date, against its closing
    balance (None while the statement has no closing balance)."""
    if statement.closing_date is None or statement.closing_balance is None:
        return None
    return reconciliation_statement(statement.bank_account, statement.closing_date, statement.closing_balance)


def check(statement):
    """The statement's reconciliation, refused (``ReconciliationError``, the figures in French)
    when it has no closing balance or does not add up."""
    result = statement_check(statement)
    if result is None:
        raise ReconciliationError(f"{statement} n'a pas de solde de fin : indiquez le solde du relevé et sa date.",
                                  field="closing_balance")
    if not result.adds_up:
        raise ReconciliationError(result.message)
    return result


def set_closing_balance(statement, day, amount):
    """The treasurer types (or corrects) the statement's closing balance and its date."""
    from backoffice import money
    from backoffice.errors import ServiceError

    if not isinstance(day, date):
        raise ReconciliationError("Indiquez la date du solde (jj/mm/aaaa).", field="closing_date")
    try:
        value = money.parse_amount(amount) if not isinstance(amount, Decimal) else amount
    except ServiceError as exc:
        raise ReconciliationError(str(exc), field="closing_balance") from None
    if value is None:
        raise ReconciliationError("Indiquez le solde du relevé (par exemple 12 345,67 ou -80,00).",
                                  field="closing_balance")
    if value != value.quantize(Decimal("0.01")):
        raise ReconciliationError("Le solde a au plus deux décimales.", field="closing_balance")
    statement.closing_date, statement.closing_balance = day, value
    db.session.flush()
    return statement


# --------------------------------------------------------------------------------------------
# The closing checklist
# --------------------------------------------------------------------------------------------

def unreconciled_lines(organisation, start, end):
    """Statement lines of every bank account of ``organisation`` booked between ``start`` and
    ``end`` that the books do not account for in full (ignored lines included: they are not in
    the books either), by date. A few queries per bank account."""
    found = []
    for bank_account in banking.accounts(organisation):
        state = position(bank_account)
        found += [o.line for o in state.open_lines if start <= o.line.booked_on <= end]
    return sorted(found, key=lambda line: (line.booked_on, line.id))
