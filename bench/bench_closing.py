"""Benchmark: closing a fiscal year of 200,000 journal lines (``closing.close_fiscal_year``),
the definitive opening balances (*à-nouveaux*) of the next year included.

Run from the repository root: ``python -m bench.bench_closing`` (``--quick`` for 20,000 lines
and nothing recorded; ``--database sqlite|postgresql|both``).

For each database (a SQLite file under /tmp, and a PostgreSQL database created for the run and
dropped after it):

* Seeding: the organisation of ``bench_ledger_export`` (plan comptable des associations, 200
  members and 4 suppliers with their auxiliary accounts, fees, payments, invoices, subsidies)
  with 200,000 posted lines in 2026, none validated.
* Speed: the whole closing as the job runs it — the checklist, validating every entry,
  the definitive numbers, the labels kept, the SHA-256 of the definitive FEC (every line
  written), the closed-year row, then the AN of 2027 (balances per account and per auxiliary
  account, posted through the triggers) — and the transaction's end. The closing is
  irreversible, so each round but the last is rolled back (the same work, undone) and the last
  one is committed. Baseline, measured in the same run just before each round: **a plain
  ``INSERT … SELECT`` of the same balances** (``SUM(debit) - SUM(credit)`` of the year's lines
  per account and auxiliary account into a scratch table), the least a database does to carry a
  year's balances. Medians of the wall-clock times; target: ours < 10 s.

Figures go to ``bench/results.json`` (``closing.<db>.close_year_200k_lines``: value in s, the
baseline in s, ratio ours / baseline; ``closing.<db>.close_year_200k_lines_budget``: ours against
the 10 s target) through ``bench.results.record``; the log gives the load average.
"""
from __future__ import annotations

import sys
import time

from bench.bench_ledger_export import log, make_app, seed_organisation
from bench.databases import main_over_databases
from bench.results import load_note, paired_medians, record_with_budget

LINES = 200_000
ROUNDS = 3
TARGET_S = 10.0
YEAR = 2026
SCRATCH = "bench_closing_balances"


def baseline(organisation):
    """The year's balances per account and auxiliary account, summed and inserted by the
    database in one statement (into a scratch table emptied first)."""
    from sqlalchemy import text

    from backoffice.extensions import db

    db.session.execute(text(f"DELETE FROM {SCRATCH}"))
    db.session.execute(text(
        f"INSERT INTO {SCRATCH} (account_id, auxiliary_id, balance) "
        "SELECT l.account_id, l.auxiliary_id, SUM(l.debit) - SUM(l.credit) FROM accounting_lines l "
        "JOIN accounting_entries e ON e.id = l.entry_id "
        "WHERE e.organisation_id = :org AND e.status = 'posted' AND e.fiscal_year = :year "
        "GROUP BY l.account_id, l.auxiliary_id"), {"org": organisation.id, "year": YEAR})
    db.session.commit()


def ours(organisation):
    from backoffice.accounting.closing import close_fiscal_year
    from backoffice.accounting.opening import current_opening

    closing = close_fiscal_year(organisation, YEAR)
    assert closing.entry_count and closing.fec_sha256
    assert current_opening(organisation, YEAR + 1) is not None
    return closing


def timed(function, organisation, commit=True):
    from backoffice.extensions import db

    db.session.expire_all()
    start = time.perf_counter()
    function(organisation)
    if commit:
        db.session.commit()
    else:
        db.session.rollback()
    return time.perf_counter() - start


def run(database, url, storage, line_count, quick):
    from sqlalchemy import text

    from backoffice.extensions import db
    from backoffice.organisations.models import Organisation

    app = make_app(url, storage)
    failures = []
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        organisation_id, produced, entries = seed_organisation("bench-closing", line_count)
        if db.session.get_bind().dialect.name == "postgresql":  # the seed gave the entries their ids
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('accounting_entries', 'id'), "
                                    "(SELECT MAX(id) FROM accounting_entries))"))
        db.session.execute(text(f"CREATE TABLE {SCRATCH} (account_id INTEGER, auxiliary_id INTEGER, "
                                "balance NUMERIC(14, 2))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))  # what autovacuum would have done after such a load
        log(f"[{database}] seeded {produced} lines ({entries} entries) in {YEAR} in "
            f"{time.perf_counter() - started:.1f} s")
        organisation = db.session.get(Organisation, organisation_id)
        pairs = []
        for round_ in range(ROUNDS):
            last = round_ == ROUNDS - 1
            base = timed(baseline, organisation)
            mine = timed(ours, organisation, commit=last)
            organisation = db.session.get(Organisation, organisation_id)
            pairs.append((mine, base))
            log(f"[{database}] round {round_ + 1}: closing {mine:.2f} s ({'committed' if last else 'rolled back'}), "
                f"baseline {base:.3f} s")
        ours_s, base_s, ratio = paired_medians(pairs)
        verdict = "ok" if ours_s < TARGET_S else f"ABOVE TARGET {TARGET_S:.0f} s"
        if ours_s >= TARGET_S and not quick:
            failures.append(database)
        log(f"[{database}] closing a year of {produced} lines, AN included: {ours_s:.2f} s vs baseline (plain "
            f"INSERT … SELECT of the same balances) {base_s:.3f} s, ratio {ratio:.1f}; {verdict} "
            f"({load_note()})")
        if not quick:
            record_with_budget(f"closing.{database}.close_year_200k_lines", round(ours_s, 2), "s",
                               round(base_s, 3), round(ratio, 1), TARGET_S)
        db.session.remove()
        db.engine.dispose()
    return failures


def main(argv=None):
    return main_over_databases(argv, __doc__.splitlines()[0], "bench-closing", run, LINES, 20_000)


if __name__ == "__main__":
    sys.exit(main())
