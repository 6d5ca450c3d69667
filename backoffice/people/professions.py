"""The controlled list of French health professions, and kinds of structures.

Codes are stable identifiers stored in the database; labels are what users read.
``register`` says which national identifier the profession uses (RPPS for the
professions moved to the RPPS, ADELI for the others).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Profession:
    code: str
    label: str
    is_physician: bool = False
    register: str = "rpps"


PROFESSIONS = [
    Profession("medecin_generaliste", "Médecin généraliste", True),
    Profession("medecin_specialiste", "Médecin spécialiste (autre)", True),
    Profession("dermatologue", "Dermatologue", True),
    Profession("radiologue", "Radiologue", True),
    Profession("psychiatre", "Psychiatre", True),
    Profession("pediatre", "Pédiatre", True),
    Profession("gynecologue", "Gynécologue", True),
    Profession("cardiologue", "Cardiologue", True),
    Profession("chirurgien_dentiste", "Chirurgien-dentiste"),
    Profession("sage_femme", "Sage-femme"),
    Profession("pharmacien", "Pharmacien"),
    Profession("infirmier", "Infirmier"),
    Profession("masseur_kinesitherapeute", "Masseur-kinésithérapeute"),
    Profession("pedicure_podologue", "Pédicure-podologue"),
    Profession("orthophoniste", "Orthophoniste"),
    Profession("orthoptiste", "Orthoptiste"),
    Profession("dieteticien", "Diététicien", register="adeli"),
    Profession("audioprothesiste", "Audioprothésiste", register="adeli"),
    Profession("ergotherapeute", "Ergothérapeute", register="adeli"),
    Profession("psychomotricien", "Psychomotricien", register="adeli"),
    Profession("psychologue", "Psychologue", register="adeli"),
    Profession("opticien_lunetier", "Opticien-lunetier", register="adeli"),
    Profession("enseignant_apa", "Enseignant en activité physique adaptée", register="none"),
    Profession("autre", "Autre profession de santé", register="none"),
]
PROFESSIONS_BY_CODE = {p.code: p for p in PROFESSIONS}


def find_profession(text):
    """A profession by its code or its French label (case and accents tolerant)."""
    if not text:
        return None
    key = _fold(text)
    for profession in PROFESSIONS:
        if key in (_fold(profession.code), _fold(profession.label)):
            return profession
    return _ALIASES.get(key)


def _fold(text):
    import unicodedata

    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


_ALIASES = {
    _fold(alias): PROFESSIONS_BY_CODE[code]
    for alias, code in [
        ("médecin", "medecin_generaliste"),
        ("MG", "medecin_generaliste"),
        ("généraliste", "medecin_generaliste"),
        ("infirmière", "infirmier"),
        ("IDE", "infirmier"),
        ("IDEL", "infirmier"),
        ("kiné", "masseur_kinesitherapeute"),
        ("kinésithérapeute", "masseur_kinesitherapeute"),
        ("podologue", "pedicure_podologue"),
        ("diététicienne", "dieteticien"),
        ("sage femme", "sage_femme"),
        ("dentiste", "chirurgien_dentiste"),
        ("pharmacienne", "pharmacien"),
    ]
}

STRUCTURE_TYPES = [
    ("msp", "Maison de santé pluriprofessionnelle (MSP)"),
    ("centre_sante", "Centre de santé"),
    ("ehpad", "EHPAD"),
    ("ssiad", "SSIAD"),
    ("pharmacie", "Pharmacie (société)"),
    ("laboratoire", "Laboratoire de biologie"),
    ("cabinet", "Cabinet de groupe"),
    ("hopital", "Établissement de santé"),
    ("association", "Association"),
    ("autre", "Autre structure"),
]
STRUCTURE_TYPE_LABELS = dict(STRUCTURE_TYPES)

SITE_KINDS = [("msp", "Maison de santé (MSP)"), ("satellite", "Cabinet satellite"), ("autre", "Autre lieu d'exercice")]
SITE_KIND_LABELS = dict(SITE_KINDS)

CIVILITIES = [("M.", "M."), ("Mme", "Mme")]
