"""Cancelling with real workers on the real Redis and committed data."""
import os
import time

import pytest
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from backoffice.auth.services import grant_role
from backoffice.extensions import db, rq
from backoffice.tasks import services
from backoffice.tasks.models import Task, TaskStatus
from jobs import queue_name
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks import jobs_for_tests as jobs
from tests.tasks.conftest import start_and_commit, wait_for

pytestmark = pytest.mark.no_db_transaction


@pytest.fixture
def org(committed):
    organisation = OrganisationFactory(slug="cpts-annulations", name="CPTS des annulations")
    db.session.commit()
    return organisation


@pytest.fixture
def treasurer(org):
    user = UserFactory(full_name="Paul Trésorier")
    grant_role(user, org, "treasurer")
    db.session.commit()
    return user


def reload(task):
    db.session.rollback()
    return db.session.get(Task, task.id)


def is_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_cancel_stops_the_work_horse_and_nothing_brings_the_task_back(org, treasurer, start_worker, app,
                                                                       monkeypatch, tmp_path):
    pidfile = tmp_path / "horse.pid"
    task = start_and_commit(organisation=org, user=treasurer, kind="test.zip", label="Archive de 600 documents",
                            job=jobs.slow_zip, params={"steps": 600, "sleep": 0.1, "pidfile": str(pidfile)})
    worker = start_worker(JOB_HEARTBEAT_SECONDS=0.2)
    folder = services.task_files_dir(org.id)
    wait_for(lambda: reload(task).status is TaskStatus.RUNNING and pidfile.exists()
             and list(folder.glob(f".tmp-task-{task.id}-*")), timeout=30)
    horse = int(pidfile.read_text())
    assert not is_gone(horse)

    services.cancel_task(reload(task), treasurer)
    db.session.commit()

    wait_for(lambda: is_gone(horse), timeout=15)  # killed by its worker, and reaped
    connection = rq.get_queue(queue_name("bulk")).connection
    job = Job.fetch(task.rq_job_id, connection=connection)
    wait_for(lambda: job.get_status() == JobStatus.STOPPED, timeout=10)
    assert worker.poll() is None  # only the horse was stopped: the worker serves the next jobs
    task = reload(task)
    assert (task.status, task.attempts, task.message) == (TaskStatus.CANCELLED, 1, "Annulée par Paul Trésorier.")
    assert task.result_path is None and task.download_token is None and task.progress_done < 600
    assert list(folder.iterdir()) == []  # neither the half-written file nor a result

    # Nothing brings it back: not RQ (a stopped job is never retried), not the reconciliation.
    bulk = rq.get_queue(queue_name("bulk"))
    assert job.id in FailedJobRegistry(queue=bulk).get_job_ids()
    assert ScheduledJobRegistry(queue=bulk).get_job_ids() == [] and bulk.count == 0
    monkeypatch.setitem(app.config, "JOB_STALE_SECONDS", 0)
    monkeypatch.setitem(app.config, "JOB_RECONCILE_GRACE_SECONDS", 0)
    time.sleep(0.05)
    assert services.recover_dead_tasks() == [] and services.reconcile_queued_tasks() == []
    assert sum(queue.count for queue in rq.queues.values()) == 0
    time.sleep(1)  # the worker is still there: it finds nothing to run again
    task = reload(task)
    assert (task.status, task.attempts, task.rq_job_id) == (TaskStatus.CANCELLED, 1, job.id)
    assert list(folder.iterdir()) == []


def test_a_job_ending_after_its_cancel_leaves_it_cancelled_and_no_file(org, simple_worker):
    """The cancel commits while the job runs and its horse was not stopped (Redis hiccup, or a
    job between two instructions): the runner must not write `done` over it, nor keep its file."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite: no other transaction can commit while the job reads; the kill comes first")
    task = start_and_commit(organisation=org, user=None, kind="test", label="Test",
                            job=jobs.cancelled_before_the_end, params={"lines": 2})
    simple_worker()
    task = reload(task)
    assert (task.status, task.message, task.result_path) == (TaskStatus.CANCELLED, "Annulée.", None)
    folder = services.task_files_dir(org.id)
    assert not folder.exists() or list(folder.iterdir()) == []
    job = Job.fetch(task.rq_job_id, connection=rq.get_queue(queue_name("default")).connection)
    assert job.get_status() == JobStatus.FINISHED  # not failed: there is nothing to retry or report
