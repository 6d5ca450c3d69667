"""The job machinery with real workers on the real Redis and committed data."""
import os
import signal
import time

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry

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
    organisation = OrganisationFactory(slug="cpts-jobs", name="CPTS des tâches")
    db.session.commit()
    return organisation


def start(org, job=jobs.write_lines, params=None, **kwargs):
    return start_and_commit(organisation=org, user=None, kind="test", label="Test", job=job,
                            params=params if params is not None else {"lines": 3}, **kwargs)


def reload(task):
    db.session.rollback()
    return db.session.get(Task, task.id)


def test_real_worker_runs_the_task(org, run_worker):
    task = start(org, params={"lines": 4})
    assert reload(task).status is TaskStatus.QUEUED
    assert Job.fetch(task.rq_job_id, connection=rq.get_queue(queue_name("default")).connection)
    run_worker()
    task = reload(task)
    assert (task.status, task.attempts, task.ran_inline) == (TaskStatus.DONE, 1, False)
    assert task.result_abspath().read_text(encoding="utf-8").splitlines() == [f"ligne {n}" for n in range(1, 5)]
    assert (task.progress_done, task.progress_total) == (4, 4)


def test_failed_job_is_failed_for_rq_too_and_not_retried(org, simple_worker):
    task = start(org, job=jobs.fail_in_french)
    simple_worker()
    task = reload(task)
    assert (task.status, task.attempts) == (TaskStatus.FAILED, 1)
    assert task.message == "Aucune écriture pour l'exercice 2026."
    assert task.rq_job_id in FailedJobRegistry(queue=rq.get_queue(queue_name("default"))).get_job_ids()


def test_transient_error_is_retried_until_it_works(org, simple_worker):
    task = start(org, job=jobs.flaky_mail, params={"failures": 2})
    simple_worker()
    task = reload(task)
    assert (task.status, task.attempts, task.message) == (TaskStatus.DONE, 3, "Réussi à l'essai 3.")


def test_transient_error_fails_after_the_last_retry(org, simple_worker):
    task = start(org, job=jobs.flaky_mail, params={"failures": 10})
    simple_worker()
    task = reload(task)
    assert (task.status, task.attempts) == (TaskStatus.FAILED, 4)
    assert "même après plusieurs essais" in task.message


def test_retry_button_runs_the_task_again(org, simple_worker, client, tmp_path):
    user = UserFactory()
    grant_role(user, org, "treasurer")
    db.session.commit()
    marker = tmp_path / "marker"
    task = start(org, job=jobs.fails_until_marker, params={"marker": str(marker)})
    simple_worker()
    assert reload(task).status is TaskStatus.FAILED
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    page = client.get(f"/o/{org.slug}/tasks/{task.id}")
    assert "Réessayer" in page.text and "Le fichier attendu est absent." in page.text
    marker.write_text("ok")
    response = client.post(f"/o/{org.slug}/tasks/{task.id}/retry")
    assert response.status_code == 302
    assert reload(task).status is TaskStatus.QUEUED
    simple_worker()
    task = reload(task)
    assert (task.status, task.attempts, task.message) == (TaskStatus.DONE, 2, "Réussi.")


def test_two_clicks_make_one_job(org, real_jobs):
    first = start(org, dedupe_key="test:lines")
    second = start(org, dedupe_key="test:lines")
    assert first.id == second.id
    assert db.session.query(Task).filter_by(organisation_id=org.id).count() == 1
    assert rq.get_queue(queue_name("default")).count == 1


def test_progress_is_visible_while_the_job_runs(org, start_worker, client, app):
    user = UserFactory()
    grant_role(user, org, "board")
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    task = start(org, job=jobs.slow, params={"steps": 30, "sleep": 0.1})
    start_worker(JOB_HEARTBEAT_SECONDS=0.2)
    url = f"/o/{org.slug}/tasks/{task.id}/progress"

    def running_with_progress():
        data = client.get(url).get_json()
        return data if data["status"] == "running" and 0 < data["done"] < 30 else None

    data = wait_for(running_with_progress, timeout=30)
    assert data["total"] == 30 and data["message"].startswith("Étape")
    assert 0 < data["percent"] < 100 and data["finished"] is False
    done = wait_for(lambda: (d := client.get(url).get_json())["finished"] and d, timeout=30)
    assert (done["status"], done["percent"], done["message"], done["done"]) == ("done", 100, "Fini.", 30)


def test_killed_worker_is_detected_and_the_task_requeued(org, start_worker, run_worker, app, monkeypatch, tmp_path):
    pidfile = tmp_path / "horse.pid"
    task = start(org, job=jobs.slow, params={"steps": 300, "sleep": 0.1, "pidfile": str(pidfile)})
    worker = start_worker(JOB_HEARTBEAT_SECONDS=0.2)
    wait_for(lambda: reload(task).status is TaskStatus.RUNNING and pidfile.exists(), timeout=30)
    time.sleep(0.3)
    horse = int(pidfile.read_text())
    os.kill(worker.pid, signal.SIGKILL)  # the machine goes down: worker and work-horse
    os.kill(horse, signal.SIGKILL)
    worker.wait(timeout=10)
    monkeypatch.setitem(app.config, "JOB_STALE_SECONDS", 60)
    assert services.recover_dead_tasks() == []  # not stale yet: the last signs of life are recent
    assert reload(task).status is TaskStatus.RUNNING
    monkeypatch.setitem(app.config, "JOB_STALE_SECONDS", 1)
    time.sleep(1.2)
    recovered = services.recover_dead_tasks()
    assert [t.id for t in recovered] == [task.id]
    task = reload(task)
    assert task.status is TaskStatus.QUEUED and "remise en file" in task.message
    run_worker()
    task = reload(task)
    assert (task.status, task.attempts, task.message) == (TaskStatus.DONE, 2, "Fini.")


def test_dead_worker_after_the_last_attempt_fails_the_task(org, real_jobs, app, monkeypatch):
    task = start(org)  # queued in Redis; nobody runs it
    task = reload(task)
    task.move_to(TaskStatus.RUNNING)
    task.attempts = 3
    db.session.commit()
    monkeypatch.setitem(app.config, "JOB_STALE_SECONDS", 0)
    time.sleep(0.05)
    assert [t.id for t in services.recover_dead_tasks()] == [task.id]
    task = reload(task)
    assert task.status is TaskStatus.FAILED
    assert "3 fois de suite" in task.message


def test_live_job_with_fresh_rq_heartbeat_is_not_taken_for_dead(org, real_jobs, app, monkeypatch):
    from rq.job import JobStatus

    from backoffice.models import utcnow

    task = start(org)
    task = reload(task)
    task.move_to(TaskStatus.RUNNING)
    db.session.commit()
    job = Job.fetch(task.rq_job_id, connection=rq.get_queue(queue_name("default")).connection)
    job.set_status(JobStatus.STARTED)
    job.heartbeat(utcnow(), 60)
    monkeypatch.setitem(app.config, "JOB_STALE_SECONDS", 30)
    db.session.execute(db.update(Task).where(Task.id == task.id).values(heartbeat_at=utcnow().replace(year=2020)))
    db.session.commit()
    assert services.recover_dead_tasks() == []  # its worker says it is alive (e.g. SQLite lock)
    assert reload(task).status is TaskStatus.RUNNING


def test_reconciliation_enqueues_tasks_whose_job_vanished(org, simple_worker, app, monkeypatch):
    lost = start(org, params={"lines": 2})
    kept = start(org, params={"lines": 1})
    connection = rq.get_queue(queue_name("default")).connection
    Job.fetch(lost.rq_job_id, connection=connection).delete()  # as if Redis restarted empty
    old_id = lost.rq_job_id
    monkeypatch.setitem(app.config, "JOB_RECONCILE_GRACE_SECONDS", 0)
    time.sleep(0.05)
    assert [t.id for t in services.reconcile_queued_tasks()] == [lost.id]
    assert reload(lost).rq_job_id != old_id
    assert rq.get_queue(queue_name("default")).count == 2
    simple_worker()
    assert reload(lost).status is TaskStatus.DONE and reload(kept).status is TaskStatus.DONE


def test_old_job_of_a_requeued_task_is_ignored(org, simple_worker, app):
    task = start(org)
    stale_id = task.rq_job_id
    task = reload(task)
    task.rq_job_id = "someone-else"
    db.session.commit()
    simple_worker()  # runs the job stale_id: it must not touch the task
    task = reload(task)
    assert task.status is TaskStatus.QUEUED and task.attempts == 0
    assert stale_id != task.rq_job_id
