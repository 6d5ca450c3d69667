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


def committed_assembly(db, voters, secret=True, resolutions=None, proxies=(), users=0, slug_prefix="ag"):
    """A context manager: an assembly in session, *committed* (for tests whose work runs in other
    transactions, threads or processes), with ``voters`` voters on its roll (weight 1), the
    ``resolutions`` ((title, secret) pairs; by default one « Programme dermatoscopes », secret when
    ``secret``) open for votes, the ``proxies`` ((giver index, holder index) pairs) standing, and a
    member account for each of the first ``users`` voters. Yields the ids; deletes it all afterwards."""
    import uuid
    from contextlib import contextmanager

    from sqlalchemy import text

    from backoffice.assemblies import voting
    from backoffice.assemblies.models import AssemblyStatus, AssemblyVoter
    from backoffice.auth.services import create_user, grant_role
    from backoffice.lifecycle import move
    from backoffice.organisations.services import create_organisation

    @contextmanager
    def made():
        slug = f"{slug_prefix}-{uuid.uuid4().hex[:8]}"
        organisation = create_organisation("CPTS de l'Estuaire", "cpts", slug=slug)
        a = services.create_assembly(organisation, title="AGO 2026", held_at=HELD_AT, place="Saint-Nazaire",
                                     cut_off=CUT_OFF, quorum_numerator=1, quorum_denominator=4, max_proxies=2)
        for title, is_secret in resolutions or [("Programme dermatoscopes", secret)]:
            services.add_resolution(a, title, f"L'assemblée générale approuve : {title.lower()}.", secret=is_secret)
        parties = [ProfessionalFactory(first_name="Anne", last_name=f"Votant{n:03d}", email=None)
                   for n in range(voters)]
        db.session.flush()
        lines = [AssemblyVoter(assembly_id=a.id, party_id=p.id, sort_name=p.sort_name, weight=1) for p in parties]
        db.session.add_all(lines)
        accounts = []
        if users:
            for n, party in enumerate(parties[:users]):
                user = create_user(f"votant{n:03d}-{slug}@example.org", party.display_name, party=party)
                grant_role(user, organisation, "member")
                accounts.append(user)
        db.session.flush()
        move(a, AssemblyStatus.CONVENED)
        for giver, holder in proxies:
            voting.give_proxy(a, lines[giver], lines[holder], source="online")
        move(a, AssemblyStatus.IN_SESSION)
        for resolution in a.resolutions:
            voting.open_vote(resolution)
        db.session.commit()
        ids = dict(organisation=organisation.id, slug=slug, assembly=a.id,
                   resolutions=[r.id for r in a.resolutions], resolution=a.resolutions[-1].id,
                   voters=[v.id for v in lines], parties=[p.id for p in parties], users=[u.id for u in accounts])
        try:
            yield ids
        finally:
            db.session.rollback()
            with db.engine.begin() as connection:
                for table in ("audit_entries", "status_changes"):
                    connection.execute(text(f"DELETE FROM {table} WHERE organisation_id = :id"),
                                       {"id": ids["organisation"]})
                if ids["users"]:
                    connection.execute(text("DELETE FROM role_assignments WHERE organisation_id = :id"),
                                       {"id": ids["organisation"]})
                    for user_id in ids["users"]:
                        connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
                connection.execute(text("DELETE FROM organisations WHERE id = :id"), {"id": ids["organisation"]})
                for party_id in ids["parties"]:
                    connection.execute(text("DELETE FROM parties WHERE id = :id"), {"id": party_id})

    return made()


def committed_on_postgresql(db, why, **settings):
    """For a fixture (``yield from``): :func:`committed_assembly` on PostgreSQL; skipped, saying
    ``why``, on SQLite."""
    import pytest

    if db.engine.dialect.name != "postgresql":
        pytest.skip(why)
    with committed_assembly(db, **settings) as ids:
        yield ids
