"""Organisations: creation and the rules on their legal details."""
import re
import unicodedata

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.organisations.models import Organisation, OrganisationKind


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
