"""Organisations: creation, the rules on their legal details, and their logo.

Creating an organisation is a platform-level action. The rule chosen: any
administrator of an existing organisation may create another one and becomes
its first administrator (``found_organisation``); the command line
(``flask create-user``) remains the way to bootstrap the very first one.
"""
import re
import unicodedata

from flask import current_app
from sqlalchemy import select

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.organisations.affiliations import set_office
from backoffice.organisations.models import Organisation, OrganisationKind
from backoffice.organisations.storage import atomic_write, organisation_dir
from backoffice.validation import (
    ValidationError,
    clean_bic,
    clean_email,
    clean_iban,
    clean_phone,
    clean_postcode,
    clean_siren,
    clean_siret,
)

LOGO_MAX_BYTES_DEFAULT = 1024 * 1024
# What a logo may be, recognised by its first bytes (never by its name or declared type).
LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
LOGO_EXTENSIONS = ("png", "jpg")
LOGO_MIMETYPES = {"png": "image/png", "jpg": "image/jpeg"}


class SettingsError(ServiceError, ValueError):
    """A legal detail is wrong; ``field`` names the form field, the message is French.
    (Field first, as every caller here names it first.)"""

    def __init__(self, field, message):
        super().__init__(message, field=field)


class LogoError(ServiceError, ValueError):
    """The uploaded logo is refused; the message is French."""


def slugify(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "organisation"


def unique_slug(name):
    base = slugify(name)
    slug, n = base, 2
    while db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_organisation(name, kind, **details):
    """A new organisation; the caller commits."""
    organisation = Organisation(name=name, kind=OrganisationKind(kind), slug=details.pop("slug", None) or unique_slug(name), **details)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def found_organisation(founder, name, kind):
    """Create an organisation whose first administrator is ``founder`` (a User); the caller commits."""
    from backoffice.auth.models import Role
    from backoffice.auth.services import grant_role

    name = (name or "").strip()
    if not name:
        raise SettingsError("name", "Indiquez le nom de l'organisation.")
    organisation = create_organisation(name, kind)
    grant_role(founder, organisation, Role.ADMIN)
    db.session.flush()
    return organisation


# Each legal detail with the check that normalises it; empty means "not known yet".
_CLEANERS = {
    "siren": clean_siren,
    "siret": clean_siret,
    "iban": clean_iban,
    "bic": clean_bic,
    "postcode": clean_postcode,
    "email": clean_email,
    "phone": clean_phone,
}
EDITABLE_FIELDS = (
    "name", "kind", "siren", "siret", "rna", "address", "postcode", "city", "email", "phone",
    "iban", "bic", "president_id", "treasurer_id", "secretary_id", "fiscal_year_start_month",
)
# Offices named on the settings page: written as affiliations from today (``affiliations.set_office``).
OFFICES = {"president_id": "president", "treasurer_id": "treasurer", "secretary_id": "secretary"}


def update_settings(organisation, **values):
    """Check and store an organisation's legal details; raises ``SettingsError``.

    Identifiers are normalised (SIREN/SIRET/IBAN/BIC/postcode, phone in E.164),
    the SIRET must belong to the SIREN, and the president, treasurer and secretary must be
    professionals of the directory (a change names the new holder from today: an affiliation;
    ``None`` ends the office).
    """
    from backoffice.people.models import Professional

    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    cleaned = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None and key in _CLEANERS:
            try:
                value = _CLEANERS[key](value)
            except ValidationError as exc:
                raise SettingsError(key, str(exc)) from None
        cleaned[key] = value
    if "name" in cleaned and not cleaned["name"]:
        raise SettingsError("name", "Indiquez le nom de l'organisation.")
    if "kind" in cleaned:
        try:
            cleaned["kind"] = OrganisationKind(cleaned["kind"])
        except ValueError:
            raise SettingsError("kind", "Type d'organisation inconnu.") from None
    siren = cleaned.get("siren", organisation.siren)
    siret = cleaned.get("siret", organisation.siret)
    if siret and siren and not siret.startswith(siren):
        raise SettingsError("siret", "Le SIRET doit commencer par le SIREN de l'organisation.")
    if siret and not siren:
        cleaned["siren"] = siret[:9]
    offices = {}
    for key in OFFICES:
        if key in cleaned:
            party_id = cleaned.pop(key)
            offices[key] = db.session.get(Professional, int(party_id)) if party_id else None
            if party_id and offices[key] is None:
                raise SettingsError(key, "Choisissez une personne de l'annuaire.")
    month = cleaned.get("fiscal_year_start_month")
    if "fiscal_year_start_month" in cleaned and (month is None or not 1 <= int(month) <= 12):
        raise SettingsError("fiscal_year_start_month", "Choisissez le mois de début de l'exercice.")
    for key, value in cleaned.items():
        setattr(organisation, key, value)
    for key, party in offices.items():
        set_office(organisation, OFFICES[key], party)
    db.session.flush()
    return organisation


def _logo_max_bytes():
    return current_app.config.get("LOGO_MAX_BYTES", LOGO_MAX_BYTES_DEFAULT)


def save_logo(organisation, data):
    """Check an uploaded logo by its content and store it atomically; returns its path.

    Accepted: PNG or JPEG that python-docx can read (the logo goes into Word
    documents), at most ``LOGO_MAX_BYTES``. A previous logo of the other type
    is removed once the new one is in place.
    """
    from docx.image.image import Image

    if not data:
        raise LogoError("Le fichier est vide.")
    limit = _logo_max_bytes()
    if len(data) > limit:
        raise LogoError(f"Le logo dépasse la taille maximale ({limit // 1024} Ko).")
    extension = next((ext for signature, ext in LOGO_SIGNATURES.items() if data.startswith(signature)), None)
    if extension is None:
        raise LogoError("Le logo doit être une image PNG ou JPEG.")
    try:
        image = Image.from_blob(data)
        if not image.px_width or not image.px_height:
            raise ValueError
    except Exception:  # noqa: BLE001  (python-docx raises several kinds; any of them means unreadable)
        raise LogoError("L'image est illisible ou endommagée.") from None
    path = atomic_write(organisation_dir(organisation.id) / f"logo.{extension}", data)
    for other in LOGO_EXTENSIONS:
        if other != extension:
            (organisation_dir(organisation.id) / f"logo.{other}").unlink(missing_ok=True)
    return path


def organisation_logo_path(organisation):
    """The path of the organisation's logo (PNG or JPEG), or ``None`` if it has none."""
    for extension in LOGO_EXTENSIONS:
        path = organisation_dir(organisation.id) / f"logo.{extension}"
        if path.is_file():
            return path
    return None


def logo_mimetype(path):
    return LOGO_MIMETYPES[path.suffix.lstrip(".")]


def remove_logo(organisation):
    """Delete the organisation's logo; True if there was one."""
    removed = False
    for extension in LOGO_EXTENSIONS:
        path = organisation_dir(organisation.id) / f"logo.{extension}"
        if path.is_file():
            path.unlink()
            removed = True
    return removed
