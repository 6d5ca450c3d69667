"""Helpers to build spreadsheets and identifiers for the directory tests."""
import csv
import io

from stdnum import luhn


def rpps(n):
    """A valid RPPS number (11 digits, Luhn key) built from ``n``."""
    base = f"1{n:09d}"
    return base + luhn.calc_check_digit(base)


def csv_bytes(rows, delimiter=";", encoding="utf-8", bom=False):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, as_text=()):
    """An XLSX workbook; cells at (row, column) in ``as_text`` are forced to string type."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for r, cells in enumerate(rows, start=1):
        for c, value in enumerate(cells, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if (r, c) in as_text:
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = ["Civilité", "Nom", "Prénom", "Profession", "RPPS", "E-mail", "Téléphone", "Code postal", "Commune"]


