"""Demo assemblies of the CPTS du Pays Blanc: the 2026 AGO (held, quorum reached, proxies, online
and in-room votes, a secret ballot online and on paper, its minutes) and an AGE on the statutes whose quorum failed,
followed by its second convocation (to come).

Idempotent: an assembly is recognised by its title; nothing is redone once it exists.
"""
import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

import backoffice.membership.demo  # noqa: F401  (the roll comes from the memberships' step)
from backoffice.assemblies import minutes, services, voting
from backoffice.assemblies.models import Assembly, AssemblyKind, Choice, MajorityRule
from backoffice.demo import DEMO_STEPS
from backoffice.extensions import db

SEED = 20260608
AGO = "Assemblée générale ordinaire 2026"
AGE = "Assemblée générale extraordinaire — modification des statuts"
AGO_RESOLUTIONS = [
    ("Approbation des comptes de l'exercice 2025",
     "L'assemblée générale, après avoir entendu le rapport financier, approuve les comptes de l'exercice 2025 "
     "et donne quitus au bureau.", MajorityRule.SIMPLE, False),
    ("Rapport moral et rapport financier",
     "L'assemblée générale approuve le rapport moral de la présidente et le rapport financier de la trésorière.",
     MajorityRule.SIMPLE, False),
    ("Grille des cotisations 2027",
     "Médecin 50 €, autre professionnel de santé 30 €, structure 100 €, première adhésion 20 €.",
     MajorityRule.SIMPLE, False),
    ("Programme dermatoscopes",
     "L'assemblée approuve l'aide à l'équipement de dix cabinets en dermatoscopes pour le dépistage du mélanome, "
     "dans la limite de 15 000 € sur l'exercice 2027.", MajorityRule.SIMPLE, True),
]
AGE_RESOLUTIONS = [
    ("Modification de l'article 7 des statuts (collèges)",
     "Création d'un collège des usagers avec voix consultative.", MajorityRule.TWO_THIRDS, False),
]


def _exists(organisation, title):
    return db.session.scalar(select(Assembly.id).where(Assembly.organisation_id == organisation.id,
                                                       Assembly.title == title)) is not None


def _agenda(assembly, resolutions):
    for title, text, majority, secret in resolutions:
        services.add_resolution(assembly, title, text, majority, secret)


def _hold(rng, assembly, present_share, proxies, online_share):
    """Sign in ``present_share`` of the roll, record ``proxies`` paper proxies from absent members,
    vote every resolution (online for some present members, the rest as the room's counts)."""
    voters = list(assembly.voters)
    rng.shuffle(voters)
    present = voters[:round(len(voters) * present_share)]
    absent = voters[len(present):]
    holders = iter([v for v in present for _ in range(assembly.max_proxies)])
    for giver in absent[:proxies]:
        voting.give_proxy(assembly, giver, next(holders))
    services.open_session(assembly)
    for voter in present:
        voting.check_in(assembly, voter)
    online = present[:round(len(present) * online_share)]
    for resolution in assembly.resolutions:
        voting.open_vote(resolution)
        for voter in online:
            for right in voting.rights_of(assembly, voter):
                choice = rng.choices([Choice.FOR, Choice.AGAINST, Choice.ABSTAIN], [85, 7, 8])[0]
                voting.cast(resolution, right, voter, choice)
        # The others: a show of hands, or paper ballots in the urn for a secret vote (the tellers' totals).
        room = sum(len(voting.rights_of(assembly, v)) for v in present[len(online):])
        against = min(rng.randint(0, 2), room)
        abstain = min(rng.randint(0, 2), room - against)
        voting.set_room_counts(resolution, room - against - abstain, against, abstain)
        voting.close_vote(resolution)
    services.close_session(assembly)


def pays_blanc(organisation):
    rng = random.Random(SEED)
    if not _exists(organisation, AGO):
        ago = services.create_assembly(
            organisation, title=AGO, kind=AssemblyKind.ORDINARY, held_at=datetime(2026, 6, 8, 18, 30),
            place="Salle des fêtes, 44250 Saint-Brevin-les-Pins", video_link="https://visio.cpts-paysblanc.fr/ag-2026",
            cut_off=date(2026, 5, 20), quorum_numerator=1, quorum_denominator=4, max_proxies=2, notice_days=15)
        _agenda(ago, AGO_RESOLUTIONS)
        services.convene(ago, on=date(2026, 5, 20))
        _hold(rng, ago, present_share=0.35, proxies=12, online_share=0.4)
        minutes.issue_minutes(ago)
    if not _exists(organisation, AGE):
        age = services.create_assembly(
            organisation, title=AGE, kind=AssemblyKind.EXTRAORDINARY, held_at=datetime(2026, 11, 16, 19, 0),
            place="Maison des associations, 44350 Guérande", cut_off=date(2026, 10, 31), quorum_numerator=1,
            quorum_denominator=2, max_proxies=2, notice_days=15)
        _agenda(age, AGE_RESOLUTIONS)
        services.convene(age, on=date(2026, 10, 30))
        _hold(rng, age, present_share=0.15, proxies=4, online_share=0.5)
        upcoming = datetime.combine(max(date.today(), date(2026, 11, 17)) + timedelta(days=21), datetime.min.time())
        services.second_convocation(age, upcoming.replace(hour=19))
    db.session.flush()


def step(organisations_by_slug):
    if "cpts-pays-blanc" in organisations_by_slug:
        pays_blanc(organisations_by_slug["cpts-pays-blanc"])


if step not in DEMO_STEPS:
    DEMO_STEPS.append(step)
