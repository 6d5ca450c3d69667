"""The SISA migration goes up and down on a database that already holds an organisation."""
import pytest
from sqlalchemy import inspect, text

from backoffice.extensions import db

SISA_TABLES = {"sisa_associates", "sisa_income", "sisa_deductions", "sisa_scenarios", "sisa_keys",
               "sisa_mission_points", "sisa_meetings", "sisa_attendances", "sisa_distributions",
               "sisa_distribution_shares"}


@pytest.mark.no_db_transaction
def test_the_sisa_tables_come_and_go_and_the_rest_stays(database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.foundation.test_migrations import fresh_database_app

    with fresh_database_app(database_url, tmp_path) as app, app.app_context():
        upgrade(revision="0016")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organisations (id, slug, name, kind, fiscal_year_start_month, created_at, updated_at) "
                "VALUES (1, 'sisa', 'SISA « Pôle de Santé »', 'sisa', 1, :now, :now)"), {"now": "2024-09-14 10:00:00"})
        upgrade(revision="0017")
        assert SISA_TABLES <= set(inspect(db.engine).get_table_names())
        downgrade(revision="0016")
        tables = set(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            organisations = connection.execute(text("SELECT count(*) FROM organisations")).scalar()
        upgrade()
        db.engine.dispose()
    assert not tables & SISA_TABLES
    assert organisations == 1
