"""Workbook import benchmark: a treasurer's 5,000-row workbook with memberships and payments.

In process, on a fresh SQLite file (the embedded default) and a fresh PostgreSQL database
(development settings, outbox mail):
one CPTS with its 2026 fee grid, and an XLSX of 5,000 members as a treasurer keeps it (title
rows, sub-headings every 100 rows, a total, amounts as text, Excel dates and text dates, half of
them paid by cheque, transfer or HelloAsso). Measures the preview (read, check, compare with the
directory and the memberships: ``plan_people_import``) and the commit (people, memberships,
payments and their journal entries: ``apply_people_import`` + the commit), then the preview of
the same file again (everything unchanged). Records ``workbook_import_preview_s`` (target 5 s)
and ``workbook_import_commit_s`` (target 15 s) in ``bench/results.json``.

Run: ``.venv/bin/python -m bench.bench_workbook_import`` (``--rows 500`` for a quick run that
records nothing; ``--database sqlite`` or ``postgresql`` for one of them). The PostgreSQL
figures are recorded as ``workbook_import.postgresql_…``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import scratch_database  # noqa: E402
from bench.results import record  # noqa: E402

PREVIEW_TARGET_S, COMMIT_TARGET_S = 5.0, 15.0
PROFESSIONS = ["Médecin généraliste", "IDE", "Infirmière libérale", "MK", "Kiné", "SF", "Pharmacien titulaire",
               "Chir. dentiste", "Orthophoniste", "Podologue"]
METHODS = ["Chèque", "Virement", "HelloAsso", "Espèces"]


def log(message):
    print(f"[bench_workbook_import] {message}", flush=True)


def workbook(rows):
    import openpyxl
    from stdnum import luhn

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Adhérents 2026 — CPTS du Banc d'Essai"])
    sheet.append([])
    sheet.append(["N° adhérent", "Civ.", "NOM", "Prénom", "Profession", "N° RPPS", "Courriel", "CP", "Ville",
                  "Cotisation", "Date de règlement", "Mode de règlement"])
    for n in range(rows):
        if n % 100 == 0:
            sheet.append([f"Secteur {n // 100 + 1}"])
        base = f"2{n:09d}"
        paid = n % 2 == 0
        date_cell = (datetime(2026, 1 + n % 12, 1 + n % 28) if n % 4 == 0 else f"{1 + n % 28:02d}/{1 + n % 12:02d}/2026") \
            if paid else ""
        sheet.append([f"B-{n:05d}", "Mme" if n % 3 else "M.", f"Nom{n:05d}", "Anne", PROFESSIONS[n % len(PROFESSIONS)],
                      base + luhn.calc_check_digit(base), f"membre{n}@bench.example", "44350", "Guérande",
                      "30,00 €" if n % 3 else 30, date_cell, METHODS[n % 4] if paid else ""])
    sheet.append(["", "", "TOTAL", "", "", "", "", "", "", 30 * rows])
    path = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False).name
    book.save(path)
    return Path(path).read_bytes()


def run(database, url, storage, rows, data):
    """(preview s, commit s) of ``data`` on the database ``url``."""
    from backoffice import create_app
    from backoffice.accounting.services import ensure_ledger
    from backoffice.extensions import db
    from backoffice.membership import services as membership
    from backoffice.membership.models import CategoryKind
    from backoffice.organisations.services import create_organisation
    from backoffice.people import services

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR=storage, MAIL_BACKEND="outbox",
                     DEBUG=False, JOBS_INLINE=False, RQ_QUEUE_PREFIX=f"bench-workbook-{uuid.uuid4().hex[:6]}")
    with app.test_request_context("/", method="POST"):
        db.create_all()
        organisation = create_organisation("CPTS du Banc d'Essai", "cpts", slug="cpts-bench", postcode="44350",
                                           city="Guérande")
        ensure_ledger(organisation)
        period = membership.period_for_year(organisation, 2026)
        membership.set_fee_category(period, "Autre professionnel de santé", Decimal("30.00"),
                                    CategoryKind.OTHER_PROFESSIONAL)
        db.session.commit()

        started = time.perf_counter()
        plan = services.plan_people_import(data, "adherents.xlsx", organisation, period)
        preview = time.perf_counter() - started
        assert not plan.has_errors, [r.errors for r in plan.rows if r.errors][:3]
        log(f"{database} preview {preview:.2f} s: {plan.counts}, memberships {plan.membership_counts}")

        started, cpu = time.perf_counter(), time.process_time()
        plan = services.apply_people_import(data, "adherents.xlsx", organisation=organisation, period=period)
        db.session.commit()
        commit, cpu = time.perf_counter() - started, time.process_time() - cpu
        log(f"{database} commit {commit:.2f} s ({rows / commit:.0f} rows/s, {1000 * commit / rows:.1f} ms per row; "
            f"CPU {cpu:.2f} s; load average {os.getloadavg()[0]:.1f}): {plan.membership_done}")

        started = time.perf_counter()
        again = services.plan_people_import(data, "adherents.xlsx", organisation, period)
        repeat = time.perf_counter() - started
        log(f"{database} preview of the same file again {repeat:.2f} s: {again.counts}, "
            f"memberships {again.membership_counts}")
        db.session.remove()
        db.engine.dispose()
    return preview, commit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    data = workbook(args.rows)
    log(f"{args.rows} rows, {len(data) // 1024} KiB; load average {os.getloadavg()[0]:.1f}")
    for database in (("sqlite", "postgresql") if args.database == "both" else (args.database,)):
        with tempfile.TemporaryDirectory(prefix="bench-workbook-") as storage, \
                scratch_database(database, "bench-workbook") as url:
            preview, commit = run(database, url, storage, args.rows, data)
        if args.rows != 5000:
            continue
        # The SQLite figures keep their first names (the embedded default the targets were set on).
        prefix = "workbook_import" if database == "sqlite" else f"workbook_import.{database}"
        record(f"{prefix}_preview_s", round(preview, 2), f"s (5,000 rows, {database})", PREVIEW_TARGET_S,
               round(preview / PREVIEW_TARGET_S, 3))
        record(f"{prefix}_commit_s", round(commit, 2), f"s (5,000 rows, memberships and payments, {database})",
               COMMIT_TARGET_S, round(commit / COMMIT_TARGET_S, 3))
        record(f"{prefix}_commit_rows_per_s", round(args.rows / commit, 1),
               f"rows/s (5,000 rows committed, {database}); baseline: the 15 s target's rate, "
               "ratio = target rate / ours", round(args.rows / COMMIT_TARGET_S, 1), round(commit / COMMIT_TARGET_S, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
