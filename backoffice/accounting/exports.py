"""Files for accountants: the journal line they are built from, French formatting, the report
row builders (journal, general ledger, trial balance) and the CSV and XLSX writers.

Pure library: no Flask, no database. Everything takes plain rows (``ExportLine``) from an
iterable and streams: memory stays bounded whatever the number of lines. The FEC writer lives
in ``backoffice.accounting.fec`` and shares the formatting helpers defined here.

Conventions chosen for spreadsheets opened in France:

* CSV: ``;`` separator, ``\\r\\n`` line endings, amounts written by us as ``1234,56`` (comma
  decimal, no thousands separator, so that LibreOffice and Excel in a French locale read them as
  numbers; a thousands separator would turn them into text), dates ``dd/mm/yyyy``.
  Default encoding UTF-8 *with* BOM (``utf-8-sig``), the only way Excel detects UTF-8 in a CSV;
  ``cp1252`` is offered for old tools (see ``write_csv`` for characters it cannot hold).
* XLSX: real numeric cells for amounts (format ``#,##0.00``) and real date cells
  (``DD/MM/YYYY``), written with openpyxl's write-only mode (rows go straight to disk).
* Formula injection (OWASP "CSV Injection", CWE-1236): every *text* cell that begins with
  ``=``, ``+``, ``-``, ``@``, tab, CR or LF is prefixed with a single quote by ``neutralise``,
  in CSV and XLSX alike. Amounts are numbers, never text, so ``-12,00`` stays a number.
* Every writer given a path writes to a temporary file in the same directory and renames it
  over the target only on success (``os.replace`` is atomic on POSIX): a failed export leaves
  neither a half-written file nor a temporary file behind.
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
from typing import Any, Iterable, Iterator, NamedTuple, Optional, Sequence, Union

from backoffice.errors import ServiceError

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


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


# Date formatting is cached: a year of books has a few hundred distinct dates but hundreds of
# thousands of lines, and strftime costs about a microsecond. The caches are cleared when they
# grow past _DATE_CACHE_MAX so that memory stays bounded whatever the input.
_DATE_CACHE_MAX = 20_000
_COMPACT_DATES: dict = {}
_FRENCH_DATES: dict = {}


def format_date_compact(value: date) -> str:
    """``YYYYMMDD`` (the FEC date format)."""
    text = _COMPACT_DATES.get(value)
    if text is None:
        if not isinstance(value, date):
            raise TypeError(f"date expected, not {type(value).__name__}: {value!r}")
        text = f"{value.year:04d}{value.month:02d}{value.day:02d}"
        if len(_COMPACT_DATES) >= _DATE_CACHE_MAX:
            _COMPACT_DATES.clear()
        _COMPACT_DATES[value] = text
    return text


def format_date_fr(value: date) -> str:
    """``dd/mm/yyyy``."""
    text = _FRENCH_DATES.get(value)
    if text is None:
        if not isinstance(value, date):
            raise TypeError(f"date expected, not {type(value).__name__}: {value!r}")
        text = f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
        if len(_FRENCH_DATES) >= _DATE_CACHE_MAX:
            _FRENCH_DATES.clear()
        _FRENCH_DATES[value] = text
    return text


# --------------------------------------------------------------------------------------------
# Formula injection
# --------------------------------------------------------------------------------------------

#: First characters that make a spreadsheet read a text cell as a formula (OWASP CSV Injection).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")


def neutralise(text: str) -> str:
    """Prefix a text cell that a spreadsheet would take for a formula with a single quote.

    Used for every text cell of the CSV and XLSX writers (not for the FEC, which is a data
    interchange file read by accounting software, where the quote would corrupt the data).
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


def _check_binary(fileobj) -> None:
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
# Report rows
# --------------------------------------------------------------------------------------------

class Sheet(NamedTuple):
    """A titled table for ``write_xlsx``: ``rows`` may be a generator."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


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
    _check_binary(target)
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


def write_xlsx(sheets: Iterable[Sheet], path: Union[str, os.PathLike]) -> dict:
    """Write the sheets (``Sheet(title, header, rows)`` or plain triples) to an XLSX file at ``path`` through a
    temporary file; returns ``{sheet title: data row count}``.

    openpyxl's write-only mode streams rows to disk, so memory stays bounded. ``Decimal`` and
    ``int`` become numeric cells (amounts, i.e. ``Decimal``, formatted ``#,##0.00``), dates
    become date cells formatted ``DD/MM/YYYY``, text is neutralised against formula injection
    and stripped of the control characters XML cannot hold.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    try:
        return _write_xlsx(workbook, sheets, path)
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


def _write_xlsx(workbook, sheets, path) -> dict:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    counts: dict = {}
    used: set = set()
    bold = Font(bold=True)
    with atomic_path(path) as tmp:
        for sheet_title, header, rows in sheets:
            title = _sheet_title(sheet_title, used)
            ws = workbook.create_sheet(title=title)
            ws.freeze_panes = "A2"

            def text_cell(value: str, ws=ws):
                value = neutralise(value)
                if not value.isprintable():
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
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
                cell = WriteOnlyCell(ws, value=text_cell(str(value)))
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
        workbook.save(tmp)
    return counts
