"""Secret ballots unlinkable at the storage level: an online secret ballot waits sealed in the
inbox (fixed length, nothing in clear) and the close chains the whole inbox, shuffled, in its own
transaction; on PostgreSQL no ballot shares a transaction id (``xmin``) with a participation, and
the box's order is not the order of the votes. No ballot is lost or doubled on the way."""
import secrets

import pytest
from sqlalchemy import DateTime, func, inspect, select, text

from backoffice.assemblies import voting
from backoffice.assemblies.models import (AssemblyError, AssemblyVoter, Choice, Participation, Resolution,
                                          SealedBallot, SecretBallot)
from backoffice.extensions import db
from tests.assemblies import factories as f

CHOICES = [Choice.FOR, Choice.AGAINST, Choice.ABSTAIN, Choice.FOR, Choice.AGAINST, Choice.FOR, Choice.FOR]


def _secret_vote(ag):
    from backoffice.assemblies import services

    services.open_session(ag)
    r = ag.resolutions[1]
    voting.open_vote(r)
    return r


def _inbox(r):
    return db.session.scalars(select(SealedBallot).where(SealedBallot.resolution_id == r.id)).all()


def test_an_online_secret_ballot_waits_sealed_then_the_close_chains_the_inbox(ag):
    r = _secret_vote(ag)
    voters = [v for v in ag.voters][:len(CHOICES)]
    receipts = [voting.cast(r, v, v, c) for v, c in zip(voters, CHOICES)]
    # before the close: nothing in the box, the inbox sealed — same size whatever the choice,
    # no choice, nonce or receipt in clear
    assert voting.secret_board(r) == []
    inbox = _inbox(r)
    assert len(inbox) == len(CHOICES) and len({len(b.sealed) for b in inbox}) == 1
    for ballot in inbox:
        assert not any(word.encode() in ballot.sealed for word in ("for", "against", "abstain"))
    # the live count of the session screen opens the seals
    assert voting.tally(r).online == {Choice.FOR: 4, Choice.AGAINST: 2, Choice.ABSTAIN: 1}
    voting.close_vote(r)
    assert _inbox(r) == []
    board = voting.secret_board(r)
    assert sorted(b.receipt for b in board) == sorted(receipts)
    assert all(b.receipt == voting.receipt_of_nonce(b.nonce) for b in board)  # checkable on the board
    ok, counts, _ = voting.verify_board([(b.position, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash)
                                         for b in board], r.final_hash)
    assert ok and counts == {"for": 4, "against": 2, "abstain": 1}
    assert voting.tally(r).online == {Choice.FOR: 4, Choice.AGAINST: 2, Choice.ABSTAIN: 1}
    # each voter finds his own choice behind his receipt
    for receipt, choice in zip(receipts, CHOICES):
        assert voting.find_receipt(r, receipt).choice is choice
    # nothing to line up: no time column on either side, no column shared but the resolution
    for model in (SecretBallot, SealedBallot, Participation):
        assert not any(isinstance(c.type, DateTime) for c in inspect(model).columns)
    assert {c.name for c in inspect(SealedBallot).columns} == {"resolution_id", "token", "sealed"}


def test_a_rolled_back_vote_leaves_neither_participation_nor_ballot(ag):
    r = _secret_vote(ag)
    anne, maelle = f.voter(ag, "Le Floch"), f.voter(ag, "Guérin")
    voting.cast(r, anne, anne, Choice.FOR)
    with pytest.raises(Exception):  # the request fails after the cast: its transaction goes back whole
        with db.session.begin_nested():
            voting.cast(r, maelle, maelle, Choice.AGAINST)
            raise RuntimeError("crash after the cast")
    assert db.session.scalar(select(func.count()).select_from(Participation)
                             .where(Participation.resolution_id == r.id)) == 1 == len(_inbox(r))
    voting.cast(r, maelle, maelle, Choice.AGAINST)  # she votes again: one ballot each
    with pytest.raises(AssemblyError, match="déjà enregistré"):
        voting.cast(r, maelle, maelle, Choice.FOR)
    voting.close_vote(r)
    assert len(voting.secret_board(r)) == 2


def test_the_close_refuses_a_box_short_of_a_ballot_or_a_seal_that_does_not_open(ag):
    r = _secret_vote(ag)
    anne, maelle = f.voter(ag, "Le Floch"), f.voter(ag, "Guérin")
    voting.cast(r, anne, anne, Choice.FOR)
    voting.cast(r, maelle, maelle, Choice.AGAINST)
    lost = _inbox(r)[0]
    db.session.execute(text("DELETE FROM assembly_sealed_ballots WHERE token = :t"), {"t": lost.token})
    db.session.expire_all()
    with pytest.raises(AssemblyError, match="compte 1 bulletins pour 2 votants en ligne"):
        voting.close_vote(r)
    # a seal moved from another resolution (or made under another key) does not open
    db.session.add(SealedBallot(resolution_id=r.id, token=secrets.token_hex(16),
                                sealed=voting.seal(r.id + 1, Choice.FOR, 1, secrets.token_hex(16))))
    db.session.flush()
    with pytest.raises(AssemblyError, match="ne s'ouvre pas"):
        voting.close_vote(r)


@pytest.fixture
def committed_secret_vote(app, db):
    yield from f.committed_on_postgresql(db, "xmin is PostgreSQL's transaction id", voters=12)


@pytest.mark.no_db_transaction
def test_on_postgresql_no_ballot_shares_a_transaction_or_an_order_with_a_participation(db, committed_secret_vote):
    ids = committed_secret_vote
    receipts = []
    for n, voter_id in enumerate(ids["voters"]):  # one request, one transaction per voter
        resolution, voter = db.session.get(Resolution, ids["resolution"]), db.session.get(AssemblyVoter, voter_id)
        receipts.append(voting.cast(resolution, voter, voter, CHOICES[n % len(CHOICES)]))
        db.session.commit()
    voting.close_vote(db.session.get(Resolution, ids["resolution"]))
    # xmin is the 32-bit transaction id; pg_current_xact_id() adds the epoch above it
    close_xid = str(int(db.session.scalar(text("SELECT pg_current_xact_id()::text"))) % 2 ** 32)
    db.session.commit()
    participations = db.session.scalars(text(
        "SELECT xmin::text FROM assembly_participations WHERE resolution_id = :r ORDER BY ctid"),
        {"r": ids["resolution"]}).all()
    ballots = db.session.execute(text(
        "SELECT xmin::text, position, receipt FROM assembly_secret_ballots WHERE resolution_id = :r ORDER BY ctid"),
        {"r": ids["resolution"]}).all()
    assert len(participations) == len(ballots) == 12 and len(set(participations)) == 12
    # every ballot carries the close's transaction, none a voter's
    assert {b.xmin for b in ballots} == {close_xid} and not set(participations) & {close_xid}
    # the box's order (positions, and rows on disk) is not the order of the votes: a random
    # permutation of 12 is the identity once in 479 001 600
    position_of = {b.receipt: b.position for b in ballots}
    assert [position_of[r] for r in receipts] != list(range(1, 13))
    assert db.session.scalar(text("SELECT count(*) FROM assembly_sealed_ballots WHERE resolution_id = :r"),
                             {"r": ids["resolution"]}) == 0


def test_the_published_board_binds_each_receipt_to_its_ballot(client, login_as, ag):
    from tests.assemblies.verify_board import verify

    r = _secret_vote(ag)
    receipts = [voting.cast(r, v, v, c) for v, c in zip(list(ag.voters)[:3], CHOICES)]
    voting.close_vote(r)
    csv_text = f.board_csv(client, login_as, ag, r)
    assert verify(csv_text)[0] and all(f";{receipt};" in csv_text for receipt in receipts)
    # a receipt swapped for another code (a voter shown a line that is not his) is detected
    ok, _, message = verify(csv_text.replace(receipts[1], "0000-0000-0000"))
    assert not ok and message == f"Code de vérification du bulletin {voting.find_receipt(r, receipts[1]).position} altéré."


def _inbox_file(db):
    """The bytes of the sealed inbox's table file as PostgreSQL has written it to the disk."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("CHECKPOINT")  # what the shared buffers hold, to the file
        return connection.scalar(text("SELECT pg_read_binary_file(pg_relation_filepath('assembly_sealed_ballots'))"))


def _scrub_once_nothing_older_runs(resolution_id, wait_s=30):
    """The scrub, tried again while a transaction older than the close runs. Ours are over; one
    of another database of this server (another test run) that outlasts ``wait_s`` skips the test."""
    import time

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return voting.scrub_sealed_inbox(resolution_id)
        except voting.InboxStillVisible as waiting:
            if time.monotonic() > deadline:
                pytest.skip(f"another database's transaction holds VACUUM back: {waiting}")
            time.sleep(0.5)


@pytest.fixture
def committed_secret_vote_of_8(app, db):
    yield from f.committed_on_postgresql(db, "the data files are PostgreSQL's", voters=8)


@pytest.mark.no_db_transaction
def test_on_postgresql_the_closed_inbox_leaves_the_disk(app, db, committed_secret_vote_of_8, monkeypatch):
    ids = committed_secret_vote_of_8
    for n, voter_id in enumerate(ids["voters"]):
        resolution, voter = db.session.get(Resolution, ids["resolution"]), db.session.get(AssemblyVoter, voter_id)
        voting.cast(resolution, voter, voter, CHOICES[n % len(CHOICES)])
        db.session.commit()
    seals = db.session.scalars(select(SealedBallot.sealed).where(SealedBallot.resolution_id == ids["resolution"])).all()
    db.session.commit()
    assert len(seals) == 8 and all(seal in _inbox_file(db) for seal in seals)
    # a report reading the inbox in a long transaction, begun before the close
    report = db.engine.raw_connection()
    report.cursor().execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    assert report.cursor().execute("SELECT count(*) FROM assembly_sealed_ballots").fetchone()[0] == 8
    report_pid = report.cursor().execute("SELECT pg_backend_pid()").fetchone()[0]

    # the close deletes the inbox: dead rows, still on the disk (what the scrub is for)
    scrubs = []
    monkeypatch.setattr(voting, "scrub_sealed_inbox", scrubs.append)
    voting.close_vote(db.session.get(Resolution, ids["resolution"]))
    db.session.commit()
    assert scrubs == [ids["resolution"]]  # the commit handed it over (inline here, a job with Redis)
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0
    db.session.commit()  # (a read holds the table's share lock, as a voter's page would: the scrub would wait)
    assert sum(seal in _inbox_file(db) for seal in seals) >= 1
    monkeypatch.undo()

    # while the report's snapshot may still see them, a rewrite would copy them: the scrub waits
    with pytest.raises(voting.InboxStillVisible, match="older than the close") as waiting:
        voting.scrub_sealed_inbox(ids["resolution"])
    assert f", {report_pid}, 'idle in transaction'" in str(waiting.value)
    report.rollback()
    report.close()

    # then it rewrites the table: no seal is left in its file
    assert _scrub_once_nothing_older_runs(ids["resolution"]) is True
    assert not any(seal in _inbox_file(db) for seal in seals)
    assert len(voting.secret_board(db.session.get(Resolution, ids["resolution"]))) == 8
    db.session.rollback()


def test_the_scrub_runs_once_the_close_commits_and_not_when_it_rolls_back(app, db, ag, monkeypatch):
    scrubs = []
    monkeypatch.setattr(voting, "scrub_sealed_inbox", scrubs.append)
    r = _secret_vote(ag)
    voting.cast(r, f.voter(ag, "Le Floch"), f.voter(ag, "Le Floch"), Choice.FOR)
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            voting.close_vote(r)
            raise RuntimeError("the request failed after the close")
    db.session.commit()
    assert scrubs == []
    voting.close_vote(r)
    db.session.commit()  # in this test, a savepoint released as a request's commit is
    assert scrubs == [r.id]


def test_on_sqlite_the_close_deletes_the_seals_with_secure_delete(db, ag):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's deleted rows go with the scrub")
    r = _secret_vote(ag)
    voting.cast(r, f.voter(ag, "Le Floch"), f.voter(ag, "Le Floch"), Choice.FOR)
    db.session.execute(text("PRAGMA secure_delete = OFF"))
    voting.close_vote(r)
    assert db.session.scalar(text("PRAGMA secure_delete")) == 1


def test_the_scrub_job_is_declared_and_runs_every_night_too():
    from jobs import PERIODIC_JOBS, import_job_modules

    import_job_modules()
    from jobs.assemblies import scrub_sealed_inbox

    assert scrub_sealed_inbox.queue == "default"
    assert PERIODIC_JOBS["jobs.assemblies.scrub_sealed_inbox_nightly"].cron == "43 3 * * *"
