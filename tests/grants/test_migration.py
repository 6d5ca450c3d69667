"""The grants migration goes up and down on a database of the suite's kind, and its envelope check holds."""
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from backoffice.extensions import db


def _grants_revision(app):
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    return next(r for r in script.walk_revisions() if (r.doc or "").startswith("grants: programmes"))  # not a later grants migration


@pytest.mark.no_db_transaction
def test_upgrade_downgrade_upgrade(database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.foundation.test_migrations import fresh_database_app

    with fresh_database_app(database_url, tmp_path) as app, app.app_context():
        revision = _grants_revision(app)
        upgrade(revision=revision.revision)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organisations (id, slug, name, kind, fiscal_year_start_month, created_at, updated_at) "
                "VALUES (1, 'cpts', 'CPTS du Pays Blanc', 'cpts', 1, :now, :now)"), {"now": "2026-01-01 10:00:00+00:00"})
            insert = ("INSERT INTO grant_programmes (organisation_id, name, envelope, granted_total, requires_membership, "
                      "requires_training, one_per, professions, required_documents, created_at, updated_at) VALUES "
                      "(1, 'Dermatoscopes', 5000, :granted, true, false, 'professional', '[]', '{}', :now, :now)")
            connection.execute(text(insert), {"granted": 4800, "now": "2026-01-01 10:00:00+00:00"})
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text(insert), {"granted": 5000.01, "now": "2026-01-01 10:00:00+00:00"})
        downgrade(revision=revision.down_revision)
        assert not {"grant_programmes", "grant_applications"} & set(inspect(db.engine).get_table_names())
        upgrade(revision=revision.revision)
        assert {"grant_programmes", "grant_funders", "grant_applications", "grant_attachments",
                "grant_follow_ups"} <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()
