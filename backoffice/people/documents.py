"""The documents of the directory: the *fiche annuaire* of a professional (bulk, as a task).

Its kind is found by ``backoffice.documents.kinds`` (``DOCUMENT_KINDS`` below); the job is
``jobs.documents.generate_directory_sheets``.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from backoffice.documents.kinds import DocumentKind

DIRECTORY_SHEET_VARIABLES = frozenset({
    "organisation",  # name, address (lines separated by "\n"), city, siren
    "logo",  # DocumentImage or None
    "professional",  # civility, first_name, last_name, display_name, profession, rpps, adeli,
                     # email, phone, address, postcode, commune, site (each str or None)
    "generated_on",  # date
})


def _sample_directory_sheet():
    return {
        "organisation": {"name": "CPTS du Pays Blanc", "address": "2 rue du Port\n44350 Guérande",
                         "city": "Guérande", "siren": "812 345 676"},
        "logo": None,
        "professional": {"civility": "Mme", "first_name": "Claire", "last_name": "Morvan",
                         "display_name": "Claire Morvan", "profession": "Infirmière",
                         "rpps": "10001234567", "adeli": None, "email": "claire.morvan@example.org",
                         "phone": "06 12 34 56 78", "address": "3 place de l'Église", "postcode": "44350",
                         "commune": "Guérande", "site": "MSP de Guérande"},
        "generated_on": dt.date(2026, 6, 8),
    }


DOCUMENT_KINDS = [
    DocumentKind(key="directory_sheet", label="Fiche annuaire",
                 description="Une fiche par professionnel de l'annuaire (coordonnées, identifiants).",
                 variables=DIRECTORY_SHEET_VARIABLES, sample_context=_sample_directory_sheet),
]


def directory_professionals(commune: str | None = None, profession: str | None = None):
    """The professionals of the directory, by name (parties are shared by all organisations)."""
    from backoffice.people.models import Professional

    query = select(Professional)
    if commune:
        query = query.where(Professional.commune == commune)
    if profession:
        query = query.where(Professional.profession == profession)
    return query.order_by(Professional.last_name, Professional.first_name, Professional.id)


def directory_sheet_context(organisation, professional, organisation_ctx=None, today=None) -> dict:
    from backoffice.documents.services import organisation_context
    from backoffice.validation import format_phone

    return {
        "organisation": organisation_ctx or organisation_context(organisation),
        "professional": {
            "civility": professional.civility,
            "first_name": professional.first_name,
            "last_name": professional.last_name,
            "display_name": professional.display_name,
            "profession": professional.profession_label,
            "rpps": professional.rpps,
            "adeli": professional.adeli,
            "email": professional.email,
            "phone": format_phone(professional.phone) or None,
            "address": professional.address,
            "postcode": professional.postcode,
            "commune": professional.commune,
            "site": professional.site.name if professional.site is not None else None,
        },
        "generated_on": today or dt.date.today(),
    }


def directory_sheet_filename(professional) -> str:
    name = "-".join(filter(None, [professional.last_name, professional.first_name])) or f"professionnel-{professional.id}"
    return f"fiche-{name}"
