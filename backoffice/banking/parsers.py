"""Reading bank statement files: CSV exports of French banks and CAMT.053 — pure functions.

* CSV: the columns are mapped once per bank account (``BankAccount.statement_csv_mapping``);
  separator ``;`` or ``,`` (detected), comma or dot decimals, dates ``dd/mm/yyyy`` (also
  ``dd/mm/yy`` and ISO), UTF-8 (with or without BOM) or Windows-1252; lines of account details
  above the header, and balance or total lines (« Solde au… », « Total des opérations ») among
  the operations, are skipped.
* CAMT.053 (ISO 20022 ``BkToCstmrStmt``, any version): a small lxml parser over ``Ntry``
  elements; entries of several transactions (``TxDtls``) give one line per transaction.
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
from backoffice.banking.errors import BankingError, MappingNeeded, StatementFormatError
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


def csv_rows(text):
    """The non-blank rows of a CSV text, cells stripped (separator detected)."""
    first_lines = [line for line in text.splitlines()[:30] if line.strip()]
    sample = "\n".join(first_lines)
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    if "\t" in sample and sample.count("\t") > sample.count(delimiter):
        delimiter = "\t"
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return [row for row in rows if any(row)]


def _header_index(rows, mapping=None):
    """Index of the header row: the first holding every mapped column, else the first row with
    the most filled cells (account details above the header, and data rows with an empty debit
    or credit, have fewer)."""
    if mapping and mapping.get("date"):
        # Every mapped column, not only the date's: La Banque Postale writes « Date ;28/02/2026 »
        # among the account details above the header.
        wanted = {column for column in mapping.values() if column}
        for index, row in enumerate(rows[:40]):
            if wanted.issubset(row):
                return index
        return None
    filled = [sum(1 for cell in row if cell) for row in rows[:40]]
    if not filled or max(filled) < 2:
        return None
    return filled.index(max(filled))


def csv_columns(content):
    """Header of a CSV statement (for the column-mapping form)."""
    rows = csv_rows(decode(content))
    index = _header_index(rows)
    if index is None or len(rows[index]) < 2:
        raise StatementFormatError("Format de relevé non reconnu : aucune ligne d'en-tête de colonnes trouvée.")
    return [c for c in rows[index] if c]


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
    missing = [v for v in cleaned.values() if v and v not in columns]
    if missing:
        raise BankingError(f"Colonne absente du fichier : {', '.join(missing)}.")
    return cleaned


# Balance and total rows that banks put among the operations (« Solde au 28/02/2026 »,
# « Total des opérations », « Nouveau solde créditeur »), folded.
SUMMARY_ROW = re.compile(r"^(?:ancien |nouveau )?(?:solde|total|sous total|totaux)\b")


def _is_summary(row, date_cell):
    """A balance or total row: its date cell is no date and one of its cells says so."""
    try:
        parse_date(date_cell)
        return False
    except StatementFormatError:
        return any(SUMMARY_ROW.match(" ".join(fold_words(cell))) for cell in row if cell)


def parse_csv(content, mapping):
    """Lines of a CSV statement read with the bank account's column ``mapping``."""
    rows = csv_rows(decode(content))
    index = _header_index(rows, mapping)
    if index is None:
        columns = csv_columns(content)
        raise MappingNeeded(columns, "Les colonnes de ce fichier ne correspondent pas à celles enregistrées pour "
                                     "votre banque : indiquez-les à nouveau.")
    header = rows[index]
    try:
        validate_mapping(mapping, header)
    except BankingError:
        raise MappingNeeded([c for c in header if c]) from None
    position = {name: header.index(name) for name in set(mapping.values()) if name}

    def cell(row, key):
        column = mapping.get(key)
        if not column:
            return ""
        at = position[column]
        return row[at] if at < len(row) else ""

    lines = []
    for number, row in enumerate(rows[index + 1:], start=index + 2):
        if not cell(row, "date") or _is_summary(row, cell(row, "date")):
            continue  # balances, totals, blank separators
        try:
            booked_on = parse_date(cell(row, "date"))
            if mapping.get("amount"):
                amount = parse_amount(cell(row, "amount"))
            else:
                credit = parse_amount(cell(row, "credit")) or Decimal("0.00")
                debit = parse_amount(cell(row, "debit")) or Decimal("0.00")
                amount = abs(credit) - abs(debit)
        except StatementFormatError as exc:
            raise StatementFormatError(f"Ligne {number} : {exc}") from None
        if amount is None:
            continue
        reference = " ".join(cell(row, "reference").split())[:140] or None
        lines.append(StatementLineData(booked_on, amount, " ".join(cell(row, "label").split())[:500], reference))
    if not lines:
        raise StatementFormatError("Aucune opération trouvée dans ce relevé.")
    return lines


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


def parse_camt053(content):
    """Lines of a CAMT.053 statement (credits and debits)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise StatementFormatError(f"Fichier CAMT.053 illisible : {exc}.") from None
    if _local(root) != "Document" or _find(root, "BkToCstmrStmt") is None:
        raise StatementFormatError("Ce fichier XML n'est pas un relevé CAMT.053 (élément BkToCstmrStmt absent).")
    lines = []
    for entry in _findall(root, "BkToCstmrStmt/Stmt/Ntry"):
        status = _text(entry, "Sts") or _text(entry, "Sts/Cd")
        if status and status.upper() not in ("BOOK",):
            continue  # pending or informational entries are not on the account yet
        sign = -1 if (_text(entry, "CdtDbtInd") or "CRDT") == "DBIT" else 1
        booked = _text(entry, "BookgDt/Dt") or (_text(entry, "BookgDt/DtTm") or "")[:10] or _text(entry, "ValDt/Dt")
        if not booked:
            raise StatementFormatError("Écriture CAMT.053 sans date de comptabilisation.")
        booked_on = parse_date(booked)
        entry_info = _text(entry, "AddtlNtryInf") or ""
        details = _findall(entry, "NtryDtls/TxDtls")
        if not details:
            amount = parse_amount(_text(entry, "Amt"))
            lines.append(StatementLineData(booked_on, sign * amount, entry_info[:500] or "(sans libellé)",
                                           _text(entry, "AcctSvcrRef")))
            continue
        for tx in details:
            tx_sign = sign
            if _text(tx, "CdtDbtInd"):
                tx_sign = -1 if _text(tx, "CdtDbtInd") == "DBIT" else 1
            amount_text = _text(tx, "Amt") or _text(tx, "AmtDtls/TxAmt/Amt")
            if amount_text is None:
                if len(details) > 1:
                    raise StatementFormatError("Écriture CAMT.053 groupée sans montant par opération.")
                amount_text = _text(entry, "Amt")
            remittance = " ".join(t.text.strip() for t in _findall(tx, "RmtInf/Ustrd") if t.text)
            structured = _text(tx, "RmtInf/Strd/CdtrRefInf/Ref")
            counterparty = _party_name(tx, "Dbtr" if tx_sign > 0 else "Cdtr")
            label = " ".join(p for p in (remittance, structured, entry_info) if p) or counterparty or "(sans libellé)"
            reference = _text(tx, "Refs/EndToEndId")
            if reference == "NOTPROVIDED":
                reference = None
            lines.append(StatementLineData(booked_on, tx_sign * parse_amount(amount_text), label[:500],
                                           (reference or _text(tx, "Refs/AcctSvcrRef") or "")[:140] or None,
                                           (counterparty or "")[:200] or None))
    if not lines:
        raise StatementFormatError("Aucune opération comptabilisée dans ce relevé CAMT.053.")
    return lines


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
    """(format, lines) of a statement file; raises ``StatementFormatError`` / ``MappingNeeded``."""
    file_format = detect_format(content)
    if file_format == "camt053":
        return file_format, parse_camt053(content)
    if not mapping:
        raise MappingNeeded(csv_columns(content))
    return file_format, parse_csv(content, mapping)


