"""Posting benchmark: milliseconds per ``post_event`` on SQLite and PostgreSQL, one by one and in a
posting batch.

In process, for each database (a fresh SQLite file, a fresh PostgreSQL database on 127.0.0.1):
one CPTS with its books and ``--postings`` members. Each member gets a ``fee_due`` entry and every
other member a ``fee_paid`` one (cheque), in one transaction, as a workbook import posts them:
first one ``post_event`` after the other (the baseline), then the same postings for other members
inside ``posting_batch`` (what the import uses). Both include the commit.

Records ``posting.<database>.post_event_ms`` (one by one; baseline: the target, 10 ms) and
``posting.<database>.batch_ms`` (in a batch; baseline: one by one in the same run, ratio = batch
/ one by one) in ``bench/results.json``.

Run: ``.venv/bin/python bench/bench_posting.py`` (``--postings 100`` for a quick run that
records nothing; ``--database sqlite|postgresql|both``).
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_option, scratch_app, scratch_runs  # noqa: E402
from bench.results import record  # noqa: E402

POSTINGS = 300
TARGET_MS = 10.0


def log(message):
    print(f"[bench_posting] {message}", flush=True)


def post_all(organisation, members, tag):
    """A fee due for each member, a cheque for every other one; returns how many entries."""
    from backoffice.accounting.services import post_event, posting_source

    count = 0
    for n, member in enumerate(members):
        post_event(organisation, "fee_due", amount=Decimal("30.00"), entry_date=date(2026, 1, 1 + n % 28),
                   party=member, piece_ref=f"ADH-{tag}-{n:05d}", label=f"Cotisation 2026 – {member.display_name}",
                   source=posting_source("parties", member.id, tag, "due"))
        count += 1
        if n % 2 == 0:
            post_event(organisation, "fee_paid", amount=Decimal("30.00"), entry_date=date(2026, 2, 1 + n % 28),
                       party=member, piece_ref=f"PAI-{tag}-{n:05d}", label=f"Règlement – {member.display_name}",
                       payment_method="cheque", source=posting_source("parties", member.id, tag, "paid"))
            count += 1
    return count


def run(database, url, storage, postings):
    from backoffice.accounting.services import ensure_ledger, posting_batch
    from backoffice.extensions import db
    from backoffice.organisations.models import Organisation
    from backoffice.organisations.services import create_organisation
    from backoffice.people.models import Professional

    figures = {}
    with scratch_app(url, storage, "bench-posting"):
        organisation = create_organisation("CPTS du Banc d'Essai", "cpts", slug="cpts-bench-posting")
        ensure_ledger(organisation)
        members = [Professional(first_name="Anne", last_name=f"Nom{n:05d}") for n in range(2 * postings)]
        db.session.add_all(members)
        db.session.commit()
        ids, organisation_id = [member.id for member in members], organisation.id
        for name, batched, chunk in (("single", False, ids[:postings]), ("batch", True, ids[postings:])):
            db.session.expunge_all()  # as a new request would: nothing loaded yet
            organisation = db.session.get(Organisation, organisation_id)
            people = list(db.session.scalars(db.select(Professional).where(Professional.id.in_(chunk))
                                             .order_by(Professional.id)))
            started = time.perf_counter()
            if batched:
                with posting_batch(organisation):
                    count = post_all(organisation, people, name)
            else:
                count = post_all(organisation, people, name)
            db.session.commit()
            elapsed = time.perf_counter() - started
            figures[name] = elapsed * 1000 / count
            log(f"{database} {name}: {count} entries in {elapsed:.2f} s, {figures[name]:.2f} ms per posting")
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=POSTINGS, help="members per phase")
    args = add_database_option(parser).parse_args(argv)
    for database, url, storage in scratch_runs(args.database, "bench-posting"):
        figures = run(database, url, storage, args.postings)
        if args.postings == POSTINGS:
            record(f"posting.{database}.post_event_ms", round(figures["single"], 2),
                   f"ms per post_event, one by one ({database})", TARGET_MS, round(figures["single"] / TARGET_MS, 3))
            record(f"posting.{database}.batch_ms", round(figures["batch"], 2),
                   f"ms per post_event in posting_batch ({database}); baseline: one by one, same run",
                   round(figures["single"], 2), round(figures["batch"] / figures["single"], 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
