"""Benchmark: 300 sign-in links asked for at once, delivered by one worker to a local SMTP server.

The morning before an assembly: 300 members ask for their sign-in link within a minute. Each
request queues its mail and enqueues one delivery job (``send_signin_link`` and a commit, as
the view does). Then one ``flask worker --burst`` (the Procfile's worker) is timed from its start
(its own start-up included) until it has nothing left, against a local SMTP sink
(``tests/smtp_sink.py``); every mail must have arrived exactly once.

Baseline, in the same run: the same 300 mails with the batching off (``MAIL_BATCH_SECONDS=0``:
each job delivers its own mail on its own connection). Budget: 60 s. Run from the repository
root: ``python -m bench mail`` (needs Redis; SQLite database and queues of its own).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = os.environ.get("BENCH_QUICK") == "1"
MAILS = 60 if QUICK else 300
SUFFIX = ".quick" if QUICK else ""
BUDGET_S = 60.0


def _deliver_all(env, sink, batch_seconds) -> float:
    """Run one burst worker on the queued mails; its wall time, once it has delivered them all."""
    from backoffice.extensions import db

    db.session.rollback()  # SQLite: an open read transaction here would block the worker's commits
    app_spec = (f"backoffice:create_app('testing', MAIL_BACKEND='smtp', MAIL_SERVER='127.0.0.1', "
                f"MAIL_PORT={sink.port}, MAIL_USE_TLS=False, MAIL_BATCH_SECONDS={batch_seconds})")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", app_spec, "worker", "--burst",
                           "--logging-level", "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
    return elapsed


def _ask_for_links(users) -> None:
    from backoffice.auth.services import send_signin_link
    from backoffice.extensions import db

    for user in users:  # one request each: a mail, a commit, a job
        send_signin_link(user)
        db.session.commit()


def main(argv=None) -> int:
    from backoffice import create_app
    from backoffice.extensions import db, rq
    from backoffice.mail.models import MailStatus, OutgoingMail
    from bench.results import record
    from config import Testing
    from tests.factories import UserFactory
    from tests.smtp_sink import SmtpSink

    folder = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    prefix = f"maillage-bench-{uuid.uuid4().hex[:8]}"
    settings = dict(SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR=str(folder / "storage"), RQ_QUEUE_PREFIX=prefix,
                    JOBS_INLINE=False)
    env = dict(os.environ, TEST_DATABASE_URL=url, STORAGE_DIR=settings["STORAGE_DIR"], RQ_QUEUE_PREFIX=prefix,
               MAILLAGE_ENV="testing", PYTHONPATH=str(ROOT))
    app = create_app(Testing, **settings)
    figures = {}
    try:
        with app.app_context():
            db.create_all()
            users = [UserFactory(email=f"adherent.{n:03d}@cpts-paysblanc.fr", full_name=f"Adhérente n° {n}")
                     for n in range(MAILS)]
            db.session.commit()
            for label, batch_seconds in (("batched", app.config["MAIL_BATCH_SECONDS"]), ("one by one", 0)):
                with SmtpSink() as sink:
                    _ask_for_links(users)
                    assert rq.get_queue(f"{prefix}-mail").count == MAILS
                    elapsed = _deliver_all(env, sink, batch_seconds)
                    received = Counter(sink.recipients())
                assert sorted(received) == sorted(u.email for u in users) and set(received.values()) == {1}, \
                    "every mail exactly once"
                db.session.rollback()
                assert db.session.query(OutgoingMail).filter(OutgoingMail.status != MailStatus.SENT).count() == 0
                figures[label] = elapsed
                print(f"{MAILS} sign-in links, {label}: all delivered in {elapsed:.2f} s by one worker "
                      f"(start-up included), {sink.connections} SMTP connection(s)")
            ours, baseline = figures["batched"], figures["one by one"]
            record(f"mail.signin_links_{MAILS}_one_worker{SUFFIX}", round(ours, 2), "s", round(baseline, 2),
                   round(ours / baseline, 3))
            print(f"batched / one by one: {ours / baseline:.3f}; budget {BUDGET_S:.0f} s")
    finally:
        with app.app_context():
            for queue in rq.queues.values():
                queue.empty()
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if figures.get("batched", BUDGET_S) < BUDGET_S * MAILS / 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
