"""Throw-away databases for the benchmarks that measure SQLite and PostgreSQL.

``with scratch_database("postgresql", "bench_posting") as url:`` gives the SQLAlchemy URL of a
new empty database — a SQLite file in the temporary directory, or a PostgreSQL database created
on ``TEST_POSTGRES_ADMIN_URL`` (127.0.0.1, trust auth) — removed afterwards.
"""
from __future__ import annotations

import os
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
