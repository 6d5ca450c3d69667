"""Concurrent postings on PostgreSQL: numbers stay continuous, a source is posted once, and
lettering never letters a line twice. (SQLite serialises writers; nothing to race there.)"""
import threading
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from backoffice.accounting import services
from backoffice.accounting.models import JournalEntry, JournalLine
from backoffice.organisations.models import Organisation
from tests.concurrency import run_in_threads

THREADS = 4
POSTINGS = 5


@pytest.fixture
def committed_books(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: concurrency is PostgreSQL's case")
    from backoffice.organisations.services import create_organisation
    from backoffice.people.models import Professional

    slug = f"concurrence-{uuid.uuid4().hex[:8]}"
    organisation = create_organisation("CPTS Concurrence", "cpts", slug=slug, siren="812345676")
    services.ensure_ledger(organisation)
    member = Professional(first_name="Anne", last_name=f"Course-{slug}")
    db.session.add(member)
    db.session.commit()
    ids = (organisation.id, member.id)
    yield ids
    db.session.rollback()
    from backoffice.accounting import db_guards

    with db.engine.begin() as connection, db_guards.suspended(connection):  # posted entries are undeletable
        for table in ("audit_entries", "accounting_lines", "accounting_entries", "accounting_sequences",
                      "accounting_auxiliary_accounts", "accounting_posting_rules", "accounting_payment_methods",
                      "accounting_exports", "accounting_closed_periods", "accounting_accounts", "accounting_journals",
                      "accounting_ledgers"):
            connection.execute(text(f"DELETE FROM {table} WHERE organisation_id = :id"), {"id": ids[0]})
        connection.execute(text("DELETE FROM organisations WHERE id = :id"), {"id": ids[0]})
        connection.execute(text("DELETE FROM parties WHERE id = :id"), {"id": ids[1]})


@pytest.mark.no_db_transaction
def test_concurrent_postings(app, db, committed_books):
    organisation_id, member_id = committed_books
    from backoffice.people.models import Party

    barrier = threading.Barrier(THREADS)

    def work(index):
        organisation = db.session.get(Organisation, organisation_id)
        member = db.session.get(Party, member_id)
        barrier.wait()
        for n in range(POSTINGS):
            services.post_event(organisation, "fee_due", amount=Decimal("10.00"), entry_date=date(2026, 1, 1 + n),
                                party=member, piece_ref=f"T{index}-{n}", label="Cotisation")
            db.session.commit()
            services.post_event(organisation, "fee_paid", amount=Decimal("10.00"), entry_date=date(2026, 1, 1 + n),
                                party=member, piece_ref=f"P{index}-{n}", label="Règlement", payment_method="cash")
            db.session.commit()
        # Everyone posts the same source: one entry only.
        services.post_event(organisation, "subsidy_received", amount=Decimal("500.00"), entry_date=date(2026, 2, 1),
                            piece_ref="ARS", label="Subvention", source="ars:2026")
        db.session.commit()

    run_in_threads(app, work, THREADS)
    numbers = db.session.scalars(select(JournalEntry.number).where(JournalEntry.organisation_id == organisation_id)
                                 .order_by(JournalEntry.number)).all()
    assert numbers == list(range(1, THREADS * POSTINGS * 2 + 2))
    lettering = db.session.execute(select(JournalLine.lettering_code, JournalLine.debit, JournalLine.credit).where(
        JournalLine.organisation_id == organisation_id, JournalLine.auxiliary_id.is_not(None))).all()
    assert all(code for code, _, _ in lettering)  # every fee met its payment
    debit, credit = Counter(), Counter()
    for code, d, c in lettering:
        debit[code] += d
        credit[code] += c
    assert debit == credit  # every group balances: no line lettered twice
