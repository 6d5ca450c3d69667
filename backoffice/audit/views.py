from flask import g, render_template, request
from sqlalchemy import select

from backoffice.audit.models import AuditEntry
from backoffice.auth.permissions import org_blueprint, permission_required
from backoffice.extensions import db

bp = org_blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@permission_required("audit.view")
def index():
    """Changes to this organisation's rows, and to the shared directory (people, sites)."""
    query = select(AuditEntry).where(
        (AuditEntry.organisation_id == g.organisation.id) | AuditEntry.organisation_id.is_(None)
    )
    table = request.args.get("table")
    if table:
        query = query.where(AuditEntry.table_name == table)
    entries = db.paginate(query.order_by(AuditEntry.id.desc()), per_page=50)
    return render_template("audit/index.html", entries=entries, table=table)
