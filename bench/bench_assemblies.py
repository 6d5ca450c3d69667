"""General assemblies on PostgreSQL: the ballot endpoint under 100 voters, the tally of a
1,000-voter assembly, SQL queries per ballot.

1. **Ballot endpoint** — an assembly of 1,000 voters and 10 resolutions (every other one
   secret), all open; 100 members, each on his own phone (keep-alive connection, his session,
   the CSRF token of his page), vote on every resolution through the Procfile's ``web`` process
   (gunicorn, production settings, 3 workers). Each resolution's 100 ballots arrive as in the
   room when the chair opens a vote: every voter at an instant drawn at random in the
   ``WINDOW_S`` seconds after the previous resolution's round. Latency p50/p95/p99 of the vote
   POST (the answer is the redirect back to his page, with the receipt in its flash).
   Baseline, same run, same voters, same schedule: the same POST without a choice (refused by
   the form: session, CSRF, the resolution and the voter loaded, the flash, the redirect —
   everything but the ballot). Budget: p95 under 150 ms.
2. **Tally** — the 1,000 voters have all voted on the 10 resolutions (bulk-loaded: the open
   votes, and the secret ballots sealed in the inbox then chained by each vote's close, also
   timed); the results page's computation (``voting.tally`` of the 10 resolutions, the rules
   applied) is timed, median of 15. Baseline, same run: the bare ``SUM(weight) … GROUP BY
   choice`` of the same votes. Budget: 100 ms.
3. **SQL queries per ballot** — in process (Testing settings), the queries of one vote POST
   when the resolution's box is empty and when 998 ballots are in it, open and secret: must
   be equal (ratio 1).

The issue's fourth figure, the morning of the assembly (300 members asking for their sign-in
link within a minute get their mails from one worker within 60 s), is the mail queue's:
``bench/bench_mail.py`` (``python -m bench mail``, ``mail.signin_links_300_one_worker``).

Figures in ``bench/results.json`` (``assemblies.*``): value, unit, baseline, ratio. Run from the
repository root: ``python -m bench assemblies`` (PostgreSQL at 127.0.0.1 and Redis needed;
about 3 minutes); ``BENCH_QUICK=1``: fewer voters, nothing recorded.
"""
from __future__ import annotations

import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUICK = os.environ.get("BENCH_QUICK") == "1"
WEB_VOTERS = 20 if QUICK else 100
RESOLUTIONS = 4 if QUICK else 10
WINDOW_S = 4.0
TALLY_VOTERS = 200 if QUICK else 1000
TARGET_BALLOT_P95_MS = 150
TARGET_TALLY_MS = 100


def log(message):
    print(f"[bench_assemblies] {message}", flush=True)


def agenda():
    return [(f"Résolution {n + 1}", n % 2 == 1) for n in range(RESOLUTIONS)]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


# --- 1. the ballot endpoint through gunicorn --------------------------------------------------

def web_round(members, ids, choose):
    """Every member votes on each resolution in turn, at a random instant of each round's window;
    returns the latencies (ms) and the answers that are not a redirect."""
    latencies, failures, lock = [], [], threading.Lock()
    offsets = [[random.uniform(0, WINDOW_S) for _ in ids["resolutions"]] for _ in members]
    started = time.perf_counter()

    def member_votes(index):
        member = members[index]
        for n, resolution_id in enumerate(ids["resolutions"]):
            wait = started + n * WINDOW_S + offsets[index][n] - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            status, message, elapsed = member.vote(resolution_id, ids["voters"][index], choose(index, n))
            with lock:
                latencies.append(elapsed)
                if status != 302:
                    failures.append((status, message))

    threads = [threading.Thread(target=member_votes, args=(i,)) for i in range(len(members))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - started


def ballot_endpoint(app, url, secret):
    from backoffice.assemblies.models import OpenVote, SealedBallot
    from backoffice.extensions import db
    from bench.web import free_port, start_gunicorn, stop
    from tests.assemblies.crowd import Member, Sessions
    from tests.assemblies.factories import committed_assembly

    with committed_assembly(db, voters=TALLY_VOTERS, users=WEB_VOTERS, resolutions=agenda(),
                            slug_prefix="bench-ballots") as ids:
        env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secret, REDIS_URL=app.config["REDIS_URL"],
                   RATELIMIT_STORAGE_URI="memory://", RQ_QUEUE_PREFIX=app.config["RQ_QUEUE_PREFIX"],
                   STORAGE_DIR=app.config["STORAGE_DIR"], WEB_CONCURRENCY="3")
        port = free_port()
        server = start_gunicorn(env, port, None)
        try:
            sessions = Sessions(secret)
            members = [Member(sessions, port, ids["slug"], ids["assembly"], user_id) for user_id in ids["users"]]
            assert "Pour" in members[0].page()  # his page, with its vote buttons
            warm = [threading.Thread(target=m.vote, args=(ids["resolutions"][0], ids["voters"][i], None))
                    for i, m in enumerate(members)]  # every worker past its first requests
            for thread in warm:
                thread.start()
            for thread in warm:
                thread.join()
            base, base_failures, _ = web_round(members, ids, lambda i, n: None)  # refused by the form
            ours, failures, seconds = web_round(members, ids, lambda i, n: ("for", "against", "abstain")[(i + n) % 3])
            for member in members:
                member.close()
        finally:
            stop(server)
        db.session.rollback()
        recorded = (db.session.query(OpenVote).filter(OpenVote.resolution_id.in_(ids["resolutions"])).count()
                    + db.session.query(SealedBallot).filter(SealedBallot.resolution_id.in_(ids["resolutions"])).count())
    expected = WEB_VOTERS * RESOLUTIONS
    assert not failures and recorded == expected, (failures[:3], recorded, expected)
    assert not base_failures, base_failures[:3]
    return {"p50": percentile(ours, 50), "p95": percentile(ours, 95), "p99": percentile(ours, 99),
            "base_p95": percentile(base, 95), "base_p50": percentile(base, 50), "ballots": len(ours),
            "rate": len(ours) / seconds}


# --- 2 and 3. the tally and the queries per ballot, in process --------------------------------

def fill(resolutions, voter_ids, rng):
    """Every voter of ``voter_ids`` votes on each of ``resolutions`` (bulk, as the service writes it)."""
    from sqlalchemy import insert

    from backoffice.assemblies import voting
    from backoffice.assemblies.models import OpenVote, Participation, SealedBallot
    from backoffice.extensions import db

    for r in resolutions:
        choices = [rng.choice(("for", "for", "against", "abstain")) for _ in voter_ids]
        db.session.execute(insert(Participation), [dict(resolution_id=r.id, voter_id=v) for v in voter_ids])
        if r.secret:
            db.session.execute(insert(SealedBallot), [
                dict(resolution_id=r.id, token=secrets.token_hex(16),
                     sealed=voting.seal(r.id, c, 1, secrets.token_hex(16))) for c in choices])
        else:
            db.session.execute(insert(OpenVote), [
                dict(resolution_id=r.id, voter_id=v, cast_by_id=v, choice=c, weight=1,
                     receipt=voting.receipt_of(secrets.token_hex(8))) for v, c in zip(voter_ids, choices)])
    db.session.commit()


def vote_queries(app, ids, user_id, voter_id, resolution_id):
    """The SQL statements one vote POST runs, in a fresh application context (its own session and
    ``g``, as a request of the web process: nothing already loaded)."""
    from sqlalchemy import event

    from backoffice.extensions import db

    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = str(user_id), True
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.post(
                f"/o/{ids['slug']}/assemblies/mine/{ids['assembly']}/resolutions/{resolution_id}/vote",
                data={"right": voter_id, "choice": "for"})
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 302, response.status_code
        with client.session_transaction() as session:
            assert "Vote enregistré" in session["_flashes"][-1][1], session["_flashes"]
        db.session.remove()
    if os.environ.get("BENCH_ASSEMBLIES_SQL"):  # to see which statements a count holds
        with open(os.environ["BENCH_ASSEMBLIES_SQL"], "a", encoding="utf-8") as out:
            out.write(f"--- voter {voter_id}, resolution {resolution_id}\n" + "\n".join(statements) + "\n")
    return len(statements)


def tally_and_queries(app):
    from sqlalchemy import func, select

    from backoffice.assemblies import voting
    from backoffice.assemblies.models import Assembly, OpenVote, Resolution, SecretBallot
    from backoffice.extensions import db
    from tests.assemblies.factories import committed_assembly

    rng = random.Random(2026)
    with committed_assembly(db, voters=TALLY_VOTERS, users=TALLY_VOTERS, resolutions=agenda(),
                            slug_prefix="bench-tally") as ids:
        resolutions = [db.session.get(Resolution, r) for r in ids["resolutions"]]
        first, last = ids["voters"][0], ids["voters"][-1]
        probes = [next(r for r in resolutions if not r.secret), next(r for r in resolutions if r.secret)]
        empty = {r.secret: vote_queries(app, ids, ids["users"][0], first, r.id) for r in probes}
        fill(resolutions, ids["voters"][1:-1], rng)
        fill([r for r in resolutions if r not in probes], [first], rng)
        full = {r.secret: vote_queries(app, ids, ids["users"][-1], last, r.id) for r in probes}
        fill([r for r in resolutions if r not in probes], [last], rng)
        closes = []
        for r in resolutions:
            started = time.perf_counter()
            voting.close_vote(r)
            db.session.commit()
            if r.secret:
                closes.append(time.perf_counter() - started)
        assembly = db.session.get(Assembly, ids["assembly"])
        weight = sum(v.weight for v in assembly.voters)
        ids_ = [r.id for r in resolutions]

        def ours():
            return [voting.tally(r, weight) for r in assembly.resolutions]

        def baseline():
            return [db.session.execute(select(model.resolution_id, model.choice, func.sum(model.weight))
                                       .where(model.resolution_id.in_(ids_)).group_by(model.resolution_id,
                                                                                      model.choice)).all()
                    for model in (OpenVote, SecretBallot)]

        assert all(sum(t.total.values()) == TALLY_VOTERS for t in ours())
        ours(), baseline()  # warm up
        pairs = []
        for _ in range(15):
            started = time.perf_counter()
            baseline()
            base = time.perf_counter() - started
            started = time.perf_counter()
            ours()
            pairs.append((time.perf_counter() - started, base))
        db.session.rollback()
    return {"tally_ms": statistics.median(m for m, _ in pairs) * 1000,
            "base_ms": statistics.median(b for _, b in pairs) * 1000,
            "ratio": statistics.median(m / b for m, b in pairs),
            "close_ms": statistics.median(closes) * 1000, "empty": empty, "full": full}


def main(argv=None):
    from backoffice import create_app
    from backoffice.extensions import db
    from bench.databases import scratch_database
    from bench.results import record
    from config import Testing

    secret = secrets.token_hex(32)
    storage = tempfile.mkdtemp(prefix="bench-assemblies-")
    try:
        with scratch_database("postgresql", "bench_assemblies") as url:
            app = create_app(Testing, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=secret, STORAGE_DIR=storage,
                             RQ_QUEUE_PREFIX=f"bench-assemblies-{secrets.token_hex(4)}")
            with app.app_context():
                db.create_all()
                web = ballot_endpoint(app, url, secret)
                load_web = os.getloadavg()[0]
                log(f"ballot POST, {WEB_VOTERS} voters × {RESOLUTIONS} resolutions ({web['ballots']} ballots, "
                    f"{web['rate']:.0f}/s): p50 {web['p50']:.0f} ms, p95 {web['p95']:.0f} ms, p99 {web['p99']:.0f} ms; "
                    f"baseline (the same POST refused by the form) p50 {web['base_p50']:.0f} ms, p95 "
                    f"{web['base_p95']:.0f} ms; load average {load_web:.1f} on {os.cpu_count()} CPUs")
                figures = tally_and_queries(app)
                load_tally = os.getloadavg()[0]
                log(f"tally of {RESOLUTIONS} resolutions × {TALLY_VOTERS} voters: {figures['tally_ms']:.1f} ms vs "
                    f"baseline (bare SUM … GROUP BY) {figures['base_ms']:.1f} ms, ratio {figures['ratio']:.2f}; "
                    f"close of a secret box of {TALLY_VOTERS} ballots {figures['close_ms']:.0f} ms; "
                    f"load average {load_tally:.1f}")
                log(f"SQL queries per ballot POST, empty box → 998 ballots: open {figures['empty'][False]} → "
                    f"{figures['full'][False]}, secret {figures['empty'][True]} → {figures['full'][True]}")
                db.session.remove()
                db.engine.dispose()
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    constant = figures["empty"] == figures["full"]
    ok = constant and web["p95"] < TARGET_BALLOT_P95_MS and figures["tally_ms"] < TARGET_TALLY_MS
    if not QUICK:
        p95 = round(web["p95"], 1)
        record("assemblies.ballot_post_p95_ms", p95, f"ms ({WEB_VOTERS} voters, load average {load_web:.1f})",
               round(web["base_p95"], 1), round(web["p95"] / web["base_p95"], 3))
        record("assemblies.ballot_post_p95_budget", p95, "ms", TARGET_BALLOT_P95_MS,
               round(web["p95"] / TARGET_BALLOT_P95_MS, 3))
        tally_ms = round(figures["tally_ms"], 2)
        record(f"assemblies.tally_{TALLY_VOTERS}_voters_{RESOLUTIONS}_resolutions_ms", tally_ms,
               f"ms (load average {load_tally:.1f})", round(figures["base_ms"], 2), round(figures["ratio"], 3))
        record(f"assemblies.tally_{TALLY_VOTERS}_voters_{RESOLUTIONS}_resolutions_budget", tally_ms, "ms",
               TARGET_TALLY_MS, round(figures["tally_ms"] / TARGET_TALLY_MS, 3))
        for secret_box, label in ((False, "open"), (True, "secret")):
            full, empty = figures["full"][secret_box], figures["empty"][secret_box]
            record(f"assemblies.sql_queries_per_{label}_ballot", full, "queries per vote POST (998 ballots in the box)",
                   empty, round(full / empty, 3))
        record(f"assemblies.close_secret_box_{TALLY_VOTERS}_ms", round(figures["close_ms"], 1), "ms")
    log("PASS" if ok else "FAIL: " + ("queries grow with the box; " if not constant else "")
        + f"ballot p95 {web['p95']:.0f} ms (budget {TARGET_BALLOT_P95_MS}), tally {figures['tally_ms']:.0f} ms "
          f"(budget {TARGET_TALLY_MS})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
