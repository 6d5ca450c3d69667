"""The member export and the reminder of one member."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.membership import forms, reminders, stats
from backoffice.errors import attempt
from backoffice.membership.models import Membership
from backoffice.membership.views.common import (MANAGE, VIEW, bp, _current_period, _periods, safe_back,
                                                _start)


# --------------------------------------------------------------------------------------------
# Export, reminders
# --------------------------------------------------------------------------------------------

@bp.route("/export", methods=["POST"])
@permission_required(VIEW)
def export():
    from jobs.membership import export_members

    form = forms.ExportForm()
    if not form.validate_on_submit():
        abort(400)
    period = _current_period() or next(iter(_periods()), None)  # the latest one, before the current is opened
    if period is None:
        flash("Aucune période d'adhésion n'est ouverte : rien à exporter.", "warning")
        return redirect(url_for(".index"))
    filters = stats.MemberFilters.from_args(request.form, default_period_id=period.id)
    params = {"filters": filters.__dict__, "format": form.file_format.data}
    label = f"Export des adhérents ({form.file_format.data.upper()})"
    return _start(export_members, "membership.export", label, params)


@bp.route("/members/<int:membership_id>/remind", methods=["POST"])
@permission_required(MANAGE)
def remind(membership_id):
    membership = get_or_404(Membership, membership_id)
    # For a lapsed member ``send_reminder`` receives the last membership, which names the
    # period not renewed.
    attempt(lambda: reminders.send_reminder(membership, user=current_user),
            f"Relance envoyée à {membership.party.display_name}.")
    return redirect(safe_back(url_for(".dashboard")))
