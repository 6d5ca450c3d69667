"""Secret ballots in the room (the tellers' totals of the paper ballots, chained into the box when
the vote closes, without breaking secrecy or the chain) and the chair's casting vote declared in
the room, on open and secret votes."""
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from backoffice.assemblies import minutes, services, voting
from backoffice.assemblies.models import AssemblyError, AttendanceMode, Choice, Participation
from backoffice.extensions import db
from backoffice.organisations.affiliations import Role, affiliate
from tests.assemblies import factories as f
from tests.assemblies.verify_board import verify

ROOM = ("Guérin", "Kerjean", "Le Gall", "Nédélec", "EHPAD")


def _hybrid_secret_vote(ag):
    """Anne votes online for herself and Zoé, Yann Le Gall from his phone in the room; four more
    voices are in the room with paper ballots."""
    anne, zoe, yann = f.voter(ag, "Le Floch"), f.voter(ag, "Ćwikła"), f.voter(ag, "Le Gall")
    voting.give_proxy(ag, zoe, anne)
    services.open_session(ag)
    voting.check_in(ag, anne, AttendanceMode.ONLINE)
    for name in ROOM:
        voting.check_in(ag, f.voter(ag, name))
    r = ag.resolutions[1]
    assert r.secret
    voting.open_vote(r)
    voting.cast(r, anne, anne, Choice.FOR)
    voting.cast(r, zoe, anne, Choice.AGAINST)
    voting.cast(r, yann, yann, Choice.FOR)
    return r


def test_paper_ballots_join_the_chain_and_the_tally(ag):
    r = _hybrid_secret_vote(ag)
    assert voting.room_voices(r) == 4  # Guérin, Kerjean, Nédélec, the EHPAD: Yann voted online
    with pytest.raises(AssemblyError, match="5 bulletins papier dépouillés, mais la salle ne compte que 4 voix qui "
                                            "n'ont pas voté en ligne"):
        voting.set_room_counts(r, 3, 1, 1)
    voting.set_room_counts(r, 2, 0, 1)
    before = voting.tally(r)
    assert before.total == {Choice.FOR: 4, Choice.AGAINST: 1, Choice.ABSTAIN: 1} and before.result.adopted
    voting.close_vote(r)
    after = voting.tally(r)
    assert after.total == before.total and after.online == before.online  # the paper is not counted twice
    board = voting.secret_board(r)
    assert [b.position for b in board] == [1, 2, 3, 4, 5]  # three online ballots, then « for » 2, « abstain » 1
    assert [(b.paper, b.choice, b.weight) for b in board[3:]] == [(True, Choice.FOR, 2), (True, Choice.ABSTAIN, 1)]
    assert all(b.receipt == voting.PAPER_RECEIPT for b in board[3:])
    assert r.final_hash == board[-1].hash
    ok, counts, _ = voting.verify_board([(b.position, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash)
                                         for b in board], r.final_hash)
    assert ok and counts == {"for": 4, "against": 1, "abstain": 1}
    # secrecy: the « a voté » list holds the three online rights only, the paper names nobody
    assert db.session.scalar(select(func.count()).select_from(Participation)
                             .where(Participation.resolution_id == r.id)) == 3
    assert voting.find_receipt(r, voting.PAPER_RECEIPT) is None
    assert minutes.results_rows(ag)[0][4:] == (4, 1, 1, "Adoptée")


def test_the_published_board_with_paper_ballots_is_verified_from_the_csv(client, login_as, ag):
    r = _hybrid_secret_vote(ag)
    voting.set_room_counts(r, 1, 2, 0)
    voting.close_vote(r)
    csv_text = f.board_csv(client, login_as, ag, r)
    assert verify(csv_text) == (True, {"for": 3, "against": 3}, "Chaîne vérifiée.")
    assert ";URNE EN SALLE;Contre;against;2;" in csv_text
    altered = csv_text.replace(";URNE EN SALLE;Contre;against;2;", ";URNE EN SALLE;Contre;against;1;")
    assert not verify(altered)[0]  # a paper total changed after the close is detected


def test_no_paper_count_after_the_close_nor_in_the_database(ag):
    r = _hybrid_secret_vote(ag)
    voting.close_vote(r)
    with pytest.raises(AssemblyError, match="pendant que le vote est ouvert"):
        voting.set_room_counts(r, 1, 0, 0)
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("INSERT INTO assembly_secret_ballots (resolution_id, position, choice, weight, "
                                    "nonce, previous_hash, hash, receipt, paper) VALUES (:r, 9, 'for', 3, 'x', 'y', "
                                    "'z', 'URNE EN SALLE', true)"), {"r": r.id})
    assert [b.paper for b in voting.secret_board(r)] == [False, False, False]  # nothing counted in the room


@pytest.fixture
def chaired(organisation, ag):
    ag.chair_casting_vote = True
    affiliate(f.voter(ag, "Le Floch").party, organisation, Role.PRESIDENT, starts_on=date(2025, 6, 1))
    services.open_session(ag)
    for name in ("Le Floch", *ROOM):
        voting.check_in(ag, f.voter(ag, name))
    return ag


@pytest.mark.parametrize("secret", [False, True], ids=["main levée", "bulletin secret"])
@pytest.mark.parametrize("casting, adopted", [(Choice.FOR, True), (Choice.AGAINST, False)])
def test_the_chair_breaks_a_tie_in_the_room(chaired, secret, casting, adopted):
    r = chaired.resolutions[1 if secret else 0]
    voting.open_vote(r)
    voting.set_room_counts(r, 3, 3, 0)
    t = voting.tally(r)
    assert not t.result.adopted and not t.result.tie_broken
    voting.set_casting_vote(r, casting)
    t = voting.tally(r)
    assert t.result.adopted is adopted and t.result.tie_broken
    voting.close_vote(r)
    label = ("Adoptée" if adopted else "Rejetée") + " (voix prépondérante du président)"
    assert minutes.results_rows(chaired)[0][7] == label
    with pytest.raises(AssemblyError, match="pendant que le vote est ouvert"):
        voting.set_casting_vote(r, Choice.FOR)
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE assembly_resolutions SET casting_vote = NULL WHERE id = :r"), {"r": r.id})


def test_no_tie_no_casting_vote_needed(chaired):
    r = chaired.resolutions[0]
    voting.open_vote(r)
    voting.set_room_counts(r, 4, 2, 0)
    voting.set_casting_vote(r, Choice.AGAINST)
    t = voting.tally(r)
    assert t.result.adopted and not t.result.tie_broken


def test_casting_vote_refusals(ag, chaired):
    r = chaired.resolutions[0]
    voting.open_vote(r)
    with pytest.raises(AssemblyError, match="départage : pour ou contre"):
        voting.set_casting_vote(r, Choice.ABSTAIN)
    anne = f.voter(chaired, "Le Floch")
    voting.cast(r, anne, anne, Choice.AGAINST)
    with pytest.raises(AssemblyError, match="Le président a voté en ligne"):
        voting.set_casting_vote(r, Choice.FOR)
    chaired.chair_casting_vote = False
    with pytest.raises(AssemblyError, match="Les statuts ne donnent pas de voix prépondérante"):
        voting.set_casting_vote(r, Choice.FOR)


def test_tellers_and_casting_vote_through_the_session_screen(client, login_as, chaired):
    r = chaired.resolutions[1]
    voting.open_vote(r)
    db.session.commit()
    login_as("treasurer")
    url = f"/o/cpts-test/assemblies/{chaired.id}"
    page = client.get(f"{url}/session").get_data(as_text=True)
    assert "Enregistrer le dépouillement" in page and "(6 voix en salle au plus)" in page
    response = client.post(f"{url}/resolutions/{r.id}/room-counts",
                           data={"room_for": "3", "room_against": "3", "room_abstain": "0"}, follow_redirects=True)
    assert "Dépouillement des bulletins papier enregistré." in response.get_data(as_text=True)
    refused = client.post(f"{url}/resolutions/{r.id}/room-counts",
                          data={"room_for": "7", "room_against": "0", "room_abstain": "0"}, follow_redirects=True)
    assert "7 bulletins papier dépouillés" in refused.get_data(as_text=True)
    response = client.post(f"{url}/resolutions/{r.id}/casting-vote", data={"casting_vote": "for"},
                           follow_redirects=True)
    assert "Voix prépondérante du président enregistrée." in response.get_data(as_text=True)
    client.post(f"{url}/resolutions/{r.id}/close-vote")
    db.session.expire_all()
    assert [(b.choice, b.weight) for b in voting.secret_board(r)] == [(Choice.FOR, 3), (Choice.AGAINST, 3)]
    assert voting.tally(r).result.adopted and voting.tally(r).result.tie_broken
