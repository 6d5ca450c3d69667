"""The rules of an assembly's votes, in plain Python (no database): quorum and majorities.

The statutes' settings come in as arguments; :func:`quorum` and :func:`result` are what the
services, the screens, the minutes and the tests all use.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from backoffice.assemblies.models import MajorityRule


@dataclass(frozen=True)
class Quorum:
    required: Fraction | None   # None: the assembly deliberates without quorum
    voters: int                 # weighted total of the roll
    present: int                # weighted, present (room or online)
    represented: int            # weighted, represented by a proxy held by a present voter

    @property
    def counted(self):
        return self.present + self.represented

    @property
    def needed(self):
        """The smallest weighted count that reaches the quorum (0 without quorum)."""
        if self.required is None:
            return 0
        exact = self.required * self.voters
        return int(exact) if exact.denominator == 1 else int(exact) + 1

    @property
    def reached(self):
        return self.counted >= self.needed if self.required is not None else True


def quorum(required, voters, present, represented=0):
    """The quorum of an assembly: ``required`` a Fraction (or ``(numerator, denominator)``) or None."""
    if required is not None and not isinstance(required, Fraction):
        required = Fraction(*required)
    return Quorum(required, voters, present, represented)


@dataclass(frozen=True)
class Result:
    rule: MajorityRule
    votes_for: int
    votes_against: int
    abstentions: int
    voters: int                 # weighted roll, for the absolute majority of voters
    abstentions_count: bool
    casting_vote: str | None    # "for" / "against": the chair's own vote when it breaks a tie
    adopted: bool
    tie_broken: bool = False

    @property
    def cast(self):
        """Votes cast (suffrages exprimés): for + against, plus abstentions when the statutes count them."""
        return self.votes_for + self.votes_against + (self.abstentions if self.abstentions_count else 0)

    @property
    def threshold_label(self):
        return self.rule.label


def result(rule, votes_for, votes_against, abstentions=0, *, voters=0, abstentions_count=False,
           chair_casting_vote=False, chair_choice=None):
    """Adopted or rejected under ``rule``.

    - simple: for > against (abstentions, when they count, are cast votes that are not « for »:
      for must then exceed half of the votes cast);
    - two thirds: for ≥ 2/3 of the votes cast (exactly two thirds is enough);
    - absolute majority of voters: for > half of the weighted roll.
    A tie (simple majority: for = against, or exactly half of the cast votes) is broken by the
    chair's casting vote when the statutes give him one (``chair_choice``: how he voted), else
    rejected.
    """
    rule = MajorityRule(rule)
    cast = votes_for + votes_against + (abstentions if abstentions_count else 0)
    tie = False
    if rule is MajorityRule.SIMPLE:
        if abstentions_count:
            adopted, tie = 2 * votes_for > cast, cast > 0 and 2 * votes_for == cast
        else:
            adopted, tie = votes_for > votes_against, votes_for == votes_against and votes_for > 0
    elif rule is MajorityRule.TWO_THIRDS:
        adopted = cast > 0 and 3 * votes_for >= 2 * cast
    else:
        adopted, tie = 2 * votes_for > voters, voters > 0 and 2 * votes_for == voters
    broken = False
    if tie and chair_casting_vote and chair_choice in ("for", "against"):
        adopted, broken = chair_choice == "for", True
    return Result(rule, votes_for, votes_against, abstentions, voters, abstentions_count,
                  chair_choice if broken else None, adopted, broken)
