"""Fixtures for the job machinery: committed data, real Redis queues and real workers.

``real_jobs`` switches the app from inline jobs (the Testing default) to real RQ queues for
one test, and empties this run's queues afterwards. ``committed`` deletes, after the test,
every row committed during it (tests marked ``no_db_transaction``). ``run_worker`` runs a
real worker as production does (``flask worker --burst``: each job in its own forked
work-horse) against this run's database, Redis queues and storage folder;
``simple_worker`` runs RQ's ``SimpleWorker`` in this process (faster, same code path for
the job itself).
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import (DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry,
                         StartedJobRegistry)
from sqlalchemy import delete, func, select

from backoffice.extensions import db as _db
from backoffice.extensions import rq

ROOT = Path(__file__).resolve().parents[2]
# Tables a test of this package may commit rows into, children first.
CLEANED = ("status_changes", "tasks", "document_templates", "audit_entries", "role_assignments", "users", "parties", "sites",
           "organisations")


def _tables():
    metadata = _db.metadata
    return [metadata.tables[name] for name in CLEANED if name in metadata.tables]


def start_and_commit(**kwargs):
    """``start_task``, then the commit a request's boundary makes: the job is handed over after it."""
    from backoffice.tasks.services import start_task

    task = start_task(**kwargs)
    _db.session.commit()
    return task


@pytest.fixture
def committed(app, db):
    """Delete every row committed during the test in the tables above (ids past the start)."""
    marks = {t.name: _db.session.scalar(select(func.coalesce(func.max(t.c.id), 0))) for t in _tables()}
    _db.session.rollback()
    yield _db
    _db.session.rollback()
    for table in _tables():
        _db.session.execute(delete(table).where(table.c.id > marks[table.name]))
    _db.session.commit()


def _queues():
    return list(rq.queues.values())


def _empty_queues():
    for queue in _queues():
        queue.empty()
        for registry_class in (StartedJobRegistry, FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry,
                               DeferredJobRegistry):
            registry = registry_class(queue=queue)
            for job in Job.fetch_many(registry.get_job_ids(cleanup=False), connection=queue.connection):
                if job is not None:
                    job.delete(remove_from_queue=False)
            queue.connection.delete(registry.key)


@pytest.fixture
def real_jobs(app, monkeypatch):
    """Jobs go to this run's Redis queues (not inline); retries without delay."""
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", [0, 0, 0])
    with app.app_context():
        _empty_queues()
    yield
    with app.app_context():
        _empty_queues()


@pytest.fixture
def simple_worker(app, real_jobs):
    """Run the queued jobs in this process until the queues are empty; returns the worker."""

    def work():
        worker = SimpleWorker(_queues(), connection=_queues()[0].connection, job_class=_queues()[0].job_class)
        worker.work(burst=True, logging_level="WARNING")
        _db.session.expire_all()
        return worker

    return work


def worker_env(app, **extra):
    env = dict(os.environ)
    env.update({
        "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RQ_QUEUE_PREFIX": app.config["RQ_QUEUE_PREFIX"],
        "STORAGE_DIR": app.config["STORAGE_DIR"],
        "REDIS_URL": app.config["REDIS_URL"],
        "MAILLAGE_ENV": "testing",
        "PYTHONPATH": str(ROOT),
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def worker_command(*args):
    return [sys.executable, "-m", "flask", "--app", "backoffice:create_app('testing')", "worker", *args]


@pytest.fixture
def run_worker(app, real_jobs):
    """``run_worker()`` runs a real ``flask worker --burst`` until the queues are empty."""

    def run(timeout=60, **env):
        _db.session.rollback()  # SQLite: an open read transaction here would block the worker's commits
        proc = subprocess.run(worker_command("--burst"), cwd=ROOT, env=worker_env(app, **env),
                              capture_output=True, text=True, timeout=timeout)
        _db.session.expire_all()
        assert proc.returncode == 0, proc.stderr[-3000:]
        if os.environ.get("SHOW_WORKER_LOG"):
            print(proc.stdout, proc.stderr)
        return proc

    return run


@pytest.fixture
def start_worker(app, real_jobs, tmp_path):
    """``start_worker()`` starts a long-running worker subprocess (killed at the end).

    Its log is ``worker.log`` in the test's ``tmp_path`` (printed with SHOW_WORKER_LOG=1).
    """
    procs = []
    log_path = tmp_path / "worker.log"

    def start(**env):
        _db.session.rollback()
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(worker_command(), cwd=ROOT, env=worker_env(app, **env),
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    if os.environ.get("SHOW_WORKER_LOG") and log_path.exists():
        print(log_path.read_text(errors="replace"))


def wait_for(predicate, timeout=30.0, interval=0.1):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _db.session.rollback()  # see other transactions' commits
        value = predicate()
        _db.session.rollback()  # and never keep a transaction open while a worker writes (SQLite)
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
