"""Membership benchmark: 10,000 members with 3 years of history on PostgreSQL.

1. Creates a PostgreSQL database (``createdb`` through psycopg on 127.0.0.1, trust auth) and
   fills it: one CPTS, 10,000 professionals and structures, periods 2024–2026 with their grid,
   collèges, 30,000 memberships with realistic statuses and their payments (bulk inserts: the
   benchmark measures reads, the write path is covered by the tests).
2. Checks, in process, that the member list and the dashboard run a number of SQL queries that
   does not depend on the number of rows shown (``per_page`` 5 vs 100).
3. Starts the Procfile's ``web`` process as production runs it (gunicorn, the production
   configuration, ``WEB_CONCURRENCY`` workers: 3 unless ``--workers``) on a free loopback port with
   that database, signs in a treasurer (a session cookie signed with the app's key, then the one
   the site gives back, as a browser would) and loads each page with 20 concurrent clients
   (``wrk``, installed by ``make bench``; else a small thread-based generator), reporting
   p50/p95/p99.
4. Records in ``bench/results.json``: ``membership_list_p95_ms`` and
   ``membership_dashboard_p95_ms`` (baseline 150 ms, the target; ratio = value / 150) and the
   query counts; then stops gunicorn and drops the database.

Run: ``.venv/bin/python bench/bench_membership.py`` (about 2 minutes; ``--quick`` for a
smaller, shorter run that records nothing).
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from bench.web import browser_cookie, free_port, start_gunicorn, stop  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_P95_MS = 150
# Seeding and query counts run in this process with the development settings (outbox mail);
# the measured server is the Procfile's web process, with the production settings.
APP_ARGS = ("development",)
APP_KWARGS = {"DEBUG": False, "TEMPLATES_AUTO_RELOAD": False}
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))

LAST_NAMES = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
              "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
              "Le Floch", "Le Goff", "Guérin", "Morvan", "Le Bihan", "Jégou", "Bonnet", "Dupont", "Lambert", "Fontaine"]
FIRST_NAMES = ["Anne", "Marie", "Claire", "Sophie", "Camille", "Julie", "Jean", "Pierre", "Yann", "Loïc", "Nicolas",
               "Thomas", "Élodie", "Gaëlle", "Maël", "Erwan", "Léa", "Hélène", "François", "Mathilde"]
PROFESSIONS = ["medecin_generaliste"] * 3 + ["infirmier"] * 4 + ["masseur_kinesitherapeute"] * 2 + [
    "pharmacien", "sage_femme", "orthophoniste", "chirurgien_dentiste", "pedicure_podologue"]


def log(message):
    print(f"[bench_membership] {message}", flush=True)


# --------------------------------------------------------------------------------------------
# Database
# --------------------------------------------------------------------------------------------

def create_database():
    import psycopg

    name = f"maillage_bench_membership_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name):
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(database_url):
    env = dict(os.environ)
    env.update(MAILLAGE_ENV="development", DATABASE_URL=database_url, SECRET_KEY=secrets.token_hex(32),
               REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), MAIL_BACKEND="outbox",
               RATELIMIT_STORAGE_URI="memory://", RQ_QUEUE_PREFIX=f"bench-membership-{uuid.uuid4().hex[:6]}",
               STORAGE_DIR=tempfile.mkdtemp(prefix="bench-membership-storage-"))
    return env


def seed(app, members):
    """Bulk-load the benchmark organisation; returns (organisation slug, treasurer user id)."""
    from sqlalchemy import insert, select

    from backoffice.auth.services import create_user, grant_role
    from backoffice.extensions import db
    from backoffice.membership import services
    from backoffice.membership.models import (CategoryKind, FeeCategory, Membership, MembershipPayment,
                                              MembershipStatus as S, PaymentKind, PaymentMethod, PaymentStatus)
    from backoffice.organisations.services import create_organisation
    from backoffice.people.models import Party, fold_for_search

    rng = random.Random(2026)
    with app.app_context():
        db.create_all()
        organisation = create_organisation("CPTS du Banc d'Essai", "cpts", slug="cpts-bench", city="Guérande",
                                           postcode="44350", iban="FR7630004000031234567890143", bic="BNPAFRPPXXX")
        user = create_user("tresorier@bench.example", "Trésorière du banc d'essai")
        db.session.flush()
        grant_role(user, organisation, "treasurer")
        colleges = [services.save_college(organisation, "Libéraux", party_kind="professional"),
                    services.save_college(organisation, "Structures", party_kind="structure"),
                    services.save_college(organisation, "Usagers")]
        periods, grid = {}, {}
        for year in (2024, 2025, 2026):
            period = services.period_for_year(organisation, year)
            for label, amount, kind in [("Médecin", "50", CategoryKind.PHYSICIAN),
                                        ("Autre professionnel de santé", "30", CategoryKind.OTHER_PROFESSIONAL),
                                        ("Structure", "100", CategoryKind.STRUCTURE),
                                        ("Première adhésion", "20", CategoryKind.FIRST_YEAR)]:
                services.set_fee_category(period, label, Decimal(amount), kind)
            periods[year] = period
            grid[year] = {c.kind: c for c in db.session.scalars(select(FeeCategory).where(FeeCategory.period_id == period.id))}
        db.session.commit()

        parties = []
        for n in range(members):
            if n % 25 == 0:
                name = f"Structure de santé {n:05d}"
                parties.append(dict(kind="structure", name=name, structure_type="ehpad", commune="Guérande",
                                    postcode="44350", sort_name=fold_for_search(name), email=f"s{n}@bench.example"))
            else:
                last, first = rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)
                last = f"{last}-{n:05d}"
                parties.append(dict(kind="professional", civility=rng.choice(["Mme", "M."]), first_name=first,
                                    last_name=last, profession=rng.choice(PROFESSIONS), commune="Guérande",
                                    postcode="44350", sort_name=fold_for_search(f"{last} {first}"),
                                    email=f"p{n}@bench.example"))
        now = date.today()
        for row in parties:
            row.update(created_at=now, updated_at=now)
        # Professional and Structure share the table; one insert of the base mapper per kind.
        from backoffice.people.models import Professional, Structure

        db.session.execute(insert(Professional), [p for p in parties if p["kind"] == "professional"])
        db.session.execute(insert(Structure), [p for p in parties if p["kind"] == "structure"])
        party_rows = db.session.execute(select(Party.id, Party.kind).order_by(Party.id)).all()
        professions = {row.id: row.profession for row in db.session.execute(
            select(Professional.id, Professional.profession))}

        alphabet = services.REFERENCE_ALPHABET
        used = set()
        memberships, history = [], {}
        for year in (2024, 2025, 2026):
            for index, (party_id, kind) in enumerate(party_rows):
                # 2024: 80 % of the parties, 2025: 90 %, 2026: everyone (10,000 members).
                if year == 2024 and index % 5 == 0 or year == 2025 and index % 10 == 0:
                    continue
                first = party_id not in history
                if first:
                    category = grid[year][CategoryKind.FIRST_YEAR]
                elif kind == "structure":
                    category = grid[year][CategoryKind.STRUCTURE]
                elif professions.get(party_id, "").startswith("medecin"):
                    category = grid[year][CategoryKind.PHYSICIAN]
                else:
                    category = grid[year][CategoryKind.OTHER_PROFESSIONAL]
                history[party_id] = year
                roll = rng.random()
                if year < 2026 or roll < 0.72:
                    status, paid = S.PAID, category.amount
                elif roll < 0.92:
                    status, paid = S.AWAITING_PAYMENT, Decimal("0.00")
                elif roll < 0.97:
                    status, paid = S.PARTIALLY_PAID, (category.amount / 2).quantize(Decimal("0.01"))
                elif roll < 0.99:
                    status, paid = S.EXEMPT, Decimal("0.00")
                else:
                    status, paid = S.CANCELLED, Decimal("0.00")
                while True:
                    reference = f"ADH{year % 100:02d}-" + "".join(rng.choice(alphabet) for _ in range(5))
                    if reference not in used:
                        used.add(reference)
                        break
                joined = date(year - 1, 12, 1) + timedelta(days=rng.randint(0, 80))
                memberships.append(dict(
                    organisation_id=organisation.id, party_id=party_id, period_id=periods[year].id,
                    category_id=category.id, college_id=colleges[1 if kind == "structure" else 0].id,
                    status=status, amount_due=category.amount, amount_paid=paid, credit=Decimal("0.00"),
                    payment_reference=reference, joined_on=joined,
                    paid_on=joined + timedelta(days=20) if status is S.PAID else None, source="bench",
                    created_at=now, updated_at=now))
        db.session.execute(insert(Membership), memberships)
        rows = db.session.execute(select(Membership.id, Membership.amount_paid, Membership.joined_on)
                                  .where(Membership.amount_paid > 0)).all()
        payments = [dict(organisation_id=organisation.id, membership_id=row.id, kind=PaymentKind.PAYMENT,
                         method=PaymentMethod.CHEQUE if n % 3 == 0 else PaymentMethod.TRANSFER,
                         status=PaymentStatus.CONFIRMED, amount=row.amount_paid,
                         paid_on=row.joined_on + timedelta(days=20), reference=f"{1000000 + n}", source="bench",
                         created_at=now, updated_at=now) for n, row in enumerate(rows)]
        db.session.execute(insert(MembershipPayment), payments)
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        log(f"seeded {len(party_rows)} parties, {len(memberships)} memberships, {len(payments)} payments")
        return organisation.slug, user.id


def session_cookie(app, user_id):
    with app.app_context():
        serializer = app.session_interface.get_signing_serializer(app)
        return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


# --------------------------------------------------------------------------------------------
# Query counts (in process)
# --------------------------------------------------------------------------------------------

def query_counts(app, cookie, slug):
    """{page: (queries with per_page=5, queries with per_page=100)}."""
    from sqlalchemy import event

    from backoffice.extensions import db

    counts = {}
    client = app.test_client()
    client.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), cookie, domain="localhost")
    with app.app_context():
        engine = db.engine
    for page, path in (("list", f"/o/{slug}/membership/"), ("dashboard", f"/o/{slug}/membership/dashboard")):
        found = []
        for per_page in (5, 100):
            statements = []

            def count(conn, cursor, statement, parameters, context, executemany):
                statements.append(statement)

            client.get(f"{path}?per_page={per_page}")  # warm up
            event.listen(engine, "before_cursor_execute", count)
            try:
                response = client.get(f"{path}?per_page={per_page}")
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert response.status_code == 200, (path, response.status_code)
            found.append(len(statements))
        counts[page] = tuple(found)
    return counts


# --------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d p50=%.3f p95=%.3f p99=%.3f\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def load_wrk(port, path, cookie, seconds):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        output = subprocess.run(
            ["wrk", "-t", str(min(2, CLIENTS)), "-c", str(CLIENTS), "-d", f"{seconds}s", "--timeout", "5s", "-s", script.name,
             "-H", f"Cookie: session={cookie}", f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, timeout=seconds + 30).stdout
    finally:
        os.unlink(script.name)
    found = dict(re.findall(r"(\w+)=([\d.]+)", output.split("RESULT", 1)[1]))
    return {"requests": int(found["requests"]), "errors": int(found["errors"]) + int(found["non2xx"]),
            "p50": float(found["p50"]), "p95": float(found["p95"]), "p99": float(found["p99"]),
            "rps": int(found["requests"]) / seconds, "tool": "wrk"}


def load_threads(port, path, cookie, seconds, max_requests=20000):
    """Closed loop: CLIENTS threads, each with its own keep-alive connection."""
    latencies, errors, lock = [], [0], threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < stop_at and len(latencies) < max_requests:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Cookie": f"session={cookie}"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))]

    return {"requests": len(latencies), "errors": errors[0], "p50": pct(50), "p95": pct(95), "p99": pct(99),
            "rps": len(latencies) / seconds, "tool": "threads"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 members, 5 s of load, nothing recorded")
    parser.add_argument("--members", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: the Procfile's, WEB_CONCURRENCY or 3)")
    args = parser.parse_args(argv)
    members = args.members or (1000 if args.quick else 10000)
    seconds = args.seconds or (5 if args.quick else 20)

    name, url = create_database()
    log(f"database {name}")
    env = environment(url)
    process = None
    try:
        os.environ.update({k: env[k] for k in ("MAILLAGE_ENV", "DATABASE_URL", "SECRET_KEY", "REDIS_URL",
                                               "MAIL_BACKEND", "RATELIMIT_STORAGE_URI", "RQ_QUEUE_PREFIX",
                                               "STORAGE_DIR")})
        from backoffice import create_app

        app = create_app(*APP_ARGS, **APP_KWARGS)
        started = time.perf_counter()
        slug, user_id = seed(app, members)
        log(f"seeding took {time.perf_counter() - started:.1f} s")
        cookie = session_cookie(app, user_id)
        counts = query_counts(app, cookie, slug)
        for page, (small, large) in counts.items():
            log(f"{page}: {small} SQL queries with 5 rows shown, {large} with 100")
        constant = all(small == large for small, large in counts.values())

        port = free_port()
        process = start_gunicorn(env, port, args.workers)
        log(f"Procfile web on 127.0.0.1:{port}, {args.workers or 'default'} workers, {CLIENTS} clients, {seconds} s per page "
            f"({'wrk' if shutil.which('wrk') else 'threads'})")
        results = {}
        for page, path in (("list", f"/o/{slug}/membership/"), ("dashboard", f"/o/{slug}/membership/dashboard")):
            for _ in range(20):  # warm every worker up
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", path, headers={"Cookie": f"session={cookie}"})
                response = connection.getresponse()
                assert response.status == 200, (path, response.status, response.read()[:300])
                response.read()
                # A browser keeps the cookie it is given (the session then holds its CSRF token):
                # without this, every measured request would sign a new session cookie.
                cookie = browser_cookie(response, cookie)
            measure = load_wrk if shutil.which("wrk") else load_threads
            results[page] = measure(port, path, cookie, seconds)
            r = results[page]
            log(f"{page}: {r['requests']} requests ({r['rps']:.0f}/s), errors {r['errors']}, p50 {r['p50']:.1f} ms, "
                f"p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms [{r['tool']}]")
        load = os.getloadavg()[0]
        log(f"machine load average during the run: {load:.1f} on {os.cpu_count()} cores")
        ok = constant and all(r["p95"] < TARGET_P95_MS and r["errors"] == 0 for r in results.values())
        if not args.quick:
            for page, r in results.items():
                p95 = round(r["p95"], 1)
                record(f"membership_{page}_p95_ms", p95, "ms", TARGET_P95_MS, round(p95 / TARGET_P95_MS, 3))
                record(f"membership_{page}_rps", round(r["rps"], 1), f"req/s (load average {load:.1f})")
                small, large = counts[page]
                record(f"membership_{page}_sql_queries", large, "queries per request (100 rows shown)", small,
                       round(large / small, 3))
        log("PASS" if ok else "FAIL: " + ("query count grows with rows shown; " if not constant else "")
            + ", ".join(f"{p} p95 {r['p95']:.0f} ms" for p, r in results.items()))
        return 0 if ok else 1
    finally:
        if process is not None:
            stop(process)
        try:
            from backoffice.extensions import db

            with app.app_context():
                db.engine.dispose()
        except Exception:  # noqa: BLE001  (app may not exist if creation failed)
            pass
        drop_database(name)
        shutil.rmtree(env["STORAGE_DIR"], ignore_errors=True)
        log(f"database {name} dropped")


if __name__ == "__main__":
    sys.exit(main())
