"""Membership periods, their fee grids and collèges, the settings, and category suggestions.

Public through ``backoffice.membership.services`` (which re-exports every name here). Settings
read before they are saved are unsaved defaults (a GET never writes).
"""
from datetime import date, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from backoffice.extensions import db
from backoffice.membership.errors import MembershipError, clean_amount
from backoffice.membership.models import (CategoryKind, College, FeeCategory, Membership, MembershipPeriod,
                                          MembershipSettings, MembershipStatus)
from backoffice.people.models import PartyKind

S = MembershipStatus


# --------------------------------------------------------------------------------------------
# Settings, periods, grid, collèges
# --------------------------------------------------------------------------------------------

def get_settings(organisation, create=False):
    """The organisation's membership settings; until saved, the defaults in an unsaved row (a
    page that reads them writes nothing). ``create=True``: the row itself, added if new, for a
    change to be saved."""
    settings = db.session.scalar(select(MembershipSettings).where(MembershipSettings.organisation_id == organisation.id))
    if settings is None:
        settings = MembershipSettings(organisation_id=organisation.id, reference_prefix="ADH", due_days=90)
        if create:
            db.session.add(settings)
            db.session.flush()
    return settings


def set_reference_scheme(organisation, pattern):
    """The association's own transfer reference built from the member number
    (``COT{year}/{number:05}``), or None/empty to recognise only the generated references.
    Refused with a French message when the pattern cannot be recognised."""
    from backoffice.membership.matching import ReferenceScheme, SchemeError

    pattern = " ".join((pattern or "").split()) or None
    if pattern is not None:
        try:
            ReferenceScheme(pattern)
        except SchemeError as exc:
            raise MembershipError(str(exc)) from None
    settings = get_settings(organisation, create=True)
    settings.reference_scheme = pattern
    db.session.flush()
    return settings


def reference_scheme(settings):
    """The ``ReferenceScheme`` of the settings (None for generated references only)."""
    from backoffice.membership.matching import ReferenceScheme

    return ReferenceScheme(settings.reference_scheme) if settings.reference_scheme else None


def set_due_days(organisation, due_days, today=None):
    """Set the fee's due date (``due_days`` after the start of a period) and move the due date
    of every period not ended on ``today`` (the current one, the next one if already created)
    to match: the overdue reminders count from it. Ended periods keep theirs. Returns the
    periods whose due date moved, in year order."""
    if due_days is None or not 0 <= int(due_days) <= 365:
        raise MembershipError("L'échéance est comprise entre 0 et 365 jours après le début de la période.")
    settings = get_settings(organisation, create=True)
    settings.due_days = int(due_days)
    today = today or date.today()
    moved = []
    for period in db.session.scalars(select(MembershipPeriod).where(
            MembershipPeriod.organisation_id == organisation.id, MembershipPeriod.ends_on >= today)
            .order_by(MembershipPeriod.year)):
        due_on = period.starts_on + timedelta(days=settings.due_days)
        if period.due_on != due_on:
            period.due_on = due_on
            moved.append(period)
    db.session.flush()
    return moved


def period_for_year(organisation, year, create=True):
    """The membership period starting in ``year`` (the organisation's fiscal year); its due
    date follows the setting (``set_due_days`` moves it while the period runs)."""
    period = db.session.scalar(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == organisation.id, MembershipPeriod.year == year))
    if period is None and create:
        starts_on, ends_on = organisation.fiscal_year_bounds(year)
        due_days = get_settings(organisation).due_days
        period = MembershipPeriod(organisation_id=organisation.id, year=year, starts_on=starts_on, ends_on=ends_on,
                                  renewal_open=True, due_on=starts_on + timedelta(days=due_days))
        db.session.add(period)
        db.session.flush()
    return period


def current_period(organisation, today=None, create=True):
    """The period that contains ``today``."""
    today = today or date.today()
    return period_for_year(organisation, organisation.fiscal_year_of(today), create=create)


def periods(organisation, with_categories=False):
    """Every period of the organisation, latest first; ``with_categories``: their fee grids
    loaded by the same query (a join: a few periods of a few categories)."""
    query = select(MembershipPeriod).where(MembershipPeriod.organisation_id == organisation.id)
    if with_categories:
        query = query.options(joinedload(MembershipPeriod.categories))
    return list(db.session.scalars(query.order_by(MembershipPeriod.year.desc())).unique())


def renewal_periods(organisation, today=None):
    """Periods a member may renew for now: the current one and, once opened, the next one."""
    today = today or date.today()
    year = organisation.fiscal_year_of(today)
    found = db.session.scalars(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == organisation.id, MembershipPeriod.year.in_([year, year + 1]),
        MembershipPeriod.renewal_open.is_(True)).order_by(MembershipPeriod.year))
    return list(found)


def set_fee_category(period, label, amount, kind=CategoryKind.OTHER, position=None, category=None, active=True):
    """Create (or, given ``category``, update) a line of the fee grid of ``period``."""
    amount = clean_amount(amount, allow_zero=True)
    label = (label or "").strip()
    if not label:
        raise MembershipError("Le libellé de la catégorie est obligatoire.")
    duplicate = db.session.scalar(select(FeeCategory).where(
        FeeCategory.period_id == period.id, func.lower(FeeCategory.label) == label.lower(),
        FeeCategory.id != (category.id if category else -1)))
    if duplicate is not None:
        raise MembershipError(f"La catégorie « {label} » existe déjà pour {period.label}.")
    if category is None:
        if position is None:
            position = (db.session.scalar(select(func.max(FeeCategory.position)).where(
                FeeCategory.period_id == period.id)) or 0) + 1
        category = FeeCategory(organisation_id=period.organisation_id, period=period)
        db.session.add(category)
    category.label, category.amount, category.kind, category.active = label, amount, CategoryKind(kind), active
    if position is not None:
        category.position = position
    db.session.flush()
    return category


def copy_grid(source, target):
    """Copy the fee grid of period ``source`` to ``target`` (categories it does not have yet)."""
    existing = {c.label.lower() for c in target.categories}
    for category in source.categories:
        if category.label.lower() not in existing:
            set_fee_category(target, category.label, category.amount, category.kind, category.position,
                             active=category.active)
    db.session.flush()
    return target


def ensure_grid(period, previous=None):
    """Give ``period`` a grid: a copy of ``previous`` (default: the period before) if it has none."""
    if period.categories:
        return period
    previous = previous or db.session.scalar(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == period.organisation_id, MembershipPeriod.year < period.year,
    ).order_by(MembershipPeriod.year.desc()).limit(1))
    if previous is not None:
        copy_grid(previous, period)
    return period


def colleges(organisation):
    return list(db.session.scalars(select(College).where(College.organisation_id == organisation.id)
                                   .order_by(College.position, College.name)))


def save_college(organisation, name, description=None, party_kind=None, position=None, college=None):
    """Create (or, given ``college``, update) a collège."""
    name = (name or "").strip()
    if not name:
        raise MembershipError("Le nom du collège est obligatoire.")
    duplicate = db.session.scalar(select(College).where(
        College.organisation_id == organisation.id, func.lower(College.name) == name.lower(),
        College.id != (college.id if college else -1)))
    if duplicate is not None:
        raise MembershipError(f"Le collège « {name} » existe déjà.")
    if college is None:
        college = College(organisation_id=organisation.id, position=position or len(colleges(organisation)) + 1)
        db.session.add(college)
    college.name, college.description, college.party_kind = name, description or None, party_kind or None
    if position is not None:
        college.position = position
    db.session.flush()
    return college


# --------------------------------------------------------------------------------------------
# Suggestions (pure)
# --------------------------------------------------------------------------------------------

def suggest_category_kind(party_kind, is_physician, first_membership):
    """The category kind a person should fall in.

    A first membership gets the reduced first-year rate; otherwise a structure pays the
    structure rate, a physician the physician rate, anybody else the other-professional rate.
    """
    if first_membership:
        return CategoryKind.FIRST_YEAR
    if PartyKind(party_kind) is PartyKind.STRUCTURE:
        return CategoryKind.STRUCTURE
    return CategoryKind.PHYSICIAN if is_physician else CategoryKind.OTHER_PROFESSIONAL


def pick_category(categories, kind):
    """The first active category of ``kind`` in ``categories``; falls back from first-year to the
    first active line when the grid has no line of that kind."""
    active = [c for c in sorted(categories, key=lambda c: (c.position, c.id or 0)) if c.active]
    for category in active:
        if category.kind == kind:
            return category
    return active[0] if active else None


def previous_period(period) -> MembershipPeriod | None:
    """The organisation's period before ``period`` (the latest earlier one), if any."""
    return db.session.scalar(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == period.organisation_id, MembershipPeriod.year < period.year)
        .order_by(MembershipPeriod.year.desc()).limit(1))


def suggest_category(party, period, first=None):
    """The suggested ``FeeCategory`` of ``period`` for ``party`` (None if the grid is empty);
    ``first``: whether it is the party's first membership (looked up when not given)."""
    if first is None:
        first = not has_previous_membership(party, period)
    kind = suggest_category_kind(party.kind, getattr(party, "is_physician", False), first)
    categories = period.categories
    if kind is CategoryKind.FIRST_YEAR and not any(c.kind == kind and c.active for c in categories):
        kind = suggest_category_kind(party.kind, getattr(party, "is_physician", False), False)
    return pick_category(categories, kind)


def suggest_college(party, college_list):
    """The first collège meant for the party's kind, if any."""
    for college in college_list:
        if college.party_kind == party.kind:
            return college
    return None


def previous_members(party_ids, period):
    """Those of ``party_ids`` who had a (non-cancelled) membership of an earlier period of the
    organisation (``has_previous_membership`` for many, a query per 500)."""
    ids, found = sorted(party_ids), set()
    for start in range(0, len(ids), 500):
        found.update(db.session.scalars(select(Membership.party_id).where(
            Membership.party_id.in_(ids[start:start + 500]), Membership.organisation_id == period.organisation_id,
            Membership.status != S.CANCELLED,
            Membership.period_id.in_(select(MembershipPeriod.id).where(
                MembershipPeriod.organisation_id == period.organisation_id,
                MembershipPeriod.year < period.year))).distinct()))
    return found


def has_previous_membership(party, period):
    """True if ``party`` had a (non-cancelled) membership of an earlier period of the same organisation."""
    return bool(db.session.scalar(select(exists().where(
        Membership.party_id == party.id, Membership.organisation_id == period.organisation_id,
        Membership.status != S.CANCELLED,
        Membership.period_id.in_(select(MembershipPeriod.id).where(
            MembershipPeriod.organisation_id == period.organisation_id, MembershipPeriod.year < period.year))))))
