"""Benchmark: the annual accounts on screen (compte de résultat and bilan with the previous year
beside, ``accounting.annual.annual_accounts``) of a year of 200,000 journal lines.

Run from the repository root: ``python -m bench.bench_annual`` (``--quick`` for 20,000 lines and
nothing recorded; ``--database sqlite|postgresql|both``).

For each database (a SQLite file under /tmp, and a PostgreSQL database created for the run and
dropped after it):

* Seeding: the organisation of ``bench_ledger_export`` (plan comptable des associations, 200
  members and 4 suppliers with their auxiliary accounts, fees, payments, invoices, subsidies)
  with 200,000 posted lines in 2026, then the same entries copied one year back into 2025 (a
  previous year as full as the current one: the statements read both).
* Speed: ``annual_accounts(organisation, 2026)`` — two grouped queries (one per year, per
  account and auxiliary account) over the totals kept at posting (``accounting_account_totals``,
  filled by the posting trigger while seeding, as in production), the look for the AN entry, the
  placement of every account on the ANC lines, totals and results — against a baseline measured
  in the same run: **a plain SQL ``SUM(debit), SUM(credit) … GROUP BY account_id``** of the same
  lines (the same two years, the same join and filters), rows fetched and nothing else done:
  what any statement that reads the lines costs at least. ``ROUNDS`` pairs (baseline, then ours,
  under the same load); medians of the wall-clock times. Target: ours ≤ 300 ms.
* Before timing, the kept totals of both years are checked against the sum of their lines
  (``annual.line_balances``): a benchmark of wrong figures would measure nothing.

Figures go to ``bench/results.json`` (``annual.<db>.statements_200k_lines``, value in ms, the
baseline in ms, ratio ours / baseline; ``annual.<db>.statements_200k_lines_budget``: ours against
the 300 ms target) through ``bench.results.record``.
"""
from __future__ import annotations

import sys
import time

from bench.bench_ledger_export import log, make_app, seed_organisation
from bench.databases import main_over_databases
from bench.results import load_note, paired_medians, record_with_budget

LINES = 200_000
ROUNDS = 7
TARGET_MS = 300
YEAR = 2026


def copy_year_back(organisation_id):
    """The organisation's 2026 entries again in 2025 (dates one year earlier), posted."""
    from sqlalchemy import func, select, text

    from backoffice.accounting.models import JournalEntry
    from backoffice.extensions import db

    offset = db.session.scalar(select(func.max(JournalEntry.id)))
    first = db.session.scalar(select(func.min(JournalEntry.id)).where(JournalEntry.organisation_id == organisation_id))
    if db.session.get_bind().dialect.name == "sqlite":
        shift = "date({0}, '-1 year')"
    else:
        shift = "({0} - interval '1 year')::date"
    params = {"offset": offset, "org": organisation_id}
    db.session.execute(text(
        "INSERT INTO accounting_entries (id, organisation_id, journal_id, fiscal_year, entry_date, piece_ref, "
        "piece_date, label, status, created_at, updated_at) "
        f"SELECT id + :offset, organisation_id, journal_id, {YEAR - 1}, {shift.format('entry_date')}, piece_ref, "
        f"{shift.format('piece_date')}, label, 'draft', created_at, updated_at FROM accounting_entries "
        f"WHERE organisation_id = :org AND fiscal_year = {YEAR}"), params)
    db.session.execute(text(
        "INSERT INTO accounting_lines (entry_id, organisation_id, position, account_id, auxiliary_id, label, debit, "
        "credit) SELECT l.entry_id + :offset, l.organisation_id, l.position, l.account_id, l.auxiliary_id, l.label, "
        "l.debit, l.credit FROM accounting_lines l JOIN accounting_entries e ON e.id = l.entry_id "
        f"WHERE l.organisation_id = :org AND e.fiscal_year = {YEAR}"), params)
    db.session.execute(text(
        "UPDATE accounting_entries SET status = 'posted', number = id - :offset - :first + 1 "
        f"WHERE organisation_id = :org AND fiscal_year = {YEAR - 1}"), {**params, "first": first})
    db.session.commit()
    # What autovacuum (PostgreSQL) or a periodic ANALYZE would have done after such a load.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def baseline(organisation):
    """The same lines summed by the database, grouped by account: nothing placed, nothing built."""
    from sqlalchemy import func, select

    from backoffice.accounting.models import JournalEntry, JournalLine
    from backoffice.extensions import db

    rows = []
    for year in (YEAR, YEAR - 1):
        start, end = organisation.fiscal_year_bounds(year)
        rows += db.session.execute(
            select(JournalLine.account_id, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
            .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
            .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == "posted",
                   JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
            .group_by(JournalLine.account_id)).all()
    return rows


def check_totals(organisation):
    from backoffice.accounting.annual import line_balances, year_balances

    for year in (YEAR, YEAR - 1):
        bounds = organisation.fiscal_year_bounds(year)
        if sorted(year_balances(organisation, *bounds), key=repr) != sorted(line_balances(organisation, *bounds),
                                                                               key=repr):
            raise SystemExit(f"the totals kept for {year} are not the sum of its lines")


def ours(organisation):
    from backoffice.accounting.annual import annual_accounts

    accounts = annual_accounts(organisation, YEAR)
    assert accounts.is_balanced
    return accounts


def timed(function, *args):
    from backoffice.extensions import db

    db.session.expire_all()
    start = time.perf_counter()
    function(*args)
    elapsed = time.perf_counter() - start
    db.session.rollback()
    return elapsed


def run(database, url, storage, line_count, quick):
    from backoffice.extensions import db
    from backoffice.organisations.models import Organisation

    app = make_app(url, storage)
    failures = []
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        organisation_id, produced, _ = seed_organisation("bench-annual", line_count)
        copy_year_back(organisation_id)
        log(f"[{database}] seeded {produced} lines in {YEAR} and as many in {YEAR - 1} in "
            f"{time.perf_counter() - started:.1f} s")
        organisation = db.session.get(Organisation, organisation_id)
        check_totals(organisation)
        ours(organisation)  # warm the caches (SQL compilation, pages of the database) once for both
        baseline(organisation)
        pairs = []
        for _ in range(ROUNDS):
            base = timed(baseline, organisation)
            mine = timed(ours, organisation)
            pairs.append((mine, base))
        ours_ms, base_ms, ratio = paired_medians(pairs, 1000)
        verdict = "ok" if ours_ms <= TARGET_MS else f"ABOVE TARGET {TARGET_MS} ms"
        if ours_ms > TARGET_MS and not quick:
            failures.append(database)
        log(f"[{database}] annual accounts of {produced} lines (and the previous year beside): {ours_ms:.0f} ms vs "
            f"baseline (plain SUM … GROUP BY account of the same lines) {base_ms:.0f} ms, ratio {ratio:.2f}; {verdict} "
            f"({load_note()})")
        if not quick:
            record_with_budget(f"annual.{database}.statements_200k_lines", round(ours_ms, 1), "ms",
                               round(base_ms, 1), round(ratio, 3), TARGET_MS)
        db.session.remove()
        db.engine.dispose()
    return failures


def main(argv=None):
    return main_over_databases(argv, __doc__.splitlines()[0], "bench-annual", run, LINES, 20_000)


if __name__ == "__main__":
    sys.exit(main())
