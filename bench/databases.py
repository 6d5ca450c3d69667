"""Throw-away databases for the benchmarks that measure SQLite and PostgreSQL.

``with scratch_database("postgresql", "bench_posting") as url:`` gives the SQLAlchemy URL of a
new empty database — a SQLite file in the temporary directory, or a PostgreSQL database created
on ``TEST_POSTGRES_ADMIN_URL`` (127.0.0.1, trust auth) — removed afterwards.
``for database, url, storage in scratch_runs(args.database, "bench_matching"):`` does it for
each database of a ``--database sqlite|postgresql|both`` choice, with a storage directory.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_database(database: str, prefix: str):
    suffix = uuid.uuid4().hex[:8]
    if database == "sqlite":
        path = os.path.join(tempfile.gettempdir(), f"{prefix}-{suffix}.sqlite")
        try:
            yield f"sqlite:///{path}"
        finally:
            for end in ("", "-journal", "-wal", "-shm"):
                if os.path.exists(path + end):
                    os.unlink(path + end)
        return
    import psycopg

    name = f"maillage_{prefix.replace('-', '_')}_{suffix}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scratch_runs(choice: str, prefix: str):
    """``(database, url, storage)`` for each database of ``choice`` (``sqlite``, ``postgresql``
    or ``both``): a scratch database and a scratch storage directory, both removed after."""
    for database in (("sqlite", "postgresql") if choice == "both" else (choice,)):
        storage = tempfile.mkdtemp(prefix=f"{prefix}-storage-")
        try:
            with scratch_database(database, prefix) as url:
                yield database, url, storage
        finally:
            shutil.rmtree(storage, ignore_errors=True)


def add_database_option(parser):
    """The ``--database sqlite|postgresql|both`` option of the benchmarks that measure both."""
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    return parser


@contextmanager
def scratch_app(url: str, storage: str, prefix: str):
    """The application on a scratch database, its tables created, inside a POST request context
    (the services stamp the request's user); the session removed and the pool closed after."""
    from backoffice import create_app
    from backoffice.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR=storage, MAIL_BACKEND="outbox",
                     DEBUG=False, JOBS_INLINE=False, RQ_QUEUE_PREFIX=f"{prefix}-{uuid.uuid4().hex[:6]}")
    with app.test_request_context("/", method="POST"):
        db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def main_over_databases(argv, description: str, prefix: str, run, lines: int, quick_lines: int) -> int:
    """The command line of a benchmark measured on both databases: ``--quick`` (``quick_lines``
    lines, nothing recorded) and ``--database sqlite|postgresql|both``; calls ``run(database,
    url, storage, line_count, quick)`` — which returns the names of the databases over target —
    with a scratch database and storage folder each, and returns the exit status."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=f"{quick_lines:,} lines, nothing recorded")
    args = add_database_option(parser).parse_args(argv)
    failures = []
    for database, url, storage in scratch_runs(args.database, prefix):
        failures += run(database, url, storage, quick_lines if args.quick else lines, args.quick)
    print("PASS" if not failures else "FAIL: " + ", ".join(failures), flush=True)
    return 1 if failures else 0
