"""The rules service against worked examples of statutes: quorum and majorities."""
from fractions import Fraction

import pytest

from backoffice.assemblies.models import MajorityRule as M
from backoffice.assemblies.rules import quorum, result


@pytest.mark.parametrize("required, voters, present, represented, needed, reached", [
    ((1, 4), 85, 15, 6, 22, False),    # 85/4 = 21.25: 22 needed
    ((1, 4), 85, 16, 6, 22, True),     # exactly reached
    ((1, 4), 84, 15, 6, 21, True),     # 84/4 = 21 exactly
    ((1, 2), 85, 30, 12, 43, False),   # AGE: half
    ((1, 3), 10, 3, 1, 4, True),       # a third of 10 rounds up to 4
    (None, 85, 3, 0, 0, True),         # second convocation: no quorum
    ((1, 4), 0, 0, 0, 0, True),
])
def test_quorum(required, voters, present, represented, needed, reached):
    q = quorum(required, voters, present, represented)
    assert (q.needed, q.reached, q.counted) == (needed, reached, present + represented)


def test_quorum_weighted_by_college():
    # 60 liberal voices (weight 1) and 10 structures (weight 3) = 90; present: 20 liberals + 2 structures = 26
    assert quorum(Fraction(1, 4), 60 + 30, 20 + 6, 0).reached is True
    assert quorum(Fraction(1, 3), 90, 26, 3).reached is False  # 29 < 30


@pytest.mark.parametrize("rule, votes, voters, abstentions_count, casting, adopted, tie_broken", [
    (M.SIMPLE, (30, 20, 10), 85, False, None, True, False),
    (M.SIMPLE, (30, 20, 15), 85, True, None, False, False),     # 30 of 65 cast: not more than half
    (M.SIMPLE, (20, 20, 5), 85, False, None, False, False),     # tie, no casting vote
    (M.SIMPLE, (20, 20, 5), 85, False, "for", True, True),      # tie broken by the chair
    (M.SIMPLE, (20, 20, 5), 85, False, "against", False, True),
    (M.SIMPLE, (25, 15, 10), 85, True, "against", False, True),  # 25 of 50 cast: tie when abstentions count
    (M.TWO_THIRDS, (40, 20, 9), 85, False, None, True, False),  # exactly two thirds
    (M.TWO_THIRDS, (39, 20, 9), 85, False, None, False, False),
    (M.TWO_THIRDS, (40, 20, 9), 85, True, None, False, False),  # 40 of 69
    (M.ABSOLUTE_VOTERS, (43, 2, 0), 85, False, None, True, False),
    (M.ABSOLUTE_VOTERS, (42, 0, 0), 85, False, None, False, False),
    (M.ABSOLUTE_VOTERS, (42, 0, 0), 84, False, "for", True, True),  # exactly half of 84: a tie
    (M.SIMPLE, (0, 0, 12), 85, False, "for", False, False),     # nothing cast: no tie to break
])
def test_majorities(rule, votes, voters, abstentions_count, casting, adopted, tie_broken):
    r = result(rule, *votes, voters=voters, abstentions_count=abstentions_count,
               chair_casting_vote=casting is not None, chair_choice=casting)
    assert (r.adopted, r.tie_broken) == (adopted, tie_broken)


def test_casting_vote_needs_the_statutes():
    assert result(M.SIMPLE, 20, 20, chair_casting_vote=False, chair_choice="for").adopted is False
