"""Spreadsheets for people: one CSV and XLSX writer for every export (membership, accounting,
people, and the features to come), with the French conventions and the protections each needs.

Pure library: no Flask, no database. Rows come from any iterable (a generator is streamed:
memory stays bounded whatever the number of rows); a row is a sequence of cells, one per column
of ``header``. Cells: ``str``, ``Decimal`` (an amount), ``int``, ``date``/``datetime``, ``bool``
(« Oui »/« Non »), ``None`` (empty); ``float`` is refused (binary fractions have no place in
amounts).

Conventions chosen for spreadsheets opened in France:

* CSV: ``;`` separator, ``\\r\\n`` line endings, amounts written by us as ``1234,56`` (comma
  decimal, no thousands separator, so that LibreOffice and Excel in a French locale read them as
  numbers; a thousands separator would turn them into text), dates ``dd/mm/yyyy``.
  Default encoding UTF-8 *with* BOM (``utf-8-sig``), the only way Excel detects UTF-8 in a CSV;
  ``cp1252`` is offered for old tools (see ``write_csv`` for characters it cannot hold).
* XLSX: real numeric cells for amounts (format ``#,##0.00``) and real date cells
  (``DD/MM/YYYY``), written with openpyxl's write-only mode (rows go straight to disk).
* Formula injection (OWASP "CSV Injection", CWE-1236): in CSV every *text* cell that begins
  with ``=``, ``+``, ``-``, ``@``, tab, CR or LF is prefixed with a single quote by
  ``neutralise`` (a CSV has no cell types: the spreadsheet guesses). In XLSX such a value is
  written as it is, as an explicit *string* cell (``t="inlineStr"``), which no spreadsheet
  evaluates: no literal apostrophe shows in the cell. Amounts are numbers, never text, so
  ``Decimal("-12.00")`` stays the number ``-12,00``.
* Every writer given a path writes to a temporary file in the same directory and renames it
  over the target only on success (``os.replace`` is atomic on POSIX): a failed export leaves
  neither a half-written file nor a temporary file behind. Given a binary file object instead
  (``Task.result_file``, ``io.BytesIO``), they write into it and the caller's file says what
  happens on failure (a task's result file is itself moved into place only on success).

```python
from backoffice.spreadsheets import write_table

with task.result_file("adherents.xlsx") as f:
    write_table("xlsx", HEADER, rows, f, title="Adhérents")     # or "csv"
```

The FEC (``backoffice.accounting.fec``) is no spreadsheet: a byte-specified interchange file
with its own writer; it shares ``format_amount``, the atomic files and ``HashingWriter``.
"""
from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import hashlib
import io
import os
import tempfile
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence, Union

from backoffice.errors import ServiceError

CENT = Decimal("0.01")

Target = Union[str, os.PathLike, io.BufferedIOBase]


class ExportError(ServiceError, ValueError):
    """An export cannot be produced; the message is in French, ready for the user."""


# --------------------------------------------------------------------------------------------
# Amounts and dates
# --------------------------------------------------------------------------------------------

def format_amount(value: Any) -> str:
    """French amount with two decimals and no thousands separator: ``1234,50``, ``-3,00``.

    Raises ``ExportError`` for an amount with more than two decimals (rounding it silently would
    change the books) or not finite, ``TypeError`` for a float or a non-number.
    """
    # Fast path: a Decimal with exactly two decimals, which is what a Numeric(…, 2) column
    # returns. str() never uses the exponent notation for exponent -2, so "…x.yy" is certain.
    if type(value) is Decimal:
        text = str(value)
        if text[-3:-2] == ".":
            if text[0] == "-" and not value:  # Decimal("-0.00")
                return "0,00"
            return text.replace(".", ",")
    return _format_amount_slow(value)


def _format_amount_slow(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"amount must be Decimal or int, not {type(value).__name__}: {value!r}")
    if isinstance(value, int):
        return f"{value},00" if value >= 0 else f"-{-value},00"
    if not value.is_finite():
        raise ExportError(f"Montant invalide : {value}.")
    try:
        rounded = value.quantize(CENT)
    except InvalidOperation:  # more digits than the context precision
        raise ExportError(f"Montant trop grand : {value}.") from None
    if rounded != value:
        raise ExportError(f"Montant avec plus de deux décimales : {value}.")
    text = str(rounded)
    if text[0] == "-" and not rounded:
        return "0,00"
    return text.replace(".", ",")


# Date formatting is cached: a year of books has a few hundred distinct dates but hundreds of
# thousands of lines, and strftime costs about a microsecond. The caches are cleared when they
# grow past DATE_CACHE_MAX so that memory stays bounded whatever the input.
DATE_CACHE_MAX = 20_000


def cached_date_format(render: Callable[[date], str], doc: str) -> Callable[[date], str]:
    """A date formatter ``render`` with a bounded cache; refuses anything but a date."""
    cache: dict = {}

    def format_date(value: date) -> str:
        text = cache.get(value)
        if text is None:
            if not isinstance(value, date):
                raise TypeError(f"date expected, not {type(value).__name__}: {value!r}")
            text = render(value)
            if len(cache) >= DATE_CACHE_MAX:
                cache.clear()
            cache[value] = text
        return text

    format_date.__doc__ = doc
    return format_date


format_date_fr = cached_date_format(lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}", "``dd/mm/yyyy``.")


# --------------------------------------------------------------------------------------------
# Formula injection
# --------------------------------------------------------------------------------------------

#: First characters that make a spreadsheet read a text cell as a formula (OWASP CSV Injection).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")


def neutralise(text: str) -> str:
    """Prefix a text cell that a spreadsheet would take for a formula with a single quote.

    Used for every text cell of the CSV writer (not for XLSX, whose string cells are never
    evaluated, nor for the FEC, a data interchange file read by accounting software, where the
    quote would corrupt the data).
    """
    if text[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


# --------------------------------------------------------------------------------------------
# Files: atomic replacement, hashing
# --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_path(path: Union[str, os.PathLike]) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it over ``path`` when the block ends
    without error, delete it otherwise. The file is created with mode 0600 (books are
    confidential); the target keeps that mode after the rename."""
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(target) + ".",
                               suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_binary_file(path: Union[str, os.PathLike]) -> Iterator[io.BufferedWriter]:
    """Binary file object on a temporary file, flushed, fsynced and renamed over ``path`` on
    success, removed on error."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fileobj:
            yield fileobj
            fileobj.flush()
            os.fsync(fileobj.fileno())


class HashingWriter(io.BufferedIOBase):
    """Binary sink that forwards to ``fileobj`` and keeps a SHA-256 and a byte count of what
    went through. ``io.TextIOWrapper`` on top of it writes in 8 KiB chunks, so the Python-level
    ``write`` is called rarely."""

    def __init__(self, fileobj):
        super().__init__()
        self._fileobj = fileobj
        self._hash = hashlib.sha256()
        self.byte_count = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._hash.update(data)
        self._fileobj.write(data)
        size = len(data)
        self.byte_count += size
        return size

    def flush(self) -> None:
        if hasattr(self._fileobj, "flush"):
            self._fileobj.flush()

    def close(self) -> None:
        # Closing the wrapper must never close the caller's file.
        super().close()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def check_binary(fileobj) -> None:
    if isinstance(fileobj, io.TextIOBase):
        raise TypeError("a binary file object is expected (open(path, 'wb') or io.BytesIO): "
                        "the writer does the encoding itself")


def text_stream(sink: HashingWriter, encoding: str, errors: str = "strict") -> io.TextIOWrapper:
    """Text layer used by the writers: no newline translation (the csv module writes the
    ``\\r\\n`` itself). Non-ASCII text is encoded on each ``write``, so an encoding error is
    raised while the offending row is being written."""
    stream = io.TextIOWrapper(sink, encoding=encoding, errors=errors, newline="",
                              write_through=False)
    return stream


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

class Sheet(NamedTuple):
    """A titled table for ``write_xlsx``: ``rows`` may be a generator."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------

class CsvSummary(NamedTuple):
    row_count: int        # data rows, header excluded
    replaced_chars: int   # characters the encoding could not hold, written as "?"
    sha256: str
    encoding: str


CSV_ENCODINGS = {"utf-8-sig": "UTF-8 avec BOM", "utf-8": "UTF-8", "cp1252": "Windows-1252"}

# Counting error handler for errors="replace": each character the encoding cannot hold becomes
# one "?" and is counted in the ContextVar of the write_csv call in progress.
_replaced: contextvars.ContextVar = contextvars.ContextVar("maillage_csv_replaced")


def _count_and_replace(error: UnicodeError):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    counter = _replaced.get(None)
    if counter is not None:
        counter[0] += error.end - error.start
    return "?" * (error.end - error.start), error.end


codecs.register_error("maillage.count_replace", _count_and_replace)


def _cell_text(value: Any) -> str:
    """Format one CSV cell (text cells that start safely never reach this function)."""
    kind = type(value)
    if kind is str:
        return neutralise(value)
    if value is None:
        return ""
    if kind is Decimal:
        return format_amount(value)
    if kind is date or kind is datetime:
        return format_date_fr(value)
    if kind is int:
        return str(value)
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    # Subclasses (str enums, IntEnum...): convert to the base type first.
    if isinstance(value, str):
        return neutralise(str(value))
    if isinstance(value, Decimal):
        return format_amount(Decimal(value))
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, date):
        return format_date_fr(date(value.year, value.month, value.day))
    raise TypeError(f"cannot write a {kind.__name__} in a CSV cell: {value!r}")


def _csv_cells(rows: Iterable[Sequence[Any]], state: list) -> Iterator[list]:
    triggers = FORMULA_TRIGGERS
    cell = _cell_text
    for row in rows:
        state[0] += 1
        # Plain str cells that cannot be read as a formula go through untouched, None becomes
        # ""; everything else (amounts, dates, dangerous text) is formatted by _cell_text.
        yield [v if type(v) is str and v[:1] not in triggers else "" if v is None else cell(v)
               for v in row]


def write_csv(rows: Iterable[Sequence[Any]], header: Sequence[str],
              target: Union[str, os.PathLike, io.BufferedIOBase], encoding: str = "utf-8-sig",
              errors: str = "replace") -> CsvSummary:
    """Write ``header`` and ``rows`` as a French CSV; ``target`` is a path (written through a
    temporary file and renamed) or a *binary* file object.

    Cells: ``Decimal`` → ``1234,56`` (``int`` → ``12``), ``date`` → ``dd/mm/yyyy``, ``None`` →
    empty, ``str`` → neutralised against formula injection. Separator ``;``, ``\\r\\n``.

    ``encoding``: ``utf-8-sig`` (default: Excel needs the BOM to detect UTF-8), ``utf-8`` or
    ``cp1252``. Characters the encoding cannot hold (in cp1252 e.g. "ŝ", "→", emoji; "€" and
    "œ" exist) are, with ``errors="replace"`` (default), written as "?" and counted in
    ``CsvSummary.replaced_chars`` so the caller can tell the user; with ``errors="strict"`` the
    export fails with an ``ExportError`` naming the row and the character.
    """
    if encoding not in CSV_ENCODINGS:
        raise ValueError(f"unsupported CSV encoding {encoding!r}: use one of {list(CSV_ENCODINGS)}")
    if errors not in ("replace", "strict"):
        raise ValueError("errors must be 'replace' or 'strict'")
    if isinstance(target, (str, os.PathLike)):
        with atomic_binary_file(target) as fileobj:
            return _write_csv(rows, header, fileobj, encoding, errors)
    check_binary(target)
    return _write_csv(rows, header, target, encoding, errors)


def _write_csv(rows, header, fileobj, encoding, errors) -> CsvSummary:
    sink = HashingWriter(fileobj)
    counter = [0]
    token = _replaced.set(counter)
    state = [0]
    stream = text_stream(sink, encoding,
                         "maillage.count_replace" if errors == "replace" else "strict")
    try:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        writer.writerow([neutralise(str(title)) for title in header])
        try:
            writer.writerows(_csv_cells(rows, state))
        except UnicodeEncodeError as error:
            char = error.object[error.start:error.end]
            raise ExportError(
                f"Caractère « {char} » impossible à écrire en {CSV_ENCODINGS[encoding]} "
                f"(ligne {state[0]} du fichier, hors en-tête). Choisissez l'encodage UTF-8."
            ) from None
        stream.flush()
    finally:
        _replaced.reset(token)
        stream.detach()
    return CsvSummary(state[0], counter[0], sink.hexdigest(), encoding)


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------

XLSX_AMOUNT_FORMAT = "#,##0.00"
XLSX_DATE_FORMAT = "DD/MM/YYYY"
XLSX_MAX_ROWS = 1_048_576
_SHEET_TITLE_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_title(title: str, used: set) -> str:
    base = (str(title).translate(_SHEET_TITLE_FORBIDDEN).strip(" '") or "Feuille")[:31]
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def write_xlsx(sheets: Iterable[Sheet], target: Target) -> dict:
    """Write the sheets (``Sheet(title, header, rows)`` or plain triples) as an XLSX workbook;
    ``target`` is a path (written through a temporary file and renamed) or a *binary* file
    object. Returns ``{sheet title: data row count}``.

    openpyxl's write-only mode streams rows to disk, so memory stays bounded. ``Decimal`` and
    ``int`` become numeric cells (amounts, i.e. ``Decimal``, formatted ``#,##0.00``), dates
    become date cells formatted ``DD/MM/YYYY``, text is stripped of the control characters XML
    cannot hold; text that a spreadsheet would take for a formula is an explicit string cell
    (never evaluated, shown as typed, without the CSV's apostrophe).
    """
    from openpyxl import Workbook

    if not isinstance(target, (str, os.PathLike)):
        check_binary(target)
    workbook = Workbook(write_only=True)
    try:
        counts = _fill_workbook(workbook, sheets)
        if isinstance(target, (str, os.PathLike)):
            with atomic_path(target) as tmp:
                workbook.save(tmp)
        else:
            workbook.save(target)
        return counts
    except BaseException:
        _discard_workbook(workbook)
        raise


def _discard_workbook(workbook) -> None:
    """After a failure: finish each sheet's XML stream and delete its temporary file (openpyxl
    streams every write-only sheet to a file in the system temporary directory until
    ``save``); left alone, the suspended generators raise when garbage-collected."""
    for ws in workbook.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        with contextlib.suppress(Exception):
            writer.cleanup()


def _fill_workbook(workbook, sheets) -> dict:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    counts: dict = {}
    used: set = set()
    bold = Font(bold=True)
    for sheet_title, header, rows in sheets:
        title = _sheet_title(sheet_title, used)
        ws = workbook.create_sheet(title=title)
        ws.freeze_panes = "A2"

        def text_cell(value: str, ws=ws):
            if not value.isprintable():
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value[:1] in FORMULA_TRIGGERS:
                # openpyxl would store "=…" as a formula: force a string cell instead.
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                return cell
            return value

        def amount_cell(value, ws=ws):
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = XLSX_AMOUNT_FORMAT
            return cell

        def date_cell(value, ws=ws):
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = XLSX_DATE_FORMAT
            return cell

        def header_cell(value, ws=ws):
            text = str(value)
            if not text.isprintable():
                text = ILLEGAL_CHARACTERS_RE.sub("", text)
            cell = WriteOnlyCell(ws, value=text)
            cell.data_type = "s"
            cell.font = bold
            return cell

        def convert(value, text_cell=text_cell, amount_cell=amount_cell,
                    date_cell=date_cell):
            kind = type(value)
            if kind is str:
                return text_cell(value)
            if value is None or kind is int:
                return value
            if kind is Decimal:
                if not value.is_finite():
                    raise ExportError(f"Montant invalide : {value}.")
                return amount_cell(value)
            if kind is date:
                return date_cell(value)
            if kind is datetime:
                if value.tzinfo is not None:
                    value = value.replace(tzinfo=None)
                return date_cell(value)
            if isinstance(value, bool):
                return "Oui" if value else "Non"
            # Subclasses (str enums, IntEnum...): convert to the base type first.
            if isinstance(value, str):
                return text_cell(str(value))
            if isinstance(value, int):
                return int(value)
            if isinstance(value, Decimal):
                return convert(Decimal(value))
            if isinstance(value, date):
                return date_cell(date(value.year, value.month, value.day))
            raise TypeError(f"cannot write a {kind.__name__} in an XLSX cell: {value!r}")

        ws.append([header_cell(value) for value in header])
        count = 0
        for row in rows:
            count += 1
            if count >= XLSX_MAX_ROWS:
                raise ExportError(
                    f"Feuille « {title} » : plus de {XLSX_MAX_ROWS - 1} lignes, au-delà de "
                    "la limite d'Excel. Utilisez l'export CSV."
                )
            ws.append([convert(value) for value in row])
        counts[title] = count
    if not counts:
        raise ValueError("write_xlsx needs at least one sheet")
    return counts


FORMATS = {"csv": "CSV (tableur, ; et virgule décimale)", "xlsx": "Excel (XLSX)"}


def write_table(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]], target: Target,
                title: str = "Feuille", encoding: str = "utf-8-sig") -> int:
    """One table (``header`` and ``rows``) as ``fmt`` (``csv`` or ``xlsx``, one sheet named
    ``title``) into ``target`` (a path, written atomically, or a binary file object); returns
    the number of data rows. The shortcut for an export of one list."""
    if fmt == "csv":
        return write_csv(rows, header, target, encoding=encoding).row_count
    if fmt == "xlsx":
        return sum(write_xlsx([Sheet(title, header, rows)], target).values())
    raise ValueError(f"unknown spreadsheet format {fmt!r}: use one of {list(FORMATS)}")
