from flask import render_template

from backoffice.auth.permissions import org_blueprint, permission_required

bp = org_blueprint("organisations", __name__, url_prefix="/settings")


@bp.route("/")
@permission_required("organisation.edit")
def settings():
    return render_template("organisations/settings.html")
