from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from backoffice.auth.permissions import org_blueprint, permission_required
from backoffice.main import services

bp = Blueprint("main", __name__)
org_bp = org_blueprint("dashboard", __name__)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(services.home_url(current_user))


@bp.route("/organisations")
@login_required
def choose_organisation():
    return render_template("main/choose_organisation.html", organisations=current_user.organisations)


@org_bp.route("/")
@permission_required("dashboard.view")
def dashboard():
    from flask import g

    from backoffice.features import panels

    return render_template("main/dashboard.html", stats=services.dashboard_stats(g.organisation),
                           panels=panels(g.organisation, current_user))


bp.register_blueprint(org_bp)
