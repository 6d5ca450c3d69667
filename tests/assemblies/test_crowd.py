"""300 members voting at once from their phones, through the Procfile's gunicorn (production
settings, 3 workers) on the test database — PostgreSQL, or the SQLite file in WAL mode.

Each voter opens his page, signs in as present online and, as soon as all are ready, casts every
ballot he holds (his own, and the one or two proxies a third of them carry) on an open resolution
and on a secret one; twenty of them fire their own first vote twice at the same instant. Then:
every ballot is there exactly once, with the receipt its voter was given, none lost, none
doubled (each twin pair: one recorded, one refused); the counts are those the voters cast; the
quorum counts the present and the represented; the secret box, closed, verifies and tallies
the same.
"""
import os
import secrets
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from backoffice.assemblies import voting
from backoffice.assemblies.models import (Assembly, Choice, OpenVote, Participation, Resolution, SealedBallot)
from bench.web import free_port, start_gunicorn, stop
from tests.assemblies.crowd import Member, Sessions, receipt_in
from tests.assemblies.factories import committed_assembly
from tests.concurrency import run_in_threads

VOTERS = 300          # members voting at once
TWO_PROXIES = 50      # voters 0-49 carry two proxies each, voters 50-99 one
ONE_PROXY = 50
ABSENT = 50           # on the roll, neither voting nor represented
TWINS = 20            # voters 0-19 fire their own first vote twice at once
GIVERS = 2 * TWO_PROXIES + ONE_PROXY
ROLL = VOTERS + GIVERS + ABSENT
CHOICES = (Choice.FOR, Choice.AGAINST, Choice.ABSTAIN, Choice.FOR)


def proxies():
    """(giver, holder) indices on the roll: givers come after the voters."""
    pairs, giver = [], VOTERS
    for holder in range(TWO_PROXIES + ONE_PROXY):
        for _ in range(2 if holder < TWO_PROXIES else 1):
            pairs.append((giver, holder))
            giver += 1
    return pairs


def choice_of(right, resolution_index):
    return CHOICES[(right * 3 + resolution_index) % len(CHOICES)].value


@pytest.fixture
def crowd(app, db, monkeypatch):
    # The server and this process share one SECRET_KEY: the cookies we sign, the seals it makes.
    secret = secrets.token_hex(32)
    monkeypatch.setitem(app.config, "SECRET_KEY", secret)
    with committed_assembly(db, voters=ROLL, users=VOTERS, proxies=proxies(), slug_prefix="ag-crowd",
                            resolutions=[("Approbation des comptes 2025", False),
                                         ("Programme dermatoscopes", True)]) as ids:
        env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY=secret,
                   REDIS_URL=app.config["REDIS_URL"], RATELIMIT_STORAGE_URI="memory://",
                   RQ_QUEUE_PREFIX=app.config["RQ_QUEUE_PREFIX"], STORAGE_DIR=app.config["STORAGE_DIR"],
                   WEB_CONCURRENCY="3")
        port = free_port()
        server = start_gunicorn(env, port, None)
        try:
            yield ids, port, Sessions(secret)
        finally:
            stop(server)


@pytest.mark.no_db_transaction
def test_300_members_vote_at_once_through_gunicorn(app, db, crowd):
    ids, port, sessions = crowd
    rights = {v: [v] for v in range(VOTERS)}
    for giver, holder in proxies():
        rights[holder].append(giver)
    ready = threading.Barrier(VOTERS, timeout=900)
    outcomes, refusals, twins, statuses, lock = {}, {}, {}, Counter(), threading.Lock()

    def voter(index):
        member = Member(sessions, port, ids["slug"], ids["assembly"], ids["users"][index])
        member.check_in()
        ready.wait()
        for n, resolution_id in enumerate(ids["resolutions"]):
            for right in rights[index]:
                right_id, choice = ids["voters"][right], choice_of(right, n)
                if n == 0 and right == index < TWINS:
                    # the same vote from two browsers at the same instant
                    twin = Member(sessions, port, ids["slug"], ids["assembly"], ids["users"][index])
                    twin.cookie, twin.csrf, both, answers = member.cookie, member.csrf, threading.Barrier(2), []

                    def fire(browser, keep):
                        both.wait()
                        answers.append(browser.vote(resolution_id, right_id, choice, keep_cookie=keep))

                    other = threading.Thread(target=fire, args=(twin, False))
                    other.start()
                    fire(member, True)
                    other.join(900)
                    twin.close()
                    with lock:
                        twins[index] = answers
                        statuses.update(status for status, _, _ in answers)
                        outcomes[(n, right)] = next((receipt_in(m) for _, m, _ in answers if receipt_in(m)), None)
                    continue
                status, message, _ = member.vote(resolution_id, right_id, choice)
                with lock:
                    statuses[status] += 1
                    assert (n, right) not in outcomes
                    outcomes[(n, right)] = receipt_in(message)
                    if receipt_in(message) is None:
                        refusals[(n, right)] = message
        member.close()

    run_in_threads(app, voter, VOTERS, timeout=1200)

    used_rights = VOTERS + GIVERS
    assert statuses == Counter({302: 2 * used_rights + TWINS})  # every answer a redirect: no error page
    assert len(outcomes) == 2 * used_rights
    assert None not in outcomes.values(), list(refusals.items())[:5]  # every right voted, with its receipt
    for index, answers in twins.items():
        messages = sorted(m for _, m, _ in answers)
        assert len(messages) == 2 and sum(receipt_in(m) is not None for m in messages) == 1, (index, messages)
        assert any("est déjà enregistré" in m for m in messages), (index, messages)

    db.session.rollback()  # a fresh snapshot: SQLite kept the one read before the votes
    open_id, secret_id = ids["resolutions"]
    expected = [Counter(Choice(choice_of(r, n)) for v in range(VOTERS) for r in rights[v]) for n in (0, 1)]
    for resolution_id in ids["resolutions"]:
        assert db.session.scalar(select(func.count()).select_from(Participation)
                                 .where(Participation.resolution_id == resolution_id)) == used_rights
    # the open vote: one vote per right, each with the receipt its voter was shown
    receipts = dict(db.session.execute(select(OpenVote.voter_id, OpenVote.receipt)
                                       .where(OpenVote.resolution_id == open_id)).all())
    assert receipts == {ids["voters"][r]: outcomes[(0, r)] for v in range(VOTERS) for r in rights[v]}
    assert voting.tally(db.session.get(Resolution, open_id)).online == expected[0]
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)
                             .where(SealedBallot.resolution_id == secret_id)) == used_rights
    # the quorum: the 300 present online and the 150 they represent, of a roll of 500
    quorum = voting.live_quorum(db.session.get(Assembly, ids["assembly"]))
    assert (quorum.present, quorum.represented, quorum.voters, quorum.reached) == (VOTERS, GIVERS, ROLL, True)
    # the chair closes both votes: the secret box chains every ballot, each receipt found once
    for resolution_id in ids["resolutions"]:
        voting.close_vote(db.session.get(Resolution, resolution_id))
    db.session.commit()
    secret = db.session.get(Resolution, secret_id)
    board = voting.secret_board(secret)
    assert sorted(b.receipt for b in board) == sorted(outcomes[(1, r)] for v in range(VOTERS) for r in rights[v])
    ok, counts, _ = voting.verify_board([(b.position, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash)
                                         for b in board], secret.final_hash)
    assert ok and counts == {c.value: n for c, n in expected[1].items()}
    assert voting.tally(secret).total == {c: expected[1].get(c, 0) for c in Choice}
