"""Reading and checking a spreadsheet of professionals (the treasurer's first step).

Pure functions, no HTTP and no database: ``read_table`` turns the bytes of a
CSV (``;``, ``,`` or tab; UTF-8 with or without BOM, or Windows-1252) or XLSX
file into rows; ``check_rows`` validates each row on its own and against the
other rows of the file; ``plan_import`` compares the valid rows with the
existing directory (snapshots handed in by the caller) and says, row by row,
what would be created, updated or left unchanged. The service applies a plan
only when no row has an error.

Cells are taken as text and stored as text: a cell starting with ``=`` is a
name like any other here (exports neutralise formulas when they write files).
"""
import csv
import difflib
import functools
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from backoffice.errors import ServiceError
from backoffice.money import parse_amount
from backoffice.people.professions import PROFESSIONS, PROFESSIONS_BY_CODE, read_profession
from backoffice.spreadsheets import write_csv
from backoffice.validation import (
    ValidationError,
    clean_adeli,
    clean_email,
    clean_phone,
    clean_postcode,
    clean_rpps,
)

# Far above the largest CPTS (about 700 members) and a 5 000-person workbook with its sub-headings
# and totals; a guard against a wrong file, not a limit of the import.
MAX_ROWS = 10_000

# The fields of the directory an import may fill, in the template's order, with their French header.
FIELDS = [
    ("civility", "Civilité"),
    ("last_name", "Nom"),
    ("first_name", "Prénom"),
    ("profession", "Profession"),
    ("rpps", "RPPS"),
    ("adeli", "ADELI"),
    ("email", "E-mail"),
    ("phone", "Téléphone"),
    ("address", "Adresse"),
    ("postcode", "Code postal"),
    ("commune", "Commune"),
    ("site", "Lieu d'exercice"),
]
FIELD_LABELS = dict(FIELDS)
# The membership of the period chosen at the import, and its payment (people/memberships.py).
MEMBERSHIP_FIELDS = [
    ("member_number", "N° d'adhérent"),
    ("amount", "Cotisation (montant)"),
    ("paid_on", "Date du paiement"),
    ("method", "Mode de paiement"),
    ("payment_reference", "N° de chèque ou référence"),
]
# What a column may be mapped to in the preview.
IMPORTABLE_FIELDS = {**FIELD_LABELS, **dict(MEMBERSHIP_FIELDS)}
# What ends up on the Professional (the site column becomes site_id).
STORED_FIELDS = ("civility", "last_name", "first_name", "profession", "rpps", "adeli", "email", "phone",
                 "address", "postcode", "commune", "site_id")


def fold(text):
    """Lower-case, accent-free, punctuation-light text for comparing headers and names."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode().lower()
    for char in "-_.'’°/()":
        text = text.replace(char, " ")
    return " ".join(text.split())


_HEADER_ALIASES = {
    "civility": ["civilite", "civ", "titre", "genre"],
    "last_name": ["nom", "nom de famille", "nom d usage", "last name", "nom naissance", "nom de naissance",
                  "nom adherent", "nom du professionnel", "nom patronymique"],
    "first_name": ["prenom", "prenoms", "first name", "prenom adherent"],
    "profession": ["profession", "metier", "specialite", "profession specialite", "categorie professionnelle",
                   "profession de sante", "fonction", "qualification", "discipline"],
    "rpps": ["rpps", "n rpps", "no rpps", "numero rpps", "num rpps", "identifiant rpps"],
    "adeli": ["adeli", "n adeli", "no adeli", "numero adeli", "num adeli"],
    "email": ["e mail", "email", "courriel", "mail", "adresse e mail", "adresse mail", "adresse electronique"],
    "phone": ["telephone", "tel", "portable", "mobile", "telephone portable", "n telephone", "n de telephone",
              "tel portable", "tel fixe", "telephone fixe", "gsm"],
    "address": ["adresse", "adresse postale", "adresse professionnelle", "rue"],
    "postcode": ["code postal", "cp", "code post"],
    "commune": ["commune", "ville", "localite", "commune d exercice", "ville d exercice", "commune du cabinet"],
    "site": ["lieu d exercice", "site", "msp", "cabinet", "lieu", "structure d exercice"],
    "member_number": ["n adherent", "n d adherent", "no adherent", "numero adherent", "numero d adherent",
                      "num adherent", "n membre", "numero de membre", "matricule", "id adherent", "code adherent"],
    "amount": ["cotisation", "montant", "montant cotisation", "montant de la cotisation", "montant verse",
               "montant regle", "montant paye", "somme versee", "somme", "tarif", "cotisation due", "a payer"],
    "paid_on": ["date de reglement", "date reglement", "date de paiement", "date paiement", "date du paiement",
                "date du reglement", "paye le", "regle le", "date d encaissement", "date encaissement",
                "date versement", "date de versement", "date"],
    "method": ["mode de reglement", "mode de paiement", "moyen de paiement", "moyen de reglement", "reglement",
               "type de paiement", "paiement", "mode", "regle par", "paye par"],
    "payment_reference": ["n cheque", "n de cheque", "numero de cheque", "numero cheque", "no cheque",
                          "reference", "ref paiement", "reference paiement", "reference du paiement"],
}
HEADERS = {alias: key for key, aliases in _HEADER_ALIASES.items() for alias in aliases}

_CIVILITIES = {
    "m": "M.", "mr": "M.", "monsieur": "M.", "dr m": "M.",
    "mme": "Mme", "madame": "Mme", "mlle": "Mme", "mademoiselle": "Mme", "me": "Mme",
}


class ImportFileError(ServiceError, ValueError):
    """The file as a whole cannot be read; the message is French."""


@dataclass
class Table:
    headers: list
    rows: list  # (line number in the file, list of cell texts)
    format: str
    header_line: int = 1
    notes: list = field(default_factory=list)  # (line, French sentence) of the rows left out
    corrected: dict = field(default_factory=dict)  # (line, column index) -> (text in the file, text corrected)


@dataclass
class ImportRow:
    line: int
    raw: dict
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # imported all the same
    status: str = "error"  # create | update | unchanged | error | merged (into ``merged_into``)
    merged_into: int | None = None  # the line of the same person earlier in the file
    profession_choices: tuple = ()  # an ambiguous profession: what the treasurer chooses from
    membership: "MembershipCells | None" = None  # the membership columns of the row, read
    membership_action: str = ""  # what the import does to its membership (people/memberships.py)
    existing_id: int | None = None
    existing_name: str = ""
    changes: dict = field(default_factory=dict)  # field -> (old, new)
    # Cells the treasurer can correct in the preview: {field: column index} of the cells refused
    # (an invalid e-mail or RPPS) or missing (no name); and the corrections already made to the
    # row: [(column header, text in the file, text corrected)].
    refused: dict = field(default_factory=dict)
    corrections: list = field(default_factory=list)

    @property
    def name(self):
        return " ".join(p for p in (self.raw.get("first_name"), (self.raw.get("last_name") or "").upper()) if p)


@dataclass
class ImportPlan:
    rows: list
    columns: dict  # field -> header as written in the file
    ignored_headers: list
    format: str
    notes: list = field(default_factory=list)  # (line, sentence): title, sub-heading, total rows left out
    headers: list = field(default_factory=list)  # the header row as written
    mapping: dict = field(default_factory=dict)  # column index -> field key (None: not imported)
    header_line: int = 1
    membership_counts: dict = field(default_factory=dict)  # create | payment | change | unchanged | absent
    # The people of an earlier import of the period that no row designates (people/memberships.py,
    # ``Absent``): the first ones by name; ``membership_counts["absent"]`` counts them all.
    absent_members: list = field(default_factory=list)
    membership_done: dict = field(default_factory=dict)  # created | payments, once applied

    @property
    def has_memberships(self):
        return any(row.membership is not None for row in self.rows)

    @property
    def has_errors(self):
        return any(row.errors for row in self.rows)

    def count(self, status):
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self):
        return {status: self.count(status) for status in ("create", "update", "unchanged", "error")}

    @property
    def warning_count(self):
        return sum(1 for row in self.rows if row.warnings)

    @property
    def layout(self):
        return layout_of(self.headers)


# ---------------------------------------------------------------- reading

def decode_text(data):
    """UTF-8 (with or without BOM), else Windows-1252 — what French spreadsheets produce."""
    if b"\x00" in data[:4096]:
        raise ImportFileError("Le fichier est illisible : ce n'est ni un fichier CSV ni un classeur XLSX.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError("Le fichier est illisible : encodage inconnu (enregistrez-le en CSV UTF-8).") from None


def sniff_delimiter(text):
    """The separator of a CSV: the one a line of its start (title rows may come first, the header
    has the most columns) uses most (``;`` wins ties, as in France)."""
    lines = [line for line in text.splitlines()[:HEADER_SEARCH_ROWS] if line.strip()] or [""]
    counts = {delimiter: max(line.count(delimiter) for line in lines) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def read_csv(data):
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        return list(enumerate(reader, start=1))
    except csv.Error as exc:
        raise ImportFileError(f"Le fichier CSV est mal formé ({exc}).") from None


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_xlsx(data):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"Le classeur XLSX est illisible ({type(exc).__name__}).") from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, [_cell_text(v) for v in values]))
            if len(rows) > MAX_ROWS + 50:
                break
        return rows
    finally:
        workbook.close()


HEADER_SEARCH_ROWS = 30


def read_rows(data, error=None):
    """The non-blank rows ``[(line, cells)]`` of a CSV or XLSX upload (recognised by content,
    cells as text without NBSP), its format and the numbers of its blank lines; refuses an
    empty or unreadable file with ``error`` (an ``ImportFileError`` by default), in French.
    Every spreadsheet import reads its file through it (people, SISA meetings)."""
    error = error or ImportFileError
    if not data:
        raise error("Le fichier est vide.")
    if data.startswith(b"PK\x03\x04"):
        rows, kind = read_xlsx(data), "xlsx"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise error("Les classeurs Excel 97-2003 (.xls) ne sont pas pris en charge : "
                    "enregistrez le fichier au format .xlsx ou CSV.")
    elif data.startswith(b"%PDF") or data[:1] in (b"\x89", b"\xff"):
        raise error("Format de fichier inconnu : envoyez un fichier CSV ou XLSX.")
    else:
        rows, kind = read_csv(data), "csv"
    rows = [(number, [str(c).replace("\xa0", " ").strip() for c in cells]) for number, cells in rows]
    blank = [number for number, cells in rows if not any(cells)]
    rows = [(number, cells) for number, cells in rows if any(cells)]
    if not rows:
        raise error("Le fichier ne contient aucune ligne.")
    return rows, kind, blank


def _read_rows_once(data):
    """``read_rows(data)``, the cells of the last few files remembered by their content
    (``_read_rows_remembered``): the commit of an import re-reads the file its preview has just
    read (an XLSX of thousands of rows takes a while to unzip and parse), while the checks of its
    rows and the comparison with the directory are made again — only what the bytes alone say is
    reused. Each call gets lists of its own."""
    rows, kind, blank = _read_rows_remembered(bytes(data or b""))
    return [(number, list(cells)) for number, cells in rows], kind, list(blank)


@functools.lru_cache(maxsize=4)  # an unreadable file raises, and is not remembered
def _read_rows_remembered(data):
    rows, kind, blank = read_rows(data)
    return tuple((number, tuple(cells)) for number, cells in rows), kind, tuple(blank)


def read_table(data, filename="", overrides=None, corrections=None):
    """The header and the rows below it of a CSV or XLSX file, recognised by content.

    The header is the first row (among the first 30) naming the « Nom » column and another
    known one: title rows and blank rows above it are left out, with a note.
    ``corrections`` ({line: {column index: text}}, ``apply_corrections``): the cells the
    treasurer corrected in the preview, read in place of the file's (the file stays as sent).
    """
    rows, kind, blank = _read_rows_once(data)
    position = find_header(rows, overrides)
    (header_line, headers), body = rows[position], rows[position + 1:]
    body, corrected = apply_corrections(body, corrections)
    notes = [(number, f"« {_shorten(' '.join(c for c in cells if c))} » : titre au-dessus des en-têtes, ignoré.")
             for number, cells in rows[:position]]
    last = body[-1][0] if body else header_line
    notes += [(number, "ligne vide, ignorée.") for number in blank if header_line < number < last]
    notes.sort()
    if len(body) > MAX_ROWS:
        raise ImportFileError(f"Le fichier compte plus de {MAX_ROWS:,} lignes : découpez-le.".replace(",", "\u202f"))
    return Table(headers=headers, rows=body, format=kind, header_line=header_line, notes=notes, corrected=corrected)


def apply_corrections(body, corrections):
    """``(rows, {(line, column): (file text, corrected text)})``: ``body`` (``(line, cells)``)
    with the corrected cells in place of the file's, for the lines of data it has (a correction
    of a line that is not data any more — the header moved — is left out)."""
    if not corrections:
        return body, {}
    wanted = {int(line): {int(column): text for column, text in cells.items()} for line, cells in corrections.items()}
    rows, corrected = [], {}
    for line, cells in body:
        fixes = wanted.get(line)
        if fixes:
            cells = list(cells)
            for column, text in sorted(fixes.items()):
                cells.extend([""] * (column + 1 - len(cells)))
                if cells[column] != text:
                    corrected[(line, column)] = (cells[column], text)
                cells[column] = text
        rows.append((line, cells))
    return rows, corrected


def _shorten(text, limit=60):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_header(rows, overrides=None):
    """The position in ``rows`` of the header row: it names « Nom » and at least one other field."""
    for position, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns, _ = map_columns(cells, (overrides or {}).get(layout_of(cells)))
        if "last_name" in columns and len(columns) >= 2:
            return position
    raise ImportFileError("Aucune ligne d'en-têtes reconnue dans les 30 premières lignes : il faut une ligne "
                          "qui nomme la colonne « Nom » et au moins une autre (« Prénom », « RPPS », « E-mail »…). "
                          "Téléchargez le modèle pour voir les en-têtes attendus.")


def layout_of(headers):
    """A file layout's signature: its folded headers, in order (the same sheet saved again has the same)."""
    return "|".join(fold(header) for header in headers).rstrip("|")[:500]


def header_field(header):
    """The field a header names (« Cotisation 2026 », « Montant (€) » included), or None."""
    folded = fold(header)
    return HEADERS.get(folded) or HEADERS.get(re.sub(r"\b(19|20)\d\d\b", "", folded).strip()) or None


def map_columns(headers, overrides=None):
    """Which column holds which field: ``({field: index}, [ignored headers])``.

    ``overrides`` (``{index: field or None}``, the treasurer's choices for this layout) win
    over the recognised names; a field mapped twice raises ``ImportFileError``.
    """
    overrides = {int(k): v for k, v in (overrides or {}).items()}
    columns, ignored = {}, []
    for index, header in enumerate(headers):
        key = overrides[index] if index in overrides else header_field(header)
        if key and key in columns and index in overrides:
            raise ImportFileError(f"La colonne « {FIELD_LABELS.get(key, key)} » est choisie pour deux colonnes "
                                  f"(« {headers[columns[key]]} » et « {header} ») : n'en gardez qu'une.")
        if key and key not in columns:
            columns[key] = index
        elif header:
            ignored.append(header)
    return columns, ignored


# ---------------------------------------------------------------- membership columns

@dataclass
class MembershipCells:
    """What a row says of its membership of the period: a payment exists only with a date; a
    method without a date is announced, not paid; an amount without a date is what is due."""

    member_number: str | None = None
    amount: Decimal | None = None
    exempt: bool = False
    paid_on: date | None = None
    method: str | None = None  # a PaymentMethod value
    method_text: str = ""
    reference: str | None = None

    @property
    def paid(self):
        return self.paid_on is not None and not self.exempt

    @property
    def announced(self):
        return self.method is not None and self.paid_on is None and not self.exempt

    def payment_key(self, *scope):
        """The idempotency key of the payment this row records (the same row imported again
        records nothing): the scope (organisation, period, person) and what the row says."""
        text = "|".join(str(part) for part in (*scope, self.paid_on, self.amount, self.method, self.reference or ""))
        return "import:" + hashlib.sha256(text.encode()).hexdigest()[:48]

    def describe(self):
        """A French sentence for the preview."""
        from backoffice.formatting import format_money

        if self.exempt:
            return "exonérée"
        amount = format_money(self.amount) if self.amount is not None else "le montant de la grille"
        if self.paid:
            return f"payée {amount} le {self.paid_on:%d/%m/%Y} ({_METHOD_LABELS[self.method]})"
        if self.announced:
            return f"{amount} dû, {_METHOD_LABELS[self.method].lower()} annoncé (pas encore payé)"
        return f"{amount} dû, non payée"


_EXEMPT_WORDS = {"exonere", "exoneree", "exo", "exonerer", "gratuit", "gratuite", "offert", "offerte", "exempte",
                 "exemptee", "membre d honneur"}
_METHODS = {
    "cheque": ("cheque", "cheques", "chq", "ch", "chque", "cheque bancaire"),
    "cash": ("especes", "espece", "liquide", "cash", "esp", "numeraire"),
    "transfer": ("virement", "vir", "vrt", "virement bancaire", "vir bancaire", "virt"),
    "card": ("carte", "cb", "carte bancaire", "carte bleue", "en ligne", "paiement en ligne",
             "internet", "paypal", "sumup", "tpe"),
    "helloasso": ("helloasso", "hello asso", "hello-asso", "ha"),
    "direct_debit": ("prelevement", "prelevement sepa", "sepa", "prlv", "prel"),
}
METHOD_WORDS = {word: method for method, words in _METHODS.items() for word in words}
_METHOD_LABELS = {"cheque": "chèque", "cash": "espèces", "transfer": "virement", "card": "carte / en ligne",
                  "direct_debit": "prélèvement", "helloasso": "HelloAsso"}
_MONTHS = {"janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
           "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12}


def read_sheet_date(text):
    """A date as French spreadsheets hold it, or None: ISO (a real date cell), ``dd/mm/yyyy``,
    ``d/m/yy`` (also with ``-`` or ``.``), ``4 mars 2025`` (« mardi 4 mars 2025 »), or an Excel
    day number written as text."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?", text)
    if match:
        year, month, day = map(int, match.groups())
        return _date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text)
    if match:
        day, month, year = map(int, match.groups())
        return _date(year + 2000 if year < 100 else year, month, day)
    if re.fullmatch(r"\d{5}(?:[.,]0+)?", text):  # an Excel serial number written as text
        serial = int(re.split(r"[.,]", text)[0])
        return date(1899, 12, 30) + timedelta(days=serial) if 20000 < serial < 80000 else None
    words = fold(text).split()
    match = re.fullmatch(r"(?:\w+ )?(\d{1,2})(?:er)? (\w+) (\d{4})", " ".join(words))
    if match and match.group(2) in _MONTHS:
        return _date(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)))
    return None


def _date(year, month, day):
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_payment_date(text):
    """A payment date as a sheet holds it (:func:`read_sheet_date`); refused in French."""
    paid_on = read_sheet_date(text)
    if paid_on is None:
        looks_like_a_date = re.fullmatch(r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}", text.strip())
        raise ValidationError(f"Date de paiement impossible « {text.strip()} »." if looks_like_a_date
                              else f"Date de paiement illisible « {text.strip()} » (jj/mm/aaaa).")
    return paid_on


def read_membership_cells(raw):
    """The row's membership columns read, or ``ValidationError`` (French) for an unreadable one."""
    cells = MembershipCells(member_number=(raw.get("member_number") or "").strip()[:30] or None)
    amount = (raw.get("amount") or "").strip()
    if amount:
        if fold(amount) in _EXEMPT_WORDS:
            cells.exempt = True
        else:
            try:
                cells.amount = parse_amount(amount, what="La cotisation")
            except ServiceError as exc:
                raise ValidationError(str(exc)) from None
            if cells.amount < 0:
                raise ValidationError(f"Cotisation négative « {amount} ».")
    method = (raw.get("method") or "").strip()
    if method:
        cells.method_text = method
        folded = fold(method)
        cells.method = METHOD_WORDS.get(folded) or next(
            (METHOD_WORDS[word] for word in folded.split() if word in METHOD_WORDS), None)
        if cells.method is None:
            raise ValidationError(f"Mode de paiement inconnu « {method} » (chèque, espèces, virement, carte, "
                                  "HelloAsso, prélèvement).")
    paid_on = (raw.get("paid_on") or "").strip()
    if paid_on:
        cells.paid_on = read_payment_date(paid_on)
        if cells.method is None:
            raise ValidationError("Date de paiement sans mode de paiement : indiquez chèque, espèces, virement…")
    cells.reference = (raw.get("payment_reference") or "").strip()[:100] or None
    return cells


# ---------------------------------------------------------------- checking

_PROFESSION_NAMES = {}
for _p in PROFESSIONS:
    _PROFESSION_NAMES[fold(_p.label)] = _p
    _PROFESSION_NAMES[fold(_p.code)] = _p


def suggest_profession(text):
    """The closest profession of the controlled list, or None."""
    matches = difflib.get_close_matches(fold(text), list(_PROFESSION_NAMES), n=1, cutoff=0.6)
    return _PROFESSION_NAMES[matches[0]] if matches else None


def clean_civility(text):
    civility = _CIVILITIES.get(fold(text))
    if civility is None:
        raise ValidationError(f"Civilité inconnue « {text} » (M. ou Mme).")
    return civility


def _check_cell(key, text, sites):
    """The stored value for one cell, or ``ValidationError``."""
    if key == "civility":
        return "civility", clean_civility(text)
    if key == "profession":
        profession, _ = read_profession(text)
        if profession is None:
            suggestion = suggest_profession(text)
            hint = f" Vouliez-vous dire « {suggestion.label} » ?" if suggestion else ""
            raise ValidationError(f"Profession inconnue « {text} ».{hint}")
        return "profession", profession.code
    if key == "site":
        site_id = sites.get(fold(text))
        if site_id is None:
            close = difflib.get_close_matches(fold(text), list(sites), n=1, cutoff=0.6)
            hint = f" Vouliez-vous dire « {sites.names[close[0]]} » ?" if close and hasattr(sites, "names") else ""
            raise ValidationError(f"Lieu d'exercice inconnu « {text} » : créez-le d'abord dans l'annuaire.{hint}")
        return "site_id", site_id
    cleaners = {"rpps": clean_rpps, "adeli": clean_adeli, "email": clean_email, "phone": clean_phone,
                "postcode": clean_postcode}
    if key in cleaners:
        if key == "postcode" and text.isdigit() and len(text) == 4:
            text = "0" + text  # a spreadsheet dropped the leading zero of 01000
        return key, cleaners[key](text)
    limit = {"last_name": 100, "first_name": 100, "address": 200, "commune": 100}.get(key)
    if limit and len(text) > limit:
        raise ValidationError(f"{FIELD_LABELS[key]} trop long ({limit} caractères au plus).")
    return key, text


class SiteIndex(dict):
    """Sites by folded name (``{fold(name): id}``), remembering the names for suggestions."""

    def __init__(self, sites=()):
        super().__init__()
        self.names = {}
        for site_id, name in sites:
            self[fold(name)] = site_id
            self.names[fold(name)] = name


def identity_keys(values):
    """The keys that recognise a person, strongest first: RPPS, ADELI, e-mail + name."""
    keys = []
    if values.get("rpps"):
        keys.append(("rpps", values["rpps"]))
    if values.get("adeli"):
        keys.append(("adeli", values["adeli"]))
    if values.get("email"):
        keys.append(("email", (values["email"].lower(), fold(f"{values.get('last_name')} {values.get('first_name')}"))))
    return keys


_KEY_LABELS = {"rpps": "même RPPS", "adeli": "même ADELI", "email": "même e-mail et même nom"}
# Fields of the directory, the others (membership columns) are read by their own module.
PERSON_FIELDS = frozenset(FIELD_LABELS)
_TOTAL_WORDS = ("total", "sous total", "totaux", "total general", "nombre d adherents", "nb adherents", "somme")


def _skipped(raw, cells, columns):
    """Why a row is not a person, in French (a sub-heading, a total), or None."""
    filled = [cell for cell in cells if cell]
    folded = [fold(cell) for cell in filled]
    identified = any(raw.get(key) for key in ("rpps", "adeli", "email"))
    if not identified and any(f.startswith(_TOTAL_WORDS) for f in folded):
        return f"« {_shorten(' '.join(filled))} » : ligne de total, ignorée."
    if not identified and len(filled) <= 2 and not raw.get("first_name"):
        return f"« {_shorten(' '.join(filled))} » : intertitre, ignoré."
    return None


def _territory_warning(values, territory):
    postcode = values.get("postcode")
    if not territory or not postcode:
        return None
    department = postcode[:3] if postcode.startswith("97") else postcode[:2]
    if department in territory:
        return None
    where = f"{values.get('commune')} ({postcode})" if values.get("commune") else postcode
    return (f"Commune hors du territoire : {where} n'est pas dans le département "
            f"{' ou '.join(sorted(territory))} ; la ligne est importée quand même.")


def _merge(first, row, key):
    """``row`` is the same person as ``first`` (an earlier row): its values fill ``first``'s gaps."""
    for name, value in row.values.items():
        first.values.setdefault(name, value)
    for name, value in row.raw.items():
        if value and not first.raw.get(name):
            first.raw[name] = value
    row.status, row.merged_into = "merged", first.line
    message = (f"Lignes {first.line} et {row.line} : la même personne ({_KEY_LABELS[key[0]]}), "
               "réunies en une seule fiche.")
    first.warnings.append(message)
    row.warnings.append(message)


def _conflicting(a, b):
    """Two rows whose RPPS or ADELI differ are two people, whatever else they share."""
    return any(a.values.get(k) and b.values.get(k) and a.values[k] != b.values[k] for k in ("rpps", "adeli"))


def check_rows(table, sites=None, overrides=None, territory=None, profession_choices=None):
    """Validate every row of ``table``; returns ``(rows, columns, ignored headers, notes)``.

    A row's errors are French sentences and block the import; its warnings do not (a phone
    number kept as typed, a commune outside ``territory`` — a set of département numbers —, an
    ambiguous profession that ``profession_choices`` ({folded text: code}) does not settle).
    The same person twice (same RPPS, same ADELI, or same e-mail and name) is merged into the
    first row, with a warning naming both; rows with different identifiers stay apart.
    Sub-heading and total rows are left out with a note.
    """
    sites = sites if sites is not None else SiteIndex()
    columns, ignored = map_columns(table.headers, overrides)
    if "last_name" not in columns:
        raise ImportFileError("Colonne « Nom » introuvable dans la ligne d'en-têtes du fichier. "
                              "Téléchargez le modèle pour voir les en-têtes attendus.")
    choices = profession_choices or {}
    rows, seen, notes = [], {}, list(table.notes)
    for line, cells in table.rows:
        raw = {key: (cells[index] if index < len(cells) else "") for key, index in columns.items()}
        reason = _skipped(raw, cells, columns)
        if reason:
            notes.append((line, reason))
            continue
        row = ImportRow(line=line, raw=raw)
        for key, text in raw.items():
            if not text or key not in PERSON_FIELDS:
                continue
            if key == "profession":
                profession, candidates = read_profession(text)
                if profession is None and candidates:
                    chosen = PROFESSIONS_BY_CODE.get(choices.get(fold(text)))
                    if chosen is not None:
                        row.values["profession"] = chosen.code
                    else:
                        row.profession_choices = candidates
                        row.warnings.append(
                            f"Profession « {text} » ambiguë : {' ou '.join(p.label for p in candidates)} ? "
                            "Choisissez-la ci-dessous ; sans choix, elle reste vide.")
                    continue
            try:
                name, value = _check_cell(key, text, sites)
            except ValidationError as exc:
                if key == "phone":
                    row.values["phone"] = text[:20]
                    row.warnings.append(f"Téléphone « {text} » non reconnu : gardé tel quel.")
                else:
                    row.errors.append(str(exc))
                    row.refused[key] = columns[key]
            else:
                row.values[name] = value
        if not raw.get("last_name"):
            row.errors.append("Nom manquant.")
            row.refused["last_name"] = columns["last_name"]
        if "first_name" in columns and not raw.get("first_name"):
            row.errors.append("Prénom manquant.")
            row.refused["first_name"] = columns["first_name"]
        if not raw.get("profession"):
            row.errors.append("Profession manquante.")
            if "profession" in columns:
                row.refused["profession"] = columns["profession"]
        if not any(raw.get(key) for key in ("rpps", "adeli", "email")):
            row.errors.append("Indiquez au moins le RPPS, l'ADELI ou l'e-mail, pour reconnaître la personne "
                              "lors d'un prochain import.")
            row.refused.update({key: columns[key] for key in ("rpps", "adeli", "email") if key in columns})
        row.corrections = [(table.headers[column] if column < len(table.headers) else f"colonne {column + 1}",
                            old, new) for (at, column), (old, new) in sorted(table.corrected.items()) if at == line]
        if any(raw.get(key) for key, _ in MEMBERSHIP_FIELDS):
            try:
                row.membership = read_membership_cells(raw)
            except ValidationError as exc:
                row.errors.append(str(exc))
                # The message names the cell as typed; offer the filled ones it can be.
                row.refused.update({key: columns[key] for key in ("amount", "paid_on", "method")
                                    if raw.get(key) and raw[key].strip() in str(exc)})
        warning = _territory_warning(row.values, territory)
        if warning:
            row.warnings.append(warning)
        keys = identity_keys(row.values)
        twin = next(((key, seen[key]) for key in keys if key in seen and not _conflicting(seen[key], row)), None)
        if twin is not None and not row.errors and not twin[1].errors:
            _merge(twin[1], row, twin[0])
        elif twin is not None:
            row.errors.append(f"Doublon de la ligne {twin[1].line} ({_KEY_LABELS[twin[0][0]]}).")
        else:
            for key in keys:
                seen.setdefault(key, row)
        rows.append(row)
    return rows, {key: table.headers[index] for key, index in columns.items()}, ignored, notes


# ---------------------------------------------------------------- comparing with the directory

@dataclass
class Existing:
    """What the plan needs to know of a professional already in the directory."""

    id: int
    name: str
    values: dict  # STORED_FIELDS -> value


def plan_import(table, existing, sites=None, overrides=None, territory=None, profession_choices=None):
    """Check ``table`` and compare it with ``existing`` (a list of ``Existing``).

    Matching: by RPPS, then ADELI, then e-mail + name. Empty cells never erase
    what the directory knows; a non-empty cell that differs is an update.
    ``overrides`` ({layout: {column index: field}}), ``territory`` and ``profession_choices``:
    see ``map_columns`` and ``check_rows``.
    """
    mapping_overrides = (overrides or {}).get(layout_of(table.headers))
    rows, columns, ignored, notes = check_rows(table, sites, mapping_overrides, territory, profession_choices)
    index = {}
    for person in existing:
        for key in identity_keys(person.values):
            index.setdefault(key, person)
    matched_lines = {}
    for row in rows:
        if row.status == "merged":
            continue
        if row.errors:
            row.status = "error"
            continue
        keys = identity_keys(row.values)
        match = next((index[key] for key in keys if key in index), None)
        if match is not None:
            # An identifier of this row that belongs to someone else would break uniqueness.
            for kind, value in keys:
                other = index.get((kind, value))
                if kind in ("rpps", "adeli") and other is not None and other.id != match.id:
                    row.errors.append(f"Le {kind.upper()} {value} appartient déjà à {other.name}, "
                                      f"alors que la ligne correspond à {match.name}.")
            if match.id in matched_lines:
                row.errors.append(f"Cette ligne et la ligne {matched_lines[match.id]} désignent la même personne "
                                  f"({match.name}).")
            matched_lines.setdefault(match.id, row.line)
        if row.errors:
            row.status = "error"
            continue
        if match is None:
            row.status = "create"
            continue
        row.existing_id, row.existing_name = match.id, match.name
        for name, value in row.values.items():
            old = match.values.get(name)
            if value != old and not (name == "email" and old and value.lower() == old.lower()):
                row.changes[name] = (old, value)
        row.status = "update" if row.changes else "unchanged"
    mapping, _ = map_columns(table.headers, mapping_overrides)
    return ImportPlan(rows=rows, columns=columns, ignored_headers=ignored, format=table.format, notes=notes,
                      headers=table.headers, mapping={index: key for key, index in mapping.items()},
                      header_line=table.header_line)


def template_csv():
    """The template offered for download: the headers, semicolon-separated, UTF-8 with BOM (Excel-friendly)."""
    buffer = io.BytesIO()
    write_csv([], [label for _, label in FIELDS], buffer)
    return buffer.getvalue()
