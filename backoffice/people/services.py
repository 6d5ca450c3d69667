"""The shared directory: searching, saving professionals, structures and sites, importing files.

Services flush and never commit: the view (or job) commits once. Errors are
``PeopleError`` with a French message and the form field it concerns.
"""
import json
from datetime import date
import re
import secrets
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, func, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload, with_polymorphic

from backoffice.audit.models import AuditEntry
from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.models import among
from backoffice.organisations.services import organisation_logo_path
from backoffice.organisations.storage import atomic_write, organisation_dir
from backoffice.people import importer
from backoffice.people.models import Party, PartyKind, Professional, Site, Structure, fold_for_search
from backoffice.people.professions import CIVILITIES, PROFESSIONS, PROFESSIONS_BY_CODE

IMPORT_MAX_BYTES_DEFAULT = 2 * 1024 * 1024
IMPORT_TTL_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class PeopleError(ServiceError, ValueError):
    """A rule of the directory is broken; ``field`` names the form field (or None)."""


class ImportRejected(ServiceError, ValueError):
    """The import cannot be applied; nothing was stored. The message is French."""


# ---------------------------------------------------------------- who is in whose directory

def related_party_ids(organisation):
    """SQL (a union of ids): the parties with a relation to ``organisation`` — a membership of any
    period, an affiliation not ended (an office, an associate, a directory contact), a login with
    a role in it. The organisation's directory lists them and shows their contact details; the
    shared table holds everyone else, whom its staff see by name only."""
    from backoffice.auth.models import RoleAssignment, User
    from backoffice.membership.models import Membership
    from backoffice.organisations.models import Affiliation

    today = date.today()
    return union(
        select(Membership.party_id).where(Membership.organisation_id == organisation.id),
        select(Affiliation.party_id).where(Affiliation.organisation_id == organisation.id,
                                           or_(Affiliation.ends_on.is_(None), Affiliation.ends_on >= today)),
        select(User.party_id).join(RoleAssignment, RoleAssignment.user_id == User.id).where(
            RoleAssignment.organisation_id == organisation.id, User.party_id.is_not(None)),
    )


def visible_audit_entries(organisation):
    """SQL condition on ``AuditEntry``: the organisation's own rows, and the shared tables' rows
    it may read — sites, and parties related to it (a party's history holds its e-mail and phone)."""
    from sqlalchemy import and_

    shared = AuditEntry.organisation_id.is_(None)
    return or_(AuditEntry.organisation_id == organisation.id,
               and_(shared, AuditEntry.table_name != "parties"),
               and_(shared, AuditEntry.table_name == "parties", AuditEntry.row_id.in_(related_party_ids(organisation))))


def related_to(organisation, party):
    """True if ``party`` has a relation with ``organisation`` (see ``related_party_ids``)."""
    ids = related_party_ids(organisation).subquery()
    return db.session.scalar(select(ids.c[0]).where(ids.c[0] == party.id).limit(1)) is not None


def related_among(organisation, party_ids):
    """The ids of ``party_ids`` that have a relation with ``organisation`` (one query)."""
    if not party_ids:
        return set()
    ids = related_party_ids(organisation).subquery()
    return set(db.session.scalars(select(ids.c[0]).where(ids.c[0].in_(list(party_ids)))))


# ---------------------------------------------------------------- listing

SORTS = {
    "name": lambda: [Party.sort_name, Party.id],
    "profession": lambda: [_profession_order(), Party.sort_name, Party.id],
    "commune": lambda: [func.coalesce(Party.commune, ""), Party.sort_name, Party.id],
}


def _profession_order():
    """Professions in the order of their French label (structures last)."""
    ranks = {p.code: rank for rank, p in enumerate(sorted(PROFESSIONS, key=lambda p: fold_for_search(p.label)))}
    return case(ranks, value=Professional.profession, else_=len(ranks))


def _matching(values, text):
    """The values (communes, site names…) whose folded form contains the folded ``text``."""
    return [value for value in values if text in fold_for_search(value)]


def directory_query(q=None, kind=None, profession=None, commune=None, site_id=None, sort="name", organisation=None,
                    viewer=None):
    """A ``select`` of parties for the directory list, with the site loaded eagerly; given
    ``organisation``, only the parties related to it (``related_party_ids``). ``viewer``: the
    organisation searching the whole table, whose words match the e-mail of its own people only
    (an address must not tell whose it is).

    ``q`` matches, accent- and case-insensitively, every word against the name,
    the RPPS/ADELI, the e-mail, the commune or the site. ``sort`` is a key of
    ``SORTS``, optionally prefixed with ``-`` for descending order.
    """
    party = with_polymorphic(Party, [Professional, Structure])
    query = select(party).options(selectinload(party.Professional.site))
    if organisation is not None:
        query = query.where(party.id.in_(related_party_ids(organisation)))
    if kind in (PartyKind.PROFESSIONAL.value, PartyKind.STRUCTURE.value):
        query = query.where(party.kind == PartyKind(kind))
    if profession:
        query = query.where(party.Professional.profession == profession)
    if commune:
        query = query.where(party.commune == commune)
    if site_id:
        query = query.where(party.site_id == site_id)
    words = fold_for_search(q).split() if q else []
    if words:
        communes = db.session.scalars(select(Party.commune).where(Party.commune.is_not(None)).distinct()).all()
        sites = db.session.execute(select(Site.id, Site.name)).all()
        for word in words:
            email = func.lower(party.email).contains(word, autoescape=True)
            if viewer is not None:
                email = email & party.id.in_(related_party_ids(viewer))
            conditions = [party.sort_name.contains(word, autoescape=True), email]
            if word.isdigit():
                conditions += [party.Professional.rpps.startswith(word), party.Professional.adeli.startswith(word),
                               party.Structure.siret.startswith(word)]
            matching_communes = _matching(communes, word)
            if matching_communes:
                conditions.append(party.commune.in_(matching_communes))
            matching_sites = [site_id for site_id, name in sites if word in fold_for_search(name)]
            if matching_sites:
                conditions.append(party.site_id.in_(matching_sites))
            query = query.where(or_(*conditions))
    descending = (sort or "").startswith("-")
    key = (sort or "name").lstrip("-")
    order = SORTS.get(key, SORTS["name"])()
    if descending:
        order = [column.desc() for column in order]
    return query.order_by(*order)


def communes():
    return db.session.scalars(
        select(Party.commune).where(Party.commune.is_not(None), Party.commune != "").distinct().order_by(Party.commune)
    ).all()


def all_sites():
    return db.session.scalars(select(Site).order_by(Site.name)).all()


def site_counts():
    """Number of professionals per site id."""
    return dict(db.session.execute(
        select(Party.site_id, func.count()).where(Party.site_id.is_not(None)).group_by(Party.site_id)
    ).all())


def history(table_name, row_id, limit=100):
    """The audit entries of one row, newest first."""
    return db.session.scalars(
        select(AuditEntry).options(selectinload(AuditEntry.user))
        .where(AuditEntry.table_name == table_name, AuditEntry.row_id == row_id)
        .order_by(AuditEntry.id.desc()).limit(limit)
    ).all()


# ---------------------------------------------------------------- saving

PROFESSIONAL_FIELDS = ("civility", "first_name", "last_name", "profession", "rpps", "adeli", "email", "phone",
                       "address", "postcode", "commune", "site_id")
STRUCTURE_FIELDS = ("name", "structure_type", "siren", "siret", "email", "phone", "address", "postcode", "commune",
                    "site_id")
SITE_FIELDS = ("name", "kind", "address", "postcode", "commune")

_UNIQUE = {
    "rpps": (Professional, "Ce numéro RPPS est déjà celui de {}."),
    "adeli": (Professional, "Ce numéro ADELI est déjà celui de {}."),
    "siret": (Structure, "Ce SIRET est déjà celui de {}."),
}


def _blank_to_none(values):
    return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}


def _check_unique(obj, values):
    for field, (model, message) in _UNIQUE.items():
        value = values.get(field)
        if not value:
            continue
        other = db.session.scalar(select(model).where(getattr(model, field) == value))
        if other is not None and other is not obj:
            raise PeopleError(message.format(other.display_name), field)


def _check_site(values):
    if values.get("site_id") and db.session.get(Site, values["site_id"]) is None:
        raise PeopleError("Lieu d'exercice inconnu.", "site_id")


def _save(obj, values, allowed):
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    values = _blank_to_none(values)
    _check_unique(obj, values)
    _check_site(values)
    try:
        # The checks above answer the usual case; the constraint answers a concurrent save.
        with db.session.begin_nested():
            for key, value in values.items():
                setattr(obj, key, value)
            if obj.id is None:
                db.session.add(obj)
            db.session.flush()
    except IntegrityError:
        raise PeopleError("Ce numéro (RPPS, ADELI ou SIRET) vient d'être enregistré pour une autre fiche : "
                          "rechargez la page et vérifiez l'annuaire.") from None
    return obj


def save_professional(professional=None, **values):
    """Create (``professional=None``) or update a professional; uniqueness of RPPS/ADELI is a ``PeopleError``."""
    values = _blank_to_none(values)
    if not values.get("last_name") and (professional is None or "last_name" in values):
        raise PeopleError("Indiquez le nom.", "last_name")
    if values.get("civility") and values["civility"] not in dict(CIVILITIES):
        raise PeopleError("Civilité inconnue (M. ou Mme).", "civility")
    if values.get("profession") and values["profession"] not in PROFESSIONS_BY_CODE:
        raise PeopleError("Profession inconnue.", "profession")
    return _save(professional or Professional(), values, PROFESSIONAL_FIELDS)


def save_structure(structure=None, **values):
    """Create or update a structure (legal entity); the SIRET must belong to its SIREN."""
    values = _blank_to_none(values)
    if not values.get("name") and (structure is None or "name" in values):
        raise PeopleError("Indiquez le nom de la structure.", "name")
    if values.get("siret") and not values.get("siren"):
        values["siren"] = values["siret"][:9]
    if values.get("siret") and values.get("siren") and not values["siret"].startswith(values["siren"]):
        raise PeopleError("Le SIRET doit commencer par le SIREN.", "siret")
    return _save(structure or Structure(), values, STRUCTURE_FIELDS)


def save_site(site=None, **values):
    values = _blank_to_none(values)
    if not values.get("name") and (site is None or "name" in values):
        raise PeopleError("Indiquez le nom du lieu d'exercice.", "name")
    name = values.get("name")
    if name:
        clash = next((s for s in all_sites() if fold_for_search(s.name) == fold_for_search(name) and s is not site), None)
        if clash is not None:
            raise PeopleError(f"Un lieu d'exercice porte déjà ce nom ({clash.name}).", "name")
    unknown = set(values) - set(SITE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    site = site or Site()
    for key, value in values.items():
        setattr(site, key, value)
    if site.id is None:
        db.session.add(site)
    db.session.flush()
    return site


# ---------------------------------------------------------------- importing

@dataclass
class StoredImport:
    token: str
    data: bytes
    filename: str
    uploaded_at: float
    # Cells corrected in the preview, {line: {column index: text}} (``correct_import_cell``):
    # kept beside the file, which stays as it was sent, and read in place of its cells.
    corrections: dict = None


def import_max_bytes():
    return current_app.config.get("PEOPLE_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES_DEFAULT)


def _imports_dir(organisation):
    return organisation_dir(organisation.id) / "imports"


def store_import(organisation, data, filename):
    """Keep an uploaded file between preview and confirmation; returns its random token.

    The file is written atomically under ``STORAGE_DIR/<org>/imports/<token>``;
    the client only ever holds the token, and the commit parses the file again.
    """
    if len(data) > import_max_bytes():
        raise importer.ImportFileError(
            f"Le fichier dépasse la taille maximale ({import_max_bytes() // 1024} Ko) : découpez-le.")
    if not data:
        raise importer.ImportFileError("Le fichier est vide.")
    _expire_imports(organisation)
    token = secrets.token_urlsafe(32)
    folder = _imports_dir(organisation)
    atomic_write(folder / f"{token}.json", json.dumps({"filename": filename[:200], "uploaded_at": time.time()}).encode())
    atomic_write(folder / token, data)
    return token


def load_import(organisation, token):
    """The stored upload for ``token`` in this organisation, or None."""
    if not token or not _TOKEN.match(token):
        return None
    folder = _imports_dir(organisation)
    try:
        data = (folder / token).read_bytes()
        meta = json.loads((folder / f"{token}.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    try:
        corrections = json.loads((folder / f"{token}.corrections.json").read_text())
    except (FileNotFoundError, ValueError):
        corrections = {}
    return StoredImport(token=token, data=data, filename=meta.get("filename", ""),
                        uploaded_at=meta.get("uploaded_at", 0), corrections=corrections)


# The longest text a corrected cell holds (the longest field, an address, is 200).
CORRECTION_MAX_LENGTH = 200


def correct_import_cell(organisation, stored, line, column, text):
    """Correct one cell of the stored upload ``stored`` as the treasurer typed it in the
    preview: line ``line`` of the file, column ``column`` (0 = the first). The file stays as it
    was sent; the correction is kept beside it and read in its place (``importer.read_table``),
    so the row is checked again, and the column and profession choices already made stay. An
    empty ``text`` empties the cell. Raises ``ImportRejected`` (French) for a cell that is no
    data of the file (the header, a line that does not exist)."""
    try:
        line, column = int(line), int(column)
    except (TypeError, ValueError):
        raise ImportRejected("Cellule à corriger introuvable.") from None
    text = " ".join((text or "").split())
    if len(text) > CORRECTION_MAX_LENGTH:
        raise ImportRejected(f"La correction compte {CORRECTION_MAX_LENGTH} caractères au plus.")
    layouts, _ = import_choices(organisation)
    try:
        table = importer.read_table(stored.data, stored.filename, layouts, stored.corrections)
    except importer.ImportFileError as exc:
        raise ImportRejected(str(exc)) from None
    lines = {number: cells for number, cells in table.rows}
    if line not in lines or not 0 <= column < max(len(table.headers), len(lines[line])):
        raise ImportRejected(f"La ligne {line} n'est pas une ligne de données du fichier : rien n'a été corrigé.")
    corrections = dict(stored.corrections or {})
    corrections.setdefault(str(line), {})[str(column)] = text
    atomic_write(_imports_dir(organisation) / f"{stored.token}.corrections.json", json.dumps(corrections).encode())
    stored.corrections = corrections
    return table.headers[column] if column < len(table.headers) else f"colonne {column + 1}"


def discard_import(organisation, token):
    if token and _TOKEN.match(token):
        for name in (token, f"{token}.json", f"{token}.corrections.json"):
            (_imports_dir(organisation) / name).unlink(missing_ok=True)


def _expire_imports(organisation):
    folder = _imports_dir(organisation)
    if not folder.is_dir():
        return
    limit = time.time() - IMPORT_TTL_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def _site_index():
    return importer.SiteIndex(db.session.execute(select(Site.id, Site.name)).all())


def _existing_for(table, layouts=None):
    """Snapshots of the professionals a file could match (by RPPS, ADELI or e-mail), in three queries."""
    columns, _ = importer.map_columns(table.headers, (layouts or {}).get(importer.layout_of(table.headers)))
    found = {}

    def cells(key):
        index = columns.get(key)
        if index is None:
            return set()
        return {cells[index].strip() for _, cells in table.rows if index < len(cells) and cells[index].strip()}

    rpps = {re.sub(r"[\s.\-]", "", value) for value in cells("rpps")}
    adeli = {re.sub(r"[\s.\-]", "", value).upper() for value in cells("adeli")}
    emails = {value.lower() for value in cells("email")}
    for field, values in (("rpps", rpps), ("adeli", adeli)):
        values = sorted(values)
        for start in range(0, len(values), 500):
            for person in db.session.scalars(select(Professional).where(among(getattr(Professional, field), values[start:start + 500]))):
                found[person.id] = person
    emails = sorted(emails)
    for start in range(0, len(emails), 500):
        for person in db.session.scalars(select(Professional).where(among(func.lower(Professional.email), emails[start:start + 500]))):
            found[person.id] = person
    return [
        importer.Existing(id=p.id, name=p.display_name, values={f: getattr(p, f) for f in importer.STORED_FIELDS})
        for p in found.values()
    ]


def import_choices(organisation):
    """What ``organisation``'s treasurer chose in earlier previews: ``({layout: columns}, professions)``."""
    from backoffice.people.models import ImportLayout

    if organisation is None:
        return {}, {}
    layouts, professions = {}, {}
    for row in db.session.scalars(select(ImportLayout).where(ImportLayout.organisation_id == organisation.id)
                                  .order_by(ImportLayout.updated_at)):
        layouts[row.layout] = row.columns or {}
        professions.update(row.professions or {})
    return layouts, professions


def save_import_choices(organisation, headers, columns, professions=None):
    """Remember, for ``organisation`` and this file layout, which column is which field
    (``{index: field or None}``) and what ambiguous professions mean (``{text: code}``).

    Raises ``ImportRejected`` for an unknown field or a field chosen for two columns."""
    from backoffice.people.models import ImportLayout

    known = set(importer.IMPORTABLE_FIELDS)
    columns = {str(int(index)): (field or None) for index, field in columns.items()}
    chosen = [field for field in columns.values() if field]
    if any(field not in known for field in chosen):
        raise ImportRejected("Champ inconnu dans le choix des colonnes.")
    if "last_name" not in chosen:
        raise ImportRejected("Choisissez la colonne « Nom » : sans elle, personne ne peut être reconnu.")
    try:
        importer.map_columns(headers, columns)
    except importer.ImportFileError as exc:
        raise ImportRejected(str(exc)) from None
    professions = {importer.fold(text): code for text, code in (professions or {}).items()
                   if code in PROFESSIONS_BY_CODE}
    layout = importer.layout_of(headers)
    row = db.session.scalar(select(ImportLayout).where(ImportLayout.organisation_id == organisation.id,
                                                       ImportLayout.layout == layout))
    if row is None:
        row = ImportLayout(organisation_id=organisation.id, layout=layout, columns={}, professions={})
        db.session.add(row)
    row.columns = columns
    row.professions = {**(row.professions or {}), **professions}
    db.session.flush()
    return row


def territory_of(organisation):
    """The départements of ``organisation`` (from its postcode): a commune elsewhere is a warning."""
    postcode = (getattr(organisation, "postcode", None) or "").strip()
    if len(postcode) != 5:
        return None
    return {postcode[:3] if postcode.startswith("97") else postcode[:2]}


def plan_people_import(data, filename="", organisation=None, period=None, corrections=None):
    """Read, check and compare an uploaded file with the directory; raises ``ImportFileError``.
    Given ``organisation``, its remembered column choices and territory apply, and with
    ``period`` each row says what it would do to its membership (``row.membership_action``).
    ``corrections``: the cells corrected in the preview (``StoredImport.corrections``)."""
    from backoffice.people import memberships

    layouts, professions = import_choices(organisation)
    table = importer.read_table(data, filename, layouts, corrections)
    plan = importer.plan_import(table, _existing_for(table, layouts), _site_index(), overrides=layouts,
                                territory=territory_of(organisation), profession_choices=professions)
    if organisation is not None:
        memberships.annotate(organisation, plan, period)
    return plan


def apply_people_import(data, filename="", organisation=None, period=None, send_receipts=False, user=None,
                        one_by_one=False, corrections=None):
    """Re-read and re-check the file, then create and update professionals — all or nothing;
    given ``organisation``, every professional of the file joins its directory (a contact), and
    given ``period``, the membership columns create its memberships and record their payments
    (``people.memberships``; receipts e-mailed only if ``send_receipts``).

    Raises ``ImportRejected`` (nothing stored) if the file is unreadable or any
    row has an error; returns the plan that was applied. ``one_by_one``: the memberships row
    after row through membership's services (``people.memberships.apply``), the reference
    the bulk path is tested against.
    """
    from backoffice.collector import collection_paused

    with collection_paused():  # thousands of objects alive until the end: see backoffice.collector
        return _apply_people_import(data, filename, organisation, period, send_receipts, user, one_by_one,
                                    corrections)


def _apply_people_import(data, filename, organisation, period, send_receipts, user, one_by_one, corrections):
    from backoffice.membership.services import MembershipError
    from backoffice.people import memberships

    try:
        plan = plan_people_import(data, filename, organisation, period, corrections)
    except importer.ImportFileError as exc:
        raise ImportRejected(str(exc)) from None
    if plan.has_errors:
        raise ImportRejected(
            f"{plan.count('error')} ligne(s) comportent des erreurs : rien n'a été importé. Corrigez-les dans "
            "l'aperçu, ou dans le fichier et envoyez-le de nouveau.")
    try:
        with db.session.begin_nested():  # a refused membership undoes the whole import
            parties = _apply_people(plan, organisation)
            if organisation is not None and period is not None:
                plan.membership_done = memberships.apply(organisation, plan, period, parties,
                                                         send_receipts=send_receipts, user=user,
                                                         one_by_one=one_by_one)
    except MembershipError as exc:
        raise ImportRejected(f"Rien n'a été importé. {exc}") from None
    return plan


def _apply_people(plan, organisation):
    """Create and update the professionals of ``plan``; returns ``{line: professional}``."""
    ids = [row.existing_id for row in plan.rows if row.existing_id is not None]
    by_id = {}
    for start in range(0, len(ids), 500):
        by_id.update({p.id: p for p in db.session.scalars(
            select(Professional).where(Professional.id.in_(ids[start:start + 500])))})
    parties = {}
    for row in plan.rows:
        if row.status == "create":
            person = Professional(**row.values)
            db.session.add(person)
        elif row.status in ("update", "unchanged"):
            person = by_id[row.existing_id]
            for name, (_, new) in row.changes.items():
                setattr(person, name, new)
        else:
            continue
        parties[row.line] = person
    db.session.flush()
    if organisation is not None:
        add_contacts(organisation, [person.id for person in parties.values()])
    return parties


def add_contacts(organisation, party_ids):
    """Put the parties of ``party_ids`` that have no relation with ``organisation`` yet in its
    directory (``CONTACT`` affiliations from today); two queries, one insert and its audit rows."""
    from backoffice.organisations.models import Affiliation, AffiliationRole

    from backoffice.audit.services import record_bulk_creates
    from backoffice.models import insert_objects

    new = set(party_ids) - related_among(organisation, party_ids)
    today = date.today()
    # One statement for them all (an import's thousand contacts), audited as a flush would.
    contacts = insert_objects([Affiliation(organisation_id=organisation.id, party_id=party_id,
                                           role=AffiliationRole.CONTACT, starts_on=today) for party_id in sorted(new)])
    db.session.add_all(contacts)
    record_bulk_creates(contacts)
    return len(new)


# ---------------------------------------------------------------- dashboard

def missing_settings(organisation):
    """What the organisation's admins still have to fill in, in French."""
    from backoffice.organisations.affiliations import OFFICES, Role, current_condition
    from backoffice.organisations.models import Affiliation

    offices = set(db.session.scalars(select(Affiliation.role).where(
        Affiliation.organisation_id == organisation.id, Affiliation.role.in_(OFFICES),
        current_condition(date.today()))))
    checks = [
        (organisation.siren, "le SIREN"), (organisation.address and organisation.postcode, "l'adresse du siège"),
        (organisation.iban, "l'IBAN"), (Role.PRESIDENT in offices, "le ou la présidente"),
        (Role.TREASURER in offices, "le trésorier ou la trésorière"), (organisation_logo_path(organisation), "le logo"),
    ]
    return [label for value, label in checks if not value]


def dashboard_figures(organisation, recent=8):
    """The directory's panel of the dashboard: professions and recent changes."""
    by_profession = db.session.execute(
        select(Professional.profession, func.count()).where(Professional.id.in_(related_party_ids(organisation)))
        .group_by(Professional.profession).order_by(func.count().desc())
    ).all()
    recent_changes = db.session.scalars(
        select(AuditEntry).options(selectinload(AuditEntry.user))
        .where(visible_audit_entries(organisation))
        .order_by(AuditEntry.id.desc()).limit(recent)
    ).all()
    return {
        "by_profession": [(PROFESSIONS_BY_CODE[code].label if code in PROFESSIONS_BY_CODE else (code or "non renseignée"), n)
                          for code, n in by_profession],
        "recent_changes": recent_changes,
    }
