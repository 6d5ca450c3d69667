"""Periods: validating entries, closing a month or a fiscal year, the overview of a year.
Part of the accounting services (``backoffice.accounting.services`` re-exports it)."""
from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select, update

from backoffice.accounting.books import ensure_ledger
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import ClosedPeriod, EntryStatus, JournalEntry
from backoffice.audit.services import current_actor_id
from backoffice.extensions import db

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

def month_bounds(year, month):
    start = date(year, month, 1)
    end = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return start, end


def validate_entries(organisation, start, end, user=None):
    """Stamp the posted, not yet validated entries dated ``start``–``end`` as validated today
    (they are locked from then on); returns how many. A set-based UPDATE: a year of entries is
    one statement (the export or closing that calls it is recorded in the audit trail)."""
    result = db.session.execute(
        update(JournalEntry.__table__)
        .where(JournalEntry.__table__.c.organisation_id == organisation.id,
               JournalEntry.__table__.c.status == EntryStatus.POSTED.value,
               JournalEntry.__table__.c.validated_on.is_(None),
               JournalEntry.__table__.c.entry_date >= start, JournalEntry.__table__.c.entry_date <= end)
        .values(validated_on=date.today(), validated_by_id=current_actor_id(user))
    )
    # Objects already loaded must not keep a stale validated_on.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, JournalEntry) and obj.organisation_id == organisation.id and start <= obj.entry_date <= end:
            db.session.expire(obj, ["validated_on", "validated_by_id"])
    return result.rowcount


def close_period(organisation, kind, year, month=None, user=None):
    """Close a month (``kind="month"``, ``month`` 1–12 of calendar ``year``) or the fiscal year
    starting in ``year`` (``kind="year"``: ``closing.close_fiscal_year``, its checks and
    definitive numbering): nothing may be posted in it any more and its entries are validated
    (locked). Refuses a period already closed."""
    ensure_ledger(organisation)
    if kind == "year":
        from backoffice.accounting.closing import close_fiscal_year

        return close_fiscal_year(organisation, year, user=user)
    if kind == "month":
        if not month or not 1 <= int(month) <= 12:
            raise AccountingError("Mois invalide.", "month")
        start, end = month_bounds(int(year), int(month))
    else:
        raise AccountingError("Type de période inconnu.", "kind")
    already = db.session.scalar(select(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id, ClosedPeriod.start_date <= start,
        ClosedPeriod.end_date >= end))
    if already is not None:
        raise AccountingError(f"{already} : déjà clôturée.", "kind")
    validated = validate_entries(organisation, start, end, user=user)
    period = ClosedPeriod(organisation_id=organisation.id, kind=kind, start_date=start, end_date=end,
                          closed_by_id=current_actor_id(user))
    db.session.add(period)
    db.session.flush()
    log.info("organisation %s closed %s %s–%s (%d entries validated)", organisation.id, kind, start, end, validated)
    return period


def period_overview(organisation, year):
    """The months of the fiscal year starting in ``year``: ``(start, end, entry count, closed)``."""
    start, end = organisation.fiscal_year_bounds(year)
    counts = dict(db.session.execute(
        select(JournalEntry.entry_date, func.count()).where(
            JournalEntry.organisation_id == organisation.id, JournalEntry.status == EntryStatus.POSTED.value,
            JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .group_by(JournalEntry.entry_date)).all())
    closed = list(db.session.scalars(select(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id, ClosedPeriod.end_date >= start,
        ClosedPeriod.start_date <= end)))
    months = []
    day = start
    while day <= end:
        first, last = month_bounds(day.year, day.month)
        count = sum(n for d, n in counts.items() if first <= d <= last)
        is_closed = any(p.start_date <= first and p.end_date >= last for p in closed)
        months.append((first, last, count, is_closed))
        day = last + timedelta(days=1)
    year_closed = any(p.kind == "year" and p.start_date <= start and p.end_date >= end for p in closed)
    return months, year_closed


def has_entries(organisation, start, end):
    return db.session.scalar(select(exists().where(and_(
        JournalEntry.organisation_id == organisation.id, JournalEntry.status == EntryStatus.POSTED.value,
        JournalEntry.entry_date >= start, JournalEntry.entry_date <= end))))
