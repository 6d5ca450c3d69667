"""Accounting exports: amounts as the FEC and our CSV write them, the report rows (journal,
ledger, balance) in CSV and XLSX. The writers themselves: tests/test_spreadsheets.py."""
import hashlib
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from backoffice.accounting.exports import (
    JOURNAL_HEADER,
    LEDGER_HEADER,
    TRIAL_BALANCE_HEADER,
    ExportError,
    Sheet,
    format_amount,
    general_ledger_rows,
    journal_rows,
    journal_sheet,
    parse_amount,
    trial_balance_rows,
    trial_balance_sheet,
    write_xlsx,
)

from tests.sheets import csv_bytes, read_csv_rows

from . import make_entry, make_line

# --- formatting -----------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (Decimal("1234.56"), "1234,56"), (Decimal("0.00"), "0,00"), (Decimal("-12.5"), "-12,50"),
    (Decimal("-0.00"), "0,00"), (Decimal("1E+3"), "1000,00"), (7, "7,00"), (-7, "-7,00"),
    (Decimal("1234567.89"), "1234567,89"),
])
def test_format_amount(value, text):
    assert format_amount(value) == text
    assert parse_amount(text) == value


@pytest.mark.parametrize("value", [Decimal("1.005"), Decimal("NaN"), Decimal("Infinity")])
def test_format_amount_refuses_what_it_cannot_write_exactly(value):
    with pytest.raises(ExportError):
        format_amount(value)


@pytest.mark.parametrize("value", [1.5, "1.50", True, None])
def test_format_amount_refuses_non_amounts(value):
    with pytest.raises(TypeError):
        format_amount(value)


@pytest.mark.parametrize("text", ["12.50", "1 234,50", "12,5", "12", ",50", "1.234,50", ""])
def test_parse_amount_is_strict(text):
    with pytest.raises(ExportError):
        parse_amount(text)


# --- CSV layout and encodings ---------------------------------------------------------

def test_csv_french_conventions():
    lines = make_entry(1, "1234.56", label="Cotisation été")
    data, summary = csv_bytes(journal_rows(lines), header=JOURNAL_HEADER)
    assert data.startswith(b"\xef\xbb\xbf")                  # BOM: Excel detects UTF-8
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 3 and "\n" not in text.replace("\r\n", "")
    header, first, second = read_csv_rows(data)
    assert header == list(JOURNAL_HEADER)
    assert first[:6] == ["BQ", "Banque", "1", "14/03/2026", "512000", "Compte 512000"]
    assert first[10:13] == ["Cotisation été", "1234,56", "0,00"]
    assert second[11:13] == ["0,00", "1234,56"]
    assert first[13:] == ["", "", "14/03/2026", "", ""]
    assert summary.row_count == 2 and summary.replaced_chars == 0
    assert summary.sha256 == hashlib.sha256(data).hexdigest()


# --- reports ---------------------------------------------------------------------------

def ledger_lines():
    """Lines ordered by account, then date, then entry, as the ledger expects."""
    return sorted(
        make_entry(1, "100.00", "411000", "756000", entry_date=date(2026, 1, 10))
        + make_entry(2, "100.00", "512000", "411000", entry_date=date(2026, 2, 1))
        + make_entry(3, "40.00", "411000", "756000", entry_date=date(2026, 3, 1)),
        key=lambda line: (line.account_number, line.entry_date, line.entry_number))


def test_general_ledger_running_balance_and_subtotals():
    rows = list(general_ledger_rows(iter(ledger_lines())))
    assert all(len(row) == len(LEDGER_HEADER) for row in rows)
    account_411 = [row for row in rows if row[0] == "411000"]
    assert [row[9] for row in account_411] == [Decimal("100.00"), Decimal("0.00"),
                                              Decimal("40.00"), Decimal("40.00")]
    subtotal = account_411[-1]
    assert subtotal[6] == "Total compte 411000"
    assert subtotal[7:] == (Decimal("140.00"), Decimal("100.00"), Decimal("40.00"), None, None)
    total = rows[-1]
    assert total[6] == "Total général"
    assert total[7] == total[8] == Decimal("240.00") and total[9] == 0


def test_general_ledger_carries_openings_and_lettering():
    lines = ledger_lines()
    lines[0] = lines[0]._replace(lettering_code="AA", lettering_date=date(2026, 2, 1))
    openings = {"411000": ("Adhérents", Decimal("25.00")), "401000": ("Fournisseurs", Decimal("-10.00"))}
    rows = list(general_ledger_rows(iter(lines), openings, "Solde au 01/01/2026"))
    assert rows[:2] == [
        ("401000", "Fournisseurs", None, None, None, None, "Solde au 01/01/2026", None, None, Decimal("-10.00"),
         None, None),
        ("401000", "Fournisseurs", None, None, None, None, "Total compte 401000", Decimal("0.00"), Decimal("0.00"),
         Decimal("-10.00"), None, None)]
    account_411 = [row for row in rows if row[0] == "411000"]
    assert account_411[0][6] == "Solde au 01/01/2026" and account_411[0][9] == Decimal("25.00")
    assert account_411[1][9] == Decimal("125.00") and account_411[1][10:] == ("AA", date(2026, 2, 1))
    assert account_411[-1][9] == Decimal("65.00")
    assert rows[-1][9] == Decimal("15.00")  # the openings carried, the period balanced


def test_general_ledger_refuses_unsorted_lines():
    lines = make_entry(1, "1.00", "411000", "756000") + make_entry(2, "1.00", "411000", "756000")
    with pytest.raises(ExportError, match="non triées par compte"):
        list(general_ledger_rows(iter(lines)))
    lines = [make_line(2, "411000", debit="1.00", entry_date=date(2026, 2, 1)),
             make_line(1, "411000", debit="1.00", entry_date=date(2026, 1, 1))]
    with pytest.raises(ExportError, match="non triées par date"):
        list(general_ledger_rows(iter(lines)))


def test_trial_balance_per_account_in_any_order():
    rows = list(trial_balance_rows(iter(reversed(ledger_lines()))))
    assert [row[0] for row in rows] == ["411000", "512000", "756000", None]
    assert rows[0][2:] == (Decimal("140.00"), Decimal("100.00"), Decimal("40.00"),
                           Decimal("0.00"))
    assert rows[2][2:] == (Decimal("0.00"), Decimal("140.00"), Decimal("0.00"),
                           Decimal("140.00"))
    total = rows[-1]
    assert total[1] == "Total" and total[2] == total[3] == Decimal("240.00")
    assert total[4] == total[5] == Decimal("140.00")
    assert all(len(row) == len(TRIAL_BALANCE_HEADER) for row in rows)


def test_xlsx_with_several_report_sheets(tmp_path):
    path = tmp_path / "balance.xlsx"
    counts = write_xlsx([journal_sheet(iter(ledger_lines())),
                         trial_balance_sheet(iter(ledger_lines())),
                         Sheet("Journal", ("x",), iter([(1,)])),
                         Sheet("Bad/name:[x]*?" + "y" * 40, ("x",), iter([]))], path)
    assert list(counts.values()) == [6, 4, 1, 0]
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["Journal", "Balance", "Journal (2)"]
    assert len(book.sheetnames[3]) == 31 and "/" not in book.sheetnames[3]
    journal = book["Journal"]
    assert [cell.value for cell in journal[1]] == list(JOURNAL_HEADER)
    assert journal["C2"].value == 1 and journal["C2"].data_type == "n"   # entry number
    assert journal["E2"].value == "411000" and journal["E2"].data_type == "s"
    balance = book["Balance"]
    assert balance["C5"].value == 240 and balance["C5"].number_format == "#,##0.00"
