"""Bank statements: read CSV exports of French banks and CAMT.053 files, store each line once,
suggest the membership each credit pays, record the payments the treasurer confirms.

* CSV: the treasurer picks the columns once per organisation (``MembershipSettings.
  statement_csv_mapping``); separator ``;`` or ``,`` (detected), comma or dot decimals, dates
  ``dd/mm/yyyy`` (also ``dd/mm/yy`` and ISO), UTF-8 (with or without BOM) or Windows-1252,
  lines of account details above the header tolerated.
* CAMT.053 (ISO 20022 ``BkToCstmrStmt``, any version): a small lxml parser over ``Ntry``
  elements; entries of several transactions (``TxDtls``) give one line per transaction.
* Each line gets a fingerprint (date, amount, label, and its ordinal among identical lines of
  the same file), unique per organisation: importing the same statement again — or an
  overlapping one — stores nothing twice.
"""
import csv
import hashlib
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import format_date
from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from backoffice.extensions import db
from backoffice.membership import matching, services
from backoffice.membership.models import (OPEN_STATUSES, BankStatementImport, BankStatementLine, Membership,
                                          MembershipSettings, MembershipStatus, PaymentMethod, StatementLineStatus)
from backoffice.membership.services import MembershipError
from backoffice.people.models import Professional

L = StatementLineStatus
MAPPING_FIELDS = ("date", "label", "amount", "debit", "credit", "reference")


class StatementFormatError(MembershipError):
    """The file is not a statement we can read; nothing was recorded."""


class MappingNeeded(MembershipError):
    """A CSV file whose columns are not (or no longer) mapped; ``columns`` are its header."""

    def __init__(self, columns, message=None):
        super().__init__(message or "Indiquez une fois pour toutes quelles colonnes de l'export de votre banque "
                                    "contiennent la date, le libellé et le montant.")
        self.columns = columns


class AlreadyImported(MembershipError):
    """Every line of the file is already stored (the same statement, or one covered by earlier
    imports): no import is recorded. ``imported_at`` is when the latest of those lines came in."""

    def __init__(self, line_count, imported_at):
        super().__init__(f"Relevé déjà importé le {format_date(imported_at, 'dd/MM/yyyy')} : ses {line_count} "
                         "opérations sont toutes connues, rien n'a été enregistré.")
        self.line_count, self.imported_at = line_count, imported_at


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


def _rows(text):
    first_lines = [line for line in text.splitlines()[:30] if line.strip()]
    sample = "\n".join(first_lines)
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    if "\t" in sample and sample.count("\t") > sample.count(delimiter):
        delimiter = "\t"
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return [row for row in rows if any(row)]


def _header_index(rows, mapping=None):
    """Index of the header row: the one holding the mapped date column, else the first row with
    the most filled cells (account details above the header, and data rows with an empty debit
    or credit, have fewer)."""
    if mapping and mapping.get("date"):
        for index, row in enumerate(rows[:40]):
            if mapping["date"] in row:
                return index
        return None
    filled = [sum(1 for cell in row if cell) for row in rows[:40]]
    if not filled or max(filled) < 2:
        return None
    return filled.index(max(filled))


def csv_columns(content):
    """Header of a CSV statement (for the column-mapping form)."""
    rows = _rows(decode(content))
    index = _header_index(rows)
    if index is None or len(rows[index]) < 2:
        raise StatementFormatError("Format de relevé non reconnu : aucune ligne d'en-tête de colonnes trouvée.")
    return [c for c in rows[index] if c]


def parse_amount(text):
    """``1 234,56``, ``-30,00``, ``+30.00``, ``30,00 €`` → Decimal; None when empty."""
    raw = (text or "").replace("\xa0", "").replace("\u202f", "").replace(" ", "").replace("€", "").replace("EUR", "")
    if not raw:
        return None
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise StatementFormatError(f"Montant illisible dans le relevé : « {text} ».") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise StatementFormatError(f"Montant illisible dans le relevé : « {text} ».")
    return value.quantize(Decimal("0.01"))


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
        raise MembershipError("Choisissez la colonne de la date et celle du libellé.")
    if not cleaned["amount"] and not (cleaned["debit"] or cleaned["credit"]):
        raise MembershipError("Choisissez la colonne du montant, ou celles du débit et du crédit.")
    if cleaned["amount"] and (cleaned["debit"] or cleaned["credit"]):
        raise MembershipError("Choisissez soit une colonne de montant, soit des colonnes débit et crédit, pas les deux.")
    missing = [v for v in cleaned.values() if v and v not in columns]
    if missing:
        raise MembershipError(f"Colonne absente du fichier : {', '.join(missing)}.")
    return cleaned


def parse_csv(content, mapping):
    """Lines of a CSV statement read with the organisation's column ``mapping``."""
    rows = _rows(decode(content))
    index = _header_index(rows, mapping)
    if index is None:
        columns = csv_columns(content)
        raise MappingNeeded(columns, "Les colonnes de ce fichier ne correspondent pas à celles enregistrées pour "
                                     "votre banque : indiquez-les à nouveau.")
    header = rows[index]
    try:
        validate_mapping(mapping, header)
    except MembershipError:
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
        if not cell(row, "date"):
            continue  # totals, blank separators
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
        lines.append(StatementLineData(booked_on, amount, " ".join(cell(row, "label").split())[:500],
                                       (cell(row, "reference") or None) and cell(row, "reference")[:140]))
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
        key = f"{line.booked_on.isoformat()}|{line.amount}|{' '.join(matching.fold(line.label))}"
        seen[key] += 1
        result.append(hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest())
    return result


def read_statement(content, mapping=None):
    """(format, lines) of a statement file; raises ``StatementFormatError`` / ``MappingNeeded``."""
    file_format = detect_format(content)
    if file_format == "camt053":
        return file_format, parse_camt053(content)
    if not mapping:
        raise MappingNeeded(csv_columns(content))
    return file_format, parse_csv(content, mapping)


# --------------------------------------------------------------------------------------------
# Import and matching
# --------------------------------------------------------------------------------------------

def save_csv_mapping(organisation, mapping, columns):
    settings = services.get_settings(organisation)
    settings.statement_csv_mapping = validate_mapping(mapping, columns)
    db.session.flush()
    return settings


def import_statement(organisation, filename, content, user=None):
    """Store the new lines of a statement and suggest a membership for each credit.

    Returns the ``BankStatementImport`` (at least one new line). Raises ``StatementFormatError``
    (nothing stored), ``MappingNeeded`` (CSV columns unknown) or ``AlreadyImported`` (every line
    already stored: nothing recorded, not even an import).
    """
    settings = services.get_settings(organisation)
    file_format, lines = read_statement(content, settings.statement_csv_mapping)
    prints = fingerprints(lines)
    imported_at = dict(db.session.execute(
        select(BankStatementLine.fingerprint, BankStatementImport.created_at)
        .join(BankStatementLine.statement_import)
        .where(BankStatementLine.organisation_id == organisation.id, BankStatementLine.fingerprint.in_(prints))).all())
    known = set(imported_at)
    if known.issuperset(prints):
        raise AlreadyImported(len(lines), max(imported_at.values()))
    statement = BankStatementImport(organisation_id=organisation.id, filename=(filename or "relevé")[:200],
                                    file_format=file_format, line_count=len(lines),
                                    created_by_id=getattr(user, "id", None))
    db.session.add(statement)
    db.session.flush()
    new_lines = []
    for line, fingerprint in zip(lines, prints):
        if fingerprint in known:
            continue
        known.add(fingerprint)
        new_lines.append(BankStatementLine(
            organisation_id=organisation.id, import_id=statement.id, booked_on=line.booked_on, amount=line.amount,
            label=line.label, reference=line.reference, counterparty=line.counterparty, fingerprint=fingerprint,
            status=L.UNMATCHED if line.amount > 0 else L.IGNORED))
    db.session.add_all(new_lines)
    statement.new_line_count = len(new_lines)
    db.session.flush()
    suggest_matches(organisation, [l for l in new_lines if l.status is L.UNMATCHED])
    return statement


def _candidate(membership):
    party = membership.party
    if isinstance(party, Professional):
        last, first = party.last_name or "", party.first_name or ""
    else:
        last, first = party.display_name, ""
    return matching.Candidate(membership.id, membership.payment_reference, last, first, membership.amount_due,
                              membership.balance, membership.status in OPEN_STATUSES)


# Any payment reference as ``services.new_payment_reference`` builds them (a prefix of letters, at
# most as long as the setting's column, two digits of the year, a code), compacted. Not only the
# current prefix: references issued before the treasurer changed it are still being paid. The
# lookahead finds every start, so "VIRSEPAADH267KQ4M" gives "PAADH267KQ4M", "AADH267KQ4M",
# "ADH267KQ4M"… down to "H267KQ4M": only those that are some membership's reference count.
ANY_REFERENCE = re.compile(
    rf"(?=([A-Z]{{1,{MembershipSettings.__table__.c.reference_prefix.type.length}}}\d{{2}}"
    rf"[{services.REFERENCE_ALPHABET}]{{{services.REFERENCE_LENGTH}}}))")


def suggest_matches(organisation, lines):
    """Fill ``membership_id``/``match_rule``/``status`` of unmatched credit ``lines``.

    At most two queries whatever the number of lines: the memberships whose reference appears in
    some line (whatever prefix it was issued under), and the open memberships (name and amount).
    """
    if not lines:
        return
    found_refs = set()
    for line in lines:
        found_refs |= matching.references_in(_text_of(line), ANY_REFERENCE)
    by_reference = {}
    if found_refs:
        wanted = [r[:-services.REFERENCE_LENGTH] + "-" + r[-services.REFERENCE_LENGTH:] for r in found_refs]
        for membership in db.session.scalars(select(Membership).options(joinedload(Membership.party)).where(
                Membership.organisation_id == organisation.id, Membership.payment_reference.in_(wanted),
                Membership.status.not_in([MembershipStatus.CANCELLED, MembershipStatus.EXEMPT]))):
            by_reference[matching.compact(membership.payment_reference)] = _candidate(membership)
    amounts = {line.amount for line in lines}
    by_amount = defaultdict(list)
    for membership in db.session.scalars(select(Membership).options(joinedload(Membership.party)).where(
            Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES))):
        candidate = _candidate(membership)
        for amount in {candidate.balance, candidate.amount_due} & amounts:
            by_amount[amount].append(candidate)
    for line in lines:
        result = matching.match_line(_text_of(line), line.amount, by_reference, by_amount.get(line.amount, []),
                                     ANY_REFERENCE)
        line.membership_id, line.match_rule = result.membership_id, result.rule
        line.status = L.SUGGESTED if result.found else L.UNMATCHED
    db.session.flush()


def _text_of(line):
    return " ".join(p for p in (line.label, line.reference, line.counterparty) if p)


def lines_to_review(organisation):
    """Credits waiting for the treasurer: suggestions first, then unmatched, oldest first."""
    return list(db.session.scalars(
        select(BankStatementLine).where(BankStatementLine.organisation_id == organisation.id,
                                        BankStatementLine.status.in_([L.SUGGESTED, L.UNMATCHED]))
        .options(joinedload(BankStatementLine.membership).joinedload(Membership.party),
                 joinedload(BankStatementLine.membership).joinedload(Membership.period))
        .order_by(case((BankStatementLine.status == L.SUGGESTED, 0), (BankStatementLine.status == L.UNMATCHED, 1),
                       else_=2),
                  BankStatementLine.booked_on, BankStatementLine.id)))


@dataclass(frozen=True)
class OpenMembershipChoice:
    id: int
    reference: str
    name: str
    balance: Decimal


def open_membership_choices(organisation, limit=2000):
    """Memberships still expecting money, for the review screen's pickers: the member's name
    as written everywhere else (« François BRIÈRE »), sorted by the folded name."""
    from backoffice.membership.stats import party_entity

    party = party_entity()
    rows = db.session.execute(
        select(Membership.id, Membership.payment_reference, Membership.amount_due, Membership.amount_paid, party)
        .join(party, Membership.party_id == party.id)
        .where(Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES))
        .order_by(party.sort_name, Membership.id).limit(limit))
    return [OpenMembershipChoice(row.id, row.payment_reference, row[4].display_name, row.amount_due - row.amount_paid)
            for row in rows]


def typed_reference(text):
    """The payment reference in what the treasurer typed in a line's « Adhésion » field, compacted
    (``ADH267KQ4M``), or ``""``: the reference itself in any case, spaces around it or in place of
    its hyphen tolerated, or the whole text of a suggestion, « Anne LE FLOCH — ADH26-7KQ4M (reste
    50,00 €) » (the reference is what follows the last dash, before the parenthesis)."""
    text = (text or "").strip()
    if "—" in text:
        text = text.rsplit("—", 1)[1].split("(", 1)[0]
    return matching.compact(text)


def _line_name(line):
    return f"l'opération du {line.booked_on:%d/%m/%Y} « {line.label} »"


def resolve_typed_memberships(organisation, typed):
    """{line id: membership id} for what the treasurer typed in each confirmed line's field.

    ``typed``: {line id: text}. Each text must name a membership of ``organisation`` by its
    payment reference (see ``typed_reference``); names alone are not guessed. Lines no longer
    waiting for review keep their membership (``confirm_lines`` skips them: a double submission
    stays harmless). Raises ``MembershipError`` naming every line (date, label) whose text names
    no membership of the organisation, so the caller records nothing of the submission.
    Two queries whatever the number of lines.
    """
    typed = {int(line_id): text or "" for line_id, text in typed.items()}
    if not typed:
        return {}
    lines = list(db.session.scalars(select(BankStatementLine).where(
        BankStatementLine.organisation_id == organisation.id, BankStatementLine.id.in_(typed))
        .order_by(BankStatementLine.booked_on, BankStatementLine.id)))
    if len(lines) != len(typed):
        raise MembershipError("Ligne de relevé introuvable.")
    wanted = {line_id: typed_reference(text) for line_id, text in typed.items()}
    stored = {r[:-services.REFERENCE_LENGTH] + "-" + r[-services.REFERENCE_LENGTH:]
              for r in wanted.values() if len(r) > services.REFERENCE_LENGTH}
    by_reference = {}
    if stored:
        by_reference = {matching.compact(m.payment_reference): m.id for m in db.session.scalars(
            select(Membership).where(Membership.organisation_id == organisation.id,
                                     Membership.payment_reference.in_(stored)))}
    resolved, refused = {}, []
    for line in lines:
        if line.status not in (L.SUGGESTED, L.UNMATCHED):
            resolved[line.id] = line.membership_id
        elif wanted[line.id] in by_reference:
            resolved[line.id] = by_reference[wanted[line.id]]
        elif not wanted[line.id]:
            refused.append(f"choisissez l'adhésion que paie {_line_name(line)}")
        else:
            shown = " ".join(typed[line.id].split())
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            refused.append(f"aucune adhésion n'a la référence « {shown} » ({_line_name(line)})")
    if refused:
        raise MembershipError("Rien n'a été enregistré : " + " ; ".join(refused)
                              + ". Choisissez l'adhésion dans la liste en tapant le nom ou la référence du membre.")
    return resolved


def confirm_lines(organisation, choices, user=None):
    """Record a transfer payment for each (line, membership) the treasurer confirmed.

    ``choices``: {line id: membership id}. Lines already matched are skipped (a double
    submission records nothing twice: each payment's idempotency key is the line's id).
    Returns the payments recorded.
    """
    payments = []
    for line_id, membership_id in choices.items():
        line = db.session.get(BankStatementLine, int(line_id))
        if line is None or line.organisation_id != organisation.id:
            raise MembershipError("Ligne de relevé introuvable.")
        if line.status not in (L.SUGGESTED, L.UNMATCHED):
            continue
        membership = db.session.get(Membership, int(membership_id)) if membership_id else None
        if membership is None or membership.organisation_id != organisation.id:
            raise MembershipError(f"Choisissez l'adhésion que paie l'opération du {line.booked_on:%d/%m/%Y}.")
        try:
            payment = services.record_payment(
                membership, line.amount, PaymentMethod.TRANSFER, line.booked_on, reference=line.reference or None,
                payer_name=line.counterparty, note=line.label[:250], source="statement",
                idempotency_key=f"statement-line:{line.id}", user=user)
        except services.DuplicateSubmission:
            continue
        line.status, line.membership_id, line.payment_id = L.MATCHED, membership.id, payment.id
        payments.append(payment)
    db.session.flush()
    return payments


def ignore_line(line):
    """The treasurer says a credit is not a membership fee (a grant, a refund from a supplier…)."""
    if line.status is L.MATCHED:
        raise MembershipError("Cette opération est déjà rapprochée.")
    line.status, line.membership_id, line.match_rule = L.IGNORED, None, None
    db.session.flush()
    return line
