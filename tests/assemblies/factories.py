"""Test data of assemblies: a CPTS's 2026 roll (paid, exempt, late, unpaid) and an AGO on it."""
import unicodedata
from datetime import date, datetime

from backoffice.assemblies import services
from backoffice.assemblies.models import MajorityRule
from backoffice.membership import services as membership
from backoffice.membership.models import CategoryKind
from tests.factories import ProfessionalFactory, StructureFactory

CUT_OFF = date(2026, 5, 20)
HELD_AT = datetime(2026, 6, 8, 18, 30)

PAID = [("Anne", "Le Floch"), ("Zoé", "Ćwikła"), ("Loïc", "Kerjean"), ("Maëlle", "Guérin"), ("Yann", "Le Gall"),
        ("Océane", "Nédélec"), ("Hervé", "Thébault")]


def _category(period, kind=CategoryKind.PHYSICIAN):
    return next(c for c in period.categories if c.kind is kind)


def _email(first_name, last_name):
    ascii_name = unicodedata.normalize("NFKD", f"{first_name}.{last_name}").encode("ascii", "ignore").decode()
    return ascii_name.lower().replace(" ", "").replace("'", "") + "@example.org"


def member(organisation, period, first_name, last_name, paid_on=date(2026, 3, 1), college=None, email=True):
    party = ProfessionalFactory(first_name=first_name, last_name=last_name, profession="medecin_generaliste",
                                email=_email(first_name, last_name) if email else None)
    m = membership.create_membership(organisation, party, period, category=_category(period), college=college,
                                     joined_on=date(2026, 1, 5))
    if paid_on is not None:
        membership.record_payment(m, "50,00", "transfer", paid_on)
    return m


def roll_world(organisation, period, colleges=None):
    """Seven members in good standing at the cut-off, one paid after it, one unpaid, a structure
    (in the « Structures » collège when ``colleges`` are given). Returns {name: membership}."""
    liberaux, structures = (colleges[0], colleges[1]) if colleges else (None, None)
    world = {last: member(organisation, period, first, last, college=liberaux) for first, last in PAID}
    world["late"] = member(organisation, period, "Loïc", "d'Arvor", paid_on=date(2026, 5, 21), college=liberaux)
    world["unpaid"] = member(organisation, period, "Thị", "Ngô", paid_on=None, college=liberaux)
    ehpad = StructureFactory(name="EHPAD « Les Mimosas »", email="direction@mimosas.example.org")
    m = membership.create_membership(organisation, ehpad, period, category=_category(period, CategoryKind.STRUCTURE),
                                     college=structures, joined_on=date(2026, 1, 20))
    membership.record_payment(m, "100", "transfer", date(2026, 4, 1))
    world["structure"] = m
    return world


def settings(**overrides):
    values = dict(title="Assemblée générale ordinaire 2026", held_at=HELD_AT, place="Salle des fêtes, Saint-Brevin",
                  cut_off=CUT_OFF, quorum_numerator=1, quorum_denominator=4, max_proxies=2, notice_days=15)
    return values | overrides


def assembly(organisation, resolutions=2, **overrides):
    a = services.create_assembly(organisation, **settings(**overrides))
    titles = ["Approbation des comptes 2025", "Rapport moral", "Grille des cotisations 2027", "Programme dermatoscopes"]
    for title in titles[:resolutions]:
        services.add_resolution(a, title, f"L'assemblée générale approuve : {title.lower()}.", MajorityRule.SIMPLE)
    return a


def voter(assembly, last_name):
    """The voter line of the member named ``last_name`` (as in ``PAID``)."""
    return next(v for v in assembly.voters if last_name.upper() in v.party.display_name)


def board_csv(client, login_as, assembly, resolution):
    """The published board of a closed secret ballot, as its job writes it (CSV text)."""
    from backoffice.extensions import db
    from backoffice.tasks.models import Task

    login_as("board")
    client.post(f"/o/cpts-test/assemblies/{assembly.id}/resolutions/{resolution.id}/board")
    task = db.session.query(Task).filter_by(kind="assemblies.secret_board").one()
    db.session.refresh(task)
    return task.result_abspath().read_text(encoding="utf-8-sig")
