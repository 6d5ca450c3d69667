"""French names of the directory's columns for the audit trail."""
from backoffice.audit.labels import register
from backoffice.extensions import db
from backoffice.people.professions import PROFESSIONS_BY_CODE, SITE_KIND_LABELS, STRUCTURE_TYPE_LABELS
from backoffice.validation import format_phone


def site_name(site_id):
    from backoffice.people.models import Site

    site = db.session.get(Site, int(site_id))
    return site.name if site else f"lieu n° {site_id}"


def party_name(party_id):
    from backoffice.people.models import Party

    party = db.session.get(Party, int(party_id))
    return party.display_name if party else f"fiche n° {party_id}"


_KINDS = {"professional": "Professionnel", "structure": "Structure"}

register(
    "parties", "Annuaire (personnes et structures)",
    {
        "kind": "Type", "civility": "Civilité", "first_name": "Prénom", "last_name": "Nom", "profession": "Profession",
        "rpps": "RPPS", "adeli": "ADELI", "email": "E-mail", "phone": "Téléphone", "address": "Adresse",
        "postcode": "Code postal", "commune": "Commune", "site_id": "Lieu d'exercice", "name": "Raison sociale",
        "structure_type": "Type de structure", "siren": "SIREN", "siret": "SIRET",
    },
    {
        "kind": lambda v: _KINDS.get(v, v),
        "profession": lambda v: PROFESSIONS_BY_CODE[v].label if v in PROFESSIONS_BY_CODE else v,
        "structure_type": lambda v: STRUCTURE_TYPE_LABELS.get(v, v),
        "phone": format_phone,
        "site_id": site_name,
    },
)
register(
    "sites", "Lieux d'exercice",
    {"name": "Nom", "kind": "Type", "address": "Adresse", "postcode": "Code postal", "commune": "Commune"},
    {"kind": lambda v: SITE_KIND_LABELS.get(v, v)},
)
