"""The envelope race on PostgreSQL: 20 board members approve 20 different applications at the same
instant, together far above the envelope; the envelope is never exceeded and each refusal says why.
(SQLite serialises writers.)"""
import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from backoffice.grants import services
from backoffice.grants.models import GrantApplication, GrantProgramme, GrantStatus
from backoffice.grants.services import GrantError
from tests.concurrency import run_in_threads

THREADS = 20


@pytest.fixture
def committed_programme(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: concurrency is PostgreSQL's case")
    from backoffice.organisations.services import create_organisation
    from tests.factories import ProfessionalFactory

    organisation = create_organisation("CPTS du Pays Blanc", "cpts", slug=f"aides-{uuid.uuid4().hex[:8]}",
                                       siren="812345676")
    programme = services.create_programme(
        organisation, name="Dermatoscopes 2026", envelope=Decimal("5000.00"), ceiling_amount=Decimal("600.00"),
        requires_membership=False, requires_training=False, required_documents={},
        funders=[("ARS Pays de la Loire — FIR", "5000", None)])
    parties = []
    for index in range(THREADS):
        party = ProfessionalFactory(last_name=f"Hélias-{index}", email=None, profession="medecin_generaliste")
        row = services.create_application(organisation, programme, party, equipment_kind="Dermatoscope",
                                          quoted_price=Decimal("750.00"), amount_requested=Decimal("600.00"))
        services.submit(row)
        parties.append(party.id)
    db.session.commit()
    ids = (organisation.id, programme.id)
    yield ids
    db.session.rollback()
    with db.engine.begin() as connection:
        for statement in ("DELETE FROM status_changes WHERE organisation_id = :org",
                          "DELETE FROM grant_applications WHERE organisation_id = :org",
                          "DELETE FROM grant_funders WHERE programme_id = :programme",
                          "DELETE FROM grant_programmes WHERE organisation_id = :org",
                          "DELETE FROM audit_entries WHERE organisation_id = :org",
                          "DELETE FROM organisations WHERE id = :org"):
            connection.execute(text(statement), {"org": ids[0], "programme": ids[1]})
        connection.execute(text("DELETE FROM parties WHERE id = ANY(:ids)"), {"ids": parties})


@pytest.mark.no_db_transaction
def test_concurrent_approvals_never_exceed_the_envelope(app, db, committed_programme, monkeypatch):
    # The commitment entries are left out: committed entries of a throw-away organisation cannot be
    # deleted afterwards (the books' guards), and the accounting's numbering races are its own tests'.
    from backoffice.grants import payments

    monkeypatch.setattr(payments, "post_commitment", lambda application: None)
    organisation_id, programme_id = committed_programme
    application_ids = db.session.scalars(select(GrantApplication.id).where(
        GrantApplication.programme_id == programme_id).order_by(GrantApplication.id)).all()
    db.session.rollback()
    approved, refused, barrier = [], [], threading.Barrier(THREADS)

    def work(index):
        from backoffice.extensions import db as session_db

        barrier.wait(30)  # then each takes a connection of the pool (smaller than 20) as it comes
        application = session_db.session.get(GrantApplication, application_ids[index])
        try:
            services.approve(application)
            session_db.session.commit()
            approved.append(application.id)
        except GrantError as error:
            session_db.session.rollback()
            refused.append(str(error))
        finally:
            session_db.session.remove()

    run_in_threads(app, work, THREADS)
    programme = db.session.get(GrantProgramme, programme_id)
    statuses = db.session.scalars(select(GrantApplication.status).where(
        GrantApplication.programme_id == programme_id)).all()
    assert len(approved) == 8 and len(refused) == 12  # 8 × 600 = 4 800 ≤ 5 000 < 9 × 600
    assert programme.granted_total == Decimal("4800.00") == services.budget(programme).granted
    assert statuses.count(GrantStatus.APPROVED) == 8 and statuses.count(GrantStatus.SUBMITTED) == 12
    assert all(message.startswith("Enveloppe dépassée : il reste 200,00") for message in refused), refused
    db.session.rollback()
