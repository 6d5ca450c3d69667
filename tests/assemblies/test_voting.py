"""Proxies, attendance, quorum, open and secret votes, results: the rules without HTTP."""
from datetime import date

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from backoffice.assemblies import services, voting
from backoffice.assemblies.models import (RESOLUTION_LIFECYCLE, AssemblyError, Choice, MajorityRule, Participation,
                                          ResolutionStatus,
                                          SecretBallot)
from backoffice.extensions import db
from backoffice.lifecycle import all_transitions, forbidden_transitions, move
from tests.assemblies import factories as f


def _in_session(ag):
    services.open_session(ag)
    return ag


def test_proxy_rules(ag):
    anne, zoe, loic, maelle, yann = (f.voter(ag, n) for n in ("Le Floch", "Ćwikła", "Kerjean", "Guérin", "Le Gall"))
    voting.give_proxy(ag, zoe, anne)
    voting.give_proxy(ag, loic, anne)
    with pytest.raises(AssemblyError, match="porte déjà 2 pouvoir"):
        voting.give_proxy(ag, maelle, anne)
    with pytest.raises(AssemblyError, match="a lui-même donné pouvoir"):
        voting.give_proxy(ag, maelle, zoe)
    with pytest.raises(AssemblyError, match="porte des pouvoirs"):
        voting.give_proxy(ag, anne, maelle)
    with pytest.raises(AssemblyError, match="a déjà donné pouvoir"):
        voting.give_proxy(ag, zoe, maelle)
    with pytest.raises(AssemblyError, match="lui-même"):
        voting.give_proxy(ag, yann, yann)
    proxy = voting.proxy_given_by(zoe)
    voting.revoke_proxy(proxy)
    voting.give_proxy(ag, zoe, maelle)  # after revoking, to another holder
    assert [p.giver for p in voting.proxies_held_by(anne)] == [loic]


def test_non_voter_cannot_give_or_hold(ag, organisation, other_organisation, period):
    other = f.assembly(other_organisation)
    stranger = voting.AssemblyVoter(assembly_id=other.id, party_id=f.voter(ag, "Le Floch").party_id, weight=1)
    with pytest.raises(AssemblyError, match="n'est pas sur la liste des votants"):
        voting.give_proxy(ag, stranger, f.voter(ag, "Guérin"))
    with pytest.raises(AssemblyError, match="Le mandataire n'est pas sur la liste"):
        voting.give_proxy(ag, f.voter(ag, "Guérin"), None)


def test_blank_proxy_goes_to_the_president(ag, organisation):
    from backoffice.organisations.affiliations import Role, affiliate

    with pytest.raises(AssemblyError, match="président n'est pas sur la liste"):
        voting.give_proxy(ag, f.voter(ag, "Guérin"), blank=True)
    affiliate(f.voter(ag, "Le Floch").party, organisation, Role.PRESIDENT, starts_on=date(2025, 6, 1))
    proxy = voting.give_proxy(ag, f.voter(ag, "Guérin"), blank=True)
    assert proxy.holder == f.voter(ag, "Le Floch") and proxy.blank


def test_no_revocation_once_open_and_no_proxy_after_voting(ag):
    anne, zoe = f.voter(ag, "Le Floch"), f.voter(ag, "Ćwikła")
    proxy = voting.give_proxy(ag, zoe, anne)
    _in_session(ag)
    with pytest.raises(AssemblyError, match="jusqu'à l'ouverture"):
        voting.revoke_proxy(proxy)
    resolution = ag.resolutions[0]
    voting.open_vote(resolution)
    maelle = f.voter(ag, "Guérin")
    voting.cast(resolution, maelle, maelle, Choice.FOR)
    with pytest.raises(AssemblyError, match="a déjà voté"):
        voting.give_proxy(ag, maelle, anne)


def test_giver_cannot_vote_and_holder_votes_for_both(ag):
    anne, zoe = f.voter(ag, "Le Floch"), f.voter(ag, "Ćwikła")
    voting.give_proxy(ag, zoe, anne)
    _in_session(ag)
    r = ag.resolutions[0]
    voting.open_vote(r)
    with pytest.raises(AssemblyError, match="Vous avez donné pouvoir"):
        voting.cast(r, zoe, zoe, Choice.AGAINST)
    assert [v.id for v in voting.rights_of(ag, anne)] == [anne.id, zoe.id]
    voting.cast(r, anne, anne, Choice.FOR)
    voting.cast(r, zoe, anne, Choice.AGAINST)
    with pytest.raises(AssemblyError, match="déjà enregistré"):
        voting.cast(r, zoe, anne, Choice.FOR)
    yann = f.voter(ag, "Le Gall")
    with pytest.raises(AssemblyError, match="Vous ne portez pas le pouvoir"):
        voting.cast(r, zoe, yann, Choice.FOR)


def test_vote_only_while_open_and_frozen_after(ag):
    _in_session(ag)
    r = ag.resolutions[0]
    anne = f.voter(ag, "Le Floch")
    with pytest.raises(AssemblyError, match="n'est pas ouvert"):
        voting.cast(r, anne, anne, Choice.FOR)
    voting.open_vote(r)
    voting.cast(r, anne, anne, Choice.FOR)
    voting.set_room_counts(r, 3, 1, 1)
    voting.close_vote(r)
    with pytest.raises(AssemblyError, match="n'est pas ouvert"):
        voting.cast(r, f.voter(ag, "Guérin"), f.voter(ag, "Guérin"), Choice.FOR)
    with pytest.raises(AssemblyError, match="pendant que le vote est ouvert"):
        voting.set_room_counts(r, 9, 0, 0)
    # the database refuses too: a new participation, a changed count
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("INSERT INTO assembly_participations (resolution_id, voter_id) VALUES (:r, :v)"),
                               {"r": r.id, "v": f.voter(ag, "Guérin").id})
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE assembly_resolutions SET room_for = 40 WHERE id = :r"), {"r": r.id})


def test_unique_ballot_per_right_is_a_database_constraint(ag):
    _in_session(ag)
    r = ag.resolutions[1]
    voting.open_vote(r)
    anne = f.voter(ag, "Le Floch")
    db.session.add(Participation(resolution_id=r.id, voter_id=anne.id))
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(text("INSERT INTO assembly_participations (resolution_id, voter_id) VALUES (:r, :v)"),
                               {"r": r.id, "v": anne.id})


def test_secret_ballot_is_unlinkable_and_verifiable(ag):
    _in_session(ag)
    r = ag.resolutions[1]
    voting.open_vote(r)
    receipts = {}
    for name, choice in [("Le Floch", Choice.FOR), ("Guérin", Choice.AGAINST), ("Le Gall", Choice.FOR)]:
        voter = f.voter(ag, name)
        receipts[name] = voting.cast(r, voter, voter, choice)
    voting.close_vote(r)
    # nothing links a ballot to a participant: no shared column but the resolution, no time, no id
    ballot_columns = {c.name for c in inspect(SecretBallot).columns}
    participation_columns = {c.name for c in inspect(Participation).columns}
    assert ballot_columns & participation_columns == {"resolution_id"}
    assert not any("voter" in c or c.endswith("_at") or c == "id" for c in ballot_columns)
    assert participation_columns == {"resolution_id", "voter_id"}
    from backoffice.audit.models import AuditEntry

    audited_tables = set(db.session.scalars(select(AuditEntry.table_name)))
    assert "assembly_resolutions" in audited_tables  # the trail is on…
    assert not audited_tables & {"assembly_secret_ballots", "assembly_participations"}  # …but not for these
    # each voter finds his receipt, with his choice; the chain verifies and gives the tally
    assert voting.find_receipt(r, receipts["Guérin"].lower().replace("-", " ")).choice is Choice.AGAINST
    board = voting.secret_board(r)
    rows = [(b.position, b.choice.value, b.weight, b.nonce, b.previous_hash, b.hash) for b in board]
    assert voting.verify_board(rows, r.final_hash) == (True, {"for": 2, "against": 1}, "Chaîne vérifiée.")
    assert not voting.verify_board(rows[:1] + rows[2:], r.final_hash)[0]           # a removed line
    flipped = "against" if rows[1][1] == "for" else "for"
    altered = rows[:1] + [(2, flipped) + rows[1][2:]] + rows[2:]
    assert not voting.verify_board(altered)[0]                                     # a changed choice
    assert not voting.verify_board(rows[:-1], r.final_hash)[0]                     # the last one dropped
    # the database refuses to change a ballot
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE assembly_secret_ballots SET choice = 'for' WHERE resolution_id = :r"),
                               {"r": r.id})


def test_live_quorum_counts_present_and_represented(ag):
    anne, zoe, loic = f.voter(ag, "Le Floch"), f.voter(ag, "Ćwikła"), f.voter(ag, "Kerjean")
    voting.give_proxy(ag, zoe, anne)
    voting.give_proxy(ag, loic, f.voter(ag, "Guérin"))  # his holder is absent: not represented
    assert voting.live_quorum(ag).counted == 0
    voting.check_in(ag, anne)
    q = voting.live_quorum(ag)
    assert (q.present, q.represented, q.voters, q.needed, q.reached) == (1, 1, 8, 2, True)
    attendance = voting.check_in(ag, anne)  # twice: the same sign-in
    voting.undo_check_in(attendance)
    assert voting.live_quorum(ag).counted == 0


def test_results_combine_online_and_room_with_the_rules(ag, organisation):
    from backoffice.organisations.affiliations import Role, affiliate

    ag.chair_casting_vote = True
    db.session.flush()
    affiliate(f.voter(ag, "Le Floch").party, organisation, Role.PRESIDENT, starts_on=date(2025, 6, 1))
    _in_session(ag)
    r = ag.resolutions[0]
    voting.open_vote(r)
    anne, maelle = f.voter(ag, "Le Floch"), f.voter(ag, "Guérin")
    voting.cast(r, anne, anne, Choice.FOR)
    voting.cast(r, maelle, maelle, Choice.AGAINST)
    voting.set_room_counts(r, 2, 3, 1)
    t = voting.tally(r)
    assert t.total == {Choice.FOR: 3, Choice.AGAINST: 4, Choice.ABSTAIN: 1} and not t.result.adopted
    voting.set_room_counts(r, 2, 2, 1)  # 3 - 3: the president voted for
    t = voting.tally(r)
    assert t.result.adopted and t.result.tie_broken
    r.majority = MajorityRule.ABSOLUTE_VOTERS
    assert not voting.tally(r).result.adopted  # 3 of 8 voters


def test_weighted_results(organisation, period, colleges):
    liberaux, structures, _ = colleges
    f.roll_world(organisation, period, colleges)
    a = f.assembly(organisation, resolutions=1, college_weights={str(structures.id): 3})
    services.convene(a, on=date(2026, 5, 21))
    services.open_session(a)
    r = a.resolutions[0]
    voting.open_vote(r)
    ehpad = next(v for v in a.voters if v.college_id == structures.id)
    anne = next(v for v in a.voters if "LE FLOCH" in v.party.display_name)
    voting.cast(r, ehpad, ehpad, Choice.AGAINST)
    voting.cast(r, anne, anne, Choice.FOR)
    assert voting.tally(r).total[Choice.AGAINST] == 3
    voting.check_in(a, ehpad)
    assert voting.live_quorum(a).present == 3 and voting.live_quorum(a).voters == 10


@pytest.mark.parametrize("source, target", all_transitions(RESOLUTION_LIFECYCLE))
def test_resolution_allowed_transitions(ag, source, target):
    services.open_session(ag)
    r = ag.resolutions[0]
    if source is not ResolutionStatus.PENDING:
        voting.open_vote(r)
    move(r, target)
    assert r.status is target


@pytest.mark.parametrize("source, target", forbidden_transitions(RESOLUTION_LIFECYCLE))
def test_resolution_forbidden_transitions(ag, source, target):
    services.open_session(ag)
    r = ag.resolutions[0]
    for step in [ResolutionStatus.OPEN, ResolutionStatus.CLOSED][:[*ResolutionStatus].index(source)]:
        move(r, step)
    with pytest.raises(AssemblyError, match="Impossible de passer le vote"):
        move(r, target)


def test_a_resolution_s_moves_are_recorded_in_its_organisation_s_history(ag):
    from backoffice.lifecycle import history

    _in_session(ag)
    resolution = ag.resolutions[0]
    voting.open_vote(resolution)
    db.session.flush()
    (change,) = history(resolution)
    assert (change.to_status, change.organisation_id) == (ResolutionStatus.OPEN.value, ag.organisation_id)
