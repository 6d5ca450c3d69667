"""French names of an organisation's columns for the audit trail."""
from backoffice.audit.labels import register
from backoffice.organisations.forms import MONTHS
from backoffice.organisations.models import AffiliationRole, OrganisationKind
from backoffice.people.audit_labels import party_name
from backoffice.validation import format_phone

register(
    "organisations", "Organisation",
    {
        "slug": "Identifiant d'adresse", "name": "Nom", "kind": "Type", "siren": "SIREN", "siret": "SIRET",
        "rna": "RNA", "address": "Adresse", "postcode": "Code postal", "city": "Commune", "email": "E-mail",
        "phone": "Téléphone", "iban": "IBAN", "bic": "BIC", "fiscal_year_start_month": "Début d'exercice",
        # Columns until migration 0015 (the offices are affiliations now): older entries still name them.
        "president_id": "Président(e)", "treasurer_id": "Trésorier(ère)",
    },
    {
        "kind": lambda v: OrganisationKind(v).label,
        "phone": format_phone,
        "president_id": party_name,
        "treasurer_id": party_name,
        "fiscal_year_start_month": lambda v: f"1er {MONTHS[int(v) - 1]}",
    },
)

register(
    "affiliations", "Rôle dans l'organisation",
    {"organisation_id": "Organisation", "party_id": "Personne", "role": "Rôle", "starts_on": "Depuis le",
     "ends_on": "Jusqu'au"},
    {"party_id": party_name, "role": lambda v: AffiliationRole(v).label},
)
