"""The demo directory: the professionals of the CPTS du Pays Blanc and of the SISA du Pays de Mayenne.

Deterministic (fixed seed, identifiers generated with their Luhn key) and
idempotent: each person is recognised by its RPPS/ADELI, each structure by its
SIRET, each site by its name, so that a second run creates nothing.
Figures from the domain brief: 85 professionals over the 18 communes of the
CPTS; 90 professionals on 9 sites (4 MSP, 5 satellite practices) for the SISA
with the exact profession mix of the seed documents.
"""
import random
from datetime import date
import unicodedata

from sqlalchemy import select
from stdnum import luhn

from backoffice.auth.models import User
from backoffice.demo import DEMO_STEPS
from backoffice.extensions import db
from backoffice.people.models import Professional, Site, Structure
from backoffice.people.professions import PROFESSIONS_BY_CODE

SEED = 20260608  # the date of the CPTS's first AG

# The Pays Blanc and the presqu'île guérandaise (Loire-Atlantique), with a weight ~ population.
PAYS_BLANC_COMMUNES = [
    ("Guérande", "44350", 14), ("La Baule-Escoublac", "44500", 12), ("Pornichet", "44380", 8),
    ("Le Croisic", "44490", 4), ("Batz-sur-Mer", "44740", 3), ("Le Pouliguen", "44510", 4),
    ("La Turballe", "44420", 5), ("Piriac-sur-Mer", "44420", 3), ("Mesquer", "44420", 2),
    ("Saint-Molf", "44350", 2), ("Assérac", "44410", 2), ("Herbignac", "44410", 5),
    ("Saint-Lyphard", "44410", 3), ("Saint-André-des-Eaux", "44117", 4), ("La Chapelle-des-Marais", "44410", 3),
    ("Saint-Joachim", "44720", 3), ("Missillac", "44780", 3), ("Sainte-Reine-de-Bretagne", "44160", 2),
]
PAYS_BLANC_MIX = {
    "medecin_generaliste": 20, "infirmier": 20, "masseur_kinesitherapeute": 12, "pharmacien": 8,
    "chirurgien_dentiste": 5, "sage_femme": 4, "orthophoniste": 4, "pedicure_podologue": 3, "dieteticien": 2,
    "psychologue": 2, "ergotherapeute": 1, "orthoptiste": 1, "dermatologue": 1, "pediatre": 1, "enseignant_apa": 1,
}
# People the demo logins refer to: (civility, first, last, profession, commune index, role).
PAYS_BLANC_NAMED = [
    ("Mme", "Claire", "Morvan", "infirmier", 0, "treasurer"),
    ("Mme", "Anne", "Le Bihan", "medecin_generaliste", 1, "president"),
    ("M.", "Yann", "Le Goff", "masseur_kinesitherapeute", 6, "secretary"),
]
# The CPTS's board, elected at its constituent assembly; five more members sit on it.
PAYS_BLANC_BOARD_SINCE = date(2024, 9, 14)
PAYS_BLANC_BOARD_SIZE = 5
PAYS_BLANC_STRUCTURES = [
    ("EHPAD Résidence du Traict", "ehpad", "Le Croisic", "44490"),
    ("SSIAD de la Presqu'île", "ssiad", "Guérande", "44350"),
    ("SELAS Pharmacie des Marais", "pharmacie", "Herbignac", "44410"),
    ("MSP de La Turballe", "msp", "La Turballe", "44420"),
]

MAYENNE_SITES = [
    ("MSP de Lassay-les-Châteaux", "msp", "Lassay-les-Châteaux", "53110"),
    ("MSP de Mayenne", "msp", "Mayenne", "53100"),
    ("MSP d'Ambrières-les-Châteaux", "msp", "Ambrières-les-Châteaux", "53300"),
    ("MSP d'Oisseau", "msp", "Oisseau", "53300"),
    ("Cabinet satellite de Moulay", "satellite", "Moulay", "53100"),
    ("Cabinet satellite d'Aron", "satellite", "Aron", "53440"),
    ("Cabinet satellite de Martigné-sur-Mayenne", "satellite", "Martigné-sur-Mayenne", "53470"),
    ("Cabinet satellite du Horps", "satellite", "Le Horps", "53640"),
    ("Cabinet satellite de Saint-Fraimbault-de-Prières", "satellite", "Saint-Fraimbault-de-Prières", "53300"),
]
MAYENNE_MIX = {
    "medecin_generaliste": 22, "dermatologue": 2, "radiologue": 10, "psychiatre": 1, "pharmacien": 13,
    "pedicure_podologue": 4, "masseur_kinesitherapeute": 2, "infirmier": 33, "orthophoniste": 1, "dieteticien": 1,
    "audioprothesiste": 1,
}
# Specialists practise at the main MSP of Mayenne; the others are spread over the nine sites.
MAYENNE_AT_MAIN_SITE = {"radiologue", "dermatologue", "psychiatre", "audioprothesiste"}
MAYENNE_NAMED = [
    ("M.", "Paul", "Chevalier", "medecin_generaliste", 1, "treasurer"),
    ("Mme", "Hélène", "Brochard", "medecin_generaliste", 0, "president"),
]
# The SISA was created in December 2012 with its professionals as associates; one joined in June
# 2025 and one left in September 2025 (the 2025 distribution prorates both).
MAYENNE_CREATED_ON = date(2012, 12, 1)
MAYENNE_JOINED_ON = date(2025, 6, 16)
MAYENNE_LEFT_ON = date(2025, 9, 30)

FIRST_NAMES = {
    "Mme": ["Anne", "Marie", "Sophie", "Isabelle", "Nathalie", "Catherine", "Sandrine", "Céline", "Aurélie", "Julie",
            "Camille", "Gaëlle", "Maëlle", "Soizic", "Nolwenn", "Élodie", "Laëtitia", "Hélène", "Solène", "Agnès"],
    "M.": ["Jean", "Pierre", "Yann", "Erwan", "Loïc", "Thomas", "Nicolas", "Julien", "Mathieu", "François",
           "Gwenaël", "Ronan", "Benoît", "Stéphane", "Olivier", "Hervé", "Sébastien", "Guillaume", "Tanguy", "Cédric"],
}
LAST_NAMES = {
    "44": ["Le Bris", "Guérin", "Hamon", "Le Roux", "Jouan", "Mahé", "Le Floch", "Bouvier", "Rialland", "Lebeau",
           "Halgand", "Thébaud", "Denis", "Guillou", "Perraud", "Lecomte", "Corbillé", "Brière", "Aoustin", "Le Pen",
           "Olivaud", "Pichon", "Josso", "Gicquel", "Chauvel", "Hervy", "Leray", "Daniel", "Bertho", "Lehuédé"],
    "53": ["Lemaître", "Fouquet", "Gaudin", "Hardy", "Chesnel", "Bouvet", "Lefeuvre", "Guilmin", "Ménard", "Trouillet",
           "Pottier", "Lelièvre", "Bigot", "Champion", "Coulon", "Ferron", "Blanchet", "Duval", "Gendron", "Rousseau",
           "Livet", "Poirier", "Lambert", "Bouillon", "Hubert", "Planchenault", "Moreau", "Besnier", "Tessier", "Garnier"],
}
STREETS = ["rue de la Poste", "avenue de la Gare", "rue du Marché", "place de l'Église", "rue des Écoles",
           "rue Principale", "boulevard de l'Océan", "rue du Stade", "allée des Tilleuls", "rue de la Mairie"]


def _with_luhn(base):
    return base + luhn.calc_check_digit(base)


class _Identifiers:
    """Unique, valid identifiers drawn from the seeded generator."""

    def __init__(self, rng):
        self.rng, self.seen = rng, set()

    def _draw(self, make):
        while True:
            value = make()
            if value not in self.seen:
                self.seen.add(value)
                return value

    def rpps(self):
        return self._draw(lambda: _with_luhn("10" + "".join(self.rng.choice("0123456789") for _ in range(8))))

    def adeli(self, department):
        return self._draw(lambda: department + "0" + "".join(self.rng.choice("0123456789") for _ in range(6)))

    def siret(self):
        siren = _with_luhn("".join(self.rng.choice("123456789") for _ in range(8)))
        return self._draw(lambda: _with_luhn(siren + "0001"))


def _ascii(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")


def _phone(rng, department):
    prefix = {"44": "2", "53": "2"}[department] if rng.random() < 0.5 else "6"
    return "+33" + prefix + ("40" if department == "44" else "43") + "".join(rng.choice("0123456789") for _ in range(6))


def _people(rng, ids, mix, named, department, places, domain):
    """Deterministic people: ``places`` is a list of (commune, postcode, site name or None) for each slot."""
    professions = [code for code, count in mix.items() for _ in range(count)]
    for civility, first, last, profession, _, _ in named:
        professions.remove(profession)
    people = []
    used_names = set()
    for civility, first, last, profession, place, role in named:
        people.append(dict(civility=civility, first_name=first, last_name=last, profession=profession,
                           place=places[place], role=role))
        used_names.add((first, last))
    rng.shuffle(professions)
    for profession in professions:
        civility = "Mme" if rng.random() < 0.62 else "M."
        while True:
            first, last = rng.choice(FIRST_NAMES[civility]), rng.choice(LAST_NAMES[department])
            if (first, last) not in used_names:
                used_names.add((first, last))
                break
        people.append(dict(civility=civility, first_name=first, last_name=last, profession=profession, place=None, role=None))
    for person in people:
        register = PROFESSIONS_BY_CODE[person["profession"]].register
        person["rpps"] = ids.rpps() if register == "rpps" else None
        person["adeli"] = ids.adeli(department) if register == "adeli" else None
        person["email"] = f"{_ascii(person['first_name'])}.{_ascii(person['last_name'])}@{domain}"
        person["phone"] = _phone(rng, department)
        person["street"] = f"{rng.randint(1, 60)} {rng.choice(STREETS)}"
    return people


def _find_professional(person):
    for key in ("rpps", "adeli", "email"):
        if person.get(key):
            found = db.session.scalar(select(Professional).where(getattr(Professional, key) == person[key]))
            if found is not None:
                return found
    return None


def _ensure_professional(person, commune, postcode, site=None):
    professional = _find_professional(person)
    if professional is None:
        professional = Professional(
            civility=person["civility"], first_name=person["first_name"], last_name=person["last_name"],
            profession=person["profession"], rpps=person["rpps"], adeli=person["adeli"], email=person["email"],
            phone=person["phone"], address=site.address if site else person["street"], postcode=postcode,
            commune=commune, site=site,
        )
        db.session.add(professional)
    return professional


def _ensure_site(name, kind, commune, postcode, address):
    site = db.session.scalar(select(Site).where(Site.name == name))
    if site is None:
        site = Site(name=name, kind=kind, commune=commune, postcode=postcode, address=address)
        db.session.add(site)
        db.session.flush()
    return site


def _affiliate_once(party, organisation, role, starts_on, ends_on=None):
    """An affiliation of the demo, created on the first run only."""
    from backoffice.organisations.affiliations import affiliate
    from backoffice.organisations.models import Affiliation

    exists = db.session.scalar(select(Affiliation.id).where(
        Affiliation.organisation_id == organisation.id, Affiliation.party_id == party.id, Affiliation.role == role))
    if exists is None:
        affiliate(party, organisation, role, starts_on=starts_on, ends_on=ends_on)


def _assign_roles(organisation, roles, logins, since):
    """The organisation's offices (affiliations from ``since``), and the staff logins linked to
    their directory entry."""
    for role, professional in roles.items():
        _affiliate_once(professional, organisation, role, since)
    for email, role in logins.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.party_id is None and role in roles:
            user.party_id = roles[role].id


def pays_blanc(organisation):
    rng = random.Random(SEED)
    ids = _Identifiers(rng)
    weights = [weight for _, _, weight in PAYS_BLANC_COMMUNES]
    places = [(commune, postcode) for commune, postcode, _ in PAYS_BLANC_COMMUNES]
    people = _people(rng, ids, PAYS_BLANC_MIX, PAYS_BLANC_NAMED, "44", places, "sante-paysblanc.fr")
    # Every commune has at least one professional, the rest follow the population.
    slots = list(places) + rng.choices(places, weights=weights, k=len(people) - len(places))
    rng.shuffle(slots)
    remaining = list(slots)
    for person in people:
        if person["place"] is not None:
            remaining.remove(person["place"])
    free = iter(remaining)
    roles, professionals = {}, []
    for person in people:
        commune, postcode = person["place"] or next(free)
        professional = _ensure_professional(person, commune, postcode)
        professionals.append(professional)
        if person["role"]:
            roles[person["role"]] = professional
    sirets = []
    for name, structure_type, commune, postcode in PAYS_BLANC_STRUCTURES:
        siret, address = ids.siret(), f"{rng.randint(1, 40)} {rng.choice(STREETS)}"  # drawn on every run
        sirets.append(siret)
        if db.session.scalar(select(Structure).where(Structure.siret == siret)) is None:
            db.session.add(Structure(
                name=name, structure_type=structure_type, siren=siret[:9], siret=siret, commune=commune,
                postcode=postcode, address=address, email=f"contact@{_ascii(name)[:40]}.fr",
            ))
    db.session.flush()
    _assign_roles(organisation, roles, {"tresorier@cpts-paysblanc.fr": "treasurer"}, PAYS_BLANC_BOARD_SINCE)
    _link_user("bureau@cpts-paysblanc.fr", "Yann", "Le Goff")
    officers = set(roles.values())
    others = [p for p in professionals if p not in officers]
    for professional in others[:PAYS_BLANC_BOARD_SIZE]:
        _affiliate_once(professional, organisation, "board_member", PAYS_BLANC_BOARD_SINCE)
    # Everyone else of the territory is in the CPTS's directory (its members, soon).
    structures = db.session.scalars(select(Structure).where(Structure.siret.in_(sirets))).all()
    for party in others[PAYS_BLANC_BOARD_SIZE:] + list(structures):
        _affiliate_once(party, organisation, "contact", PAYS_BLANC_BOARD_SINCE)


def _link_user(email, first_name, last_name):
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.party_id is None:
        user.party_id = db.session.scalar(select(Professional.id).where(
            Professional.first_name == first_name, Professional.last_name == last_name))


def pays_de_mayenne(organisation):
    rng = random.Random(SEED + 53)
    ids = _Identifiers(rng)
    sites = [_ensure_site(name, kind, commune, postcode, f"{rng.randint(1, 30)} {rng.choice(STREETS)}")
             for name, kind, commune, postcode in MAYENNE_SITES]
    places = [(site.commune, site.postcode, site) for site in sites]
    people = _people(rng, ids, MAYENNE_MIX, MAYENNE_NAMED, "53", places, "psl-paysdemayenne.fr")
    roles, professionals = {}, []
    spread = 0
    for person in people:
        if person["place"] is None:
            if person["profession"] in MAYENNE_AT_MAIN_SITE:
                person["place"] = places[1]
            else:
                person["place"] = places[spread % len(places)]
                spread += 1
        commune, postcode, site = person["place"]
        professional = _ensure_professional(person, commune, postcode, site)
        professionals.append(professional)
        if person["role"]:
            roles[person["role"]] = professional
    db.session.flush()
    _assign_roles(organisation, roles, {"gerant@psl-paysdemayenne.fr": "treasurer"}, MAYENNE_CREATED_ON)
    _affiliate_once(roles["treasurer"], organisation, "manager", MAYENNE_CREATED_ON)
    # The 90 professionals are the SISA's associates: the last one listed joined in June 2025,
    # the one before left in September 2025.
    *founders, leaver, newcomer = professionals
    for professional in founders:
        _affiliate_once(professional, organisation, "associate", MAYENNE_CREATED_ON)
    _affiliate_once(leaver, organisation, "associate", MAYENNE_CREATED_ON, ends_on=MAYENNE_LEFT_ON)
    _affiliate_once(newcomer, organisation, "associate", MAYENNE_JOINED_ON)


def step(organisations_by_slug):
    """Seed the directory of both demo organisations: their offices, the CPTS's board and contacts,
    the SISA's associates (affiliations)."""
    if "cpts-pays-blanc" in organisations_by_slug:
        pays_blanc(organisations_by_slug["cpts-pays-blanc"])
    if "sisa-pays-de-mayenne" in organisations_by_slug:
        pays_de_mayenne(organisations_by_slug["sisa-pays-de-mayenne"])
    db.session.flush()


if step not in DEMO_STEPS:
    DEMO_STEPS.append(step)
