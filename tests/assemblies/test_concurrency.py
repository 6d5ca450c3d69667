"""Votes at the same instant on PostgreSQL: the same right fired three times at once gives one
ballot, and concurrent ballots keep the secret box's chain whole. (SQLite serialises writers.)"""
import threading
import uuid
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, text

from backoffice.assemblies import services, voting
from backoffice.assemblies.models import (Assembly, AssemblyError, AssemblyStatus, AssemblyVoter, Choice,
                                          Participation, Resolution, SecretBallot)
from backoffice.lifecycle import move
from tests.concurrency import run_in_threads

THREADS = 6


@pytest.fixture
def open_secret_vote(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: concurrency is PostgreSQL's case")
    from backoffice.organisations.services import create_organisation
    from tests.factories import ProfessionalFactory

    organisation = create_organisation("CPTS de l'Estuaire", "cpts", slug=f"ag-{uuid.uuid4().hex[:8]}")
    assembly = services.create_assembly(organisation, title="AGO 2026", held_at=datetime(2026, 6, 8, 18, 30),
                                        place="Saint-Nazaire", cut_off=date(2026, 5, 20))
    resolution = services.add_resolution(assembly, "Programme dermatoscopes", secret=True)
    parties = [ProfessionalFactory(last_name=f"Votant{n}") for n in range(4)]
    for party in parties:
        db.session.add(AssemblyVoter(assembly_id=assembly.id, party_id=party.id, sort_name=party.sort_name, weight=1))
    move(assembly, AssemblyStatus.CONVENED)
    move(assembly, AssemblyStatus.IN_SESSION)
    voting.open_vote(resolution)
    db.session.commit()
    ids = dict(organisation=organisation.id, assembly=assembly.id, resolution=resolution.id,
               voters=list(db.session.scalars(select(AssemblyVoter.id).where(
                   AssemblyVoter.assembly_id == assembly.id).order_by(AssemblyVoter.id))),
               parties=[p.id for p in parties])
    yield ids
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE organisation_id = :id"), {"id": ids["organisation"]})
        connection.execute(text("DELETE FROM organisations WHERE id = :id"), {"id": ids["organisation"]})
        connection.execute(text("DELETE FROM parties WHERE id = ANY(:ids)"), {"ids": ids["parties"]})


@pytest.mark.no_db_transaction
def test_same_right_at_once_is_one_ballot_and_the_chain_holds(app, db, open_secret_vote):
    barrier, refused, receipts = threading.Barrier(THREADS), [], []
    voters = open_secret_vote["voters"]
    # threads 0-2 fire the first voter's right at once; threads 3-5 the three others' rights
    plan = [voters[0]] * 3 + voters[1:]

    def work(index):
        from backoffice.extensions import db as session_db

        resolution = session_db.session.get(Resolution, open_secret_vote["resolution"])
        voter = session_db.session.get(AssemblyVoter, plan[index])
        barrier.wait()
        try:
            receipts.append(voting.cast(resolution, voter, voter, Choice.FOR if index % 2 else Choice.AGAINST))
            session_db.session.commit()
        except AssemblyError:
            session_db.session.rollback()
            refused.append(index)
        session_db.session.remove()

    run_in_threads(app, work, THREADS)
    assert len(refused) == 2 and set(refused) <= {0, 1, 2}
    resolution_id = open_secret_vote["resolution"]
    assert db.session.scalar(select(func.count()).select_from(Participation)
                             .where(Participation.resolution_id == resolution_id)) == 4
    ballots = db.session.scalars(select(SecretBallot).where(SecretBallot.resolution_id == resolution_id)
                                 .order_by(SecretBallot.position)).all()
    assert [b.position for b in ballots] == [1, 2, 3, 4] and sorted(b.receipt for b in ballots) == sorted(receipts)
    rows = [(b.position, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash) for b in ballots]
    assert voting.verify_board(rows)[0]
    assert db.session.get(Assembly, open_secret_vote["assembly"]).status is AssemblyStatus.IN_SESSION
