"""Votes at the same instant on PostgreSQL: the same right fired three times at once gives one
ballot, and concurrent ballots keep the secret box's chain whole. (SQLite serialises writers.)"""
import threading

import pytest
from sqlalchemy import func, select

from backoffice.assemblies import voting
from backoffice.assemblies.models import (Assembly, AssemblyError, AssemblyStatus, AssemblyVoter, Choice,
                                          Participation, Resolution, SecretBallot)
from tests.assemblies.factories import committed_on_postgresql
from tests.concurrency import run_in_threads

THREADS = 6


@pytest.fixture
def open_secret_vote(app, db):
    yield from committed_on_postgresql(db, "SQLite serialises writers: concurrency is PostgreSQL's case", voters=4)


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
    voting.close_vote(db.session.get(Resolution, resolution_id))  # chains the sealed inbox
    db.session.commit()
    ballots = db.session.scalars(select(SecretBallot).where(SecretBallot.resolution_id == resolution_id)
                                 .order_by(SecretBallot.position)).all()
    assert [b.position for b in ballots] == [1, 2, 3, 4] and sorted(b.receipt for b in ballots) == sorted(receipts)
    rows = [(b.position, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash) for b in ballots]
    assert voting.verify_board(rows)[0]
    assert db.session.get(Assembly, open_secret_vote["assembly"]).status is AssemblyStatus.IN_SESSION
    db.session.rollback()
