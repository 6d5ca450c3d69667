"""Read side of membership: the member list query, dashboard figures, the SVG chart.

Every function here runs a fixed number of SQL queries whatever the number of rows shown (the
benchmark and ``tests/membership/test_views.py`` check it): lists load their many-to-one
relations with joins, figures come from ``GROUP BY`` queries.
"""
import functools
import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import asc, case, desc, event, exists, func, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, load_only, with_polymorphic

from flask_sqlalchemy.pagination import Pagination, SelectPagination

from backoffice.charts import grouped_bars
from backoffice.extensions import db
from backoffice.membership.models import (GOOD_STANDING_STATUSES, College, FeeCategory, Membership,
                                          MembershipPayment, MembershipPeriod, MembershipStatus)
from backoffice.membership.periods import previous_period
from backoffice.models import ZERO
from backoffice.people.models import Party, fold_for_search
from backoffice.transactions import after_commit

log = logging.getLogger(__name__)

S = MembershipStatus

@functools.cache
def party_entity():
    """Parties with the columns of every kind (single-table inheritance): without it, each row's
    professional or structure columns would be loaded by one more query per row. Built on first
    use, once every model is mapped."""
    return with_polymorphic(Party, "*")


SORT_KEYS = ("name", "status", "due", "paid", "joined", "paid_on", "reference")


def _sort_column(key):
    return {
        "name": party_entity().sort_name,
        "status": Membership.status,
        "due": Membership.amount_due,
        "paid": Membership.amount_paid,
        "joined": Membership.joined_on,
        "paid_on": Membership.paid_on,
        "reference": Membership.payment_reference,
    }[key]


@dataclass
class MemberFilters:
    period_id: int | None = None
    q: str = ""
    status: str = ""
    category_id: int | None = None
    college_id: int | None = None
    sort: str = "name"

    @classmethod
    def from_args(cls, args, default_period_id=None):
        def integer(name):
            value = args.get(name, "")
            return int(value) if str(value).isdigit() else None

        status = args.get("status", "")
        sort = args.get("sort", "name")
        return cls(period_id=integer("period") or default_period_id, q=(args.get("q") or "").strip()[:100],
                   status=status if status in {s.value for s in S} else "",
                   category_id=integer("category"), college_id=integer("college"),
                   sort=sort if sort.lstrip("-") in SORT_KEYS else "name")

    def as_args(self):
        return {k: v for k, v in dict(period=self.period_id, q=self.q, status=self.status, category=self.category_id,
                                      college=self.college_id, sort=self.sort).items() if v}


def _filter_conditions(organisation, filters):
    """WHERE conditions of the member list; the second value says whether they need parties."""
    party = party_entity()
    conditions = [Membership.organisation_id == organisation.id]
    if filters.period_id:
        conditions.append(Membership.period_id == filters.period_id)
    if filters.status:
        conditions.append(Membership.status == S(filters.status))
    if filters.category_id:
        conditions.append(Membership.category_id == filters.category_id)
    if filters.college_id:
        conditions.append(Membership.college_id == filters.college_id)
    if filters.q:
        folded = fold_for_search(filters.q)
        term = f"%{folded.replace('%', '').replace('_', '')}%"
        conditions.append(party.sort_name.like(term) | Membership.payment_reference.ilike(f"%{filters.q}%")
                          | party.email.ilike(f"%{filters.q}%")
                          | Membership.member_number.ilike(f"%{filters.q}%"))  # the association's own number
    return conditions, bool(filters.q)


def member_query(organisation, filters):
    """Memberships of ``organisation`` per ``filters``, with party, period, category and collège
    loaded by joins (one query per page, whatever its size)."""
    party = party_entity()
    query = (select(Membership).join(Membership.party.of_type(party)).join(Membership.period)
             .outerjoin(Membership.category).outerjoin(Membership.college)
             .options(contains_eager(Membership.party.of_type(party)), contains_eager(Membership.period),
                      contains_eager(Membership.category), contains_eager(Membership.college))
             .where(*_filter_conditions(organisation, filters)[0]))
    return query.order_by(*_order(filters))


def _order(filters):
    direction = desc if filters.sort.startswith("-") else asc
    return direction(_sort_column(filters.sort.lstrip("-"))), party_entity().sort_name, Membership.id


class _MemberPagination(SelectPagination):
    """Counts on ``memberships`` alone (index-only on the period and status) instead of
    wrapping the joined, sorted page query; joins parties only for a name search."""

    def _query_count(self):
        organisation, filters = self._query_args["organisation"], self._query_args["filters"]
        conditions, needs_party = _filter_conditions(organisation, filters)
        query = select(func.count()).select_from(Membership)
        if needs_party:
            query = query.join(party_entity(), Membership.party_id == party_entity().id)

        def compute():
            return db.session.scalar(query.where(*conditions))

        if filters.q:  # free text: too many distinct keys to be worth keeping
            return compute()
        # Counting a whole period scans every membership of it (10,000 index entries for a
        # large CPTS, the page's costliest query): kept like the dashboard's figures, until a
        # membership of the organisation changes.
        name = f"count:{filters.period_id}:{filters.status}:{filters.category_id}:{filters.college_id}"
        return _cached(organisation, name, compute, str, int)


@functools.cache
def _list_columns():
    """The columns the member list shows, and nothing else: a page of 25 rows loads a tenth of the
    width of full rows. Anything else read from those rows raises instead of querying per row.
    Loader options are immutable: built once, on first use, like ``party_entity``."""
    party = party_entity()
    return (load_only(Membership.status, Membership.amount_due, Membership.amount_paid, Membership.credit,
                      Membership.payment_reference, Membership.member_number, Membership.paid_on, Membership.party_id,
                      Membership.category_id, Membership.college_id, raiseload=True),
            contains_eager(Membership.party.of_type(party)).load_only(
                party.kind, party.commune, party.Professional.first_name, party.Professional.last_name,
                party.Professional.profession, party.Structure.name, party.Structure.structure_type, raiseload=True),
            contains_eager(Membership.category).load_only(FeeCategory.label, raiseload=True),
            contains_eager(Membership.college).load_only(College.name, raiseload=True))


def member_page(organisation, filters, page, per_page):
    """One page of the member list: two queries (the page and its count) whatever its size."""
    party = party_entity()
    query = (select(Membership).join(Membership.party.of_type(party))
             .outerjoin(Membership.category).outerjoin(Membership.college)
             .options(*_list_columns()).where(*_filter_conditions(organisation, filters)[0])
             .order_by(*_order(filters)))
    return _MemberPagination(select=query, session=db.session, page=page,
                             per_page=per_page, error_out=False, organisation=organisation, filters=filters)


def member_rows(organisation, filters):
    """Every membership of the filter (for exports), streamed in id batches by the caller."""
    return db.session.scalars(member_query(organisation, filters).execution_options(yield_per=500))


# --------------------------------------------------------------------------------------------
# Dashboard figures
# --------------------------------------------------------------------------------------------

def status_counts(organisation, period):
    """{status: (count, amount due, amount paid)} for ``period``; every status present."""
    rows = db.session.execute(
        select(Membership.status, func.count(), func.coalesce(func.sum(Membership.amount_due), 0),
               func.coalesce(func.sum(Membership.amount_paid), 0))
        .where(Membership.organisation_id == organisation.id, Membership.period_id == period.id)
        .group_by(Membership.status)).all()
    result = {status: (0, ZERO, ZERO) for status in S}
    for status, count, due, paid in rows:
        result[S(status)] = (count, Decimal(due), Decimal(paid))
    return result


def college_counts(organisation, period):
    """[(collège name or None, members in good standing, all memberships not cancelled)]."""
    good = func.sum(case((Membership.status.in_(GOOD_STANDING_STATUSES), 1), else_=0))
    rows = db.session.execute(
        select(College.name, good, func.count())
        .select_from(Membership).outerjoin(College, Membership.college_id == College.id)
        .where(Membership.organisation_id == organisation.id, Membership.period_id == period.id,
               Membership.status != S.CANCELLED)
        .group_by(College.name, College.position).order_by(College.position, College.name)).all()
    return [(name, int(good_count or 0), count) for name, good_count, count in rows]


def collected_vs_expected(organisation):
    """[(period label, year, category label, expected, collected, members)] of every period.

    Expected: amounts due of memberships neither exempt nor cancelled; collected: what was
    paid on them (overpayments included).
    """
    counted = Membership.status.not_in([S.EXEMPT, S.CANCELLED])
    rows = db.session.execute(
        select(MembershipPeriod.year, FeeCategory.label,
               func.coalesce(func.sum(case((counted, Membership.amount_due), else_=0)), 0),
               func.coalesce(func.sum(case((counted, Membership.amount_paid), else_=0)), 0),
               func.count())
        .select_from(Membership).join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
        .outerjoin(FeeCategory, Membership.category_id == FeeCategory.id)
        .where(Membership.organisation_id == organisation.id, Membership.status != S.CANCELLED)
        .group_by(MembershipPeriod.year, FeeCategory.label, FeeCategory.position)
        .order_by(MembershipPeriod.year.desc(), FeeCategory.position)).all()
    return [(year, label or "Sans catégorie", Decimal(expected), Decimal(collected), count)
            for year, label, expected, collected, count in rows]


@dataclass
class YearFigures:
    year: int
    members: int         # in good standing (paid or exempt)
    memberships: int     # not cancelled
    expected: Decimal
    collected: Decimal


def evolution(organisation):
    """One ``YearFigures`` per period, oldest first."""
    counted = Membership.status.not_in([S.EXEMPT, S.CANCELLED])
    rows = db.session.execute(
        select(MembershipPeriod.year,
               func.sum(case((Membership.status.in_(GOOD_STANDING_STATUSES), 1), else_=0)),
               func.count(),
               func.coalesce(func.sum(case((counted, Membership.amount_due), else_=0)), 0),
               func.coalesce(func.sum(case((counted, Membership.amount_paid), else_=0)), 0))
        .select_from(Membership).join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
        .where(Membership.organisation_id == organisation.id, Membership.status != S.CANCELLED)
        .group_by(MembershipPeriod.year).order_by(MembershipPeriod.year)).all()
    return [YearFigures(year, int(members or 0), count, Decimal(expected), Decimal(collected))
            for year, members, count, expected, collected in rows]


@dataclass
class Overview:
    """Everything the membership dashboard shows, from one GROUP BY over the memberships."""

    status_counts: dict          # {status: (count, amount due, amount paid)} of the period
    colleges: list               # [(collège name or None, in good standing, not cancelled)] of the period
    by_category: list            # [(year, category label, expected, collected, memberships)], latest first
    evolution: list              # [YearFigures], oldest first


def overview(organisation, period):
    """The dashboard's figures in a single query grouped by year, category, collège and status
    (a few hundred rows at most), then folded in Python."""
    rows = db.session.execute(
        select(MembershipPeriod.id, MembershipPeriod.year, FeeCategory.label, FeeCategory.position, College.name,
               College.position, Membership.status, func.count(),
               func.coalesce(func.sum(Membership.amount_due), 0), func.coalesce(func.sum(Membership.amount_paid), 0))
        .select_from(Membership).join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
        .outerjoin(FeeCategory, Membership.category_id == FeeCategory.id)
        .outerjoin(College, Membership.college_id == College.id)
        .where(Membership.organisation_id == organisation.id)
        .group_by(MembershipPeriod.id, MembershipPeriod.year, FeeCategory.label, FeeCategory.position, College.name,
                  College.position, Membership.status)).all()
    statuses = {status: [0, ZERO, ZERO] for status in S}
    colleges, categories, years = {}, {}, {}
    for period_id, year, category, category_pos, college, college_pos, status, count, due, paid in rows:
        status, due, paid = S(status), Decimal(due), Decimal(paid)
        good = count if status in GOOD_STANDING_STATUSES else 0
        if period_id == period.id:
            figures = statuses[status]
            figures[0] += count
            figures[1] += due
            figures[2] += paid
            if status is not S.CANCELLED:
                entry = colleges.setdefault((college_pos if college_pos is not None else 10**6, college), [0, 0])
                entry[0] += good
                entry[1] += count
        if status is S.CANCELLED:
            continue
        counted = status is not S.EXEMPT
        entry = categories.setdefault((year, category_pos if category_pos is not None else 10**6,
                                       category or "Sans catégorie"), [ZERO, ZERO, 0])
        entry[0] += due if counted else ZERO
        entry[1] += paid if counted else ZERO
        entry[2] += count
        totals = years.setdefault(year, [0, 0, ZERO, ZERO])
        totals[0] += good
        totals[1] += count
        totals[2] += due if counted else ZERO
        totals[3] += paid if counted else ZERO
    return Overview(
        status_counts={status: tuple(values) for status, values in statuses.items()},
        colleges=[(name, good, count) for (_, name), (good, count) in sorted(colleges.items(), key=lambda i: (i[0][0], i[0][1] or ""))],
        by_category=[(year, label, expected, collected, count) for (year, _, label), (expected, collected, count)
                     in sorted(categories.items(), key=lambda i: (-i[0][0], i[0][1], i[0][2]))],
        evolution=[YearFigures(year, members, count, expected, collected)
                   for year, (members, count, expected, collected) in sorted(years.items())],
    )


CACHE_SECONDS = 120


def _overview_to_json(figures):
    import json

    def encode(value):
        if isinstance(value, Decimal):
            return {"$d": str(value)}
        raise TypeError(value)

    return json.dumps({"status_counts": {s.value: v for s, v in figures.status_counts.items()},
                       "colleges": figures.colleges, "by_category": figures.by_category,
                       "evolution": [list(f.__dict__.values()) for f in figures.evolution]}, default=encode)


def _overview_from_json(text):
    import json

    data = json.loads(text, object_hook=lambda o: Decimal(o["$d"]) if "$d" in o else o)
    return Overview(status_counts={S(k): tuple(v) for k, v in data["status_counts"].items()},
                    colleges=[tuple(c) for c in data["colleges"]], by_category=[tuple(c) for c in data["by_category"]],
                    evolution=[YearFigures(*values) for values in data["evolution"]])


def _cache_enabled():
    from flask import current_app, has_app_context

    return has_app_context() and current_app.config.get("MEMBERSHIP_DASHBOARD_CACHE", not current_app.testing)


def _cached(organisation, name, compute, encode, decode):
    """``compute()`` kept in Redis until a membership of the organisation changes.

    The key carries the organisation's membership *version*, a value in Redis that every commit
    changing its memberships, payments, grids, collèges or periods replaces (see
    ``_changed_after_commit``). Figures computed while another transaction was committing are
    stored under the version they read, which nobody asks for once that commit has replaced it:
    a late commit never leaves stale figures behind. Entries expire after ``CACHE_SECONDS``
    anyway. Without Redis, or when ``MEMBERSHIP_DASHBOARD_CACHE`` is off (tests), it is computed
    every time.
    """
    from flask import current_app

    if not _cache_enabled():
        return compute()
    import redis

    try:
        connection = _redis(current_app.config["REDIS_URL"])
        key = f"{_key_prefix(organisation.id)}:{name}:{_version(connection, organisation.id)}"
        cached = connection.get(key)
        if cached is not None:
            return decode(cached)
        value = compute()
        connection.set(key, encode(value), ex=CACHE_SECONDS)
        return value
    except redis.RedisError:
        return compute()


def _key_prefix(organisation_id):
    from flask import current_app

    return f"{current_app.config['RQ_QUEUE_PREFIX']}:membership:{organisation_id}"


def _version(connection, organisation_id):
    """The organisation's membership version, read once per request (set on first use)."""
    from flask import g, has_request_context

    cache = g.setdefault("membership_versions", {}) if has_request_context() else {}
    if organisation_id not in cache:
        key = f"{_key_prefix(organisation_id)}:version"
        connection.set(key, time.time_ns(), nx=True)
        cache[organisation_id] = connection.get(key).decode()
    return cache[organisation_id]


# What the cached figures are made of: a commit that changes one of these changes the version.
_FIGURE_MODELS = (Membership, MembershipPayment, FeeCategory, College, MembershipPeriod)


@event.listens_for(Session, "after_flush")
def _changed_in_flush(session, flush_context):
    organisations = {row.organisation_id for row in (*session.new, *session.dirty, *session.deleted)
                     if isinstance(row, _FIGURE_MODELS)}
    figures_changed(*organisations, session=session)


def figures_changed(*organisation_ids, session=None):
    """The cached figures of these organisations are out of date once the transaction commits:
    what the flush hook above says of the rows it flushes, for rows a service wrote with Core
    statements (``membership.bulk``)."""
    if organisation_ids and _cache_enabled():
        after_commit(functools.partial(_new_versions, set(organisation_ids)), session=session)


def _new_versions(organisation_ids):
    """After the commit: the cached figures of these organisations are out of date."""
    import redis
    from flask import current_app, g

    g.pop("membership_versions", None)  # this request reads the new version from now on
    try:
        with _redis(current_app.config["REDIS_URL"]).pipeline(transaction=False) as pipe:
            for organisation_id in organisation_ids:
                pipe.set(f"{_key_prefix(organisation_id)}:version", time.time_ns())
            pipe.execute()
    except redis.RedisError as exc:  # the entries expire after CACHE_SECONDS anyway
        log.warning("membership figures of %s not invalidated (Redis: %s)", sorted(organisation_ids), exc)


def cached_overview(organisation, period):
    """``overview`` through the cache (see ``_cached``)."""
    return _cached(organisation, f"overview:{period.id}", lambda: overview(organisation, period),
                   _overview_to_json, _overview_from_json)


_REDIS = {}


def _redis(url):
    import redis

    if url not in _REDIS:
        _REDIS[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    return _REDIS[url]


def lapsed_query(organisation, period):
    """Members of the previous period (paid, exempt or partially paid) with no membership of
    ``period`` but a cancelled one: they have not renewed. A cancelled membership does not close
    the period (renewing reinstates it), so the one-click reminder
    (``reminders.send_reminder``) asks them to renew, as it does for those with none."""
    previous = previous_period(period)
    if previous is None:
        return None
    party = party_entity()
    current = aliased(Membership)
    renewed = exists().where(current.party_id == Membership.party_id, current.organisation_id == organisation.id,
                             current.period_id == period.id, current.status != S.CANCELLED)
    return (select(Membership).join(Membership.party.of_type(party))
            .options(contains_eager(Membership.party.of_type(party)), joinedload(Membership.category))
            .where(Membership.organisation_id == organisation.id, Membership.period_id == previous.id,
                   Membership.status.in_([S.PAID, S.EXEMPT, S.PARTIALLY_PAID]), ~renewed)
            .order_by(party.sort_name, Membership.id))


def lapsed_ids(organisation, period):
    """Ids of the lapsed memberships (see ``lapsed_query``), in list order, through the cache:
    the anti-join over two periods is the dashboard's costliest query."""
    import json

    def compute():
        query = lapsed_query(organisation, period)
        if query is None:
            return []
        return list(db.session.scalars(query.with_only_columns(Membership.id)))

    return _cached(organisation, f"lapsed:{period.id}", compute, json.dumps, json.loads)


class _IdPagination(Pagination):
    """A page of memberships whose ids (in order) are already known: one query for the page."""

    def _query_items(self):
        ids = self._query_args["ids"][self._query_offset:self._query_offset + self.per_page]
        if not ids:
            return []
        party = party_entity()
        rows = db.session.scalars(select(Membership).join(Membership.party.of_type(party))
                                  .options(contains_eager(Membership.party.of_type(party)),
                                           joinedload(Membership.category))
                                  .where(Membership.id.in_(ids))).unique()
        by_id = {m.id: m for m in rows}
        return [by_id[i] for i in ids if i in by_id]

    def _query_count(self):
        return len(self._query_args["ids"])


def lapsed_page(organisation, period, page=1, per_page=20, periods=None):
    """A page of lapsed members (None when there is no previous period). ``periods``: the
    organisation's periods when the caller already has them (spares the previous period's query)."""
    if periods is not None:
        has_previous = any(p.organisation_id == period.organisation_id and p.year < period.year for p in periods)
    else:
        has_previous = previous_period(period) is not None
    if not has_previous:
        return None
    return _IdPagination(page=page, per_page=per_page, error_out=False, ids=lapsed_ids(organisation, period))


def lapsed_count(organisation, period):
    return len(lapsed_ids(organisation, period))


def organisation_dashboard(organisation):
    """What ``backoffice.main.services.dashboard_stats`` adds: figures of the current period,
    or None when the organisation has no membership period yet (SISA, new organisation)."""
    from backoffice.membership.services import current_period

    period = current_period(organisation, create=False)
    return dashboard_panel(organisation, period) if period is not None else None


def dashboard_panel(organisation, period):
    """The few figures the organisation's home page shows (3 queries)."""
    counts = status_counts(organisation, period)
    expected = sum((due for status, (_, due, _) in counts.items() if status not in (S.EXEMPT, S.CANCELLED)), ZERO)
    collected = sum((paid for status, (_, _, paid) in counts.items() if status is not S.CANCELLED), ZERO)
    return {
        "period": period.label,
        "members_in_good_standing": counts[S.PAID][0] + counts[S.EXEMPT][0],
        "awaiting": counts[S.AWAITING_PAYMENT][0] + counts[S.PARTIALLY_PAID][0],
        "expected": expected,
        "collected": collected,
        "lapsed": lapsed_count(organisation, period),
    }


# --------------------------------------------------------------------------------------------
# Server-rendered SVG chart (no JavaScript)
# --------------------------------------------------------------------------------------------

def bar_chart(figures, width=640, height=260, margin=40):
    """The grouped bars (``backoffice.charts``) of expected vs collected amounts per year, kinds
    ``expected`` and ``collected``, on a round axis of four steps; the template writes each year
    and its members in good standing under its bars. None without figures."""
    if not figures:
        return None
    return grouped_bars([(f.year, f.expected, f.collected) for f in figures], ("expected", "collected"),
                        width=width, height=height, margin=margin, label_space=margin, headroom=margin,
                        max_bar_width=56, ticks=4)
