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


def main_over_databases(argv, description: str, prefix: str, run, lines: int, quick_lines: int) -> int:
    """The command line of a benchmark measured on both databases: ``--quick`` (``quick_lines``
    lines, nothing recorded) and ``--database sqlite|postgresql|both``; calls ``run(database,
    url, storage, line_count, quick)`` — which returns the names of the databases over target —
    with a scratch database and storage folder each, and returns the exit status."""
    import argparse
    import shutil

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=f"{quick_lines:,} lines, nothing recorded")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    failures = []
    for database in (("sqlite", "postgresql") if args.database == "both" else (args.database,)):
        storage = tempfile.mkdtemp(prefix=f"{prefix}-storage-")
        try:
            with scratch_database(database, prefix) as url:
                failures += run(database, url, storage, quick_lines if args.quick else lines, args.quick)
        finally:
            shutil.rmtree(storage, ignore_errors=True)
    print("PASS" if not failures else "FAIL: " + ", ".join(failures), flush=True)
    return 1 if failures else 0
