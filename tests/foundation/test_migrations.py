"""Migrations build the schema from nothing, and agree with the models."""
import contextlib
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine

from backoffice import create_app
from backoffice.extensions import db
from config import Testing


def _fresh_database_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'migrations.sqlite'}", None
    import psycopg

    from tests.conftest import POSTGRES_ADMIN_URL

    name = f"maillage_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name, name


@contextlib.contextmanager
def fresh_database_app(database_url, tmp_path):
    """An application on a new, empty database of the suite's kind (dropped afterwards)."""
    url, pg_name = _fresh_database_url(database_url, tmp_path)
    try:
        yield create_app(Testing, SQLALCHEMY_DATABASE_URI=url)
    finally:
        if pg_name:
            import psycopg

            from tests.conftest import POSTGRES_ADMIN_URL

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.mark.no_db_transaction
def test_upgrade_from_nothing_matches_models(database_url, tmp_path):
    with fresh_database_app(database_url, tmp_path) as app, app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)
        db.engine.dispose()
    assert diff == [], f"Models and migrations disagree; run `flask db migrate`: {diff}"


def test_single_head(app):
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    assert len(script.get_heads()) == 1, f"Several Alembic heads: {script.get_heads()}; merge them."
