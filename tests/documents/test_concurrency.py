"""Concurrent allocations on PostgreSQL: document numbers have no duplicate and no gap, and two
jobs re-issuing the same document at once add one version each, one of them current. (SQLite serialises writers.)"""
import threading
import uuid

import pytest
from sqlalchemy import select, text

from backoffice.documents import generated
from backoffice.documents.models import GeneratedDocument
from backoffice.organisations.models import Organisation
from tests.concurrency import run_in_threads

THREADS = 4
ALLOCATIONS = 6


@pytest.fixture
def committed_organisation(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: concurrency is PostgreSQL's case")
    from backoffice.organisations.services import create_organisation

    organisation = create_organisation("CPTS des Côtes d'Armor", "cpts", slug=f"numeros-{uuid.uuid4().hex[:8]}",
                                       siren="812345676")
    db.session.commit()
    organisation_id = organisation.id
    yield organisation_id
    db.session.rollback()
    with db.engine.begin() as connection:
        for table in ("generated_documents", "document_sequences", "audit_entries"):
            connection.execute(text(f"DELETE FROM {table} WHERE organisation_id = :id"), {"id": organisation_id})
        connection.execute(text("DELETE FROM organisations WHERE id = :id"), {"id": organisation_id})


@pytest.mark.no_db_transaction
def test_concurrent_numbers_have_no_duplicate_and_no_gap(app, db, committed_organisation):
    numbers, barrier = [], threading.Barrier(THREADS)

    def work(index):
        from backoffice.extensions import db as session_db

        barrier.wait()
        organisation = session_db.session.get(Organisation, committed_organisation)
        for n in range(ALLOCATIONS):
            if n == 2 and index == 0:  # a rolled-back allocation gives its number back
                generated.allocate_number(organisation, "membership_receipt", year=2026)
                session_db.session.rollback()
                organisation = session_db.session.get(Organisation, committed_organisation)
            numbers.append(generated.allocate_number(organisation, "membership_receipt", year=2026).value)
            session_db.session.commit()
        session_db.session.remove()

    run_in_threads(app, work, THREADS)
    assert sorted(numbers) == list(range(1, THREADS * ALLOCATIONS + 1))


@pytest.mark.no_db_transaction
def test_concurrent_issues_of_documents(app, db, committed_organisation):
    """Each thread issues a receipt for its own subject and a new version of a shared one."""
    barrier = threading.Barrier(THREADS)

    def work(index):
        from backoffice.extensions import db as session_db

        barrier.wait()
        organisation = session_db.session.get(Organisation, committed_organisation)
        for n in range(3):
            generated.issue_document(organisation, "membership_receipt", ("memberships", 100 + index),
                                     f"attestation {index}.{n}".encode(), filename="attestation.docx", year=2026)
            session_db.session.commit()
            generated.issue_document(organisation, "membership_receipt", ("memberships", 1),
                                     f"partagée {index}.{n}".encode(), filename="attestation.docx", year=2026)
            session_db.session.commit()
        session_db.session.remove()

    run_in_threads(app, work, THREADS)
    rows = db.session.scalars(select(GeneratedDocument).where(
        GeneratedDocument.organisation_id == committed_organisation)).all()
    shared = sorted((r for r in rows if r.subject_id == 1), key=lambda r: r.version)
    assert [r.version for r in shared] == list(range(1, THREADS * 3 + 1))
    assert {r.number for r in shared} == {shared[0].number}
    assert [r.status.value for r in shared] == ["superseded"] * (THREADS * 3 - 1) + ["generated"]
    own = [r for r in rows if r.subject_id != 1]
    assert len(own) == THREADS * 3 and len({r.number for r in own}) == THREADS
    assert sorted(int(number.split("-")[1]) for number in {r.number for r in rows}) == list(range(1, THREADS + 2))
    db.session.rollback()
