"""Reading a spreadsheet of coordination meetings (pure: no HTTP, no database).

A treasurer's attendance sheet, CSV or XLSX, one line per attendee (several names in one cell,
separated by « ; » or line breaks, are several attendees)::

    Temps de coordination 2025                      ← title rows before the header: skipped
    Pôle de Santé Libéral du Pays de Mayenne
    Date       | Durée | Thème                  | Type | Participant       | RPPS
    04/03/2025 | 1h30  | RCP diabète            | RCP  | Hélène Brochard   | 10003456786
               |       |                        |      | Paul Chevalier    |               ← blank: same meeting
    Total      | 3 h   |                        |      |                   |               ← total lines: skipped

The file is read by the people import's readers (``people.importer.read_rows``: CSV in
UTF-8 or Windows-1252 with any separator, or XLSX); the header is the first row naming a date and an
attendee (or an RPPS/ADELI) column. Dates as ``04/03/2025``, ``4/3/25``, ``2025-03-04``,
``4 mars 2025`` or an Excel serial number written as text; durations as ``1h30``, ``90 min``,
``1:30``, ``1,5`` (hours; a bare number above 12 is minutes, as is any number in a column
whose header says « min »). A blank date, duration, theme or type repeats the line above.

Attendees are matched among the SISA's associates (``AssociateIndex``, built by the service)
by RPPS, else ADELI, else name (first and last name in any order, titles ignored); an unknown
attendee, two associates of that name, or an associate who was not one on that day is an error
naming the line. ``plan_meetings`` returns every line with its errors and the meetings it would
create; the service imports them only when no line has an error.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from backoffice.people.importer import fold, read_rows, read_sheet_date
from backoffice.sisa.models import MeetingKind

MAX_MINUTES = 24 * 60
_HEADERS = {
    "date": ["date", "date de la reunion", "date reunion", "jour", "le"],
    "duration": ["duree", "duree h", "duree en heures", "duree heures", "heures", "nb heures", "nombre d heures",
                 "temps", "duree min", "duree en minutes", "minutes", "duree mn"],
    "theme": ["theme", "sujet", "objet", "intitule", "reunion", "titre", "ordre du jour", "thematique"],
    "kind": ["type", "nature", "type de reunion", "categorie", "genre"],
    "attendee": ["participant", "participants", "nom prenom", "prenom nom", "professionnel", "associe", "associes",
                 "present", "presents", "presences", "nom et prenom", "identite"],
    "last_name": ["nom"],
    "first_name": ["prenom"],
    "rpps": ["rpps", "n rpps", "no rpps", "numero rpps", "num rpps"],
    "adeli": ["adeli", "n adeli", "no adeli", "numero adeli", "num adeli"],
}
HEADERS = {alias: key for key, aliases in _HEADERS.items() for alias in aliases}
_KINDS = [("concertation", MeetingKind.RCP), ("rcp", MeetingKind.RCP), ("protocole", MeetingKind.PROTOCOL),
          ("formation", MeetingKind.TRAINING), ("cpts", MeetingKind.CPTS)]
_TITLES = {"dr", "docteur", "pr", "professeur", "mme", "madame", "m", "mr", "monsieur", "mlle", "me"}

class MeetingFileError(ValueError):
    """The file as a whole cannot be read (French message)."""


@dataclass(frozen=True)
class KnownAssociate:
    party_id: int
    name: str
    first_name: str
    last_name: str
    rpps: str | None
    adeli: str | None
    periods: tuple  # ((starts_on, ends_on or None), …)

    def present_on(self, day):
        return any(start <= day and (end is None or end >= day) for start, end in self.periods)


class AssociateIndex:
    """The associates a file may name, by RPPS, ADELI and folded name."""

    def __init__(self, associates):
        self.by_rpps, self.by_adeli, self.by_name = {}, {}, {}
        for associate in associates:
            if associate.rpps:
                self.by_rpps[associate.rpps] = associate
            if associate.adeli:
                self.by_adeli[associate.adeli.upper()] = associate
            self.by_name.setdefault(name_key(f"{associate.first_name} {associate.last_name}"), []).append(associate)


def name_key(text):
    return frozenset(token for token in fold(text).split() if token not in _TITLES)


@dataclass
class MeetingLine:
    line: int
    held_on: date | None = None
    minutes: int | None = None
    theme: str = ""
    kind: str = MeetingKind.RCP.value
    attendees: list = field(default_factory=list)  # (text as written, KnownAssociate or None)
    errors: list = field(default_factory=list)


@dataclass
class PlannedMeeting:
    held_on: date
    minutes: int
    kind: str
    theme: str
    party_ids: list
    lines: list

    @property
    def kind_label(self):
        return MeetingKind(self.kind).label


@dataclass
class MeetingPlan:
    lines: list
    meetings: list
    ignored_headers: list
    skipped_lines: list  # titles, sub-headings, totals
    format: str

    @property
    def has_errors(self):
        return any(line.errors for line in self.lines)

    @property
    def error_lines(self):
        return [line for line in self.lines if line.errors]

    @property
    def attendance_count(self):
        return sum(len(m.party_ids) for m in self.meetings)


# ---------------------------------------------------------------- cells

def parse_duration(text, minutes_column=False):
    """Minutes of ``1h30``, ``1 h``, ``90 min``, ``1:30``, ``1,5`` (hours; minutes if the column
    says so or the number is above 12), or None when unreadable."""
    raw = "".join(unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode().lower().split())
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,2})h(?:(\d{1,2})(?:min|mn|m)?)?", raw)
    if match:
        return int(match.group(1)) * 60 + int(match.group(2) or 0)
    match = re.fullmatch(r"(\d{1,4})(?:min|mn|minutes?)", raw)
    if match:
        return int(match.group(1))
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", raw)
    if match:
        return int(match.group(1)) * 60 + int(match.group(2))
    match = re.fullmatch(r"(\d{1,4})(?:[.,](\d{1,2}))?(?:heures?|h)?", raw)
    if match:
        value = float(f"{match.group(1)}.{match.group(2) or 0}")
        if minutes_column or value > 12:
            return round(value) if value == int(value) else None
        return round(value * 60)
    return None


def parse_kind(text):
    folded = fold(text)
    if not folded:
        return None
    for word, kind in _KINDS:
        if word in folded:
            return kind.value
    return MeetingKind.OTHER.value


def _identifier(text):
    return re.sub(r"[\s.\-]", "", text or "").upper()


# ---------------------------------------------------------------- the file

def _find_header(rows):
    for index, (_, cells) in enumerate(rows[:15]):
        keys = {HEADERS.get(fold(cell)) for cell in cells}
        if "date" in keys and keys & {"attendee", "last_name", "rpps", "adeli"}:
            return index
    raise MeetingFileError("Ligne d'en-tête introuvable : il faut au moins une colonne « Date » et une colonne "
                           "« Participant » (ou « Nom », « RPPS », « ADELI ») dans les 15 premières lignes.")


def read_meeting_rows(data, filename=""):
    """(columns {key: index}, minutes column?, ignored headers, data rows [(line, cells)], skipped lines, format)."""
    rows, kind, _blank = read_rows(data, MeetingFileError)
    header_index = _find_header(rows)
    skipped = [line for line, _ in rows[:header_index]]
    header_line, headers = rows[header_index]
    columns, ignored = {}, []
    for index, header in enumerate(headers):
        key = HEADERS.get(fold(header))
        if key and key not in columns:
            columns[key] = index
        elif header:
            ignored.append(header)
    minutes_column = "duration" in columns and "min" in fold(headers[columns["duration"]]).replace("mn", "min")
    body = []
    for line, cells in rows[header_index + 1:]:
        first = next((cell for cell in cells if cell.strip()), "")
        if fold(first).startswith(("total", "sous total", "cumul")):
            skipped.append(line)
            continue
        body.append((line, cells))
    return columns, minutes_column, ignored, body, skipped, kind


def plan_meetings(data, filename, index, existing=frozenset()):
    """Every data line of the file checked, and the meetings it would create.

    ``index`` is an ``AssociateIndex`` of the SISA's associates; ``existing`` the ``(date,
    folded theme)`` of meetings already recorded (importing them again is an error)."""
    columns, minutes_column, ignored, body, skipped, kind = read_meeting_rows(data, filename)

    def cell(cells, key):
        position = columns.get(key)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    lines, previous = [], None
    for number, cells in body:
        line = MeetingLine(number)
        date_text, duration_text = cell(cells, "date"), cell(cells, "duration")
        theme_text, kind_text = " ".join(cell(cells, "theme").split()), cell(cells, "kind")
        if date_text:
            line.held_on = read_sheet_date(date_text)
            if line.held_on is None:
                line.errors.append(f"Ligne {number} : date illisible « {date_text} » (jj/mm/aaaa).")
        elif previous is not None:
            line.held_on = previous.held_on
        else:
            line.errors.append(f"Ligne {number} : la date de la réunion manque.")
        if duration_text:
            line.minutes = parse_duration(duration_text, minutes_column)
            if line.minutes is None or not 0 < line.minutes <= MAX_MINUTES:
                line.errors.append(f"Ligne {number} : durée illisible « {duration_text} » (exemples : 1h30, 90 min, 1,5).")
                line.minutes = None
        elif previous is not None:
            line.minutes = previous.minutes
        else:
            line.errors.append(f"Ligne {number} : la durée de la réunion manque.")
        line.theme = theme_text or (previous.theme if previous is not None else "")
        if not line.theme:
            line.errors.append(f"Ligne {number} : le thème de la réunion manque.")
        line.kind = parse_kind(kind_text) or (previous.kind if previous is not None else MeetingKind.RCP.value)
        _match_attendees(line, cells, cell, index)
        lines.append(line)
        previous = line
    return MeetingPlan(lines, _group(lines, existing), ignored, skipped, kind)


def _match_attendees(line, cells, cell, index):
    rpps, adeli = _identifier(cell(cells, "rpps")), _identifier(cell(cells, "adeli"))
    names = [n.strip() for n in re.split(r"[;\n]", cell(cells, "attendee")) if n.strip()]
    if not names and (cell(cells, "last_name") or cell(cells, "first_name")):
        names = [f"{cell(cells, 'first_name')} {cell(cells, 'last_name')}".strip()]
    if rpps or adeli:
        found = index.by_rpps.get(rpps) if rpps else index.by_adeli.get(adeli)
        written = f"RPPS {rpps}" if rpps else f"ADELI {adeli}"
        if found is None:
            who = f" ({names[0]})" if names else ""
            line.errors.append(f"Ligne {line.line} : participant inconnu, {written}{who} : ce n'est pas le numéro "
                               "d'un associé de la SISA.")
        line.attendees.append((names[0] if names else written, found))
        names = names[1:]
    elif not names:
        line.errors.append(f"Ligne {line.line} : aucun participant (nom, RPPS ou ADELI).")
    for name in names:
        candidates = index.by_name.get(name_key(name), [])
        if not candidates:
            line.errors.append(f"Ligne {line.line} : participant inconnu « {name} » : aucun associé de la SISA ne "
                               "porte ce nom (vérifiez l'orthographe ou indiquez son RPPS ou son ADELI).")
            line.attendees.append((name, None))
        elif len(candidates) > 1:
            line.errors.append(f"Ligne {line.line} : « {name} » désigne {len(candidates)} associés : indiquez son "
                               "RPPS ou son ADELI.")
            line.attendees.append((name, None))
        else:
            line.attendees.append((name, candidates[0]))
    if line.held_on is not None:
        for written, associate in line.attendees:
            if associate is not None and not associate.present_on(line.held_on):
                line.errors.append(f"Ligne {line.line} : {associate.name} n'était pas associé(e) de la SISA le "
                                   f"{line.held_on:%d/%m/%Y}.")


def _group(lines, existing):
    meetings, by_key = [], {}
    for line in lines:
        if line.held_on is None or line.minutes is None or not line.theme:
            continue
        key = (line.held_on, fold(line.theme))
        meeting = by_key.get(key)
        if meeting is None:
            if key in existing:
                line.errors.append(f"Ligne {line.line} : la réunion du {line.held_on:%d/%m/%Y} « {line.theme} » est "
                                   "déjà enregistrée.")
                continue
            meeting = by_key[key] = PlannedMeeting(line.held_on, line.minutes, line.kind, line.theme, [], [])
            meetings.append(meeting)
        elif meeting.minutes != line.minutes:
            line.errors.append(f"Ligne {line.line} : durée différente de celle de la ligne {meeting.lines[0]} pour la "
                               f"même réunion du {line.held_on:%d/%m/%Y}.")
        meeting.lines.append(line.line)
        for written, associate in line.attendees:
            if associate is None:
                continue
            if associate.party_id in meeting.party_ids:
                line.errors.append(f"Ligne {line.line} : {associate.name} est déjà compté(e) pour cette réunion.")
            else:
                meeting.party_ids.append(associate.party_id)
    return meetings
