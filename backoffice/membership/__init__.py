"""Membership: fee grids, memberships, payments, bank statements, SEPA direct debit.

Public API for other features
-----------------------------
The roll (``backoffice.membership.roll``) — who is a member in good standing at a date, e.g. the
voters of an assembly at its cut-off:

* ``members_in_good_standing(organisation, on, college=None, period=None)`` → list of
  ``Standing(party, membership)`` ordered by name (``for party, membership in ...`` works): the
  membership of the period containing ``on`` is paid (``paid_on <= on``) or exempt
  (``exempted_on <= on``); paid after ``on`` does not count, cancelled never. ``college`` is a
  ``College`` or its id. Two queries.
* ``roll_exclusions(organisation, on, college=None, period=None)`` → list of
  ``Exclusion(party, membership, reason, detail)`` ordered by name, for every member *not* in good
  standing: ``reason`` is an ``ExclusionReason`` (``NOT_PAID``, ``PAID_AFTER``, ``EXEMPT_AFTER``,
  ``LAPSED`` — member of the period before, not renewed —, ``CANCELLED``, ``OTHER_COLLEGE``) with
  a French ``label``; ``detail`` is French (« Payée le 21/05/2026 », « 20,00 € payés sur 50,00 € »).
  Three queries.
* ``standings(organisation, [(party, on), …])`` → {(party id, on): ``Standing`` | ``Exclusion`` |
  None}: the same rules for a few parties, each at its own date (None: no membership of the
  period, nor a lapsed one). Two queries whatever their number.
* ``good_standing_condition(on)``: the same rule as a SQL condition, ``period_at(organisation, on)``.

``Membership.paid_on`` is the day since which the membership has been fully paid without
interruption (``roll.paid_since``, kept by ``services.recompute``); a payment recorded late but
dated before the cut-off (a regularisation) moves it back. ``Membership.exempted_on`` is set by
``services.exempt_membership(on=...)``.
"""
