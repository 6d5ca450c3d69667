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


def test_no_migration_imports_the_application():
    """A migration is history: importing live code (``backoffice.…``) would make an old revision
    run what the code says today. Trigger SQL and the like are copied into the revision."""
    import ast
    from pathlib import Path

    offenders = []
    for path in sorted((Path(__file__).parents[2] / "migrations" / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] in ("backoffice", "jobs")]
    assert not offenders, offenders


def _triggers(connection):
    """The triggers of a database: their SQL on SQLite, their names and functions on PostgreSQL."""
    if connection.dialect.name == "sqlite":
        return {" ".join(sql.replace("IF NOT EXISTS ", "").split()) for sql in connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger'").scalars()}
    return set(connection.exec_driver_sql(
        "SELECT t.tgname || ' ' || c.relname || ' ' || md5(p.prosrc) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal").scalars())


@pytest.mark.no_db_transaction
def test_migrated_triggers_are_the_ones_the_models_install(database_url, tmp_path):
    """The guard triggers of a migrated database (accounting, assemblies…) are those the models
    install with ``create_all``: when a feature's db_guards change, a new migration must carry
    the change (the migrations hold copies of the SQL, not imports)."""
    with fresh_database_app(database_url, tmp_path) as app, app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            migrated = _triggers(connection)
        db.engine.dispose()
    (tmp_path / "models").mkdir()
    with fresh_database_app(database_url, tmp_path / "models") as app, app.app_context():
        db.create_all()
        with db.engine.connect() as connection:
            created = _triggers(connection)
        db.engine.dispose()
    assert migrated and migrated == created
