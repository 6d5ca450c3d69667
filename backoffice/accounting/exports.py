"""Files for accountants: the journal line they are built from, the report row builders
(journal, general ledger, trial balance) and the FEC's date format.

Pure library: no Flask, no database. Everything takes plain rows (``ExportLine``) from an
iterable and streams: memory stays bounded whatever the number of lines. The CSV and XLSX
writers, the French formatting of amounts and dates, formula neutralising and atomic files are
the shared ones of ``backoffice.spreadsheets`` (re-exported here for the callers of this module);
the FEC writer lives in ``backoffice.accounting.fec``.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Iterable, Iterator, NamedTuple, Optional, Union

from backoffice.spreadsheets import (  # noqa: F401  (re-exported: the accounting exports' API)
    CSV_ENCODINGS,
    DATE_CACHE_MAX,
    FORMULA_TRIGGERS,
    XLSX_MAX_ROWS,
    CsvSummary,
    ExportError,
    HashingWriter,
    Sheet,
    atomic_binary_file,
    atomic_path,
    cached_date_format,
    check_binary,
    format_amount,
    format_date_fr,
    neutralise,
    text_stream,
    write_csv,
    write_xlsx,
)

ZERO = Decimal("0.00")


class ExportLine(NamedTuple):
    """One line of a journal entry, as the exports need it.

    Amounts are ``Decimal`` (``int`` is accepted; ``float`` is refused: binary fractions have no
    place in books). ``debit`` and ``credit`` are both given, one of them zero. The field order
    is the FEC column order, so a line unpacks straight into the 18 FEC columns.
    """

    journal_code: str
    journal_label: str
    entry_number: Union[int, str]
    entry_date: date
    account_number: str
    account_label: str
    aux_number: Optional[str]
    aux_label: Optional[str]
    piece_ref: str
    piece_date: date
    label: str
    debit: Decimal
    credit: Decimal
    lettering_code: Optional[str]
    lettering_date: Optional[date]
    validation_date: date
    currency_amount: Optional[Decimal] = None
    currency: Optional[str] = None


def parse_amount(text: str) -> Decimal:
    """Read back an amount written by ``format_amount``; a dot or a thousands separator is an
    error (the FEC and our CSV never contain one)."""
    raw = text.strip()
    sign, digits = ("-", raw[1:]) if raw.startswith("-") else ("", raw)
    whole, comma, cents = digits.partition(",")
    if not (comma and whole.isdigit() and cents.isdigit() and len(cents) == 2
            and whole.isascii() and cents.isascii()):
        raise ExportError(
            f"Montant mal formé : « {text} » (attendu : chiffres, virgule, deux décimales, "
            "sans point ni espace)."
        )
    return Decimal(f"{sign}{whole}.{cents}")


format_date_compact = cached_date_format(lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}",
                                         "``YYYYMMDD`` (the FEC date format).")


# --------------------------------------------------------------------------------------------
# Report rows
# --------------------------------------------------------------------------------------------


JOURNAL_HEADER = (
    "Code journal", "Journal", "N° écriture", "Date", "Compte", "Libellé compte",
    "Compte auxiliaire", "Libellé auxiliaire", "Pièce", "Date pièce", "Libellé", "Débit",
    "Crédit", "Lettrage", "Date lettrage", "Date validation", "Montant devise", "Devise",
)

LEDGER_HEADER = (
    "Compte", "Libellé compte", "Date", "Journal", "N° écriture", "Pièce", "Libellé",
    "Débit", "Crédit", "Solde", "Lettrage", "Date lettrage",
)

AUX_LEDGER_HEADER = ("Compte collectif", "Compte auxiliaire", "Libellé auxiliaire") + LEDGER_HEADER[2:]

AUX_BALANCE_HEADER = (
    "Compte collectif", "Compte auxiliaire", "Libellé auxiliaire", "À-nouveau débit", "À-nouveau crédit",
    "Débit", "Crédit", "Solde débiteur", "Solde créditeur",
)

TRIAL_BALANCE_HEADER = (
    "Compte", "Libellé", "Total débit", "Total crédit", "Solde débiteur", "Solde créditeur",
)


def journal_rows(lines: Iterable[ExportLine]) -> Iterator[tuple]:
    """The journal: one row per line, as the lines are (columns of ``JOURNAL_HEADER``)."""
    # An ExportLine is already a tuple in JOURNAL_HEADER order.
    for line in lines:
        yield line


def general_ledger_rows(lines: Iterable[ExportLine], openings: Optional[dict] = None,
                        opening_label: str = "Solde d'ouverture") -> Iterator[tuple]:
    """The general ledger (*grand livre*), columns of ``LEDGER_HEADER``.

    ``lines`` must be ordered by account number, then entry date, then entry number (the
    caller's query orders them; this function only checks it and raises ``ExportError`` if an
    account comes back or dates go backwards within an account). For each account: its opening
    row when ``openings`` (``{account_number: (account_label, balance)}``, the balance carried
    into the period) gives one, labelled ``opening_label``; its lines with the running balance
    (debit minus credit: positive is a debit balance, starting from the opening one) and their
    lettering; then a subtotal row ``Total compte <n°>`` (the period's debits and credits, the
    closing balance); a last row ``Total général``. An account with an opening balance and no
    line in the period still gets its two rows. Memory: the accounts already seen and the
    openings, nothing per line.
    """
    openings = dict(openings or {})
    pending = sorted(openings)
    seen: set = set()
    totals = [ZERO, ZERO, ZERO]  # debit, credit, balance

    def account_rows(account, label, movements):
        """Opening row, lines, subtotal of one account; ``movements`` yields (line, running)."""
        opening = openings.get(account, (label, ZERO))[1]
        if account in openings:
            yield (account, label, None, None, None, None, opening_label, None, None, opening, None, None)
        debit = credit = ZERO
        for line in movements:
            debit += line.debit
            credit += line.credit
            yield (account, label, line.entry_date, line.journal_code, line.entry_number, line.piece_ref,
                   line.label, line.debit, line.credit, opening + debit - credit, line.lettering_code,
                   line.lettering_date)
        totals[0] += debit
        totals[1] += credit
        totals[2] += opening + debit - credit
        yield (account, label, None, None, None, None, f"Total compte {account}", debit, credit,
               opening + debit - credit, None, None)

    def only_opening(upto):
        while pending and (upto is None or pending[0] < upto):
            number = pending.pop(0)
            if number not in seen:
                seen.add(number)
                yield from account_rows(number, openings[number][0], iter(()))

    def of_account(first, rest):
        """The lines of ``first``'s account: ``first``, then ``rest`` until another account
        starts (kept in ``state``)."""
        last_date = first.entry_date
        yield first
        for line in rest:
            if line.account_number != first.account_number:
                state[0] = line
                return
            if line.entry_date < last_date:
                raise ExportError(
                    f"Grand livre : lignes du compte {first.account_number} non triées par date "
                    f"(écriture {line.entry_number}).")
            last_date = line.entry_date
            yield line
        state[0] = None

    iterator = iter(lines)
    state = [next(iterator, None)]
    while state[0] is not None:
        first = state[0]
        account = first.account_number
        if account in seen:
            raise ExportError(
                f"Grand livre : lignes non triées par compte (le compte {account} apparaît à deux endroits).")
        yield from only_opening(account)
        seen.add(account)
        if account in pending:
            pending.remove(account)
        yield from account_rows(account, first.account_label, of_account(first, iterator))
    yield from only_opening(None)
    yield (None, None, None, None, None, None, "Total général", totals[0], totals[1], totals[2], None, None)


def auxiliary_ledger_rows(lines: Iterable[ExportLine], openings: Optional[dict] = None,
                          opening_label: str = "Solde d'ouverture") -> Iterator[tuple]:
    """The auxiliary ledger (*grand livre auxiliaire*, one member's account after another),
    columns of ``AUX_LEDGER_HEADER``: ``general_ledger_rows`` grouped by auxiliary account
    (``lines`` ordered by auxiliary number, then date, then entry; ``openings`` keyed by
    auxiliary number), each row led by the collective account."""
    collective: dict = {}

    def by_auxiliary(lines):
        for line in lines:
            collective[line.aux_number] = line.account_number
            yield ExportLine(*line)._replace(account_number=line.aux_number, account_label=line.aux_label)

    for row in general_ledger_rows(by_auxiliary(lines), openings, opening_label):
        yield (collective.get(row[0]), *row)


def auxiliary_balance_rows(rows: Iterable[tuple]) -> Iterator[tuple]:
    """The auxiliary trial balance, columns of ``AUX_BALANCE_HEADER``, from ``(account, aux,
    label, an_debit, an_credit, debit, credit)`` rows, then a ``Total`` row."""
    sums = [ZERO] * 6
    for account, aux, label, an_debit, an_credit, debit, credit in rows:
        balance = an_debit + debit - an_credit - credit
        values = (an_debit, an_credit, debit, credit, balance if balance > 0 else ZERO,
                  -balance if balance < 0 else ZERO)
        sums = [total + value for total, value in zip(sums, values)]
        yield (account, aux, label, *values)
    yield (None, None, "Total", *sums)


def trial_balance_totals(lines: Iterable[ExportLine]) -> dict:
    """``{account_number: (account_label, total_debit, total_credit)}``, in any input order.
    Memory grows with the number of accounts, not of lines."""
    totals: dict = {}
    for line in lines:
        row = totals.get(line.account_number)
        if row is None:
            totals[line.account_number] = [line.account_label, line.debit, line.credit]
        else:
            row[1] += line.debit
            row[2] += line.credit
    return {account: tuple(row) for account, row in totals.items()}


def trial_balance_rows(lines: Iterable[ExportLine]) -> Iterator[tuple]:
    """The trial balance (*balance générale*), columns of ``TRIAL_BALANCE_HEADER``: per
    general account (auxiliary accounts roll up into their collective account), sorted by
    account number as text, then a ``Total`` row. Lines may come in any order (it aggregates
    per account first, so nothing is yielded before the input is exhausted). In balanced
    books the total debit balance equals the total credit balance."""
    totals = trial_balance_totals(lines)
    sums = [ZERO, ZERO, ZERO, ZERO]
    for account in sorted(totals):
        label, debit, credit = totals[account]
        balance = debit - credit
        balance_debit = balance if balance > 0 else ZERO
        balance_credit = -balance if balance < 0 else ZERO
        sums[0] += debit
        sums[1] += credit
        sums[2] += balance_debit
        sums[3] += balance_credit
        yield (account, label, debit, credit, balance_debit, balance_credit)
    yield (None, "Total", *sums)


def journal_sheet(lines: Iterable[ExportLine], title: str = "Journal") -> Sheet:
    return Sheet(title, JOURNAL_HEADER, journal_rows(lines))


def general_ledger_sheet(lines: Iterable[ExportLine], title: str = "Grand livre") -> Sheet:
    return Sheet(title, LEDGER_HEADER, general_ledger_rows(lines))


def trial_balance_sheet(lines: Iterable[ExportLine], title: str = "Balance") -> Sheet:
    return Sheet(title, TRIAL_BALANCE_HEADER, trial_balance_rows(lines))


