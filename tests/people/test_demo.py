"""The demo territory: exact figures, valid identifiers, idempotent."""
from collections import Counter

import pytest
from sqlalchemy import func, select
from stdnum import luhn

from backoffice import demo
from backoffice.auth.models import User
from backoffice.extensions import db
from backoffice.organisations.models import Affiliation, Organisation
from backoffice.people import demo as people_demo
from backoffice.people.models import Party, Professional, Site, Structure
from backoffice.validation import clean_adeli, clean_email, clean_phone, clean_siret


@pytest.fixture
def seeded(monkeypatch):
    # Only this feature's step: other features test their own.
    monkeypatch.setattr(demo, "_steps", lambda: [people_demo.step])
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")  # argon2 is slow
    demo.seed()
    return {o.slug: o for o in db.session.scalars(select(Organisation))}


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Professional, Structure, Site, Party, Affiliation))


def test_seeding_twice_changes_nothing(seeded):
    before = _counts()
    snapshot = sorted(db.session.execute(select(Professional.id, Professional.rpps, Professional.adeli,
                                                Professional.last_name, Professional.site_id)).all())
    demo.seed()
    assert _counts() == before
    assert sorted(db.session.execute(select(Professional.id, Professional.rpps, Professional.adeli,
                                            Professional.last_name, Professional.site_id)).all()) == snapshot
    # Affiliations: the CPTS's 85 professionals and 4 structures (offices, board, contacts); the
    # SISA's 90 associates, its president, treasurer and manager.
    assert before == (85 + 90, 4, 9, 85 + 90 + 4, 85 + 4 + 90 + 3)


def test_mayenne_mix_is_exact(seeded):
    sites = db.session.scalars(select(Site)).all()
    assert Counter(site.kind for site in sites) == {"msp": 4, "satellite": 5}
    assert {s.commune for s in sites if s.kind == "msp"} == {"Lassay-les-Châteaux", "Mayenne", "Ambrières-les-Châteaux", "Oisseau"}
    people = db.session.scalars(select(Professional).where(Professional.site_id.is_not(None))).all()
    assert len(people) == 90
    assert Counter(p.profession for p in people) == {
        "medecin_generaliste": 22, "dermatologue": 2, "radiologue": 10, "psychiatre": 1, "pharmacien": 13,
        "pedicure_podologue": 4, "masseur_kinesitherapeute": 2, "infirmier": 33, "orthophoniste": 1,
        "dieteticien": 1, "audioprothesiste": 1,
    }
    assert len({p.site_id for p in people}) == 9


def test_pays_blanc_covers_its_18_communes(seeded):
    people = db.session.scalars(select(Professional).where(Professional.postcode.startswith("44"))).all()
    assert len(people) == 85
    assert len({p.commune for p in people}) == 18
    assert sum(p.profession == "medecin_generaliste" for p in people) == 20
    structures = db.session.scalars(select(Structure)).all()
    assert sorted(s.structure_type for s in structures) == ["ehpad", "msp", "pharmacie", "ssiad"]
    for structure in structures:
        assert clean_siret(structure.siret) == structure.siret and structure.siret.startswith(structure.siren)


def test_identifiers_and_contacts_are_valid_and_unique(seeded):
    people = db.session.scalars(select(Professional)).all()
    rpps = [p.rpps for p in people if p.rpps]
    adeli = [p.adeli for p in people if p.adeli]
    assert len(rpps) == len(set(rpps)) and all(len(n) == 11 and luhn.is_valid(n) for n in rpps)
    assert len(adeli) == len(set(adeli)) and all(clean_adeli(n) == n for n in adeli)
    assert {p.profession for p in people if p.adeli} == {"dieteticien", "audioprothesiste", "psychologue", "ergotherapeute"}
    assert all(clean_phone(p.phone) == p.phone for p in people)
    assert all(clean_email(p.email) == p.email for p in people)
    assert len({p.email for p in people}) == len(people)


def test_officers_and_logins_are_linked_to_the_directory(seeded):
    from backoffice.organisations.affiliations import Role, current_holder, holders

    cpts, sisa = seeded["cpts-pays-blanc"], seeded["sisa-pays-de-mayenne"]
    treasurer, president = current_holder(cpts, Role.TREASURER), current_holder(cpts, Role.PRESIDENT)
    assert treasurer.display_name == "Claire MORVAN" and treasurer.commune == "Guérande"
    assert president.display_name == "Anne LE BIHAN"
    assert current_holder(cpts, Role.SECRETARY).display_name == "Yann LE GOFF"
    assert len(holders(cpts, Role.BOARD_MEMBER)) == 5
    assert current_holder(sisa, Role.TREASURER).display_name == "Paul CHEVALIER"
    assert current_holder(sisa, Role.PRESIDENT).display_name == "Hélène BROCHARD"
    treasurer_login = db.session.scalar(select(User).where(User.email == "tresorier@cpts-paysblanc.fr"))
    assert treasurer_login.party_id == treasurer.id
    gerant = db.session.scalar(select(User).where(User.email == "gerant@psl-paysdemayenne.fr"))
    assert gerant.party_id == current_holder(sisa, Role.MANAGER).id


def test_sisa_associates_with_a_newcomer_and_a_leaver(seeded):
    from datetime import date

    from backoffice.organisations.affiliations import Role, affiliations, holders

    sisa = seeded["sisa-pays-de-mayenne"]
    associates = affiliations(sisa, roles=[Role.ASSOCIATE])
    assert len(associates) == 90 and len({a.party_id for a in associates}) == 90
    assert sorted((a.starts_on, a.ends_on) for a in associates if (a.starts_on, a.ends_on) != (date(2012, 12, 1), None)) \
        == [(date(2012, 12, 1), date(2025, 9, 30)), (date(2025, 6, 16), None)]
    assert len(holders(sisa, Role.ASSOCIATE, date(2025, 7, 1))) == 90
    assert len(holders(sisa, Role.ASSOCIATE, date(2025, 3, 1))) == 89
    assert len(holders(sisa, Role.ASSOCIATE, date(2025, 12, 1))) == 89


def test_generation_depends_only_on_the_seed():
    import random

    def generate():
        rng = random.Random(people_demo.SEED)
        return people_demo._people(rng, people_demo._Identifiers(rng), people_demo.MAYENNE_MIX,
                                   people_demo.MAYENNE_NAMED, "53", [("Mayenne", "53100", None)] * 9, "x.fr")

    first = generate()
    assert first == generate()
    assert len(first) == 90 and first[0]["last_name"] == "Chevalier"
