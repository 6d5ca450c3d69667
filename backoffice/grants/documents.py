"""The documents of grants, found by ``backoffice.documents.kinds`` (``DOCUMENT_KINDS``).

* ``grant_agreement``: the *convention d'attribution* of an approved application (subject: the
  application), numbered per year (``2026-0007``); built by ``backoffice.grants.agreements``.
* ``grant_report``: the programme's report for its funders (subject: the programme; not
  numbered, each issue a new version): grants by commune and profession, amounts committed and
  paid per funder, the equipment, the activity per quarter; built by
  ``backoffice.grants.reports`` (the same figures as the spreadsheet and the programme page).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from backoffice.documents.kinds import DocumentKind, Numbering

AGREEMENT_KIND = "grant_agreement"

AGREEMENT_VARIABLES = frozenset({
    "organisation",  # name, address (lines separated by "\n"), city, siren
    "logo",  # DocumentImage or None
    "president",  # who signs for the organisation (name), or the organisation's name
    "beneficiary",  # name, profession, rpps, adeli, siret, address, email
    "practice",  # name, address, commune of the practice equipped (or None)
    "programme",  # name, description, funders (text), training
    "equipment",  # kind, model, supplier, quoted_price (Decimal)
    "grant",  # reference, amount (Decimal), decided_on, number
    "conditions",  # [text] the obligations of the beneficiary
    "place", "today",
})

CONDITIONS = (
    "Le matériel financé est utilisé pour le dépistage et la prise en charge des patients du territoire.",
    "Le bénéficiaire transmet chaque trimestre le suivi d'activité demandé par les financeurs "
    "(dépistages réalisés, orientations vers un dermatologue).",
    "L'aide est versée sur présentation de la facture acquittée, après signature de la présente convention.",
    "Si le matériel n'est pas acquis, n'est pas utilisé ou est cédé, l'aide est remboursée à l'organisation.",
)


def sample_agreement():
    return {
        "organisation": {"name": "CPTS du Pays Blanc", "address": "12 rue de la Poste\n44350 Guérande",
                         "city": "Guérande", "siren": "812 345 676"},
        "logo": None, "president": "Dr Yann LE BRETON",
        "beneficiary": {"name": "Dr Soazig LE GOFF", "profession": "Médecin généraliste", "rpps": "10101010108",
                        "adeli": None, "siret": None, "address": "3 place du Marché\n44490 Le Croisic",
                        "email": "s.legoff@example.org"},
        "practice": {"name": "Cabinet médical du Croisic", "address": "3 place du Marché", "commune": "Le Croisic"},
        "programme": {"name": "Dermatoscopes 2026", "funders": "ARS Pays de la Loire — FIR, CPAM de Loire-Atlantique",
                      "description": "Améliorer le dépistage des mélanomes.", "training": "Formation au dépistage du mélanome"},
        "equipment": {"kind": "Dermatoscope", "model": "HEINE DELTA 30", "supplier": "Medisafe",
                      "quoted_price": Decimal("750.00")},
        "grant": {"reference": "AIDE-00012", "amount": Decimal("600.00"), "decided_on": date(2026, 4, 7),
                  "number": "2026-0007"},
        "conditions": list(CONDITIONS), "place": "Guérande", "today": date(2026, 4, 8),
    }


REPORT_KIND = "grant_report"

REPORT_VARIABLES = frozenset({
    "organisation", "logo",
    "programme",  # name, description, equipment_kind, opens_on, closes_on
    "budget",  # envelope, granted, committed, paid, remaining (Decimal), count (grants)
    "funders",  # [name, reference, amount, received_on, committed, paid, remaining]
    "communes", "professions",  # [name, count, committed, paid, granted]
    "equipment",  # [beneficiary, kind, model, serial, practice, commune, delivered_on]
    "quarters",  # [label, screenings, referrals, reports]
    "activity",  # screenings, referrals (totals)
    "place", "today",
})


def sample_report():
    def group(name, count, committed, paid):
        return {"name": name, "count": count, "committed": Decimal(committed), "paid": Decimal(paid),
                "granted": Decimal(committed) + Decimal(paid)}

    return {
        "organisation": {"name": "CPTS du Pays Blanc", "address": "12 rue de la Poste\n44350 Guérande",
                         "city": "Guérande", "siren": "812 345 676"},
        "logo": None,
        "programme": {"name": "Dermatoscopes 2026", "description": "Améliorer le dépistage des mélanomes.",
                      "equipment_kind": "Dermatoscope", "opens_on": date(2026, 1, 1), "closes_on": date(2026, 12, 31)},
        "budget": {"envelope": Decimal("6000.00"), "granted": Decimal("1799.20"), "committed": Decimal("600.00"),
                   "paid": Decimal("1199.20"), "remaining": Decimal("4200.80"), "count": 3},
        "funders": [{"name": "ARS Pays de la Loire — FIR", "reference": "FIR 2026-044", "amount": Decimal("5000.00"),
                     "received_on": date(2026, 2, 20), "committed": Decimal("500.00"), "paid": Decimal("999.33"),
                     "remaining": Decimal("3500.67")}],
        "communes": [group("Le Croisic", 2, "600.00", "599.20"), group("Guérande", 1, "0.00", "600.00")],
        "professions": [group("Médecin généraliste", 3, "600.00", "1199.20")],
        "equipment": [{"beneficiary": "Dr Soazig LE GOFF", "kind": "Dermatoscope", "model": "HEINE DELTA 30",
                       "serial": "HD30-2026-0042", "practice": "Cabinet médical du Croisic", "commune": "Le Croisic",
                       "delivered_on": date(2026, 5, 20)}],
        "quarters": [{"label": "T2 2026", "screenings": 31, "referrals": 3, "reports": 1},
                     {"label": "T3 2026", "screenings": 44, "referrals": 5, "reports": 2}],
        "activity": {"screenings": 75, "referrals": 8},
        "place": "Guérande", "today": date(2026, 10, 8),
    }


CUSTODY_KIND = "grant_custody"

CUSTODY_VARIABLES = frozenset({
    "organisation", "logo", "president",
    "beneficiary",  # name, profession, rpps, adeli, siret, address, email
    "practice",  # name, address, commune of the practice that keeps the device (or None)
    "programme",  # name, description, funders (text)
    "device",  # kind, model, serial_number, purchased_on, value (Decimal: its purchase amount)
    "custody",  # number, started_on, previous (the practice it comes from, or None), reference (application)
    "conditions",  # [text] the obligations of the holder
    "place", "today",
})

CUSTODY_CONDITIONS = (
    "Le matériel reste la propriété de l'organisation ; il est mis à disposition à titre gratuit pour le "
    "dépistage et la prise en charge des patients du territoire.",
    "Le dépositaire en assure la garde, l'utilise conformément à sa destination et l'assure contre la perte, "
    "le vol et la casse.",
    "Il ne peut ni le céder, ni le prêter, ni le déplacer dans un autre cabinet sans l'accord écrit de l'organisation.",
    "Il transmet chaque trimestre le suivi d'activité demandé par les financeurs.",
    "Le matériel est restitué en bon état à la fin de la mise à disposition, ou à la première demande de "
    "l'organisation s'il n'est plus utilisé.",
)


def sample_custody():
    agreement = sample_agreement()
    return {
        "organisation": agreement["organisation"], "logo": None, "president": agreement["president"],
        "beneficiary": agreement["beneficiary"], "practice": agreement["practice"],
        "programme": {"name": "Dermatoscopes prêtés 2026", "funders": "ARS Pays de la Loire — FIR",
                      "description": "Améliorer le dépistage des mélanomes."},
        "device": {"kind": "Dermatoscope", "model": "HEINE DELTA 30", "serial_number": "HD30-2026-0042",
                   "purchased_on": date(2026, 3, 16), "value": Decimal("749.90")},
        "custody": {"number": "2026-0003", "started_on": date(2026, 4, 1), "previous": None,
                    "reference": "AIDE-00012"},
        "conditions": list(CUSTODY_CONDITIONS), "place": "Guérande", "today": date(2026, 4, 1),
    }


def _holder_downloads(user, document):
    """The beneficiary downloads the custody convention of the device he keeps."""
    from backoffice.extensions import db
    from backoffice.grants.models import GrantDeviceCustody

    if getattr(user, "party_id", None) is None or document.subject_type != "grant_device_custodies":
        return False
    custody = db.session.get(GrantDeviceCustody, document.subject_id)
    return custody is not None and custody.application.applicant_id == user.party_id


def _applicant_downloads(user, document):
    """The beneficiary downloads his own convention."""
    from backoffice.extensions import db
    from backoffice.grants.models import GrantApplication

    if getattr(user, "party_id", None) is None or document.subject_type != "grant_applications":
        return False
    application = db.session.get(GrantApplication, document.subject_id)
    return application is not None and application.applicant_id == user.party_id


DOCUMENT_KINDS = [
    DocumentKind(key=AGREEMENT_KIND, label="Convention d'attribution",
                 description="Convention entre l'organisation et le bénéficiaire d'une aide à l'équipement : "
                             "montant en chiffres et en lettres, conditions, signatures.",
                 variables=AGREEMENT_VARIABLES, sample_context=sample_agreement,
                 numbering=Numbering(per_year=True), download_permission="grants.view",
                 may_download=_applicant_downloads),
    DocumentKind(key=REPORT_KIND, label="Rapport au financeur (programme d'aides)",
                 description="Bilan d'un programme d'aides pour ses financeurs : aides par commune et par "
                             "profession, montants engagés et versés par financeur, matériel, activité par trimestre.",
                 variables=REPORT_VARIABLES, sample_context=sample_report, download_permission="grants.view"),


    DocumentKind(key=CUSTODY_KIND, label="Convention de mise à disposition",
                 description="Convention par laquelle l'organisation prête un matériel (programme en nature) à un "
                             "cabinet : matériel et numéro de série, valeur, obligations du dépositaire, signatures.",
                 variables=CUSTODY_VARIABLES, sample_context=sample_custody,
                 numbering=Numbering(per_year=True), download_permission="grants.view",
                 may_download=_holder_downloads),
]
