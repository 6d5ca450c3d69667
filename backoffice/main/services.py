from flask import url_for
from sqlalchemy import func, select

from backoffice.auth.models import STAFF_ROLES, RoleAssignment
from backoffice.extensions import db
from backoffice.people.models import Professional, Site, Structure


def home_url(user):
    """Where a user lands after signing in: their organisation's dashboard, or the chooser."""
    staff_orgs = {a.organisation for a in user.roles if a.role in STAFF_ROLES}
    if len(staff_orgs) == 1:
        return url_for("main.dashboard.dashboard", org=staff_orgs.pop().slug)
    if not staff_orgs and user.roles and "self_service.home" in _endpoints():
        return url_for("self_service.home")
    return url_for("main.choose_organisation")


def _endpoints():
    from flask import current_app

    return current_app.view_functions


def dashboard_stats(organisation):
    """The figures at the top of the organisation's home page; the panels below them are the
    features' (``backoffice.features.panels``)."""
    from backoffice.organisations.services import organisation_logo_path
    from backoffice.people.services import missing_settings

    return {
        "professionals": db.session.scalar(select(func.count()).select_from(Professional)),
        "structures": db.session.scalar(select(func.count()).select_from(Structure)),
        "sites": db.session.scalar(select(func.count()).select_from(Site)),
        "staff": db.session.scalar(
            select(func.count(func.distinct(RoleAssignment.user_id))).where(
                RoleAssignment.organisation_id == organisation.id, RoleAssignment.role.in_(STAFF_ROLES)
            )
        ),
        "missing_settings": missing_settings(organisation),
        "logo_name": logo.name if (logo := organisation_logo_path(organisation)) else None,
    }
