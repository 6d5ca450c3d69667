"""Benchmark: a SISA distribution for 10,000 associates with 5 keys and 200,000 attendance rows.

Run from the repository root: ``python -m bench.bench_sisa`` (``--quick`` for 1,000 associates
and nothing recorded; ``--database sqlite|postgresql|both``).

For each database (a SQLite file under /tmp, and a PostgreSQL database created for the run and
dropped after it):

* Seeding: a SISA with 10,000 associates (a tenth joined or left during the year, six
  professions), 400 meetings of 500 attendees (200,000 attendance rows), 2,000 mission points,
  the year's income and a deduction, and a scenario of 5 keys (equal prorated, hours, points,
  equal weighted by profession, hours prorated); a second SISA ten times smaller, the same way.
* Speed: ``services.simulate(organisation, year, scenario)`` — the calculation's inputs read
  from the database (associates with their dates, hours, points, income, deductions, keys) and
  every share computed to the cent by largest remainder — against a baseline measured in the same
  run: **the plain SQL reading the same data** (the affiliations joined to the parties, the
  minutes summed per associate over the attendance rows, the points summed per associate), rows
  fetched and nothing else done. ``ROUNDS`` pairs (baseline, then ours, under the same load);
  medians of the wall-clock times. Target: ours under 1 s.
* Queries: the SQL statements ``simulate`` runs for the 10,000 associates against those it runs
  for the 1,000 of the smaller SISA: they must be as many (no query per associate).

Figures go to ``bench/results.json`` through ``bench.results.record``:
``sisa.<db>.distribution_10k_associates`` (ms, the baseline in ms, ratio ours / baseline),
``sisa.<db>.distribution_10k_associates_budget`` (ours against the 1,000 ms target) and
``sisa.<db>.distribution_queries`` (statements for 10,000 associates, baseline the statements
for 1,000, ratio).
"""
from __future__ import annotations

import random
import sys
import time
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

from bench.bench_ledger_export import log, make_app
from bench.databases import main_over_databases
from bench.results import load_note, paired_medians, record_with_budget

ASSOCIATES = 10_000
MEETINGS = 400
ATTENDEES = 500  # per meeting: 400 × 500 = 200,000 attendance rows
ROUNDS = 5
TARGET_MS = 1000
YEAR = 2025
PROFESSIONS = ["medecin_generaliste", "infirmier", "masseur_kinesitherapeute", "pharmacien", "sage_femme",
               "dieteticien"]


def seed_sisa(slug, associates, meetings, attendees, seed=2025):
    """A SISA with ``associates`` associates, ``meetings`` meetings of ``attendees`` each, points,
    income, a deduction and a 5-key scenario; returns (organisation id, scenario id, attendance rows)."""
    from sqlalchemy import insert, select

    from backoffice.extensions import db
    from backoffice.organisations.models import Affiliation, Organisation, OrganisationKind
    from backoffice.people.models import Party, PartyKind
    from backoffice.sisa import services
    from backoffice.sisa.models import SisaAttendance, SisaMeeting, SisaMissionPoints
    from backoffice.sisa.services import KeyRow

    rng = random.Random(seed)
    organisation = Organisation(slug=slug, name=f"SISA {slug}", kind=OrganisationKind.SISA, fiscal_year_start_month=1)
    db.session.add(organisation)
    db.session.flush()
    first_id = (db.session.scalar(select(Party.id).order_by(Party.id.desc()).limit(1)) or 0) + 1
    db.session.execute(insert(Party), [
        {"id": first_id + n, "kind": PartyKind.PROFESSIONAL, "first_name": f"Prénom{n}", "last_name": f"Associé{n:05d}",
         "sort_name": f"associé{n:05d} prénom{n}", "profession": PROFESSIONS[n % len(PROFESSIONS)]}
        for n in range(associates)])
    party_ids = [first_id + n for n in range(associates)]
    periods = []
    for n, party_id in enumerate(party_ids):
        starts_on, ends_on = date(2015, 1, 1), None
        if n % 20 == 1:
            starts_on = date(YEAR, 1, 1) + timedelta(days=rng.randrange(1, 300))  # joined during the year
        elif n % 20 == 2:
            ends_on = date(YEAR, 1, 1) + timedelta(days=rng.randrange(30, 364))  # left during the year
        periods.append((party_id, starts_on, ends_on))
    db.session.execute(insert(Affiliation), [
        {"organisation_id": organisation.id, "party_id": pid, "role": "associate", "starts_on": s, "ends_on": e}
        for pid, s, e in periods])
    meeting_rows = [{"organisation_id": organisation.id, "held_on": date(YEAR, 1, 2) + timedelta(days=n % 360),
                     "duration_minutes": rng.choice([60, 90, 120]), "kind": "rcp", "theme": f"RCP n° {n + 1}"}
                    for n in range(meetings)]
    db.session.execute(insert(SisaMeeting), meeting_rows)
    meeting_ids = list(db.session.scalars(select(SisaMeeting.id).where(SisaMeeting.organisation_id == organisation.id)
                                          .order_by(SisaMeeting.id)))
    attendance = [{"meeting_id": meeting_id, "party_id": pid}
                  for meeting_id in meeting_ids for pid in rng.sample(party_ids, attendees)]
    for start in range(0, len(attendance), 20_000):
        db.session.execute(insert(SisaAttendance), attendance[start:start + 20_000])
    db.session.execute(insert(SisaMissionPoints), [
        {"organisation_id": organisation.id, "year": YEAR, "party_id": pid, "label": "Référent protocole",
         "points": Decimal(rng.choice([1, 2, 3, 5]))} for pid in rng.sample(party_ids, associates // 5)])
    services.record_income(organisation, YEAR, "advance", "Avance ACI", date(YEAR, 4, 30),
                           Decimal(associates) * Decimal("787.13"))
    services.record_income(organisation, YEAR, "balance", "Solde ACI", date(YEAR + 1, 4, 20),
                           Decimal(associates) * Decimal("524.77"))
    services.add_deduction(organisation, YEAR, "coordinator", "Coordination", percentage="12,5")
    scenario = services.create_scenario(organisation, YEAR, "Cinq clés")
    services.set_keys(scenario, [
        KeyRow("Part égale", "20", "equal", True), KeyRow("Temps de coordination", "30", "hours"),
        KeyRow("Missions", "20", "points"),
        KeyRow("Part par profession", "15", "equal", weights="Médecin généraliste = 1,5 ; Infirmier = 1,2"),
        KeyRow("Temps au prorata de la présence", "15", "hours", True)])
    db.session.commit()
    return organisation.id, scenario.id, len(attendance)


def baseline(organisation_id):
    """The same data read by plain SQL: affiliations with their parties, minutes and points summed
    per associate; rows fetched, nothing computed."""
    from sqlalchemy import text

    from backoffice.extensions import db

    params = {"org": organisation_id, "first": date(YEAR, 1, 1), "last": date(YEAR, 12, 31)}
    rows = db.session.execute(text(
        "SELECT a.party_id, a.starts_on, a.ends_on, p.first_name, p.last_name, p.profession FROM affiliations a "
        "JOIN parties p ON p.id = a.party_id WHERE a.organisation_id = :org AND a.role = 'associate' "
        "AND (a.ends_on IS NULL OR a.ends_on >= :first)"), params).all()
    rows += db.session.execute(text(
        "SELECT t.party_id, SUM(m.duration_minutes) FROM sisa_attendances t JOIN sisa_meetings m ON m.id = t.meeting_id "
        "WHERE m.organisation_id = :org AND m.held_on >= :first AND m.held_on <= :last GROUP BY t.party_id"),
        params).all()
    rows += db.session.execute(text(
        "SELECT party_id, SUM(points) FROM sisa_mission_points WHERE organisation_id = :org AND year = :year "
        "GROUP BY party_id"), {**params, "year": YEAR}).all()
    return rows


def ours(organisation_id, scenario_id):
    from backoffice.extensions import db
    from backoffice.organisations.models import Organisation
    from backoffice.sisa import services
    from backoffice.sisa.models import SisaScenario

    organisation = db.session.get(Organisation, organisation_id)
    result = services.simulate(organisation, YEAR, db.session.get(SisaScenario, scenario_id))
    assert result.total == result.inputs.distributable and all(a.total >= 0 for a in result.associates)
    return result


@contextmanager
def counting_statements():
    """A list that receives one item per SQL statement executed inside the block."""
    from sqlalchemy import event

    from backoffice.extensions import db

    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def timed(function, *args):
    from backoffice.extensions import db

    db.session.expire_all()
    db.session.expunge_all()
    start = time.perf_counter()
    function(*args)
    elapsed = time.perf_counter() - start
    db.session.rollback()
    return elapsed


def statements_of(function, *args):
    from backoffice.extensions import db

    db.session.expunge_all()
    with counting_statements() as statements:
        function(*args)
    db.session.rollback()
    return len(statements)


def run(database, url, storage, associates, quick):
    from sqlalchemy import text

    from backoffice.extensions import db

    app = make_app(url, storage)
    failures = []
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        big, big_scenario, rows = seed_sisa("sisa-bench", associates, MEETINGS, ATTENDEES * associates // ASSOCIATES)
        small, small_scenario, _ = seed_sisa("sisa-bench-small", associates // 10, MEETINGS // 10,
                                             ATTENDEES * associates // ASSOCIATES // 10, seed=2024)
        db.session.execute(text("ANALYZE"))  # what autovacuum would have done after such a load
        db.session.commit()
        log(f"[{database}] seeded {associates} associates and {rows} attendance rows (and a SISA ten times smaller) "
            f"in {time.perf_counter() - started:.1f} s")
        ours(big, big_scenario)  # warm the caches (SQL compilation, pages of the database) once for both
        baseline(big)
        pairs = []
        for _ in range(ROUNDS):
            base = timed(baseline, big)
            mine = timed(ours, big, big_scenario)
            pairs.append((mine, base))
        ours_ms, base_ms, ratio = paired_medians(pairs, 1000)
        many, few = statements_of(ours, big, big_scenario), statements_of(ours, small, small_scenario)
        verdict = "ok" if ours_ms < TARGET_MS else f"ABOVE TARGET {TARGET_MS} ms"
        if many != few:
            verdict += f"; QUERIES GROW WITH THE ASSOCIATES ({few} → {many})"
        if (ours_ms >= TARGET_MS or many != few) and not quick:
            failures.append(database)
        log(f"[{database}] distribution of {associates} associates, 5 keys, {rows} attendance rows: {ours_ms:.0f} ms "
            f"vs baseline (plain SQL reading the same rows) {base_ms:.0f} ms, ratio {ratio:.2f}; {many} SQL statements "
            f"({few} for {associates // 10} associates); {verdict} ({load_note()})")
        if not quick:
            from bench.results import record

            record_with_budget(f"sisa.{database}.distribution_10k_associates", round(ours_ms, 1), "ms",
                               round(base_ms, 1), round(ratio, 3), TARGET_MS)
            record(f"sisa.{database}.distribution_queries", many, "queries", few, round(many / few, 3))
        db.session.remove()
        db.engine.dispose()
    return failures


def main(argv=None):
    # "lines" of the shared command line are the associates here (--quick: 1,000, nothing recorded).
    return main_over_databases(argv, __doc__.splitlines()[0], "bench-sisa", run, ASSOCIATES, ASSOCIATES // 10)


if __name__ == "__main__":
    sys.exit(main())
