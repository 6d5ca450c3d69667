"""Reading bank statement files: CSV exports of French banks and CAMT.053 — pure functions.

* CSV: the columns are mapped once per bank account and file layout (``BankCsvLayout``, the
  header's ``layout_signature``), pre-filled from the usual French column names
  (``guess_mapping``: « Date opération », « Libellé », « Montant (EUR) », « Débit euros »…);
  separator ``;`` or ``,`` (detected), comma or dot decimals, dates ``dd/mm/yyyy`` (also
  ``dd/mm/yy`` and ISO), UTF-8 (with or without BOM) or Windows-1252; a signed amount or
  separate debit and credit columns; lines of account details above the header, and balance or
  total lines (« Solde au… », « Total des opérations ») before or after the operations, are
  skipped and noted; a label continued on the next rows (no date, no amount) is joined; every
  unreadable row is reported at once (``StatementLinesError``).
* CAMT.053 (ISO 20022 ``BkToCstmrStmt``, any version): a small lxml parser over ``Ntry``
  elements; an entry of several transactions (``TxDtls``) is one line, as the bank booked it,
  its transactions in ``details``.
* Texts longer than a bank line keeps are cut, and the file's ``notes`` keep them whole.
* ``fingerprints``: date, amount, folded label, and the ordinal among identical lines of the
  same file — what makes a re-imported (or overlapping) statement store nothing twice.
"""
import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from backoffice import money
from backoffice.banking.errors import BankingError, MappingNeeded, StatementFormatError, StatementLinesError
from backoffice.errors import ServiceError

MAPPING_FIELDS = ("date", "label", "amount", "debit", "credit", "reference")


def fold_words(text):
    """Lower-case, accent-free words of ``text``."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", text)


@dataclass(frozen=True)
class StatementLineData:
    booked_on: date
    amount: Decimal       # signed: credits > 0
    label: str
    reference: str | None = None
    counterparty: str | None = None
    # The transactions of a batch entry (CAMT ``TxDtls``): ({"amount": "-600.00", "label": …,
    # "reference": …, "counterparty": …}, …); None for a single operation.
    details: tuple | None = None

    @property
    def text(self):
        """Everything matching may look at."""
        return " ".join(p for p in (self.label, self.reference, self.counterparty) if p)


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------

def detect_format(content):
    """``"camt053"`` or ``"csv"``; ``StatementFormatError`` for anything else."""
    if not content or not content.strip():
        raise StatementFormatError("Le fichier est vide.")
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if b"camt.053" in content[:4096] or b"BkToCstmrStmt" in content[:4096]:
            return "camt053"
        raise StatementFormatError("Ce fichier XML n'est pas un relevé CAMT.053 (format ISO 20022 des relevés de compte).")
    if head.startswith((b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or b"\x00" in content[:4096]:
        raise StatementFormatError("Format de relevé non reconnu : déposez l'export CSV de votre banque ou un "
                                   "fichier CAMT.053 (XML), pas un PDF ni un classeur Excel.")
    if head.startswith((b"OFXHEADER", b"<OFX")):
        raise StatementFormatError("Les relevés OFX ne sont pas pris en charge : exportez en CSV ou en CAMT.053.")
    return "csv"


def decode(content):
    """Text of a CSV file: UTF-8 (BOM or not), else Windows-1252 (what French banks often use)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _numbered_rows(text):
    """``(line number, cells)`` of the non-blank rows of a CSV text, cells stripped (separator
    detected). The number is the file's line where the row starts, as a text editor counts
    them (a quoted label over three lines takes three)."""
    first_lines = [line for line in text.splitlines()[:30] if line.strip()]
    sample = "\n".join(first_lines)
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    if "\t" in sample and sample.count("\t") > sample.count(delimiter):
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, ended_at = [], 0
    for row in reader:
        cells = [cell.strip() for cell in row]
        if any(cells):
            rows.append((ended_at + 1, cells))
        ended_at = reader.line_num
    return rows


def csv_rows(text):
    """The non-blank rows of a CSV text, cells stripped (separator detected)."""
    return [cells for _, cells in _numbered_rows(text)]


# Words a header cell may carry besides its name: the currency (« Montant (EUR) », « Débit
# euros », « Crédit (€) ») and the joining words of « Montant en euros ».
_HEADER_NOISE = {"eur", "euro", "euros", "en", "e", "s"}
_FOREIGN_CURRENCY = re.compile(r"\b(usd|gbp|chf|francs?|frf)\b")

# Usual names of each column in French banks' exports, folded, best first.
COLUMN_NAMES = {
    "date": ("date operation", "date de l operation", "date", "date comptable", "date de comptabilisation",
             "date d operation", "date de valeur", "date valeur"),
    "label": ("libelle", "libelle operation", "libelle de l operation", "detail de l ecriture", "intitule",
              "libelle simplifie", "description", "nature de l operation", "operation"),
    "amount": ("montant", "montant de l operation", "montant operation", "somme"),
    "debit": ("debit", "debits", "montant debit"),
    "credit": ("credit", "credits", "montant credit"),
    "reference": ("reference", "ref", "references", "reference de l operation", "libelle complementaire",
                  "informations complementaires", "detail", "detail de l ecriture", "motif"),
}


def _column_key(cell):
    """A header cell's folded name without its currency: « Montant (EUR) » → « montant »."""
    return " ".join(w for w in fold_words(cell) if w not in _HEADER_NOISE)


def guess_mapping(columns):
    """The mapping a header suggests by its usual French column names ({} values when none):
    what the treasurer sees pre-filled on the mapping screen of an unknown layout."""
    keys = {}
    for column in columns:
        keys.setdefault(_column_key(column), column)
    guess, taken = {}, set()
    for field in ("date", "amount", "debit", "credit", "label", "reference"):
        guess[field] = next((keys[name] for name in COLUMN_NAMES[field] if name in keys and keys[name] not in taken),
                            None)
        if guess[field]:
            taken.add(guess[field])
    if guess["debit"] or guess["credit"]:
        if guess["debit"] and guess["credit"] or not guess["amount"]:
            guess["amount"] = None  # separate debit and credit columns (« Montant débit », « Montant crédit »)
        else:
            guess["debit"] = guess["credit"] = None  # a signed amount, and a lone « Débit » of something else
    return guess


def layout_signature(columns):
    """What identifies a file layout: a digest of its header's folded cells, in order."""
    folded = "|".join(" ".join(fold_words(cell)) for cell in columns if cell)
    return hashlib.sha256(folded.encode()).hexdigest()


def _looks_like_header(cells):
    """A row naming a date column and at least one other usual column, with no date or amount in it."""
    keys = {_column_key(cell) for cell in cells if cell}
    names = {field: any(k in COLUMN_NAMES[field] for k in keys) for field in COLUMN_NAMES}
    if not names["date"] or not (names["label"] or names["amount"] or names["debit"] or names["credit"]):
        return False
    return not any(_is_date(cell) or _is_amount(cell) for cell in cells if cell)


def _is_date(text):
    try:
        parse_date(text)
        return True
    except StatementFormatError:
        return False


def _is_amount(text):
    try:
        return money.parse_amount(text) is not None
    except ServiceError:
        return False


def _header_index(rows, mapping=None):
    """Index in ``rows`` (cells) of the header row. With a ``mapping``: the first row holding
    every mapped column (La Banque Postale writes « Date ;28/02/2026 » among the account details
    above the header). Without: the first row that names its columns as banks do (« Date »,
    « Libellé », « Montant (EUR) », « Débit »…), else the first with the most filled cells."""
    if mapping and mapping.get("date"):
        wanted = {column for column in mapping.values() if column}
        for index, row in enumerate(rows[:60]):
            if wanted.issubset(row):
                return index
        return None
    for index, row in enumerate(rows[:60]):
        if _looks_like_header(row):
            return index
    filled = [sum(1 for cell in row if cell) for row in rows[:60]]
    if not filled or max(filled) < 2:
        return None
    return filled.index(max(filled))


def csv_columns(content):
    """Header of a CSV statement (for the column-mapping form)."""
    rows = csv_rows(decode(content))
    index = _header_index(rows)
    if index is None or len(rows[index]) < 2:
        raise StatementFormatError("Format de relevé non reconnu : aucune ligne d'en-tête de colonnes trouvée "
                                   "(« Date », « Libellé », « Montant » ou « Débit »/« Crédit »).")
    return [c for c in rows[index] if c]


def holds_columns(content, mapping):
    """Whether a row of the CSV file holds every column of ``mapping`` (its header)."""
    return _header_index(csv_rows(decode(content)), mapping) is not None


def row_signatures(content, limit=60):
    """The layout signature of each of the first rows of a CSV file (to recognise a layout
    whose mapping is remembered, wherever its header sits)."""
    return [layout_signature(cells) for cells in csv_rows(decode(content))[:limit]]


def parse_amount(text):
    """A statement's amount (``1 234,56``, ``-30,00``, ``+30.00``, ``30,00 €``, CAMT's ``1234.56``)
    → Decimal, read by the one amount reader, ``backoffice.money.parse_amount``; None when
    empty. Anything else is a ``StatementFormatError``."""
    try:
        return money.parse_amount(text)
    except ServiceError:
        raise StatementFormatError(f"Montant illisible dans le relevé : « {text} ».") from None


def parse_date(text):
    raw = (text or "").strip()
    for fmt in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise StatementFormatError(f"Date illisible dans le relevé : « {text} » (attendu jj/mm/aaaa).")


def validate_mapping(mapping, columns):
    """Check a column mapping against a header; returns the cleaned mapping."""
    cleaned = {key: (mapping.get(key) or None) for key in MAPPING_FIELDS}
    if not cleaned["date"] or not cleaned["label"]:
        raise BankingError("Choisissez la colonne de la date et celle du libellé.")
    if not cleaned["amount"] and not (cleaned["debit"] or cleaned["credit"]):
        raise BankingError("Choisissez la colonne du montant, ou celles du débit et du crédit.")
    if cleaned["amount"] and (cleaned["debit"] or cleaned["credit"]):
        raise BankingError("Choisissez soit une colonne de montant, soit des colonnes débit et crédit, pas les deux.")
    chosen = [v for v in cleaned.values() if v]
    twice = sorted({v for v in chosen if chosen.count(v) > 1})
    if twice:
        raise BankingError(f"Une colonne ne peut servir qu'une fois : « {'», «'.join(twice)} » est choisie deux fois.")
    missing = [v for v in chosen if v not in columns]
    if missing:
        raise BankingError(f"Colonne absente du fichier : {', '.join(missing)}.")
    foreign = [v for v in chosen if _FOREIGN_CURRENCY.search(" ".join(fold_words(v)))]
    if foreign:
        raise BankingError(f"La colonne « {foreign[0]} » n'est pas en euros : exportez le relevé en euros.")
    return cleaned


# Balance and total rows that banks put among the operations (« Solde au 28/02/2026 »,
# « Total des opérations », « Nouveau solde créditeur »), folded.
SUMMARY_ROW = re.compile(r"^(?:ancien |nouveau )?(?:solde|total|sous total|totaux|montant total)\b")


def _is_summary(row):
    return any(SUMMARY_ROW.match(" ".join(fold_words(cell))) for cell in row if cell)


# The longest texts a bank line keeps (``BankStatementLine``'s columns): longer ones are cut,
# and the statement's notes keep them whole, naming the line.
LABEL_LENGTH, REFERENCE_LENGTH, COUNTERPARTY_LENGTH = 500, 140, 200


@dataclass(frozen=True)
class StatementFile:
    """What a statement file holds: its lines, and what was left out or changed, in French
    (``notes``: « Ligne 9 : « Total des opérations » ignorée (ligne de total). »)."""
    file_format: str
    lines: list
    notes: list
    columns: list | None = None    # a CSV's header


def _cut(text, limit, what, where, notes):
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text or None
    notes.append(f"{where} : {what} de {len(text)} caractères raccourci(e) à {limit} ; "
                 f"texte complet : « {text} ».")
    return text[:limit - 1] + "…"


def _lower_first(exc):
    """A refusal's message to follow « Ligne 12 : »."""
    text = str(exc)
    return text[:1].lower() + text[1:]


def _shorten(text, limit=60):
    return text if len(text) <= limit else text[:limit - 1] + "…"


def read_csv(content, mapping):
    """A CSV statement read with the bank account's column ``mapping``: every operation row
    (a label continued on the following rows without a date joined to it), the account details
    above the header and the balance and total rows noted, never stored. Every unreadable row is
    reported at once (``StatementLinesError``): nothing is read from a file with one."""
    numbered = _numbered_rows(decode(content))
    rows = [cells for _, cells in numbered]
    index = _header_index(rows, mapping)
    if index is None:
        columns = csv_columns(content)
        raise MappingNeeded(columns, "Les colonnes de ce fichier ne correspondent pas à celles enregistrées pour "
                                     "ce compte : indiquez-les à nouveau.", guess=guess_mapping(columns))
    header = rows[index]
    try:
        validate_mapping(mapping, header)
    except BankingError:
        columns = [c for c in header if c]
        raise MappingNeeded(columns, guess=guess_mapping(columns)) from None
    position = {name: header.index(name) for name in set(mapping.values()) if name}
    money_keys = ("amount",) if mapping.get("amount") else ("debit", "credit")
    notes, problems = [], []
    if index:
        notes.append(f"Lignes 1 à {numbered[index][0] - 1} : informations du compte avant l'en-tête, "
                     "non importées." if numbered[index][0] > 2 else
                     "Ligne 1 : informations du compte avant l'en-tête, non importée.")

    def cell(row, key):
        column = mapping.get(key)
        if not column:
            return ""
        at = position[column]
        return row[at] if at < len(row) else ""

    pending = []   # [line number, date, amount, [label parts], [reference parts]]
    for number, row in numbered[index + 1:]:
        if row == header:
            continue  # the header repeated (an export of several pages)
        date_text = cell(row, "date")
        money_texts = [cell(row, key) for key in money_keys]
        label_text = cell(row, "label")
        shown = _shorten(" ".join(c for c in row if c))
        booked_on = date_problem = None
        if date_text:
            try:
                booked_on = parse_date(date_text)
            except StatementFormatError as exc:
                date_problem = _lower_first(exc)
        if booked_on is None:
            others = [c for at, c in enumerate(row) if c and at not in (position[mapping["label"]],
                                                                        position.get(mapping.get("reference")))]
            if not date_text and label_text and not others and pending and not _is_summary(row):
                pending[-1][3].append(label_text)  # the label goes on over the next row
                if cell(row, "reference"):
                    pending[-1][4].append(cell(row, "reference"))
            elif _is_summary(row) or not any(money_texts):
                why = "solde ou total" if _is_summary(row) else "sans date ni montant"
                notes.append(f"Ligne {number} : « {shown} » ignorée ({why}).")
            else:
                problems.append(f"Ligne {number} : {date_problem or f'opération sans date (« {shown} »).'}")
            continue
        try:
            if mapping.get("amount"):
                amount = parse_amount(cell(row, "amount"))
            else:
                credit, debit = parse_amount(cell(row, "credit")), parse_amount(cell(row, "debit"))
                if credit and debit:
                    raise StatementFormatError(f"un débit ({cell(row, 'debit')}) et un crédit "
                                               f"({cell(row, 'credit')}) sur la même ligne.")
                amount = None if credit is None and debit is None else abs(credit or 0) - abs(debit or 0)
        except StatementFormatError as exc:
            problems.append(f"Ligne {number} : {_lower_first(exc)}")
            continue
        if not amount:
            notes.append(f"Ligne {number} : « {shown} » ignorée (montant nul ou absent).")
            continue
        pending.append([number, booked_on, Decimal(amount), [label_text] if label_text else [],
                        [cell(row, "reference")] if cell(row, "reference") else []])
    if problems:
        raise StatementLinesError(problems)
    lines = []
    for number, booked_on, amount, labels, references in pending:
        where = f"Ligne {number}"
        label = _cut(" ".join(labels), LABEL_LENGTH, "libellé", where, notes) or "(sans libellé)"
        reference = _cut(" ".join(references), REFERENCE_LENGTH, "référence", where, notes)
        lines.append(StatementLineData(booked_on, amount, label, reference))
    if not lines:
        raise StatementFormatError("Aucune opération trouvée dans ce relevé.")
    return StatementFile("csv", lines, notes, [c for c in header if c])


def parse_csv(content, mapping):
    """Lines of a CSV statement read with the bank account's column ``mapping`` (``read_csv``)."""
    return read_csv(content, mapping).lines


def _local(element):
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def _find(element, path):
    """First descendant following ``path`` (local names separated by /), namespace-agnostic."""
    current = [element]
    for name in path.split("/"):
        current = [child for node in current for child in node if _local(child) == name]
        if not current:
            return None
    return current[0]


def _findall(element, path):
    current = [element]
    for name in path.split("/"):
        current = [child for node in current for child in node if _local(child) == name]
    return current


def _text(element, path):
    found = _find(element, path)
    return (found.text or "").strip() if found is not None and found.text else None


def _party_name(node, role):
    """Name of ``Dbtr``/``Cdtr`` in ``RltdPties`` (camt.053.001.02 and .08 layouts)."""
    return _text(node, f"RltdPties/{role}/Nm") or _text(node, f"RltdPties/{role}/Pty/Nm")


def _transaction(tx, sign):
    """One ``TxDtls`` of an entry: (signed amount or None, label, reference, counterparty)."""
    tx_sign = sign
    if _text(tx, "CdtDbtInd"):
        tx_sign = -1 if _text(tx, "CdtDbtInd") == "DBIT" else 1
    amount_text = _text(tx, "Amt") or _text(tx, "AmtDtls/TxAmt/Amt")
    remittance = " ".join(t.text.strip() for t in _findall(tx, "RmtInf/Ustrd") if t.text)
    structured = _text(tx, "RmtInf/Strd/CdtrRefInf/Ref")
    counterparty = _party_name(tx, "Dbtr" if tx_sign > 0 else "Cdtr")
    reference = _text(tx, "Refs/EndToEndId")
    if reference == "NOTPROVIDED":
        reference = None
    amount = tx_sign * parse_amount(amount_text) if amount_text else None
    label = " ".join(p for p in (remittance, structured) if p)
    return amount, label, reference or _text(tx, "Refs/AcctSvcrRef"), counterparty


def read_camt053(content):
    """A CAMT.053 statement: one line per booked entry (``Ntry``), credits and debits. An entry
    of several transactions (``TxDtls``: a batch of transfers, a direct-debit collection) stays
    ONE line, as the bank booked it, its transactions kept in ``details``."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise StatementFormatError(f"Fichier CAMT.053 illisible : {exc}.") from None
    if _local(root) != "Document" or _find(root, "BkToCstmrStmt") is None:
        raise StatementFormatError("Ce fichier XML n'est pas un relevé CAMT.053 (élément BkToCstmrStmt absent).")
    lines, notes, problems = [], [], []
    for number, entry in enumerate(_findall(root, "BkToCstmrStmt/Stmt/Ntry"), start=1):
        where = f"Écriture {number}"
        status = _text(entry, "Sts") or _text(entry, "Sts/Cd")
        if status and status.upper() not in ("BOOK",):
            notes.append(f"{where} : « {_shorten(_text(entry, 'AddtlNtryInf') or '')} » non comptabilisée par la "
                         "banque (en attente), non importée.")
            continue
        sign = -1 if (_text(entry, "CdtDbtInd") or "CRDT") == "DBIT" else 1
        try:
            booked = _text(entry, "BookgDt/Dt") or (_text(entry, "BookgDt/DtTm") or "")[:10] or _text(entry, "ValDt/Dt")
            if not booked:
                raise StatementFormatError("sans date de comptabilisation.")
            booked_on = parse_date(booked)
            amount = sign * parse_amount(_text(entry, "Amt"))
        except (StatementFormatError, TypeError) as exc:
            problems.append(f"{where} : {str(exc) or 'montant absent'}")
            continue
        entry_info = _text(entry, "AddtlNtryInf") or ""
        transactions = [_transaction(tx, sign) for tx in _findall(entry, "NtryDtls/TxDtls")]
        details = None
        if len(transactions) == 1:
            _, label, reference, counterparty = transactions[0]
            label = " ".join(p for p in (label, entry_info) if p) or counterparty
        else:
            label, reference, counterparty = entry_info, _text(entry, "AcctSvcrRef"), None
            if transactions:
                label = label or f"Opération groupée de {len(transactions)} mouvements"
                details = tuple({"amount": str(a) if a is not None else None, "label": l or None,
                                 "reference": r, "counterparty": c} for a, l, r, c in transactions)
                parts = [a for a, _, _, _ in transactions]
                if None not in parts and sum(parts) != amount:
                    notes.append(f"{where} : ses {len(transactions)} mouvements font {sum(parts)} et non {amount}.")
        lines.append(StatementLineData(
            booked_on, amount, _cut(label, LABEL_LENGTH, "libellé", where, notes) or "(sans libellé)",
            _cut(reference, REFERENCE_LENGTH, "référence", where, notes),
            _cut(counterparty, COUNTERPARTY_LENGTH, "nom du tiers", where, notes), details))
    if problems:
        raise StatementLinesError(problems)
    if not lines:
        raise StatementFormatError("Aucune opération comptabilisée dans ce relevé CAMT.053.")
    return StatementFile("camt053", lines, notes)


def parse_camt053(content):
    """Lines of a CAMT.053 statement (``read_camt053``)."""
    return read_camt053(content).lines


def fingerprints(lines):
    """One fingerprint per line: date, amount, folded label, ordinal among identical lines."""
    seen = Counter()
    result = []
    for line in lines:
        key = f"{line.booked_on.isoformat()}|{line.amount}|{' '.join(fold_words(line.label))}"
        seen[key] += 1
        result.append(hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest())
    return result


# The closing balance's row of a CSV (« Solde au 31/03/2026 », « Nouveau solde créditeur »,
# « Solde final »), folded; an opening balance (« Ancien solde », « Solde initial », « Solde
# précédent ») is not it.
CLOSING_ROW = re.compile(r"^(?:nouveau solde|solde (?:au|final|fin|de fin|crediteur|debiteur|comptable|en date|euros|eur))\b")
_AMOUNT_AT_END = re.compile(r"([+-]?\s*\d[\d \u00a0\u202f.]*,\d{2}|[+-]?\d+\.\d{2})\s*(?:€|eur)?\s*$", re.I)
_DATE_IN_TEXT = re.compile(r"\b(\d{2}/\d{2}/\d{4})\b")


def _amount_in(cell):
    """The amount a cell holds or ends with (« 14 268,07 », « Solde : 14 268,07 € »), else None."""
    found = _AMOUNT_AT_END.search(cell or "")
    if not found:
        return None
    try:
        return money.parse_amount(found.group(1).replace(" ", "").replace("\u00a0", "").replace("\u202f", ""))
    except ServiceError:
        return None


def closing_balance(content, mapping=None):
    """``(date, amount)`` of the closing balance a statement file states, or None (best effort:
    never raises). CAMT.053: the ``Bal`` of type ``CLBD``. CSV: a « Solde au jj/mm/aaaa » row,
    above the header or among the operations, whose last amount is the balance (« débiteur »
    makes it negative); the latest such row wins. ``date`` is None when the row names none."""
    try:
        if detect_format(content) == "camt053":
            return _camt_closing_balance(content)
        rows = csv_rows(decode(content))
    except (BankingError, ValueError):
        return None
    found = None
    for row in rows:
        text = " ".join(cell for cell in row if cell)
        folded = " ".join(fold_words(text))
        if not CLOSING_ROW.match(folded):
            continue
        amount = next((a for a in map(_amount_in, reversed([c for c in row if c])) if a is not None), None)
        if amount is None:
            continue
        if "debiteur" in folded.split() and amount > 0:
            amount = -amount
        dates = _DATE_IN_TEXT.findall(text)
        day = parse_date(dates[-1]) if dates else None
        if found is None or day is None or found[0] is None or day >= found[0]:
            found = (day, amount)
    return found


def _camt_closing_balance(content):
    from lxml import etree

    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    for balance in _findall(root, "BkToCstmrStmt/Stmt/Bal"):
        if (_text(balance, "Tp/CdOrPrtry/Cd") or "").upper() != "CLBD":
            continue
        amount = parse_amount(_text(balance, "Amt"))
        if amount is None:
            return None
        if (_text(balance, "CdtDbtInd") or "CRDT") == "DBIT":
            amount = -amount
        day = _text(balance, "Dt/Dt") or (_text(balance, "Dt/DtTm") or "")[:10]
        return (parse_date(day) if day else None), amount
    return None


def read_statement(content, mapping=None):
    """The ``StatementFile`` of a statement file; raises ``StatementFormatError`` (every unreadable
    row at once: ``StatementLinesError``) or ``MappingNeeded``."""
    file_format = detect_format(content)
    if file_format == "camt053":
        return read_camt053(content)
    if not mapping:
        columns = csv_columns(content)
        raise MappingNeeded(columns, guess=guess_mapping(columns))
    return read_csv(content, mapping)


def stated_account(content):
    """The compact text a statement gives to name its account (CAMT's ``Acct/Id/IBAN``; a CSV's
    lines above the header: IBAN, « Compte courant n° 10278 06031 00020206001 17 »,
    « Numéro Compte ;0123456X020 »), upper-case letters and digits only; "" when none (never raises)."""
    try:
        if detect_format(content) == "camt053":
            from lxml import etree

            root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
            return (_text(root, "BkToCstmrStmt/Stmt/Acct/Id/IBAN") or _text(root, "BkToCstmrStmt/Stmt/Acct/Id/Othr/Id")
                    or "").replace(" ", "").upper()
        rows = csv_rows(decode(content))
    except Exception:  # noqa: BLE001  (a guess: a file it cannot read names no account)
        return ""
    index = _header_index(rows) or 0
    return re.sub(r"[^A-Z0-9]", "", " ".join(" ".join(row) for row in rows[:index]).upper())


def names_account(stated, iban):
    """Whether the account text of a statement (``stated_account``) designates the account of
    ``iban``: the IBAN itself, its bank-branch-account-key part (RIB), or its 11-character
    account number."""
    compact = (iban or "").replace(" ", "").upper()
    if not stated or len(compact) < 25:
        return False
    if compact.startswith("FR") or compact.startswith("MC"):
        return compact in stated or compact[4:] in stated or compact[14:25] in stated
    return compact in stated
