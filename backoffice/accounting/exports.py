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
    "Débit", "Crédit", "Solde",
)

TRIAL_BALANCE_HEADER = (
    "Compte", "Libellé", "Total débit", "Total crédit", "Solde débiteur", "Solde créditeur",
)


def journal_rows(lines: Iterable[ExportLine]) -> Iterator[tuple]:
    """The journal: one row per line, as the lines are (columns of ``JOURNAL_HEADER``)."""
    # An ExportLine is already a tuple in JOURNAL_HEADER order.
    for line in lines:
        yield line


def general_ledger_rows(lines: Iterable[ExportLine]) -> Iterator[tuple]:
    """The general ledger (*grand livre*), columns of ``LEDGER_HEADER``.

    ``lines`` must be ordered by account number, then entry date, then entry number (the
    caller's query orders them; this function only checks it and raises ``ExportError`` if an
    account comes back or dates go backwards within an account). For each account: its lines
    with the running balance (debit minus credit: positive is a debit balance), then a
    subtotal row whose label is ``Total compte <n°>``; a last row ``Total général``.
    Memory: the set of accounts already seen (to detect unsorted input), nothing per line.
    """
    seen: set = set()
    account = label = None
    last_date = None
    acc_debit = acc_credit = total_debit = total_credit = ZERO
    for line in lines:
        if line.account_number != account:
            if account is not None:
                yield (account, label, None, None, None, None, f"Total compte {account}",
                       acc_debit, acc_credit, acc_debit - acc_credit)
                total_debit += acc_debit
                total_credit += acc_credit
            account = line.account_number
            if account in seen:
                raise ExportError(
                    f"Grand livre : lignes non triées par compte (le compte {account} "
                    "apparaît à deux endroits)."
                )
            seen.add(account)
            label = line.account_label
            last_date = line.entry_date
            acc_debit = acc_credit = ZERO
        elif line.entry_date < last_date:
            raise ExportError(
                f"Grand livre : lignes du compte {account} non triées par date "
                f"(écriture {line.entry_number})."
            )
        else:
            last_date = line.entry_date
        acc_debit += line.debit
        acc_credit += line.credit
        yield (account, label, line.entry_date, line.journal_code, line.entry_number,
               line.piece_ref, line.label, line.debit, line.credit, acc_debit - acc_credit)
    if account is not None:
        yield (account, label, None, None, None, None, f"Total compte {account}",
               acc_debit, acc_credit, acc_debit - acc_credit)
        total_debit += acc_debit
        total_credit += acc_credit
    yield (None, None, None, None, None, None, "Total général",
           total_debit, total_credit, total_debit - total_credit)


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


