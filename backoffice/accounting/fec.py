"""The FEC (*fichier des écritures comptables*, article A47 A-1 of the livre des procédures
fiscales): writer that validates while it streams, its description notice, and a reader for
verification.

File format written here:

* name ``<SIREN>FEC<YYYYMMDD>.txt`` (closing date of the fiscal year), see ``fec_filename``;
* first line: the 18 column names of ``FEC_COLUMNS``, in that order;
* tab separator, ``\\r\\n`` line endings, no quoting (text fields are cleaned of tabs, pipes,
  CR, LF and other control characters, each replaced by a space, then stripped);
* dates ``YYYYMMDD``; amounts with a comma decimal, no thousands separator, always two
  decimals (``1234,50``, ``0,00``); debit and credit in two columns, never negative;
* encoding: UTF-8 without BOM by default (accepted by the administration), or ISO-8859-15
  (the historical choice) with ``encoding="iso-8859-15"``. In ISO-8859-15 a character the
  encoding cannot hold is written as its Latin-9 equivalent (``LATIN9_EQUIVALENTS``: typographic
  dashes become ``-``, curly quotes ``'`` or ``"``, the ellipsis ``...``, thin and narrow
  no-break spaces a space or a no-break space; other letters lose their accent through their
  Unicode decomposition, ``Ŝ`` → ``S``; what remains becomes ``?``): the product's own labels
  are full of them, and a posted entry cannot be corrected. The export never fails on a
  character; ``FecSummary.replaced_chars`` counts the replacements and the notice says so.

The writer checks, while streaming, the rules listed in ``write_fec``; the first broken rule
raises ``FecError`` with a French message naming the entry. Use ``write_fec_file``, which
writes to a temporary file and renames it only on success, so that a rejected FEC leaves
nothing behind.
"""
from __future__ import annotations

import codecs
import contextvars
import csv
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Optional, Sequence, Tuple, Union

from backoffice.accounting.exports import (
    ExportError,
    ExportLine,
    HashingWriter,
    ZERO,
    check_binary,
    atomic_binary_file,
    format_amount,
    format_date_compact,
    text_stream,
)

FEC_COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
)

#: Meaning of each column, for the description notice.
FEC_COLUMN_MEANINGS = {
    "JournalCode": "code du journal de l'écriture",
    "JournalLib": "libellé du journal",
    "EcritureNum": "numéro de l'écriture, séquence continue sur l'exercice",
    "EcritureDate": "date de comptabilisation de l'écriture (AAAAMMJJ)",
    "CompteNum": "numéro de compte du plan comptable",
    "CompteLib": "libellé du compte",
    "CompAuxNum": "numéro de compte auxiliaire (uniquement sur les comptes collectifs)",
    "CompAuxLib": "libellé du compte auxiliaire",
    "PieceRef": "référence de la pièce justificative",
    "PieceDate": "date de la pièce justificative (AAAAMMJJ)",
    "EcritureLib": "libellé de l'écriture",
    "Debit": "montant au débit (virgule décimale, deux décimales)",
    "Credit": "montant au crédit (virgule décimale, deux décimales)",
    "EcritureLet": "code de lettrage",
    "DateLet": "date de lettrage (AAAAMMJJ)",
    "ValidDate": "date de validation de l'écriture (AAAAMMJJ)",
    "Montantdevise": "montant en devise (vide : écriture en euros)",
    "Idevise": "code ISO de la devise (vide : euros)",
}

#: Collective accounts (suppliers, customers/members, staff, other debtors and creditors):
#: the only ones on which an auxiliary account may appear.
DEFAULT_COLLECTIVE_PREFIXES = ("401", "411", "421", "467")

FEC_ENCODINGS = {"utf-8": "UTF-8 (sans BOM)", "iso8859-15": "ISO-8859-15 (Latin-9)"}

#: What a character ISO-8859-15 cannot hold becomes in a Latin-9 FEC (see the module docstring).
LATIN9_EQUIVALENTS = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d", "-"),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\u02b9\uff07", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\uff02", '"'),
    "\u2039": "<", "\u203a": ">",
    "\u2026": "...", "\u2022": "-", "\u2027": "-",
    **dict.fromkeys("\u202f\u2007\u2060", "\u00a0"),
    **dict.fromkeys("\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000", " "),
    **dict.fromkeys("\u200b\u200c\u200d\ufeff\u00ad", ""),
    "\u2122": "TM", "\u2192": "->", "\u2190": "<-", "\u2264": "<=", "\u2265": ">=", "\u2260": "!=",
    "\u2030": "pour mille", "\u2116": "No",
}

_replaced_in_fec: contextvars.ContextVar = contextvars.ContextVar("maillage_fec_replaced")


def latin9_equivalent(char: str) -> str:
    """The Latin-9 text written for ``char``, a character ISO-8859-15 cannot hold."""
    known = LATIN9_EQUIVALENTS.get(char)
    if known is not None:
        return known
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    try:
        decomposed.encode("iso8859-15")
    except UnicodeEncodeError:
        return "?"
    return decomposed or "?"


def _latin9_replace(error: UnicodeError):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    counter = _replaced_in_fec.get(None)
    if counter is not None:
        counter[0] += len(text)
    return "".join(latin9_equivalent(char) for char in text), error.end


codecs.register_error("maillage.latin9", _latin9_replace)

_SUFFIX_RE = re.compile(r"^(.*?)(\d+)$")
_UNSAFE_TEXT_RE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029|]")


class FecError(ExportError):
    """A rule of the FEC is broken. ``rule`` is a stable code (see ``write_fec``), ``entry``
    the entry number concerned (``None`` for file-level rules); the message is in French."""

    def __init__(self, message: str, rule: str, entry=None):
        super().__init__(message)
        self.rule = rule
        self.entry = entry


@dataclass(frozen=True)
class FecSummary:
    line_count: int
    entry_count: int
    total_debit: Decimal
    total_credit: Decimal
    sha256: str
    byte_count: int
    encoding: str          # normalised codec name: "utf-8" or "iso8859-15"
    first_date: Optional[date]
    last_date: Optional[date]
    replaced_chars: int = 0   # ISO-8859-15: characters written as their Latin-9 equivalent
    provisional: bool = False  # written with provisional=True (ValidDate may be empty)


def fec_filename(siren: str, closing_date: date) -> str:
    """``<SIREN>FEC<YYYYMMDD>.txt``; the SIREN is checked (9 digits, Luhn key)."""
    from stdnum.fr import siren as stdnum_siren

    number = stdnum_siren.compact(str(siren))
    if not stdnum_siren.is_valid(number):
        raise ExportError(f"SIREN invalide : « {siren} ».")
    return f"{number}FEC{format_date_compact(closing_date)}.txt"


def clean_text(value) -> str:
    """FEC text field: tabs, pipes, CR, LF and other control characters become a space; the
    result is stripped. ``None`` gives an empty string."""
    if type(value) is not str:
        if value is None:
            return ""
        value = str(value)
    # Fast path: str.isprintable() is false for every control character, so only the pipe
    # remains to look for (a regex per field would cost five times more).
    if value.isprintable() and "|" not in value:
        return value.strip()
    return _UNSAFE_TEXT_RE.sub(" ", value).strip()


def _normalise_encoding(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    if name not in FEC_ENCODINGS:
        raise ValueError(f"FEC encoding must be UTF-8 or ISO-8859-15, not {encoding!r}")
    return name


class _Sequence:
    """Checks that entry numbers form one continuous ascending sequence: ints 1, 2, 3… or
    strings sharing one prefix with a numeric suffix (``2026-000001``, ``2026-000002``…)."""

    def __init__(self, first_number: Optional[int]):
        self.first_number = first_number
        self.kind = None
        self.prefix = None
        self.expected = None

    def check(self, number) -> None:
        if type(number) is int:
            kind, prefix, value = int, None, number
        elif type(number) is str:
            match = _SUFFIX_RE.match(number)
            if match is None:
                raise FecError(f"Numéro d'écriture « {number} » sans partie numérique finale.",
                               "sequence", number)
            kind, prefix, value = str, match.group(1), int(match.group(2))
        else:
            raise FecError(f"Numéro d'écriture de type inattendu : {number!r}.", "sequence",
                           number)
        if self.kind is None:
            self.kind, self.prefix = kind, prefix
            if self.first_number is not None and value != self.first_number:
                raise FecError(
                    f"La numérotation des écritures doit commencer à {self.first_number} : "
                    f"la première écriture porte le numéro {number}.", "sequence", number)
        elif kind is not self.kind or prefix != self.prefix:
            raise FecError(
                f"Numérotation incohérente : l'écriture {number} ne suit pas le format des "
                "précédentes (une seule séquence pour tout l'exercice).", "sequence", number)
        elif value != self.expected:
            problem = "discontinue" if value > self.expected else "non croissante"
            raise FecError(
                f"Numérotation {problem} : écriture {number} alors que le numéro suivant "
                f"attendu est {self._render(self.expected, number)}.", "sequence", number)
        self.expected = value + 1

    def _render(self, value: int, like) -> str:
        if self.kind is int:
            return str(value)
        digits = _SUFFIX_RE.match(like).group(2)
        return f"{self.prefix}{value:0{len(digits)}d}"


def write_fec(lines: Iterable[ExportLine], fileobj, *, encoding: str = "utf-8",
              collective_prefixes: Sequence[str] = DEFAULT_COLLECTIVE_PREFIXES,
              first_number: Optional[int] = 1,
              period: Optional[Tuple[date, date]] = None,
              provisional: bool = False) -> FecSummary:
    """Write the FEC of ``lines`` (ordered by entry number, then line) to the *binary* file
    object ``fileobj``, validating while streaming. Returns a ``FecSummary``.

    Rules (``FecError.rule``), checked line by line with constant memory:

    * ``amount``: a line with both a debit and a credit, or neither (both zero), a negative
      amount, an amount with more than two decimals, a float;
    * ``unbalanced``: the debits and credits of an entry (same EcritureNum) differ;
    * ``entry``: within one entry, more than one journal (code or label), date, piece
      reference or piece date;
    * ``sequence``: entry numbers not forming one continuous ascending sequence, independent of
      the journals. Ints must go ``first_number``, +1, +1…; strings must share one prefix and
      their numeric suffix must go ``first_number``, +1, +1… (``2026-000001``,
      ``2026-000002``…). ``first_number=None`` accepts any start (e.g. a partial extract);
    * ``required``: empty JournalCode, JournalLib, EcritureNum, EcritureDate, CompteNum,
      CompteLib, PieceRef, PieceDate, EcritureLib or ValidDate (after cleaning) — ValidDate may
      be empty in a ``provisional`` FEC (an open year, whose entries are validated at its
      closing);
    * ``aux``: CompAuxNum/CompAuxLib on an account whose number does not start with one of
      ``collective_prefixes``, or one of the two without the other;
    * ``lettering``: EcritureLet without DateLet or the reverse;
    * ``currency``: Montantdevise without Idevise or the reverse;
    * ``period``: with ``period=(start, end)``, an EcritureDate outside it;
    * ``encoding``: never raised any more: in ISO-8859-15 a character it cannot hold is
      written as its Latin-9 equivalent (see the module docstring);
    * ``empty``: no line at all ("aucune écriture pour cet exercice").

    A float amount or a date field that is not a ``date`` is a bug in the caller: ``TypeError``.

    ``fileobj`` receives partial content when a rule breaks: write to a file through
    ``write_fec_file``, which only keeps complete, valid files.
    """
    check_binary(fileobj)
    codec = _normalise_encoding(encoding)
    prefixes = tuple(collective_prefixes)
    sink = HashingWriter(fileobj)
    stream = text_stream(sink, codec, "strict" if codec == "utf-8" else "maillage.latin9")
    state = _State(first_number, provisional)
    replaced = [0]
    token = _replaced_in_fec.set(replaced)
    try:
        writer = csv.writer(stream, delimiter="\t", lineterminator="\r\n",
                            quoting=csv.QUOTE_NONE, quotechar=None, escapechar=None)
        writer.writerow(FEC_COLUMNS)
        try:
            writer.writerows(_fec_rows(lines, state, prefixes, period))
        except UnicodeEncodeError as error:
            char = error.object[error.start:error.end]
            raise FecError(
                f"Écriture {state.entry} : caractère « {char} » impossible à écrire en "
                f"{FEC_ENCODINGS[codec]}. Corrigez le libellé ou choisissez l'encodage UTF-8.",
                "encoding", state.entry) from None
        stream.flush()
    finally:
        _replaced_in_fec.reset(token)
        stream.detach()
    if state.line_count == 0:
        raise FecError("Aucune écriture pour cet exercice : le FEC serait vide.", "empty")
    return FecSummary(
        line_count=state.line_count, entry_count=state.entry_count,
        total_debit=state.total_debit, total_credit=state.total_credit,
        sha256=sink.hexdigest(), byte_count=sink.byte_count, encoding=codec,
        first_date=state.first_date, last_date=state.last_date, replaced_chars=replaced[0],
        provisional=provisional,
    )


def write_fec_file(lines: Iterable[ExportLine], path: Union[str, os.PathLike],
                   **options) -> FecSummary:
    """``write_fec`` to ``path`` through a temporary file in the same directory, renamed over
    ``path`` only when the whole FEC is written and valid; on any error the temporary file is
    deleted and ``path`` is left as it was. Options as for ``write_fec``."""
    with atomic_binary_file(path) as fileobj:
        return write_fec(lines, fileobj, **options)


class _State:
    """What the streaming validation keeps between lines: the current entry only."""

    __slots__ = ("sequence", "entry", "line_count", "entry_count", "total_debit",
                 "total_credit", "first_date", "last_date", "provisional")

    def __init__(self, first_number, provisional=False):
        self.provisional = provisional
        self.sequence = _Sequence(first_number)
        self.entry = None
        self.line_count = 0
        self.entry_count = 0
        self.total_debit = ZERO
        self.total_credit = ZERO
        self.first_date = None
        self.last_date = None


_NO_ENTRY = object()
_TEXT_CACHE_MAX = 10_000


def _fec_rows(lines, state: _State, prefixes: tuple, period):
    """Yield the 18 FEC fields of each line, validating as it goes (see ``write_fec``); a
    formatting error becomes a ``FecError`` naming the entry."""
    try:
        yield from _fec_rows_checked(lines, state, prefixes, period)
    except FecError:
        raise
    except ExportError as error:  # from format_amount: too many decimals, NaN…
        raise FecError(f"Écriture {state.entry} : {error}", "amount", state.entry) from None


def _fec_rows_checked(lines, state: _State, prefixes: tuple, period):
    """The hot path (one pass per line of the year). Fields that are constant within an entry
    (journal, entry date, piece) are compared *as given* with the entry's first line, and
    cleaned and formatted once per entry; per line only the account, labels, amounts and
    validation date are formatted. Optional columns (auxiliary account, lettering, currency)
    cost one ``is None`` test when empty."""
    clean = clean_text
    amount = format_amount
    fdate = format_date_compact
    current = _NO_ENTRY
    key = None
    head = None
    entry_debit = entry_credit = ZERO
    line_count = 0
    # Account numbers and labels repeat all year: clean each distinct value once (the cache
    # is bounded). The label usually repeats on every line of an entry: keep the last one.
    accounts: dict = {}
    last_label = label_text = None
    for line in lines:
        (journal_code, journal_label, number, entry_date, account, account_label, aux,
         aux_label, piece_ref, piece_date, label, debit, credit, lettering, lettering_date,
         validation_date, currency_amount, currency) = line
        if number != current:
            if current is not _NO_ENTRY:
                if entry_debit != entry_credit:
                    _unbalanced(current, entry_debit, entry_credit)
                state.total_debit += entry_debit
                state.total_credit += entry_credit
            state.entry = number
            state.sequence.check(number)
            current = number
            key = (journal_code, journal_label, entry_date, piece_ref, piece_date)
            head = _entry_head(state, key, number, period)
            entry_debit = entry_credit = ZERO
        elif (journal_code, journal_label, entry_date, piece_ref, piece_date) != key:
            _inconsistent(number, key, line)
        line_count += 1

        debit_text = amount(debit)
        credit_text = amount(credit)
        if debit_text == "0,00":
            if credit_text == "0,00" or credit_text[0] == "-":
                _bad_amounts(number, account, debit_text, credit_text)
            entry_credit += credit
        elif credit_text != "0,00" or debit_text[0] == "-":
            _bad_amounts(number, account, debit_text, credit_text)
        else:
            entry_debit += debit

        account_text = accounts.get(account)
        if account_text is None:
            if len(accounts) >= _TEXT_CACHE_MAX:
                accounts.clear()
            account_text = accounts[account] = clean(account)
        account_label_text = accounts.get(account_label)
        if account_label_text is None:
            account_label_text = accounts[account_label] = clean(account_label)
        if label != last_label or label_text is None:
            last_label, label_text = label, clean(label)
        if not (account_text and account_label_text and label_text):
            _missing(number, account, (("CompteNum", account_text),
                                       ("CompteLib", account_label_text),
                                       ("EcritureLib", label_text)))
        if aux is None and aux_label is None:
            aux_text = aux_label_text = ""
        else:
            aux_text, aux_label_text = _aux(number, account_text, aux, aux_label, prefixes)
        if lettering is None and lettering_date is None:
            lettering_text = lettering_date_text = ""
        else:
            lettering_text, lettering_date_text = _lettering(number, lettering, lettering_date)
        if validation_date is None:
            if not state.provisional:
                _missing(number, account, (("ValidDate", ""),))
            validation_text = ""
        else:
            validation_text = fdate(validation_date)
        if currency_amount is None and currency is None:
            currency_amount_text = currency_text = ""
        else:
            currency_amount_text, currency_text = _currency(number, currency_amount, currency)
        yield (head[0], head[1], head[2], head[3], account_text, account_label_text, aux_text,
               aux_label_text, head[4], head[5], label_text, debit_text, credit_text,
               lettering_text, lettering_date_text, validation_text,
               currency_amount_text, currency_text)
    if current is not _NO_ENTRY:
        if entry_debit != entry_credit:
            _unbalanced(current, entry_debit, entry_credit)
        state.total_debit += entry_debit
        state.total_credit += entry_credit
    state.line_count = line_count


def _entry_head(state: _State, key, number, period) -> tuple:
    """Clean and check the fields shared by every line of an entry (once per entry)."""
    journal_code, journal_label, entry_date, piece_ref, piece_date = key
    fields = (
        ("JournalCode", clean_text(journal_code)),
        ("JournalLib", clean_text(journal_label)),
        ("EcritureNum", clean_text(number)),
        ("EcritureDate", _date_text(entry_date, number, "EcritureDate")),
        ("PieceRef", clean_text(piece_ref)),
        ("PieceDate", _date_text(piece_date, number, "PieceDate")),
    )
    if not all(text for _, text in fields):
        _missing(number, None, fields)
    if period is not None and not (period[0] <= entry_date <= period[1]):
        raise FecError(
            f"Écriture {number} : date {entry_date:%d/%m/%Y} hors de l'exercice "
            f"({period[0]:%d/%m/%Y} – {period[1]:%d/%m/%Y}).", "period", number)
    plain = entry_date if type(entry_date) is date else date(entry_date.year, entry_date.month,
                                                              entry_date.day)
    if state.first_date is None or plain < state.first_date:
        state.first_date = plain
    if state.last_date is None or plain > state.last_date:
        state.last_date = plain
    state.entry_count += 1
    return tuple(text for _, text in fields)


def _date_text(value, number, column: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, date):  # a bug in the caller, like a float amount
        raise TypeError(f"entry {number}: {column} must be a date, not {value!r}")
    return format_date_compact(value)


def _missing(number, account, fields) -> None:
    for column, text in fields:
        if not text:
            where = f" (compte {account})" if account else ""
            raise FecError(f"Écriture {number}{where} : champ obligatoire {column} vide.",
                           "required", number)


def _unbalanced(number, debit: Decimal, credit: Decimal) -> None:
    raise FecError(
        f"Écriture {number} déséquilibrée : total débit {format_amount(debit)}, "
        f"total crédit {format_amount(credit)}.", "unbalanced", number)


def _bad_amounts(number, account, debit_text: str, credit_text: str) -> None:
    if debit_text[0] == "-" or credit_text[0] == "-":
        problem = "montant négatif (inscrivez-le dans l'autre colonne)"
    elif debit_text == credit_text == "0,00":
        problem = "ligne sans débit ni crédit"
    else:
        problem = "ligne portant à la fois un débit et un crédit"
    raise FecError(f"Écriture {number} (compte {account}) : {problem} "
                   f"(débit {debit_text}, crédit {credit_text}).", "amount", number)


_ENTRY_FIELDS = (("journal_code", "journaux"), ("journal_label", "libellés de journal"),
                 ("entry_date", "dates"), ("piece_ref", "références de pièce"),
                 ("piece_date", "dates de pièce"))


def _inconsistent(number, key, line) -> None:
    for (name, what), first in zip(_ENTRY_FIELDS, key):
        if getattr(line, name) != first:
            raise FecError(
                f"Écriture {number} : plusieurs {what} dans une même écriture "
                f"({first} puis {getattr(line, name)}).", "entry", number)
    raise AssertionError("unreachable")  # pragma: no cover


def _aux(number, account: str, aux, aux_label, prefixes: tuple) -> Tuple[str, str]:
    aux_text, aux_label_text = clean_text(aux), clean_text(aux_label)
    if not aux_text and not aux_label_text:
        return "", ""
    if not account.startswith(prefixes):
        raise FecError(
            f"Écriture {number} : compte auxiliaire {aux_text or aux_label_text} sur le compte "
            f"{account}, qui n'est pas un compte collectif ({', '.join(prefixes)}).",
            "aux", number)
    if not aux_label_text:
        raise FecError(f"Écriture {number} : CompAuxNum {aux_text} sans CompAuxLib.", "aux",
                       number)
    if not aux_text:
        raise FecError(f"Écriture {number} : CompAuxLib « {aux_label_text} » sans CompAuxNum.",
                       "aux", number)
    return aux_text, aux_label_text


def _lettering(number, lettering, lettering_date) -> Tuple[str, str]:
    lettering_text = clean_text(lettering)
    date_text = _date_text(lettering_date, number, "DateLet")
    if bool(lettering_text) != bool(date_text):
        raise FecError(f"Écriture {number} : EcritureLet et DateLet vont ensemble "
                       f"(lettrage « {lettering_text} », date « {date_text} »).",
                       "lettering", number)
    return lettering_text, date_text


def _currency(number, currency_amount, currency) -> Tuple[str, str]:
    amount_text = "" if currency_amount is None else format_amount(currency_amount)
    currency_text = clean_text(currency)
    if bool(amount_text) != bool(currency_text):
        raise FecError(f"Écriture {number} : Montantdevise et Idevise vont ensemble.",
                       "currency", number)
    return amount_text, currency_text


# --------------------------------------------------------------------------------------------
# Description notice and reader
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeBooks:
    """What the notice says of the books themselves (``fec_notice(..., books=...)``): the
    journals ``(code, label, kind)``, the chart of accounts, how auxiliary accounts are
    numbered, the validation and closing policy, and whether the year is closed (``closed_on``,
    a date; ``None``: open, the FEC is provisional)."""

    journals: Sequence[Tuple[str, str, str]] = ()
    chart: str = ""
    auxiliary_numbering: str = ""
    validation_policy: str = ""
    closed_on: Optional[date] = None
    closed_sha256: Optional[str] = None


PARIS = "Europe/Paris"


def paris_time(moment: datetime) -> datetime:
    """``moment`` in Europe/Paris (a naive datetime is taken as already in Paris time)."""
    from zoneinfo import ZoneInfo

    if moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(PARIS))


def fec_notice(summary: FecSummary, *, producer: str, siren: str, fiscal_year_start: date,
               fiscal_year_end: date, filename: Optional[str] = None,
               software: str = "Maillage", generated_at: Optional[datetime] = None,
               software_version: Optional[str] = None, books: Optional[NoticeBooks] = None) -> str:
    """The description notice (*notice descriptive*) that goes with the FEC: a French
    plain-text document saying who produced the file, for which fiscal year, whether it is
    **definitive** (a closed year) or **provisional** (an open year: ``summary.provisional``),
    how to read it (encoding, separator, columns, number of lines, SHA-256 fingerprint), and,
    given ``books``, the journals, the chart of accounts, the auxiliary numbering and the
    validation and closing policy. Times are given in Europe/Paris."""
    name = filename or fec_filename(siren, fiscal_year_end)
    when = ""
    if generated_at:
        local = paris_time(generated_at)
        when = f"le {local:%d/%m/%Y à %H:%M} (heure de Paris)"
    width = max(len(column) for column in FEC_COLUMNS)
    columns = "\n".join(
        f"  {position:2d}. {column:<{width}}  {FEC_COLUMN_MEANINGS[column]}"
        for position, column in enumerate(FEC_COLUMNS, start=1)
    )
    span = ""
    if summary.first_date and summary.last_date:
        span = (f"Écritures datées du {summary.first_date:%d/%m/%Y} "
                f"au {summary.last_date:%d/%m/%Y}.\n")
    if summary.provisional:
        status = ("FEC PROVISOIRE : l'exercice n'est pas clôturé. Les écritures peuvent encore être "
                  "complétées (jamais modifiées : une erreur se corrige par contre-passation) ; leur "
                  "numérotation et leur validation définitives sont attribuées à la clôture. ValidDate "
                  "est vide pour les écritures non encore validées. Ce fichier ne vaut pas FEC "
                  "définitif de l'exercice.\n")
    else:
        status = "FEC DÉFINITIF : l'exercice est clôturé ; ses écritures sont validées et figées.\n"
        if books is not None and books.closed_on:
            status += f"Exercice clôturé le {books.closed_on:%d/%m/%Y}.\n"
    replaced = ""
    if summary.replaced_chars:
        replaced = (f"{summary.replaced_chars} caractère(s) absent(s) de l'ISO-8859-15 (tirets et guillemets "
                    "typographiques, points de suspension, espaces fines…) ont été écrits sous leur "
                    "équivalent Latin-9 (-, ', \", ..., espace).\n")
    version = f" version {software_version}" if software_version else ""
    description = ""
    if books is not None:
        journals = "\n".join(f"  {code:<6} {label} ({kind})" for code, label, kind in books.journals)
        description = (
            "\nORGANISATION DE LA COMPTABILITÉ\n"
            + (f"Plan comptable : {books.chart}.\n" if books.chart else "")
            + ("Journaux :\n" + journals + "\n" if journals else "")
            + (f"Comptes auxiliaires : {books.auxiliary_numbering}\n" if books.auxiliary_numbering else "")
            + (f"Validation et clôture : {books.validation_policy}\n" if books.validation_policy else "")
        )
    return (
        "NOTICE DESCRIPTIVE DU FICHIER DES ÉCRITURES COMPTABLES (FEC)\n"
        "Article A47 A-1 du livre des procédures fiscales\n"
        "\n"
        f"{status}"
        "\n"
        f"Entité : {producer}\n"
        f"SIREN : {siren}\n"
        f"Exercice : du {fiscal_year_start:%d/%m/%Y} au {fiscal_year_end:%d/%m/%Y}\n"
        f"Fichier : {name}\n"
        f"Produit par le logiciel {software}{version}{(' ' + when) if when else ''}.\n"
        f"{description}"
        "\n"
        "FORMAT\n"
        f"Encodage : {FEC_ENCODINGS.get(summary.encoding, summary.encoding)}.\n"
        f"{replaced}"
        "Fichier texte à champs séparés par une tabulation ; fin de ligne CR LF ; "
        "aucun guillemet.\n"
        "La première ligne contient les noms des 18 champs ; chaque ligne suivante est une "
        "ligne d'écriture.\n"
        "Dates au format AAAAMMJJ. Montants avec la virgule comme séparateur décimal, sans "
        "séparateur de milliers, toujours deux décimales ; débit et crédit dans deux champs "
        "distincts, jamais négatifs.\n"
        "Les tabulations, barres verticales et retours à la ligne présents dans les libellés "
        "ont été remplacés par des espaces.\n"
        "Montants exprimés en euros ; Montantdevise et Idevise sont vides pour les écritures "
        "en euros.\n"
        "Numérotation des écritures : une séquence unique et continue pour l'exercice, tous "
        "journaux confondus"
        + (" ; dans un FEC provisoire, le numéro d'enregistrement (ordre de saisie).\n"
           if summary.provisional else
           ", attribuée à la clôture dans l'ordre chronologique des dates d'écriture.\n")
        + "\n"
        "CHAMPS\n"
        f"{columns}\n"
        "\n"
        "CONTENU\n"
        f"Lignes d'écriture : {summary.line_count} (hors ligne d'en-tête).\n"
        f"Écritures : {summary.entry_count}.\n"
        f"{span}"
        f"Total des débits : {format_amount(summary.total_debit)} €.\n"
        f"Total des crédits : {format_amount(summary.total_credit)} €.\n"
        f"Taille : {summary.byte_count} octets.\n"
        f"Empreinte SHA-256 : {summary.sha256}\n"
    )
