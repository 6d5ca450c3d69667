"""Benchmark: 300 sign-in links asked for at once, delivered by one worker to a local SMTP server.

The morning before an assembly: 300 members ask for their sign-in link within a minute. Each
request queues its mail and enqueues one delivery job (``send_signin_link`` and a commit, as
the view does). Then one ``flask worker --burst`` (the Procfile's worker) is timed from its start
(its own start-up included) until it has nothing left, against a local SMTP sink
(``tests/smtp_sink.py``); every mail must have arrived exactly once. CPU (the worker and its
work-horses) is recorded too: wall time depends on the machine's load.

Baseline, in the same run: the same 300 mails with the batching off (``MAIL_BATCH_SECONDS=0``:
each job delivers its own mail on its own connection). Budget: 60 s. Run from the repository
root: ``python -m bench mail`` (needs Redis; SQLite database and queues of its own).
"""
from __future__ import annotations

import os
import sys
from collections import Counter

QUICK = os.environ.get("BENCH_QUICK") == "1"
MAILS = 60 if QUICK else 300
SUFFIX = ".quick" if QUICK else ""
BUDGET_S = 60.0


def _app_spec(sink, batch_seconds) -> str:
    return (f"backoffice:create_app('testing', MAIL_BACKEND='smtp', MAIL_SERVER='127.0.0.1', "
            f"MAIL_PORT={sink.port}, MAIL_USE_TLS=False, MAIL_BATCH_SECONDS={batch_seconds})")


def _ask_for_links(users) -> None:
    from backoffice.auth.services import send_signin_link
    from backoffice.extensions import db

    for user in users:  # one request each: a mail, a commit, a job
        send_signin_link(user)
        db.session.commit()


def main(argv=None) -> int:
    from backoffice.extensions import db, rq
    from backoffice.mail.models import MailStatus, OutgoingMail
    from bench.results import record
    from bench.workers import run_burst_worker, scratch_app
    from tests.factories import UserFactory
    from tests.smtp_sink import SmtpSink

    figures = {}
    with scratch_app("mail") as (app, env):
        users = [UserFactory(email=f"adherent.{n:03d}@cpts-paysblanc.fr", full_name=f"Adhérente n° {n}")
                 for n in range(MAILS)]
        db.session.commit()
        for label, batch_seconds in (("batched", app.config["MAIL_BATCH_SECONDS"]), ("one by one", 0)):
            with SmtpSink() as sink:
                _ask_for_links(users)
                assert rq.get_queue(f"{app.config['RQ_QUEUE_PREFIX']}-mail").count == MAILS
                elapsed, cpu = run_burst_worker(env, app_spec=_app_spec(sink, batch_seconds))
                received = Counter(sink.recipients())
            assert sorted(received) == sorted(u.email for u in users) and set(received.values()) == {1}, \
                "every mail exactly once"
            db.session.rollback()
            assert db.session.query(OutgoingMail).filter(OutgoingMail.status != MailStatus.SENT).count() == 0
            figures[label] = (elapsed, cpu)
            print(f"{MAILS} sign-in links, {label}: all delivered in {elapsed:.2f} s ({cpu:.2f} s CPU) by one "
                  f"worker, start-up included; {sink.connections} SMTP connection(s); load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU")
    (ours, ours_cpu), (baseline, baseline_cpu) = figures["batched"], figures["one by one"]
    record(f"mail.signin_links_{MAILS}_one_worker{SUFFIX}", round(ours, 2), "s", round(baseline, 2),
           round(ours / baseline, 3))
    record(f"mail.signin_links_{MAILS}_one_worker_cpu{SUFFIX}", round(ours_cpu, 2), "s", round(baseline_cpu, 2),
           round(ours_cpu / baseline_cpu, 3))
    print(f"batched / one by one: {ours / baseline:.3f} of the time, {ours_cpu / baseline_cpu:.3f} of the CPU; "
          f"budget {BUDGET_S:.0f} s")
    return 0 if ours < BUDGET_S * MAILS / 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
