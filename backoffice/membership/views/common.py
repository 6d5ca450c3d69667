"""What the treasurer screens of membership share: the blueprint, the current period (never
created by a GET), the template filters and small request helpers. A service call that may be
refused runs through ``backoffice.errors.attempt``."""
import functools
from datetime import date

from flask import current_app, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from backoffice import formatting
from backoffice.auth.permissions import org_blueprint
from backoffice.membership import services

bp = org_blueprint("membership", __name__, url_prefix="/membership")

VIEW, MANAGE = "membership.view", "membership.manage"


def _periods():
    if "membership_periods" not in g:
        # With their grids: the current period's is checked on every page, the list filters on it.
        g.membership_periods = services.periods(g.organisation, with_categories=True)
    return g.membership_periods


def _period_choices():
    return {p.id: p.label for p in _periods()}


def _current_period():
    """The current period, or None while nobody has opened it (a GET never creates it: the
    « Ouvrir la période » button of :func:`_no_period` posts to ``create_period``).

    Periods are read once per request (``_periods``): the list's filter shows them all anyway."""
    year = g.organisation.fiscal_year_of(date.today())
    return next((p for p in _periods() if p.year == year), None)


def _no_period():
    """The page of a membership screen before the current period is opened (not saved, no row)."""
    periods = _periods()
    return render_template("membership/no_period.html", year=g.organisation.fiscal_year_of(date.today()),
                           periods=periods, previous=periods[0] if periods else None)


@bp.app_template_filter("membership_money")
@functools.lru_cache(maxsize=4096)
def membership_money(value):
    """``format_money`` remembered: a member list shows the same few amounts on every row, and
    Babel's currency formatting is the costliest part of rendering it."""
    return formatting.format_money(value)


@bp.app_template_filter("membership_status_badge")
@functools.lru_cache(maxsize=None)
def membership_status_badge(status):
    """The badge of a membership status (a handful of values: built once each)."""
    return Markup('<span class="badge text-bg-{}">{}</span>').format(status.badge, status.label)


def _page():
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _per_page():
    value = request.args.get("per_page", "")
    return min(int(value), 200) if value.isdigit() and int(value) > 0 else current_app.config["PER_PAGE"]


def _start(job, kind, label, params, dedupe_key=None):
    from backoffice.tasks.services import start_task

    task = start_task(organisation=g.organisation, user=current_user, kind=kind, label=label, job=job,
                      params=params, dedupe_key=dedupe_key)
    return redirect(url_for("tasks.show", task_id=task.id))


def safe_back(default):
    from backoffice.auth.permissions import safe_next_url

    return safe_next_url(default)


def _plain(amount):
    return str(amount).replace(".", ",") if amount else ""


def _back(membership):
    return redirect(url_for(".show", membership_id=membership.id))


def _can_manage():
    from backoffice.auth.permissions import can

    return can(MANAGE)
