"""``flask worker`` (jobs/_worker.py): the application built once, a forked work-horse per job.

What it must keep from the one-process-per-job worker: each job on its own database
connections, timeouts, kill -9 recovery (cancel: tests/tasks/test_cancel_worker.py, which runs
the same worker).
"""
import json
import os
import signal
import time

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import text

from backoffice.extensions import db, rq
from backoffice.tasks import services
from backoffice.tasks.models import Task, TaskStatus
from jobs import queue_name
from jobs._worker import ForkWorker, make_worker
from tests.factories import OrganisationFactory
from tests.tasks import jobs_for_tests as jobs
from tests.tasks.conftest import start_and_commit, wait_for

pytestmark = pytest.mark.no_db_transaction


@pytest.fixture
def org(committed):
    organisation = OrganisationFactory(slug="cpts-fourche", name="CPTS de la Fourche-à-l'Œuf")
    db.session.commit()
    return organisation


def start(org, job, params=None, label="Test"):
    return start_and_commit(organisation=org, user=None, kind="test", label=label, job=job,
                            params=params or {})


def reload(task_id):
    db.session.rollback()
    return db.session.get(Task, task_id)


def facts_of(task_id):
    task = reload(task_id)
    assert task.status is TaskStatus.DONE, task.message
    return json.loads(task.result_abspath().read_text(encoding="utf-8"))


def test_a_job_runs_in_a_forked_child_on_its_own_database_connection(app, org, real_jobs):
    task_id = start(org, jobs.describe_the_process).id
    # This process's pool holds one idle connection, marked: a child that took it from the
    # inherited pool would talk on this process's socket (on PostgreSQL, "bad record mac"
    # with SSL, or answers read by the wrong process).
    db.session.rollback()
    db.engine.dispose()
    connection = db.session.connection()
    connection.connection.info["owner"] = "the parent"
    parent_backend = (connection.execute(text("select pg_backend_pid()")).scalar()
                      if connection.dialect.name == "postgresql" else None)

    db.session.rollback()  # back to the pool, idle

    worker = make_worker(app)
    assert isinstance(worker, ForkWorker)
    worker.work(burst=True, logging_level="WARNING")

    facts = facts_of(task_id)
    assert facts["ppid"] == os.getpid() and facts["pid"] != os.getpid()
    assert facts["connection_owner"] is None
    if parent_backend is not None:
        assert facts["backend_pid"] != parent_backend
    # The parent's connection is intact and still its own.
    connection = db.session.connection()
    assert connection.execute(text("select 1")).scalar() == 1
    if parent_backend is not None:
        assert connection.connection.info.get("owner") == "the parent"
        assert connection.execute(text("select pg_backend_pid()")).scalar() == parent_backend


def test_the_worker_compiles_what_every_job_runs_before_it_forks(app, org):
    # A forked child inherits the compiled statements: those the runner and a mail's delivery
    # run first must be there already, or every job compiles them again.
    from jobs._runner import run_task
    from jobs.mail import deliver_mail

    cache = db.engine._compiled_cache
    cache.clear()
    make_worker(app)
    assert len(cache) >= 3
    compiled = len(cache)
    assert run_task(0) is None  # the runner's first statements (no task 0: nothing happens)
    assert deliver_mail(0) == "gone"
    assert len(cache) == compiled


def test_the_worker_starts_when_the_warm_up_cannot_reach_the_database(app, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    import jobs._runner

    def unreachable():
        raise OperationalError("UPDATE tasks …", {}, Exception("connection refused"))

    monkeypatch.setattr(jobs._runner, "warm_up", unreachable)
    assert isinstance(make_worker(app), ForkWorker)
    assert "jobs._runner.warm_up skipped" in caplog.text
    assert db.session.execute(text("select 1")).scalar() == 1  # rolled back, usable


def test_a_childs_new_redis_connection_does_not_read_the_package_metadata_again(app, monkeypatch):
    import redis.utils

    make_worker(app)
    reads = []
    monkeypatch.setattr(redis.utils, "get_lib_version", lambda: reads.append(1) or "0")
    pool = rq.get_queue(queue_name("mail")).connection.connection_pool
    pool.reset()  # what redis-py does in a forked child
    connection = pool.make_connection()
    assert reads == [] and connection.driver_info is pool.connection_kwargs["driver_info"]
    connection.disconnect()


def test_two_jobs_in_sequence_use_the_application_built_once(org, run_worker):
    first, second = (start(org, jobs.describe_the_process, label=f"Job {n}").id for n in (1, 2))
    run_worker()
    facts = [facts_of(first), facts_of(second)]
    assert facts[0]["pid"] != facts[1]["pid"]  # a work-horse each…
    assert facts[0]["ppid"] == facts[1]["ppid"] and facts[0]["app"] == facts[1]["app"]  # …forked from one worker
    assert "work-horse" not in facts[0]["argv"]
    # A process that builds the application has spent about a second of CPU before the job
    # starts; a forked child starts its clock at zero.
    assert max(f["cpu_at_start"] for f in facts) < 0.25, facts


def test_a_job_past_its_timeout_is_killed_and_its_task_fails_in_french(org, run_worker):
    task_id = start(org, jobs.hangs).id
    started = time.monotonic()
    run_worker(timeout=110)
    assert time.monotonic() - started < 100  # not the 120 s the job would sleep (start-up aside)
    task = reload(task_id)
    assert task.status is TaskStatus.FAILED
    assert task.message.startswith("Le traitement a dépassé la durée maximale autorisée (1 min).")
    job = Job.fetch(task.rq_job_id, connection=rq.get_queue(queue_name("default")).connection)
    assert job.get_status() == JobStatus.FAILED and "JobTimeoutException" in job.latest_result().exc_string


def test_a_work_horse_killed_by_kill_9_is_recovered_by_the_same_worker(org, start_worker, app, monkeypatch, tmp_path):
    pidfile = tmp_path / "horse.pid"
    task_id = start(org, jobs.slow, {"steps": 300, "sleep": 0.1, "pidfile": str(pidfile)}).id
    worker = start_worker(JOB_HEARTBEAT_SECONDS=0.2)
    wait_for(lambda: reload(task_id).status is TaskStatus.RUNNING and pidfile.exists(), timeout=30)
    horse = int(pidfile.read_text())
    assert horse != worker.pid

    os.kill(horse, signal.SIGKILL)  # out of memory, say: the horse alone

    first_job = reload(task_id).rq_job_id
    connection = rq.get_queue(queue_name("bulk")).connection
    wait_for(lambda: Job.fetch(first_job, connection=connection).get_status() != JobStatus.STARTED, timeout=15)
    assert worker.poll() is None  # the worker lives on
    monkeypatch.setitem(app.config, "JOB_STALE_SECONDS", 1)
    time.sleep(1.2)
    assert [t.id for t in services.recover_dead_tasks()] == [task_id]  # what watch_tasks does every minute
    task = wait_for(lambda: (t := reload(task_id)).status is TaskStatus.DONE and t, timeout=30)
    assert (task.attempts, task.message) == (2, "Fini.") and task.rq_job_id != first_job
    assert worker.poll() is None
