"""The demo territory of the domain brief, for ``make run`` and manual testing.

Figures come from the seed documents: the CPTS du Pays Blanc (Loire-Atlantique,
85 members over 18 communes) and the SISA Pôle de Santé Libéral du Pays de
Mayenne (90 professionals on 9 sites). Each feature adds its own demo data
through ``DEMO_STEPS``; running the seed twice changes nothing.
"""
from sqlalchemy import select

from backoffice.auth.services import create_user, find_user_by_email, grant_role
from backoffice.extensions import db
from backoffice.organisations.models import Organisation
from backoffice.organisations.services import create_organisation

DEMO_PASSWORD = "demo-maillage-2026"

ORGANISATIONS = [
    dict(
        slug="cpts-pays-blanc", name="CPTS du Pays Blanc", kind="cpts",
        siren="812345676", siret="81234567600017", rna="W442012345",
        address="12 rue de la Poste", postcode="44350", city="Guérande",
        email="contact@cpts-paysblanc.fr", phone="+33240000000",
        iban="FR7630004000031234567890143", bic="BNPAFRPPXXX", fiscal_year_start_month=1,
    ),
    dict(
        slug="sisa-pays-de-mayenne", name="SISA Pôle de Santé Libéral du Pays de Mayenne", kind="sisa",
        siren="798765434", siret="79876543400013",
        address="1 place de l'Europe", postcode="53100", city="Mayenne",
        email="contact@psl-paysdemayenne.fr", phone="+33243000000",
        iban="FR7617906000320003312345605", bic="AGRIFRPP879", fiscal_year_start_month=1,
    ),
]

STAFF = [
    ("admin@maillage.demo", "Administratrice Maillage", {"cpts-pays-blanc": ["admin"], "sisa-pays-de-mayenne": ["admin"]}),
    ("tresorier@cpts-paysblanc.fr", "Claire Morvan (trésorière)", {"cpts-pays-blanc": ["treasurer"]}),
    ("bureau@cpts-paysblanc.fr", "Yann Le Goff (bureau)", {"cpts-pays-blanc": ["board"]}),
    ("comptable@cabinet-atlantique.fr", "Cabinet Atlantique (expert-comptable)", {"cpts-pays-blanc": ["accountant"], "sisa-pays-de-mayenne": ["accountant"]}),
    ("gerant@psl-paysdemayenne.fr", "Paul Chevalier (cogérant SISA)", {"sisa-pays-de-mayenne": ["treasurer"]}),
]

# Each feature's ``demo`` module appends callables taking the organisations by slug.
DEMO_STEPS = []
# Steps that need every feature's data, run after all of ``DEMO_STEPS`` (the closing of the past
# fiscal years: fees, grants and the SISA's distribution post into them).
FINAL_STEPS = []
# Steps that go on with what the jobs started above produced (a transfer file, then its payment):
# run after the seed's commit, each committed on its own.
AFTER_COMMIT_STEPS = []


def seed(reset=False):
    """Load the demo territory; returns the staff logins as (email, password, description)."""
    if reset:
        db.drop_all()
        db.create_all()
    organisations = {}
    for details in ORGANISATIONS:
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == details["slug"]))
        organisations[details["slug"]] = organisation or create_organisation(**details)
    logins = []
    for email, name, roles in STAFF:
        user = find_user_by_email(email) or create_user(email, name, DEMO_PASSWORD)
        for slug, role_names in roles.items():
            for role in role_names:
                grant_role(user, organisations[slug], role)
        logins.append((email, DEMO_PASSWORD, name))
    db.session.flush()
    for step in _steps():
        step(organisations)
    db.session.commit()
    for step in AFTER_COMMIT_STEPS:
        step(organisations)
        db.session.commit()
    return logins


def _steps():
    from backoffice import feature_modules

    feature_modules("demo")  # importing a feature's demo module registers its step
    return DEMO_STEPS + FINAL_STEPS
