"""Migration 0011 on a database that already holds an organisation with its IBAN."""
import pytest
from sqlalchemy import text

from backoffice.extensions import db


@pytest.mark.no_db_transaction
def test_migration_makes_the_iban_a_default_account_and_keeps_the_rows_pointing_to_the_organisation(
        database_url, tmp_path):
    from flask_migrate import upgrade

    from tests.foundation.test_migrations import fresh_database_app

    with fresh_database_app(database_url, tmp_path) as app, app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organisations (id, slug, name, kind, iban, bic, fiscal_year_start_month, created_at, "
                "updated_at) VALUES (1, 'cpts', 'CPTS « Côte d''Amour »', 'cpts', 'FR7630004000031234567890143', "
                "'BNPAFRPPXXX', 1, :now, :now)"), {"now": "2024-09-14 10:00:00+00:00"})
            connection.execute(text(
                "INSERT INTO membership_periods (id, organisation_id, year, starts_on, ends_on, renewal_open, "
                "created_at, updated_at) VALUES (1, 1, 2026, '2026-01-01', '2026-12-31', true, :now, :now)"),
                {"now": "2026-01-01 10:00:00+00:00"})
        upgrade(revision="0011")
        with db.engine.connect() as connection:
            accounts = connection.execute(text(
                "SELECT organisation_id, name, iban, bic, ledger_account FROM bank_accounts")).all()
            # Rebuilding ``organisations`` on SQLite must not cascade to the rows that point to it.
            periods = connection.execute(text("SELECT count(*) FROM membership_periods")).scalar()
        db.engine.dispose()
    assert [tuple(a) for a in accounts] == [
        (1, "Compte courant", "FR7630004000031234567890143", "BNPAFRPPXXX", "512")]
    assert periods == 1
