from flask import render_template

from backoffice.auth.permissions import org_blueprint, permission_required

bp = org_blueprint("people", __name__, url_prefix="/people")


@bp.route("/")
@permission_required("people.view")
def index():
    return render_template("people/index.html")
