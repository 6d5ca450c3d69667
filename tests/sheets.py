"""Reading back what ``backoffice.spreadsheets`` writes, for the tests of every export."""
import csv
import io

from backoffice.spreadsheets import write_csv


def read_csv_rows(data: bytes, encoding="utf-8-sig"):
    """The rows of a French CSV (``;``), as lists of text."""
    return list(csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=";"))


def csv_bytes(rows, header=("A",), **options):
    """``write_csv`` into memory: ``(bytes, CsvSummary)``."""
    buffer = io.BytesIO()
    summary = write_csv(iter(rows), header, buffer, **options)
    return buffer.getvalue(), summary
