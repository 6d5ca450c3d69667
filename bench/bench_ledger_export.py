"""Benchmark: exporting journal lines *from the database* (``export_to_path``) to FEC and CSV.

Run from the repository root: ``python -m bench.bench_ledger_export`` (a few minutes;
``--quick`` for 10,000 lines and nothing recorded; ``--database sqlite|postgresql|both``).

For each database (a SQLite file under /tmp, and a PostgreSQL database created for the run
and dropped after it):

* Seeding: an organisation with its books (plan comptable des associations), 200 members and
  4 suppliers with their auxiliary accounts, and 100,000 journal lines (≈ 2.4 lines per entry:
  fees due on 411/756, payments on 512/411, invoices on 6064/626/401, subsidies 441/741 in
  instalments), inserted in bulk as drafts then posted by one UPDATE that the balance
  triggers check entry by entry. A second organisation gets 200,000 lines, for the memory
  comparison. Entries are validated once (a first FEC export) before timing.
* Speed: ``export_to_path(..., "fec")`` and ``export_to_path(..., "csv", report="journal")``
  (query streamed with ``yield_per``, FEC validation of every rule / French CSV formatting and
  formula neutralisation, atomic file, SHA-256, history row), against a baseline measured in
  the same run: **the same SELECT** streamed the same way, each row written as 18 ``str()``
  fields by Python's ``csv`` module, tab-separated. ``ROUNDS`` pairs (baseline, then ours, so
  that both run under the same machine load). The target ratio (ours / baseline ≤ 1.5) is the
  median of the paired ratios of the *CPU time* of this process (what the code spends; the
  database server's time is the same query for both), recorded as ``…_100k_lines``; the
  wall-clock medians and ratio go to ``…_100k_lines_wall`` (noisy on a shared machine).
* Memory: peak traced allocations (``tracemalloc``) and ``ru_maxrss`` of a fresh subprocess
  exporting 100,000 then 200,000 lines; streaming means the ratio stays about 1.

Figures go to ``bench/results.json`` (``ledger_export.<db>.<what>``) through
``bench.results.record``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINES = 100_000
ROUNDS = 5
TARGET_RATIO = 1.5
YEAR = 2026
ZERO = Decimal("0.00")


def log(message):
    print(message, flush=True)


def make_app(url, storage):
    from backoffice import create_app

    return create_app("development", SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR=storage, DEBUG=False,
                      SQLALCHEMY_ECHO=False)


# --------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------

def seed_organisation(slug, line_count, seed=2026):
    """An organisation with ``line_count`` posted journal lines in fiscal year ``YEAR``."""
    from sqlalchemy import func, insert, select, text

    from backoffice.accounting import services
    from backoffice.accounting.models import EntrySequence, JournalEntry, JournalLine
    from backoffice.extensions import db
    from backoffice.organisations.services import create_organisation
    from backoffice.people.models import Professional, Structure

    organisation = create_organisation(f"CPTS banc d'essai {slug}", "cpts", slug=slug, siren="812345676")
    services.ensure_ledger(organisation)
    rnd = random.Random(seed)
    members = [Professional(first_name=f"Prénom{n}", last_name=f"Nom-{slug}-{n}", profession="infirmier")
               for n in range(200)]
    suppliers = [Structure(name=name) for name in ("Papeterie Nantaise", "Orange Business",
                                                   "Cabinet d'expertise Lebœuf", "Traiteur L'Épicurien")]
    db.session.add_all(members + suppliers)
    db.session.flush()
    accounts = {n: services.get_account(organisation, n).id for n in
                ("411", "756", "512", "401", "6064", "626", "441", "741")}
    aux_members = [services.auxiliary_account_for(organisation, m, services.get_account(organisation, "411")).id
                   for m in members]
    aux_suppliers = [services.auxiliary_account_for(organisation, s, services.get_account(organisation, "401")).id
                     for s in suppliers]
    journals = {code: services.get_journal(organisation, code).id for code in ("BQ", "OD")}
    db.session.commit()

    first_id = (db.session.scalar(select(func.max(JournalEntry.id))) or 0) + 1
    entries, lines = [], []
    entry_id = first_id - 1
    produced = 0
    now = date(YEAR, 1, 1)
    while produced < line_count:
        entry_id += 1
        number = entry_id - first_id + 1
        day = date(YEAR, 1, 1) + timedelta(days=min(364, number * 365 // max(line_count // 2, 1)))
        cents = rnd.randrange(1_000, 500_000)
        amount = Decimal(cents).scaleb(-2)
        kind = rnd.random()
        if kind < 0.35:
            m = rnd.randrange(len(members))
            journal, piece, label = "OD", f"COT-{number:06d}", f"Cotisation {YEAR} Prénom{m} NOM-{m}"
            parts = [(accounts["411"], aux_members[m], amount, ZERO), (accounts["756"], None, ZERO, amount)]
        elif kind < 0.70:
            m = rnd.randrange(len(members))
            journal, piece, label = "BQ", f"VIR{number:07d}", f"Virement Prénom{m} NOM-{m} réf. COT"
            parts = [(accounts["512"], None, amount, ZERO), (accounts["411"], aux_members[m], ZERO, amount)]
        elif kind < 0.90:
            s = rnd.randrange(len(suppliers))
            journal, piece, label = "OD", f"FA{number:06d}", f"Facture {suppliers[s].name}"
            first = Decimal(rnd.randrange(100, cents)).scaleb(-2)
            parts = [(accounts["6064"], None, first, ZERO)]
            if amount - first:
                parts.append((accounts["626"], None, amount - first, ZERO))
            parts.append((accounts["401"], aux_suppliers[s], ZERO, amount))
        else:
            journal, piece, label = "OD", f"CONV-{number:05d}", "Subvention ARS « parcours de soins » | tranche"
            third = Decimal(cents // 3).scaleb(-2)
            parts = [(accounts["441"], None, amount, ZERO), (accounts["741"], None, ZERO, third),
                     (accounts["741"], None, ZERO, third), (accounts["741"], None, ZERO, amount - 2 * third)]
        entries.append(dict(id=entry_id, organisation_id=organisation.id, journal_id=journals[journal],
                            fiscal_year=YEAR, entry_date=day, piece_ref=piece, piece_date=day, label=label,
                            status="draft", created_at=now, updated_at=now))
        for position, (account, aux, debit, credit) in enumerate(parts, 1):
            lines.append(dict(entry_id=entry_id, organisation_id=organisation.id, position=position,
                              account_id=account, auxiliary_id=aux, label=None, debit=debit, credit=credit))
        produced += len(parts)
        if len(lines) >= 20_000:
            _flush(entries, lines)
    _flush(entries, lines)
    # Post every entry at once: the trigger checks each entry's balance.
    db.session.execute(text("UPDATE accounting_entries SET status = 'posted', number = id - :offset "
                            "WHERE organisation_id = :org"), {"offset": first_id - 1, "org": organisation.id})
    # The year's counter knows those numbers, so an entry posted later (the closing's own) follows them.
    db.session.merge(EntrySequence(organisation_id=organisation.id, fiscal_year=YEAR,
                                   last_number=entry_id - first_id + 1))
    db.session.commit()
    return organisation.id, produced, entry_id - first_id + 1


def _flush(entries, lines):
    from sqlalchemy import insert

    from backoffice.accounting.models import JournalEntry, JournalLine
    from backoffice.extensions import db

    if entries:
        db.session.execute(insert(JournalEntry.__table__), entries)
    if lines:
        db.session.execute(insert(JournalLine.__table__), _bindable(lines))
    entries.clear()
    lines.clear()


def _bindable(lines):
    from backoffice.extensions import db

    if db.session.get_bind().dialect.name == "sqlite":  # pysqlite cannot bind Decimal
        return [dict(line, debit=str(line["debit"]), credit=str(line["credit"])) for line in lines]
    return lines


# --------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------

def baseline(organisation, path):
    """The same SELECT, streamed the same way, written plainly by the csv module."""
    from backoffice.accounting import reporting

    start, end = organisation.fiscal_year_bounds(YEAR)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter="\t").writerows(
            [str(value) for value in row] for row in reporting.stream_export_lines(organisation, start, end)
        )


def ours(organisation, fmt):
    from backoffice.accounting import exporting

    report = "journal" if fmt == "csv" else None
    record = exporting.export_to_path(organisation, YEAR, fmt, None, report=report, origin="cli")
    return exporting.absolute(record.stored_path)


def timed(function):
    """``((wall seconds, CPU seconds of this process), result)``."""
    from backoffice.extensions import db

    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    elapsed = (time.perf_counter() - start, time.process_time() - cpu)
    db.session.rollback()  # drop the history row; files are removed below
    return elapsed, result


def measure_memory(url, storage, slug, fmt):
    from sqlalchemy import select

    from backoffice.extensions import db
    from backoffice.organisations.models import Organisation

    app = make_app(url, storage)
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        tracemalloc.start()
        path = ours(organisation, fmt)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.session.rollback()
        os.unlink(path)
        db.engine.dispose()
    return {"peak_bytes": peak, "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def memory_in_subprocess(url, storage, slug, fmt):
    output = subprocess.run(
        [sys.executable, "-m", "bench.bench_ledger_export", "--memory", url, storage, slug, fmt],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run(database, url, storage, line_count, quick):
    from backoffice.extensions import db
    from backoffice.organisations.models import Organisation

    app = make_app(url, storage)
    failures = []
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        small_id, produced, entries = seed_organisation("bench-ledger-a", line_count)
        large_id, large_lines, _ = seed_organisation("bench-ledger-b", 2 * line_count, seed=7)
        log(f"[{database}] seeded {produced} + {large_lines} lines ({entries} entries in the first organisation) "
            f"in {time.perf_counter() - started:.1f} s")
        organisation = db.session.get(Organisation, small_id)
        for slug_id in (small_id, large_id):  # validate once (the first FEC export), as in real life
            ours(db.session.get(Organisation, slug_id), "fec")
            db.session.commit()
        times = {"fec": [], "csv": []}
        with tempfile.TemporaryDirectory() as directory:
            for _ in range(ROUNDS):
                for fmt in ("fec", "csv"):
                    # Paired runs: the baseline right before ours, so that both see the same load.
                    base, _ = timed(lambda: baseline(organisation, os.path.join(directory, "baseline.tsv")))
                    elapsed, path = timed(lambda fmt=fmt: ours(organisation, fmt))
                    os.unlink(path)
                    times[fmt].append((elapsed, base))
        for fmt in ("fec", "csv"):
            pairs = times[fmt]
            ours_wall = statistics.median(t[0] for t, _ in pairs)
            base_wall = statistics.median(b[0] for _, b in pairs)
            ours_cpu = statistics.median(t[1] for t, _ in pairs)
            base_cpu = statistics.median(b[1] for _, b in pairs)
            ratio = statistics.median(t[1] / b[1] for t, b in pairs)
            wall_ratio = statistics.median(t[0] / b[0] for t, b in pairs)
            verdict = "ok" if ratio <= TARGET_RATIO else f"ABOVE TARGET {TARGET_RATIO}"
            if ratio > TARGET_RATIO:
                failures.append(f"{database} {fmt}")
            log(f"[{database}] export {fmt.upper():3s} of {produced} lines from the database: CPU {ours_cpu:.3f} s vs "
                f"baseline (same query + csv module) {base_cpu:.3f} s, median paired ratio {ratio:.2f} {verdict}; "
                f"wall {ours_wall:.3f} s vs {base_wall:.3f} s, ratio {wall_ratio:.2f} "
                f"(wall ratios: {', '.join(f'{t[0] / b[0]:.2f}' for t, b in pairs)})")
            if not quick:
                from bench.results import record

                record(f"ledger_export.{database}.{fmt}_100k_lines", round(ours_cpu, 3), "s (CPU)",
                       round(base_cpu, 3), round(ratio, 3))
                record(f"ledger_export.{database}.{fmt}_100k_lines_wall", round(ours_wall, 3), "s",
                       round(base_wall, 3), round(wall_ratio, 3))
        db.session.remove()
        db.engine.dispose()
    mib = 1024 * 1024
    for fmt in ("fec", "csv"):
        small = memory_in_subprocess(url, storage, "bench-ledger-a", fmt)
        large = memory_in_subprocess(url, storage, "bench-ledger-b", fmt)
        ratio = large["peak_bytes"] / small["peak_bytes"]
        log(f"[{database}] {fmt.upper()} peak traced memory: {line_count // 1000}k lines "
            f"{small['peak_bytes'] / mib:.2f} MiB, {2 * line_count // 1000}k {large['peak_bytes'] / mib:.2f} MiB "
            f"(ratio {ratio:.2f}); maxrss {small['maxrss_bytes'] / mib:.0f} / {large['maxrss_bytes'] / mib:.0f} MiB")
        if not quick:
            from bench.results import record

            record(f"ledger_export.{database}.{fmt}_peak_memory_200k_vs_100k", round(large["peak_bytes"] / mib, 3),
                   "MiB", round(small["peak_bytes"] / mib, 3), round(ratio, 3))
            record(f"ledger_export.{database}.{fmt}_maxrss_200k_vs_100k", round(large["maxrss_bytes"] / mib, 1),
                   "MiB", round(small["maxrss_bytes"] / mib, 1), round(large["maxrss_bytes"] / small["maxrss_bytes"], 3))
        if ratio > 1.5:
            failures.append(f"{database} {fmt} memory")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 lines, nothing recorded")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    line_count = 10_000 if args.quick else LINES
    failures = []
    for database in (("sqlite", "postgresql") if args.database == "both" else (args.database,)):
        storage = tempfile.mkdtemp(prefix="bench-ledger-storage-")
        try:
            from bench.databases import scratch_database

            with scratch_database(database, "bench-ledger") as url:
                failures += run(database, url, storage, line_count, args.quick)
        finally:
            shutil.rmtree(storage, ignore_errors=True)
    log("PASS" if not failures else "FAIL: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--memory":
        print(json.dumps(measure_memory(*sys.argv[2:])))
        sys.exit(0)
    sys.exit(main())
