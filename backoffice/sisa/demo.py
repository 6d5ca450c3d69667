"""Demo of the SISA Pôle de Santé Libéral du Pays de Mayenne, 2025: ACI advance and balance, an
ETP programme, deductions (posted), mission points, a year of coordination meetings, three keys
in two scenarios, the associates' bank details (one missing at first), a validated distribution
corrected by a second version (an associate's forgotten meetings, posting only the differences)
whose statements and transfer file (pain.001) are produced by their jobs, the transfers of that
file marked paid on their execution date, and the points grid of the expected ACI (illustrative
points, not a copy of the contract's).

Deterministic (fixed seed) and idempotent: nothing is added once the year has income. Everything
goes through the services, so the books get their entries as in real use: this demo is the one
source of the SISA's 2025 ACI (the advance, and the balance received on 20/04/2026, income of
2025 through 4687 at 31/12/2025), its ETP programme, its deductions (D charge / C 408 at
31/12/2025) and its distribution (version 1, then version 2's differences, dated 31/12/2025).
The rest of the SISA's books is ``accounting.demo``'s: 2024, the insurance and bank fees, the
payment in 2026 of the invoices behind these deductions, and the closing of 2025 (after this
demo has posted into it). Version 2 is paid as a treasurer pays it, once its transfer file is
written: on the 29/05/2026 execution date, D 4551 per associate / C 512, lettered (after the seed's
commit, since the file is a job's).
"""
import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

import backoffice.people.demo  # noqa: F401  (the associates are seeded by the directory's step)
from backoffice.demo import AFTER_COMMIT_STEPS, DEMO_STEPS
from backoffice.extensions import db
from backoffice.sisa import services
from backoffice.sisa.models import SisaAttendance, SisaIncome, SisaMeeting

SEED = 20251231
YEAR = 2025
THEMES = [("rcp", "RCP patients diabétiques de type 2"), ("rcp", "RCP insuffisance cardiaque"),
          ("rcp", "RCP personnes âgées à domicile"), ("protocol", "Protocole AVK et anticoagulants"),
          ("protocol", "Protocole plaies chroniques"), ("training", "Formation dépistage du mélanome"),
          ("cpts", "Mission CPTS : soins non programmés"), ("rcp", "RCP santé mentale et addictions")]


def pays_de_mayenne(organisation):
    if db.session.scalar(select(SisaIncome.id).where(SisaIncome.organisation_id == organisation.id,
                                                     SisaIncome.year == YEAR).limit(1)):
        return
    rng = random.Random(SEED)
    services.record_income(organisation, YEAR, "advance", "Avance ACI 2025 (60 %)", date(2025, 4, 28),
                           Decimal("70560.00"))
    services.record_income(organisation, YEAR, "balance", "Solde ACI 2025", date(2026, 4, 20), Decimal("47040.00"))
    services.record_income(organisation, YEAR, "other", "Programme ETP diabète (ARS)", date(2025, 10, 6),
                           Decimal("6000.00"))
    services.add_deduction(organisation, YEAR, "coordinator", "Coordinatrice (0,6 ETP)", percentage="18")
    services.add_deduction(organisation, YEAR, "software", "Logiciel pluriprofessionnel partagé", amount="4 320,00")
    services.add_deduction(organisation, YEAR, "accountant", "Cabinet d'expertise comptable", amount="3 600,00")
    services.add_deduction(organisation, YEAR, "reserve", "Réserve de trésorerie", amount="5 000,00")
    rows = services.associates(organisation, YEAR)
    parties = [row.party for row in rows]
    for party in rng.sample(parties, 12):
        services.add_mission_points(organisation, YEAR, party, rng.choice(
            ["Référent protocole", "Protocole rédigé", "Astreinte week-end", "Référent système d'information"]),
            str(rng.choice([1, 2, 3, 5])))
    _meetings(organisation, rows, rng)
    scenario = services.create_scenario(organisation, YEAR, "Règlement intérieur 2025")
    services.set_keys(scenario, [
        services.KeyRow("Part égale", "30", "equal", True),
        services.KeyRow("Temps de coordination", "50", "hours"),
        services.KeyRow("Missions", "20", "points", weights="Médecin généraliste = 1,2")])
    variant = services.create_scenario(organisation, YEAR, "Variante : 60 % au temps")
    services.set_keys(variant, [services.KeyRow("Part égale", "20", "equal", True),
                                services.KeyRow("Temps de coordination", "60", "hours"),
                                services.KeyRow("Missions", "20", "points")])
    _bank_details(organisation, parties, rng)
    services.post_deductions(organisation, YEAR, date(2025, 12, 31))
    services.freeze(services.prepare_version(organisation, YEAR, scenario), date(2025, 12, 31))
    _correction(organisation, scenario, rows, rng)
    db.session.flush()


# The treasurer (cogérant) in whose name the demo's documents are produced, as if he had asked.
TREASURER = "gerant@psl-paysdemayenne.fr"
CORRECTED_ON, EXECUTION_DATE = date(2026, 5, 20), date(2026, 5, 29)


def _correction(organisation, scenario, rows, rng):
    """Version 2: an associate's two RCP missing from the attendance sheets are added, the
    associate without bank details gives his IBAN, the correction is validated (posting only
    the differences), then its statements and its transfer file are produced by their jobs
    (started here, run once the seed has committed: by the worker, or inline without Redis)."""
    from schwifty import IBAN

    from backoffice.auth.services import find_user_by_email

    whole_year = [row.party for row in rows if row.starts_on <= date(YEAR, 1, 1) and row.ends_on is None]
    forgotten = rng.choice(whole_year)
    missed = [meeting for meeting, _ in services.meetings(organisation, YEAR) if meeting.kind == "rcp"
              and forgotten.id not in {a.party_id for a in meeting.attendances}][:2]
    for meeting in missed:
        services.save_meeting(organisation, meeting, held_on=meeting.held_on, minutes=meeting.duration_minutes,
                              kind=meeting.kind, theme=meeting.theme,
                              party_ids=[a.party_id for a in meeting.attendances] + [forgotten.id])
    without_iban = rows[-1].party
    services.save_associate(organisation, without_iban, iban=IBAN.generate(
        "FR", bank_code="1027800001", account_code=f"{rng.randrange(10 ** 10, 10 ** 11)}").compact)
    corrected = services.freeze(services.prepare_version(organisation, YEAR, scenario), CORRECTED_ON)
    treasurer = find_user_by_email(TREASURER)
    services.start_statements(corrected, treasurer)
    services.start_transfer_file(corrected, treasurer, EXECUTION_DATE)


def pay_correction(organisations_by_slug):
    """Version 2's transfers went out on the execution date of its pain.001: marked paid
    (``services.mark_paid``: D 4551 per associate / C 512, lettered), once the file is written.
    The file's job was started by the seed and ran at its commit when jobs run inline; otherwise
    it runs here, before the worker gets to it. Nothing to do once the version is paid."""
    from backoffice.tasks.models import Task, TaskStatus
    from backoffice.tasks.services import run_now

    organisation = organisations_by_slug.get("sisa-pays-de-mayenne")
    corrected = services.current_version(organisation, YEAR) if organisation is not None else None
    if corrected is None or corrected.status != "frozen":
        return
    transfer_file = db.session.scalar(select(Task).where(
        Task.organisation_id == organisation.id, Task.dedupe_key == f"sisa.transfer_file:{corrected.id}")
        .order_by(Task.id.desc()).limit(1))
    if transfer_file is None:
        return
    if transfer_file.status is TaskStatus.QUEUED:
        run_now(transfer_file)
        db.session.refresh(transfer_file)
    if transfer_file.status is TaskStatus.DONE:
        services.mark_paid(corrected, EXECUTION_DATE)


# (indicator, fixed points, variable points for 4 000 patients, achievement %): the demo's own figures.
ACI_GRID = [("Accès aux soins : horaires d'ouverture et soins non programmés", "800", "", ""),
            ("Missions de santé publique", "", "700", ""),
            ("Fonction de coordination", "1700", "1100", ""),
            ("Protocoles pluriprofessionnels", "", "800", "75"),
            ("Concertation pluriprofessionnelle", "", "1000", ""),
            ("Formation des jeunes professionnels", "450", "", ""),
            ("Système d'information (niveau avancé)", "9400", "", "")]


def _aci_grid(organisation):
    from backoffice.sisa import aci

    if aci.grid(organisation, YEAR) is None:
        aci.save_grid(organisation, YEAR, point_value="7", advance_percentage="60", reference_patients="4000",
                      patients="5200", rows=[aci.IndicatorRow(*row) for row in ACI_GRID])


def _bank_details(organisation, parties, rng):
    """A valid IBAN for every associate but one (the transfer file then names who is missing)."""
    from schwifty import IBAN

    for party in parties[:-1]:
        iban = IBAN.generate("FR", bank_code=rng.choice(["1790600032", "3000400031", "1027800001", "2004101005"]),
                             account_code=f"{rng.randrange(10 ** 10, 10 ** 11)}")
        services.save_associate(organisation, party, iban=iban.compact,
                                capital_share=Decimal("150.00") if rng.random() < 0.5 else None)


def _meetings(organisation, rows, rng):
    """About two meetings a month; attendance among the associates present that day."""
    day = date(YEAR, 1, 9)
    while day.year == YEAR:
        kind, theme = rng.choice(THEMES)
        present = [row.party for row in rows if row.starts_on <= day and (row.ends_on is None or row.ends_on >= day)]
        meeting = SisaMeeting(organisation_id=organisation.id, held_on=day, kind=kind, theme=theme,
                              duration_minutes=rng.choice([60, 90, 120]))
        meeting.attendances = [SisaAttendance(party_id=p.id) for p in rng.sample(present, rng.randint(8, 25))]
        db.session.add(meeting)
        day += timedelta(days=rng.choice([13, 14, 15, 16]))


def step(organisations_by_slug):
    if "sisa-pays-de-mayenne" in organisations_by_slug:
        pays_de_mayenne(organisations_by_slug["sisa-pays-de-mayenne"])
        _aci_grid(organisations_by_slug["sisa-pays-de-mayenne"])


if step not in DEMO_STEPS:
    DEMO_STEPS.append(step)
if pay_correction not in AFTER_COMMIT_STEPS:
    AFTER_COMMIT_STEPS.append(pay_correction)
