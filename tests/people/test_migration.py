"""The import layouts migration goes up and down on a database that already holds an organisation."""
import pytest
from sqlalchemy import inspect, text

from backoffice.extensions import db


@pytest.mark.no_db_transaction
def test_the_import_layouts_table_comes_and_goes(database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.foundation.test_migrations import fresh_database_app

    with fresh_database_app(database_url, tmp_path) as app, app.app_context():
        upgrade(revision="0019")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organisations (id, slug, name, kind, fiscal_year_start_month, created_at, updated_at) "
                "VALUES (1, 'cpts', 'CPTS de la Presqu''île', 'cpts', 1, :now, :now)"), {"now": "2025-09-14 10:00:00"})
        upgrade(revision="0020")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO people_import_layouts (organisation_id, layout, columns, professions, created_at, "
                "updated_at) VALUES (1, 'nom|prenom', '{\"0\": \"last_name\"}', '{}', :now, :now)"),
                {"now": "2026-01-20 10:00:00"})
        assert "people_import_layouts" in inspect(db.engine).get_table_names()
        downgrade(revision="0019")
        tables = set(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            organisations = connection.execute(text("SELECT count(*) FROM organisations")).scalar()
        upgrade()
        db.engine.dispose()
    assert "people_import_layouts" not in tables
    assert organisations == 1
