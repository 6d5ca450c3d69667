"""Cancelling a task: cancel_task, the races it must win or lose cleanly, and the "Annuler" button.

In the test transaction; RQ is the real Redis of this run (``real_jobs``) where it matters.
The real worker stopped in the middle of a job is in test_cancel_worker.py.
"""
from datetime import timedelta

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import update

from backoffice.auth.services import grant_role
from backoffice.extensions import db, rq
from backoffice.models import utcnow
from backoffice.tasks import services
from backoffice.tasks.models import Task, TaskStatus
from jobs import queue_name
from tests.factories import UserFactory
from tests.tasks import jobs_for_tests as jobs
from tests.tasks.conftest import start_and_commit


def start(organisation, user=None, job=jobs.write_lines, **params):
    return start_and_commit(organisation=organisation, user=user, kind="test.lines", label="Lignes",
                            job=job, params=params or {"lines": 2})


def rq_job(task):
    return Job.fetch(task.rq_job_id, connection=rq.get_queue(queue_name("default")).connection)


def set_status(task, status, **values):
    """Another process changes the row and commits; the object in memory is left as it was."""
    db.session.execute(update(Task).where(Task.id == task.id).values(status=status, **values)
                       .execution_options(synchronize_session=False))


def user_with_role(organisation, role):
    user = UserFactory()
    grant_role(user, organisation, role)
    db.session.flush()
    return user


@pytest.fixture
def not_enqueued(app, monkeypatch):
    """Tasks stay queued: no inline run, no Redis; returns the tasks that would have been enqueued."""
    enqueued = []
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(services, "enqueue_task", lambda task: enqueued.append(task.id) or True)
    return enqueued


# --- the service -------------------------------------------------------------------------

def test_cancel_a_queued_task_takes_its_job_off_the_queue(organisation, real_jobs, simple_worker):
    user = UserFactory(full_name="Jeanne Martin")
    task = start(organisation, user=user)
    queue = rq.get_queue(queue_name("default"))
    assert (task.status, queue.count) == (TaskStatus.QUEUED, 1)
    services.cancel_task(task, user)
    assert task.status is TaskStatus.CANCELLED and task.finished_at is not None
    assert task.message == "Annulée par Jeanne Martin."
    assert rq_job(task).get_status() == JobStatus.CANCELED and queue.count == 0
    simple_worker()  # nothing left to run
    task = db.session.get(Task, task.id)
    assert (task.status, task.attempts, task.result_path) == (TaskStatus.CANCELLED, 0, None)


def test_cancel_a_running_task_stops_its_work_horse(organisation, real_jobs, monkeypatch):
    stops = []
    monkeypatch.setattr(services, "send_stop_job_command", lambda connection, job_id: stops.append(job_id))
    task = start(organisation)
    task.move_to(TaskStatus.RUNNING)
    db.session.commit()
    rq_job(task).set_status(JobStatus.STARTED)  # a worker has it
    folder = services.task_files_dir(organisation.id)
    folder.mkdir(parents=True)
    partial = [folder / f".tmp-task-{task.id}-x1y2.txt", folder / f"task-{task.id}-0123abcd.txt"]
    other = folder / f".tmp-task-{task.id + 1}-z3.txt"  # another task's: left alone
    for path in (*partial, other):
        path.write_text("moitié")
    services.cancel_task(task, user_with_role(organisation, "admin"))
    assert stops == [task.rq_job_id]
    assert db.session.get(Task, task.id).status is TaskStatus.CANCELLED
    assert all(path.exists() for path in partial)  # until the cancel is committed
    db.session.commit()
    assert not any(path.exists() for path in partial) and other.exists()


@pytest.mark.parametrize("job, label", [(jobs.write_lines, "Terminée"), (jobs.fail_in_french, "Échec")])
def test_a_finished_task_cannot_be_cancelled(organisation, job, label):
    user = UserFactory()
    task = start(organisation, user=user, job=job)  # inline: already over
    status, path = task.status, task.result_abspath()
    with pytest.raises(services.TaskError, match=f"ne peut plus être annulée : elle est « {label} »"):
        services.cancel_task(task, user)
    assert db.session.get(Task, task.id).status is status
    assert path is None or path.exists()


@pytest.mark.parametrize("role, allowed", [("admin", True), ("treasurer", True), ("board", False),
                                           ("accountant", False), ("member", False)])
def test_who_may_cancel(organisation, not_enqueued, role, allowed):
    requester = UserFactory()
    task = start(organisation, user=requester)
    someone = user_with_role(organisation, role)
    if allowed:
        services.cancel_task(task, someone)
        assert task.status is TaskStatus.CANCELLED
    else:
        with pytest.raises(services.TaskForbidden):
            services.cancel_task(task, someone)
        assert db.session.get(Task, task.id).status is TaskStatus.QUEUED
        services.cancel_task(task, requester)  # the one who asked may, whatever their role
        assert task.status is TaskStatus.CANCELLED


def test_nobody_signed_in_may_not_cancel(organisation, not_enqueued):
    task = start(organisation)
    with pytest.raises(services.TaskForbidden):
        services.cancel_task(task, None)


def test_a_task_finishing_in_the_same_instant_wins(organisation, not_enqueued, monkeypatch):
    """The job commits `done` between our check and our lock: the cancel is refused, nothing breaks."""
    user = UserFactory()
    task = start(organisation, user=user)
    task.move_to(TaskStatus.RUNNING)
    db.session.commit()
    monkeypatch.setattr(services, "_stop_rq_job", lambda task, job_id: set_status(task, TaskStatus.DONE))
    with pytest.raises(services.TaskError, match="« Terminée »"):
        services.cancel_task(task, user)
    assert db.session.get(Task, task.id).status is TaskStatus.DONE


def test_a_cancelled_task_can_be_started_again(organisation, not_enqueued, app, monkeypatch):
    user = UserFactory()
    task = start(organisation, user=user, lines=3)
    services.cancel_task(task, user)
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)
    assert services.retry_task(task).id == task.id
    db.session.commit()
    assert (task.status, task.message) == (TaskStatus.DONE, "3 lignes écrites.")


# --- nothing brings a cancelled task back -------------------------------------------------

def test_dead_worker_reconciliation_leaves_a_task_cancelled_meanwhile(organisation, not_enqueued, app, monkeypatch):
    task = start(organisation)
    task.move_to(TaskStatus.RUNNING)
    task.heartbeat_at = task.started_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    monkeypatch.setitem(app.config, "JOB_STALE_SECONDS", 60)

    def cancelled_while_we_look(task, stale):  # the user's cancel commits during the check
        set_status(task, TaskStatus.CANCELLED)
        db.session.commit()
        return False

    monkeypatch.setattr(services, "_rq_job_running", cancelled_while_we_look)
    assert services.recover_dead_tasks() == []
    assert db.session.get(Task, task.id).status is TaskStatus.CANCELLED and not_enqueued == [task.id]


def test_lost_job_reconciliation_leaves_a_task_cancelled_meanwhile(organisation, not_enqueued, app, monkeypatch):
    task = start(organisation)
    task.rq_job_id = None  # its job is gone
    task.queued_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    real_connection = services.redis_connection

    def cancelled_meanwhile():
        set_status(task, TaskStatus.CANCELLED)
        db.session.commit()
        return real_connection()

    monkeypatch.setattr(services, "redis_connection", cancelled_meanwhile)
    assert services.reconcile_queued_tasks() == []
    assert db.session.get(Task, task.id).status is TaskStatus.CANCELLED and not_enqueued == [task.id]


# --- the button ----------------------------------------------------------------------------

def show(client, task):
    return client.get(f"/o/{task.organisation.slug}/tasks/{task.id}")


def cancel_url(task):
    return f"/o/{task.organisation.slug}/tasks/{task.id}/cancel"


def test_the_requester_cancels_from_the_task_page(client, login_as, organisation, not_enqueued):
    user = login_as("board")
    task = start(organisation, user=user)
    page = show(client, task).text
    assert f'action="{cancel_url(task)}"' in page and 'data-confirm="Annuler cette tâche ?' in page
    response = client.post(cancel_url(task), follow_redirects=True)
    assert response.status_code == 200 and "La tâche est annulée." in response.text
    assert "Tâche annulée" in response.text and "Réessayer" in response.text
    assert cancel_url(task) not in response.text
    assert db.session.get(Task, task.id).status is TaskStatus.CANCELLED
    data = client.get(f"/o/{organisation.slug}/tasks/{task.id}/progress").get_json()
    assert (data["status"], data["status_label"], data["finished"]) == ("cancelled", "Annulée", True)
    assert 'data-active="false"' in show(client, task).text  # tasks.js does not poll


def test_cancel_refused_to_someone_else_without_authority(client, login_as, organisation, not_enqueued):
    task = start(organisation, user=UserFactory())
    login_as("board")
    assert cancel_url(task) not in show(client, task).text
    assert client.post(cancel_url(task)).status_code == 403
    assert db.session.get(Task, task.id).status is TaskStatus.QUEUED


def test_cancel_of_a_finished_task_says_why(client, login_as, organisation):
    login_as("treasurer")
    task = start(organisation)  # inline: done
    assert cancel_url(task) not in show(client, task).text
    response = client.post(cancel_url(task), follow_redirects=True)
    assert "Cette tâche ne peut plus être annulée : elle est « Terminée »." in response.text
    assert db.session.get(Task, task.id).status is TaskStatus.DONE


def test_cancel_needs_a_post(client, login_as, organisation, not_enqueued):
    login_as("admin")
    task = start(organisation)
    assert client.get(cancel_url(task)).status_code == 405
