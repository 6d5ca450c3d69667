from flask import g, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backoffice.audit import labels
from backoffice.audit.models import AuditEntry
from backoffice.auth.permissions import org_blueprint, permission_required
from backoffice.extensions import db

bp = org_blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@permission_required("audit.view")
def index():
    """Changes to this organisation's rows, and to the shared directory (sites, and the people
    related to the organisation: other organisations' members' contact details stay theirs)."""
    from backoffice.people.services import visible_audit_entries

    query = select(AuditEntry).where(visible_audit_entries(g.organisation))
    table = request.args.get("table")
    if table:
        query = query.where(AuditEntry.table_name == table)
    entries = db.paginate(query.options(selectinload(AuditEntry.user)).order_by(AuditEntry.id.desc()), per_page=50)
    tables = dict(labels.known_tables())
    for name in db.session.scalars(select(AuditEntry.table_name).distinct()):
        tables.setdefault(name, name)
    return render_template("audit/index.html", entries=entries, table=table, describe=labels.describe,
                           table_label=labels.table_label, tables=sorted(tables.items(), key=lambda item: item[1]))
