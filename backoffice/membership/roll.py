"""Who is a member in good standing at a date: the voter roll of an assembly, and why others are not.

A membership is *in good standing* at a date ``on`` when it belongs to the period that contains
``on`` and, at ``on``, it was paid (``paid_on <= on``) or exempt (``exempted_on <= on``). A
membership paid after ``on`` is not (a late regularisation is a payment *dated* before the
cut-off, which moves ``paid_on``); a cancelled one never is.

``paid_on`` is the day since which the membership has been fully paid without interruption
(``paid_since``: the last day the confirmed payments, in date order, reached the amount due);
``services.recompute`` keeps it, ``services.exempt_membership`` sets ``exempted_on``.

Every public function runs a constant number of queries (three at most), whatever the number of
members; :func:`standings` answers for a few parties at several dates at once (two queries).
"""
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, with_polymorphic

from backoffice.extensions import db
from backoffice.formatting import format_date_short, format_money
from backoffice.membership.models import Membership, MembershipPeriod, MembershipStatus
from backoffice.models import ZERO
from backoffice.people.models import Party

S = MembershipStatus


class ExclusionReason(StrEnum):
    NOT_PAID = "not_paid"
    PAID_AFTER = "paid_after"
    EXEMPT_AFTER = "exempt_after"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    OTHER_COLLEGE = "other_college"

    @property
    def label(self):
        return {
            "not_paid": "Cotisation non payée",
            "paid_after": "Cotisation payée après la date limite",
            "exempt_after": "Exonérée après la date limite",
            "lapsed": "Adhésion non renouvelée",
            "cancelled": "Adhésion annulée",
            "other_college": "Autre collège",
        }[self.value]


@dataclass(frozen=True)
class Standing:
    """A member in good standing: the party and the membership that makes it one."""

    party: Party
    membership: Membership

    def __iter__(self):  # so that ``for party, membership in members_in_good_standing(...)`` reads well
        return iter((self.party, self.membership))


@dataclass(frozen=True)
class Exclusion:
    """A member who is not in good standing at the date, and why (``reason.label`` + ``detail``, French).

    ``membership`` is the membership of the period, or for a lapsed member the one of the
    period before (the period not renewed).
    """

    party: Party
    membership: Membership
    reason: ExclusionReason
    detail: str


def paid_since(amount_due, payments, default=None):
    """The day since which ``payments`` (``(paid_on, signed amount)`` of the confirmed rows) have
    covered ``amount_due`` without interruption, or None when they do not cover it now.

    A free membership (nothing due) is paid from ``default`` (its joining day) unless payments
    went below zero. Payments of the same day count together.
    """
    total = ZERO
    since = default if amount_due <= 0 else None
    for day, rows in groupby(sorted(payments, key=lambda p: p[0]), key=lambda p: p[0]):
        covered_before = total >= amount_due
        total += sum((amount for _, amount in rows), ZERO)
        if total < amount_due:
            since = None
        elif not covered_before or since is None:
            since = day
    return since


def period_at(organisation, on):
    """The membership period of ``organisation`` that contains ``on`` (None if there is none)."""
    return db.session.scalar(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == organisation.id, MembershipPeriod.starts_on <= on,
        MembershipPeriod.ends_on >= on))


def good_standing_condition(on, membership=Membership):
    """SQL condition: ``membership`` was paid or exempt at ``on`` (its period is the caller's business)."""
    return or_(and_(membership.status == S.PAID, membership.paid_on <= on),
               and_(membership.status == S.EXEMPT, membership.exempted_on <= on))


def _college_id(college):
    return getattr(college, "id", college)


def _memberships_query(organisation, period_condition):
    """Memberships of ``organisation`` whose period matches, party and collège loaded, by name."""
    # Every kind's columns in the one query (single-table inheritance): otherwise a professional's
    # name would cost one more query per row.
    party = with_polymorphic(Party, "*")
    return (select(Membership).join(Membership.party.of_type(party))
            .options(contains_eager(Membership.party.of_type(party)), joinedload(Membership.college),
                     joinedload(Membership.period))
            .where(Membership.organisation_id == organisation.id, period_condition)
            .order_by(party.sort_name, party.id))


def members_in_good_standing(organisation, on, college=None, period=None):
    """Every party whose membership of the period containing ``on`` (or of ``period``) is paid or
    exempt at ``on``, as ``Standing(party, membership)`` ordered by name; ``college`` (a
    ``College`` or its id) keeps that collège's members only. Two queries."""
    period = period or period_at(organisation, on)
    if period is None:
        return []
    query = _memberships_query(organisation, Membership.period_id == period.id).where(good_standing_condition(on))
    if college is not None:
        query = query.where(Membership.college_id == _college_id(college))
    return [Standing(m.party, m) for m in db.session.scalars(query).unique()]


def _why(membership, on, college_id):
    """Why ``membership`` (of the period) does not make its party a member in good standing at
    ``on``, as (reason, detail); None when it does."""
    if membership.status is S.CANCELLED:
        when = f" le {format_date_short(membership.cancelled_on)}" if membership.cancelled_on else ""
        return ExclusionReason.CANCELLED, f"Annulée{when}" + (f" : {membership.cancellation_reason}"
                                                              if membership.cancellation_reason else "")
    if college_id is not None and membership.college_id != college_id:
        return ExclusionReason.OTHER_COLLEGE, (membership.college.name if membership.college else "Sans collège")
    if membership.status is S.PAID:
        if membership.paid_on is not None and membership.paid_on <= on:
            return None
        return ExclusionReason.PAID_AFTER, (f"Payée le {format_date_short(membership.paid_on)}"
                                            if membership.paid_on else "Date de paiement inconnue")
    if membership.status is S.EXEMPT:
        if membership.exempted_on is not None and membership.exempted_on <= on:
            return None
        return ExclusionReason.EXEMPT_AFTER, (f"Exonérée le {format_date_short(membership.exempted_on)}"
                                              if membership.exempted_on else "Date d'exonération inconnue")
    if membership.amount_paid > 0:
        return ExclusionReason.NOT_PAID, (f"{format_money(membership.amount_paid)} payés sur "
                                          f"{format_money(membership.amount_due)}")
    return ExclusionReason.NOT_PAID, f"{format_money(membership.amount_due)} à payer"


def roll_exclusions(organisation, on, college=None, period=None):
    """The members who are *not* in good standing at ``on``, each with why, ordered by name.

    Members are the parties with a membership of the period containing ``on`` (or of
    ``period``) — not paid (or partially), paid or exempted after ``on``, cancelled, or of another
    collège than ``college`` — and those of the period before who did not renew (*lapsed*). At
    most three queries.
    """
    period = period or period_at(organisation, on)
    if period is None:
        return []
    college_id = _college_id(college) if college is not None else None
    exclusions = []
    for membership in db.session.scalars(_memberships_query(organisation, Membership.period_id == period.id)).unique():
        why = _why(membership, on, college_id)
        if why is not None:
            exclusions.append(Exclusion(membership.party, membership, *why))
    current = aliased(Membership)
    previous = (select(MembershipPeriod.id).where(MembershipPeriod.organisation_id == organisation.id,
                                                  MembershipPeriod.year < period.year)
                .order_by(MembershipPeriod.year.desc()).limit(1).scalar_subquery())
    not_renewed = ~exists().where(current.party_id == Membership.party_id, current.organisation_id == organisation.id,
                                  current.period_id == period.id)
    lapsed = _memberships_query(organisation, Membership.period_id == previous).where(
        Membership.status.in_(RENEWABLE), not_renewed)
    for membership in db.session.scalars(lapsed).unique():
        exclusions.append(Exclusion(membership.party, membership, *_why_lapsed(membership, period, college_id)))
    exclusions.sort(key=lambda e: (e.party.sort_name, e.party.id))
    return exclusions


RENEWABLE = (S.PAID, S.EXEMPT, S.PARTIALLY_PAID)  # a member of the period before who did not renew has lapsed


def _why_lapsed(membership, period, college_id):
    """Why the party of ``membership`` (of the period before ``period``, not renewed) is not a
    member in good standing in ``period``, as (reason, detail)."""
    if college_id is not None and membership.college_id != college_id:
        return ExclusionReason.OTHER_COLLEGE, (membership.college.name if membership.college else "Sans collège")
    return ExclusionReason.LAPSED, f"Membre en {membership.period.label}, pas d'adhésion en {period.label}"


def standings(organisation, requests):
    """For each ``(party, on)`` of ``requests``: its ``Standing`` when the party is a member in
    good standing at ``on``, else its ``Exclusion`` (as :func:`roll_exclusions` gives it), else
    None (no membership of the period, nor a lapsed one) — as {(party id, on): …}. The rules of
    :func:`members_in_good_standing` and :func:`roll_exclusions` for a few parties at as many
    dates, in two queries whatever their number (a screen listing applications made on
    different days)."""
    requests = [(party, on) for party, on in requests]
    if not requests:
        return {}
    periods = sorted(db.session.scalars(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == organisation.id)), key=lambda p: p.year)

    def period_containing(on):
        return next((p for p in periods if p.starts_on <= on <= p.ends_on), None)

    def period_before(period):
        return next((p for p in reversed(periods) if p.year < period.year), None)

    wanted = {period_containing(on) for _, on in requests} - {None}
    wanted |= {period_before(p) for p in wanted} - {None}
    memberships = {}
    if wanted:
        rows = db.session.scalars(_memberships_query(organisation, Membership.period_id.in_([p.id for p in wanted]))
                                  .where(Membership.party_id.in_(sorted({party.id for party, _ in requests})))).unique()
        memberships = {(m.party_id, m.period_id): m for m in rows}
    result = {}
    for party, on in requests:
        period = period_containing(on)
        current = memberships.get((party.id, period.id)) if period is not None else None
        if current is not None:
            why = _why(current, on, None)
            result[party.id, on] = Standing(party, current) if why is None else Exclusion(party, current, *why)
            continue
        before = period_before(period) if period is not None else None
        previous = memberships.get((party.id, before.id)) if before is not None else None
        result[party.id, on] = (Exclusion(party, previous, *_why_lapsed(previous, period, None))
                                if previous is not None and previous.status in RENEWABLE else None)
    return result
