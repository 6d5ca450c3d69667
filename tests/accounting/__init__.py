"""Helpers shared by the accounting tests: journal lines without a database."""
from datetime import date
from decimal import Decimal

from backoffice.accounting.exports import ExportLine

DAY = date(2026, 3, 14)


def make_line(number=1, account="512000", debit="0.00", credit="0.00", **overrides):
    """One journal line with sensible defaults; amounts given as strings become Decimals."""
    values = dict(
        journal_code="BQ", journal_label="Banque", entry_number=number, entry_date=DAY,
        account_number=account, account_label=f"Compte {account}", aux_number=None,
        aux_label=None, piece_ref=f"P{number}", piece_date=DAY, label=f"Écriture {number}",
        debit=Decimal(debit), credit=Decimal(credit), lettering_code=None,
        lettering_date=None, validation_date=DAY,
    )
    values.update(overrides)
    return ExportLine(**values)


def make_entry(number, amount, debit_account="512000", credit_account="756000", **overrides):
    """A balanced two-line entry."""
    return [make_line(number, debit_account, debit=amount, **overrides),
            make_line(number, credit_account, credit=amount, **overrides)]


def make_entries(count, amount="10.00"):
    lines = []
    for number in range(1, count + 1):
        lines.extend(make_entry(number, amount))
    return lines
