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
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from backoffice.errors import ServiceError
from backoffice.people.professions import PROFESSIONS, find_profession
from backoffice.spreadsheets import write_csv
from backoffice.validation import (
    ValidationError,
    clean_adeli,
    clean_email,
    clean_phone,
    clean_postcode,
    clean_rpps,
)

MAX_ROWS = 5000

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
    "last_name": ["nom", "nom de famille", "nom d usage", "last name", "nom naissance"],
    "first_name": ["prenom", "prenoms", "first name"],
    "profession": ["profession", "metier", "specialite", "profession specialite", "categorie professionnelle"],
    "rpps": ["rpps", "n rpps", "no rpps", "numero rpps", "num rpps", "identifiant rpps"],
    "adeli": ["adeli", "n adeli", "no adeli", "numero adeli", "num adeli"],
    "email": ["e mail", "email", "courriel", "mail", "adresse e mail", "adresse mail", "adresse electronique"],
    "phone": ["telephone", "tel", "portable", "mobile", "telephone portable", "n telephone"],
    "address": ["adresse", "adresse postale", "adresse professionnelle", "rue"],
    "postcode": ["code postal", "cp", "code post"],
    "commune": ["commune", "ville", "localite"],
    "site": ["lieu d exercice", "site", "msp", "cabinet", "lieu", "structure d exercice"],
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


@dataclass
class ImportRow:
    line: int
    raw: dict
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    status: str = "error"  # create | update | unchanged | error
    existing_id: int | None = None
    existing_name: str = ""
    changes: dict = field(default_factory=dict)  # field -> (old, new)

    @property
    def name(self):
        return " ".join(p for p in (self.raw.get("first_name"), (self.raw.get("last_name") or "").upper()) if p)


@dataclass
class ImportPlan:
    rows: list
    columns: dict  # field -> header as written in the file
    ignored_headers: list
    format: str

    @property
    def has_errors(self):
        return any(row.errors for row in self.rows)

    def count(self, status):
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self):
        return {status: self.count(status) for status in ("create", "update", "unchanged", "error")}


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
    """The separator of a CSV: the one the header line uses most (``;`` wins ties, as in France)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (";", ",", "\t")}
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


def read_table(data, filename=""):
    """The header and the non-empty rows of a CSV or XLSX file, recognised by content."""
    if not data:
        raise ImportFileError("Le fichier est vide.")
    if data.startswith(b"PK\x03\x04"):
        rows, kind = read_xlsx(data), "xlsx"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("Les classeurs Excel 97-2003 (.xls) ne sont pas pris en charge : "
                              "enregistrez le fichier au format .xlsx ou CSV.")
    elif data.startswith(b"%PDF") or data[:1] in (b"\x89", b"\xff"):
        raise ImportFileError("Format de fichier inconnu : envoyez un fichier CSV ou XLSX.")
    else:
        rows, kind = read_csv(data), "csv"
    rows = [(number, [str(c).strip() for c in cells]) for number, cells in rows]
    rows = [(number, cells) for number, cells in rows if any(cells)]
    if not rows:
        raise ImportFileError("Le fichier ne contient aucune ligne.")
    (_, headers), body = rows[0], rows[1:]
    if len(body) > MAX_ROWS:
        raise ImportFileError(f"Le fichier compte plus de {MAX_ROWS:,} lignes : découpez-le.".replace(",", "\u202f"))
    return Table(headers=headers, rows=body, format=kind)


def map_columns(headers):
    """Which column holds which field: ``({field: index}, [ignored headers])``."""
    columns, ignored = {}, []
    for index, header in enumerate(headers):
        key = HEADERS.get(fold(header))
        if key and key not in columns:
            columns[key] = index
        elif header:
            ignored.append(header)
    return columns, ignored


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
        profession = find_profession(text)
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
    limit = {"last_name": 100, "first_name": 100, "address": 200, "commune": 100}[key]
    if len(text) > limit:
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


def check_rows(table, sites=None):
    """Validate every row of ``table``; returns ``(rows, columns, ignored headers)``.

    A row's errors are French sentences; duplicates inside the file are errors
    on the later row, naming the earlier one.
    """
    sites = sites if sites is not None else SiteIndex()
    columns, ignored = map_columns(table.headers)
    if "last_name" not in columns:
        raise ImportFileError("Colonne « Nom » introuvable dans la première ligne du fichier. "
                              "Téléchargez le modèle pour voir les en-têtes attendus.")
    rows, seen = [], {}
    for line, cells in table.rows:
        raw = {key: (cells[index] if index < len(cells) else "") for key, index in columns.items()}
        row = ImportRow(line=line, raw=raw)
        for key, text in raw.items():
            if not text:
                continue
            try:
                name, value = _check_cell(key, text, sites)
            except ValidationError as exc:
                row.errors.append(str(exc))
            else:
                row.values[name] = value
        if not raw.get("last_name"):
            row.errors.append("Nom manquant.")
        if "first_name" in columns and not raw.get("first_name"):
            row.errors.append("Prénom manquant.")
        if not raw.get("profession"):
            row.errors.append("Profession manquante.")
        keys = identity_keys(row.values)
        if not any(raw.get(key) for key in ("rpps", "adeli", "email")):
            row.errors.append("Indiquez au moins le RPPS, l'ADELI ou l'e-mail, pour reconnaître la personne "
                              "lors d'un prochain import.")
        for key in keys:
            if key in seen:
                row.errors.append(f"Doublon de la ligne {seen[key]} ({_KEY_LABELS[key[0]]}).")
                break
        for key in keys:
            seen.setdefault(key, line)
        rows.append(row)
    return rows, {key: table.headers[index] for key, index in columns.items()}, ignored


# ---------------------------------------------------------------- comparing with the directory

@dataclass
class Existing:
    """What the plan needs to know of a professional already in the directory."""

    id: int
    name: str
    values: dict  # STORED_FIELDS -> value


def plan_import(table, existing, sites=None):
    """Check ``table`` and compare it with ``existing`` (a list of ``Existing``).

    Matching: by RPPS, then ADELI, then e-mail + name. Empty cells never erase
    what the directory knows; a non-empty cell that differs is an update.
    """
    rows, columns, ignored = check_rows(table, sites)
    index = {}
    for person in existing:
        for key in identity_keys(person.values):
            index.setdefault(key, person)
    matched_lines = {}
    for row in rows:
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
    return ImportPlan(rows=rows, columns=columns, ignored_headers=ignored, format=table.format)


def template_csv():
    """The template offered for download: the headers, semicolon-separated, UTF-8 with BOM (Excel-friendly)."""
    buffer = io.BytesIO()
    write_csv([], [label for _, label in FIELDS], buffer)
    return buffer.getvalue()
