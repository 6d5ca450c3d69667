"""Statement matching benchmark: 2,000 bank lines matched against 10,000 open memberships.

In process, for each database (a fresh SQLite file, a fresh PostgreSQL database on 127.0.0.1):
one CPTS whose association numbers its members and writes ``COT{year}/{number:05}`` on its
transfers, 10,000 professionals each with an open 2026 membership (inserted in bulk: matching
reads memberships, not the books), and a statement of 2,000 credits as banks label them — our
generated references with the bank's spaces and case, the association's references with missing
zeros or separators, payers' names only (exact and partial amounts), cheque deposits, payouts,
subsidies, and transfers nobody can be told from. The lines are stored by banking's import, then
``statements.suggest_matches`` runs on them and the session is committed: that is what is timed.

Records ``matching.<database>.seconds`` (2,000 lines; baseline: the 2 s budget, ratio = value /
budget; ``cpu_seconds`` the same in CPU time of the process, for a loaded machine) and
``matching.<database>.queries`` (SQL statements other than inserts for 2,000 lines;
baseline: the same for 200 lines, ratio 1.0 when they do not grow with the lines).

Run: ``.venv/bin/python bench/bench_matching.py`` (``--lines 200 --members 1000`` for a quick run
that records nothing; ``--database sqlite|postgresql|both``).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_option, scratch_app, scratch_runs  # noqa: E402
from bench.results import record  # noqa: E402

LINES, MEMBERS, FEW = 2000, 10000, 200
BUDGET_S = 2.0
FIRST = ["Marie", "Jean", "Anne", "Pierre", "Sophie", "Luc", "Claire", "Paul", "Julie", "Yves", "Hélène", "Marc",
         "Léa", "Nicolas", "Camille", "Thomas", "Émilie", "François", "Laure", "Olivier", "Chloé", "Hugo", "Inès",
         "Louis", "Manon", "Gaël", "Nolwenn", "Erwan", "Maëlle", "Ronan", "Solène", "Yann", "Anaïs", "Loïc"]
LAST = ["Dupont", "Martin", "Le Floch", "D'Aubigné", "Le Goff", "Morvan", "Caradec", "Rolland", "Breton", "Leroy",
        "Bernard", "Girard", "Le Gall", "Quéré", "Tanguy", "Guillou", "Le Roux", "Kerbrat", "Jézéquel", "Le Bihan",
        "Prigent", "Riou", "Hamon", "Cadiou", "L'Hostis", "Nédélec", "Salaün", "Le Meur", "Abgrall", "Pichon"]


def log(message):
    print(f"[bench_matching] {message}", flush=True)


class Counter:
    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def reads_and_updates(self):
        return len([s for s in self.statements if not s.lstrip().upper().startswith("INSERT")])


def _reference(n):
    """A distinct generated reference (``ADH26-`` and five letters of the references' alphabet)."""
    from backoffice.membership.services import REFERENCE_ALPHABET, REFERENCE_LENGTH

    code = ""
    for _ in range(REFERENCE_LENGTH):
        n, digit = divmod(n, len(REFERENCE_ALPHABET))
        code = REFERENCE_ALPHABET[digit] + code
    return f"ADH26-{code}"


def populate(organisation, members):
    """``members`` professionals, each with an open 2026 membership; returns [(membership
    row)] as dicts (name, reference, number, due)."""
    from sqlalchemy import insert

    from backoffice.extensions import db
    from backoffice.membership import services
    from backoffice.membership.models import Membership, MembershipStatus
    from backoffice.people.models import Professional

    period = services.period_for_year(organisation, 2026)
    people = []
    for n in range(members):
        # Distinct names (homonyms are the unit tests' business): simple last names first, then
        # compound ones (« Dupont-Le Goff »), as a territory's directory has both.
        last, second = LAST[(n // len(FIRST)) % len(LAST)], n // (len(FIRST) * len(LAST))
        people.append(Professional(first_name=FIRST[n % len(FIRST)],
                                   last_name=last if second == 0 else f"{last}-{LAST[(second + 7) % len(LAST)]}"))
    db.session.add_all(people)
    db.session.flush()
    rows = []
    for n, party in enumerate(people):
        rows.append(dict(organisation_id=organisation.id, party_id=party.id, period_id=period.id,
                         status=MembershipStatus.AWAITING_PAYMENT, amount_due=Decimal("30.00") if n % 3 else
                         Decimal("50.00"), amount_paid=Decimal("0.00"), credit=Decimal("0.00"),
                         payment_reference=_reference(n),
                         member_number=str(n + 1), joined_on=date(2026, 1, 5), source="bench"))
    db.session.execute(insert(Membership), rows)
    db.session.commit()
    return [dict(first=p.first_name, last=p.last_name, reference=r["payment_reference"], number=r["member_number"],
                 due=r["amount_due"]) for p, r in zip(people, rows)]


def statement_rows(members, count, seed):
    """``count`` credits of the shape of a French bank's export, one in twenty nobody's."""
    rng = random.Random(seed)
    start = date(2026, 2, 2)
    rows = []
    for n in range(count):
        m = members[rng.randrange(len(members))]
        day = (start + timedelta(days=n % 27)).strftime("%d/%m/%Y")
        kind = n % 20
        payer = f"{m['last'].upper()} {m['first'].upper()}"
        if kind < 8:
            spaced = m["reference"].replace("-", " ").lower() if kind % 2 else m["reference"]
            rows.append((day, f"VIR SEPA RECU /DE {payer} /MOTIF COTISATION {spaced} /REF 2026{n:07d}", m["due"]))
        elif kind < 12:
            written = f"COT2026/{int(m['number']):05d}" if kind % 2 else f"cot 2026 {m['number']}"
            rows.append((day, f"VIR SEPA RECU /DE M {payer} /MOTIF {written}", m["due"]))
        elif kind < 16:
            amount = m["due"] if kind % 2 else Decimal("20.00")
            rows.append((day, f"VIREMENT DE {m['first'].upper()} {m['last'].upper()} COTISATION 2026", amount))
        elif kind == 16:
            rows.append((day, f"REMISE CHEQUES N {n:07d}", Decimal("240.00")))
        elif kind == 17:
            rows.append((day, f"VIR SEPA RECU /DE HELLOASSO /MOTIF VERSEMENT {n}", Decimal("125.50")))
        elif kind == 18:
            rows.append((day, "VIR SEPA RECU /DE ARS BRETAGNE /MOTIF SUBVENTION FIR 2026", Decimal("5000.00")))
        else:
            rows.append((day, f"VIR SEPA RECU /DE SCI DES LILAS {n} /MOTIF LOYER", Decimal("35.00")))
    return rows


def csv_of(rows):
    body = "".join(f"{d};{label};{str(amount).replace('.', ',')}\n" for d, label, amount in rows)
    return ("date;libelle;montant\n" + body).encode()


def run(database, url, storage, lines, members):
    from sqlalchemy import event

    from backoffice.banking import services as banking
    from backoffice.banking.models import BankStatementLine
    from backoffice.extensions import db
    from backoffice.membership import services, statements
    from backoffice.organisations.models import Organisation
    from backoffice.organisations.services import create_organisation

    figures = {}
    with scratch_app(url, storage, "bench-matching"):
        organisation = create_organisation("CPTS du Banc d'Essai", "cpts", slug="cpts-bench-matching")
        banking.set_default_account_details(organisation, "FR7630004000031234567890143", None)
        services.set_reference_scheme(organisation, "COT{year}/{number:05}")
        banking.save_csv_mapping(banking.default_account(organisation), {"date": "date", "label": "libelle", "amount": "montant"},
                                 ["date", "libelle", "montant"])
        db.session.commit()
        started = time.perf_counter()
        people = populate(organisation, members)
        log(f"{database}: {members} open memberships in {time.perf_counter() - started:.1f} s")
        organisation_id = organisation.id
        for name, count in (("few", min(FEW, lines)), ("many", lines)):
            organisation = db.session.get(Organisation, organisation_id)
            stored = banking.import_statement(banking.default_account(organisation), f"{name}.csv",
                                              csv_of(statement_rows(people, count, name)))
            db.session.commit()
            ids = [line.id for line in stored.lines]
            db.session.expunge_all()   # as the next request would: nothing loaded yet
            organisation = db.session.get(Organisation, organisation_id)
            to_match = list(db.session.scalars(db.select(BankStatementLine).where(BankStatementLine.id.in_(ids))))
            counter = Counter()
            event.listen(db.engine, "before_cursor_execute", counter)
            started, cpu = time.perf_counter(), time.process_time()
            statements.suggest_matches(organisation, to_match)
            suggested = sum(1 for line in to_match if line.suggested_id is not None)
            preticked = sum(1 for line in to_match if (line.match_details or {}).get("preticked"))
            db.session.commit()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            event.remove(db.engine, "before_cursor_execute", counter)
            figures[name] = (elapsed, counter.reads_and_updates, len(counter.statements), cpu)
            log(f"{database} {count} lines: {elapsed:.2f} s ({cpu:.2f} s of CPU in this process; load "
                f"{os.getloadavg()[0]:.1f}), {counter.reads_and_updates} reads and updates "
                f"({len(counter.statements)} statements); {suggested} suggested, {preticked} pre-ticked")
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=LINES, help="statement lines matched")
    parser.add_argument("--members", type=int, default=MEMBERS, help="open memberships")
    args = add_database_option(parser).parse_args(argv)
    for database, url, storage in scratch_runs(args.database, "bench-matching"):
        figures = run(database, url, storage, args.lines, args.members)
        if (args.lines, args.members) == (LINES, MEMBERS):
            seconds = round(figures["many"][0], 3)
            record(f"matching.{database}.seconds", seconds,
                   f"s to match {LINES} statement lines against {MEMBERS} open memberships ({database}); "
                   "baseline: the budget", BUDGET_S, round(seconds / BUDGET_S, 3))
            record(f"matching.{database}.cpu_seconds", round(figures["many"][3], 3),
                   f"s of CPU of the matching process for {LINES} lines ({database}; the database server's "
                   "not counted); baseline: the budget", BUDGET_S, round(figures["many"][3] / BUDGET_S, 3))
            record(f"matching.{database}.queries", figures["many"][1],
                   f"SQL reads and updates to match {LINES} lines ({database}); baseline: {FEW} lines",
                   figures["few"][1], round(figures["many"][1] / figures["few"][1], 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
