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
    return _BY_NAME.get(key) or _ALIASES.get(key)


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
        ("médecin général", "medecin_generaliste"),
        ("med gen", "medecin_generaliste"),
        ("médecin traitant", "medecin_generaliste"),
        ("médecin spécialiste", "medecin_specialiste"),
        ("infirmière", "infirmier"),
        ("IDE", "infirmier"),
        ("IDEL", "infirmier"),
        ("IPA", "infirmier"),
        ("infirmier en pratique avancée", "infirmier"),
        ("inf", "infirmier"),
        ("kiné", "masseur_kinesitherapeute"),
        ("kinésithérapeute", "masseur_kinesitherapeute"),
        ("masseuse kinésithérapeute", "masseur_kinesitherapeute"),
        ("MK", "masseur_kinesitherapeute"),
        ("MKDE", "masseur_kinesitherapeute"),
        ("podologue", "pedicure_podologue"),
        ("pédicure", "pedicure_podologue"),
        ("podo", "pedicure_podologue"),
        ("diététicienne", "dieteticien"),
        ("diet", "dieteticien"),
        ("sage femme", "sage_femme"),
        ("sages femmes", "sage_femme"),
        ("SF", "sage_femme"),
        ("maïeuticien", "sage_femme"),
        ("maïeuticienne", "sage_femme"),
        ("dentiste", "chirurgien_dentiste"),
        ("chirurgienne dentiste", "chirurgien_dentiste"),
        ("chir dentiste", "chirurgien_dentiste"),
        ("CD", "chirurgien_dentiste"),
        ("pharmacienne", "pharmacien"),
        ("pharmacien d officine", "pharmacien"),
        ("psychomotricienne", "psychomotricien"),
        ("psychomot", "psychomotricien"),
        ("ergo", "ergotherapeute"),
        ("opticienne", "opticien_lunetier"),
        ("opticien", "opticien_lunetier"),
        ("opticienne lunetière", "opticien_lunetier"),
        ("audio", "audioprothesiste"),
        ("pédiatre", "pediatre"),
        ("gynéco", "gynecologue"),
        ("cardio", "cardiologue"),
        ("derm", "dermatologue"),
        ("dermato", "dermatologue"),
        ("APA", "enseignant_apa"),
        ("enseignante APA", "enseignant_apa"),
        ("enseignante en activité physique adaptée", "enseignant_apa"),
    ]
}

# Each profession by its folded code and label, the first of the list winning (a workbook's
# thousands of rows each looked up their profession by folding the whole list again).
_BY_NAME = {}
for _profession in PROFESSIONS:
    for _name in (_profession.code, _profession.label):
        _BY_NAME.setdefault(_fold(_name), _profession)
del _profession, _name

# What people write that could be several professions: never guessed, the treasurer chooses.
AMBIGUOUS = {
    _fold(text): tuple(PROFESSIONS_BY_CODE[code] for code in codes)
    for text, codes in [
        ("ortho", ("orthophoniste", "orthoptiste")),
        ("psy", ("psychologue", "psychiatre", "psychomotricien")),
        ("psycho", ("psychologue", "psychomotricien")),
        ("kiné ortho", ("masseur_kinesitherapeute", "orthophoniste")),
    ]
}

# Words that say how someone practises, not what: « Pharmacien titulaire », « Infirmière libérale ».
_QUALIFIERS = {"titulaire", "titulaires", "adjoint", "adjointe", "adjoints", "liberal", "liberale", "liberaux",
               "liberales", "salarie", "salariee", "remplacant", "remplacante", "collaborateur", "collaboratrice",
               "assistant", "assistante", "dr", "docteur", "diplome", "diplomee", "d etat", "de", "en", "exercice",
               "e", "s", "es", "ne", "ere", "ice", "hospitalier", "hospitaliere", "coordinateur", "coordinatrice",
               "retraite", "retraitee"}


def _words(text):
    import re

    folded = _fold(re.sub(r"[.(),/'’]", " ", str(text)))
    return [word for word in folded.split() if word not in _QUALIFIERS]


def read_profession(text):
    """What a cell written by a person means: ``(profession, candidates)``.

    ``profession`` is the one of the controlled list (code, label, abbreviation, feminine or
    plural form, with « titulaire », « adjoint », « libéral(e) »… left out), else None;
    ``candidates`` the professions an ambiguous text (« Ortho ») could be, else ``()``.
    """
    if not text or not str(text).strip():
        return None, ()
    found = find_profession(text)
    if found is not None:
        return found, ()
    words = _words(text)
    for candidate in (words, [w[:-1] if w.endswith(("s", "x")) and len(w) > 3 else w for w in words]):
        key = " ".join(candidate)
        if key in AMBIGUOUS:
            return None, AMBIGUOUS[key]
        found = find_profession(key)
        if found is not None:
            return found, ()
        feminine = _masculine(key)
        if feminine != key and find_profession(feminine) is not None:
            return find_profession(feminine), ()
    return None, ()


def _masculine(key):
    """« infirmiere » → « infirmier », « dieteticienne » → « dieteticien », « pharmacienne »…"""
    out = []
    for word in key.split():
        for feminine, masculine in (("ienne", "ien"), ("iere", "ier"), ("euse", "eur"), ("trice", "teur"),
                                    ("ere", "er")):
            if word.endswith(feminine):
                word = word[: -len(feminine)] + masculine
                break
        out.append(word)
    return " ".join(out)


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
