"""start_task, retry_task and the inline mode (the Testing default), in the test transaction.

``start`` commits after ``start_task`` as a request's boundary does: the job runs after it."""
import pytest

from backoffice.extensions import db
from backoffice.tasks import services
from backoffice.tasks.models import Task, TaskStatus
from tests.factories import UserFactory
from tests.tasks import jobs_for_tests as jobs


def start(organisation, job=jobs.write_lines, **kwargs):
    kwargs.setdefault("params", {"lines": 3})
    task = services.start_task(organisation=organisation, user=kwargs.pop("user", None), kind="test.lines",
                               label="Lignes", job=job, **kwargs)
    db.session.commit()
    return task


@pytest.fixture
def handed_over(app, monkeypatch):
    """The tasks given to a worker (``enqueue_task``), instead of running them inline."""
    handed = []
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(services, "enqueue_task", lambda task: handed.append(task.id) or True)
    return handed


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "worker"])
def test_start_task_hands_the_job_over_only_after_the_commit(organisation, app, monkeypatch, inline):
    handed = []
    monkeypatch.setitem(app.config, "JOBS_INLINE", inline)
    monkeypatch.setattr(services, "enqueue_task", lambda task: handed.append(task.id) or True)
    task = services.start_task(organisation=organisation, user=None, kind="test.lines", label="Lignes",
                               job=jobs.write_lines, params={"lines": 1})
    assert task.id is not None  # flushed: a view can redirect to its page
    assert (task.status, handed) == (TaskStatus.QUEUED, [])
    db.session.commit()
    assert task.status is (TaskStatus.DONE if inline else TaskStatus.QUEUED)
    assert handed == ([] if inline else [task.id])


def test_a_start_rolled_back_hands_nothing_over(organisation, handed_over):
    savepoint = db.session.begin_nested()  # the request that asked for it fails
    task = services.start_task(organisation=organisation, user=None, kind="test.lines", label="Lignes",
                               job=jobs.write_lines, params={"lines": 1})
    task_id = task.id
    savepoint.rollback()
    db.session.commit()
    assert handed_over == [] and db.session.get(Task, task_id) is None


def test_two_starts_in_one_transaction_make_one_task_and_one_job(organisation, handed_over):
    first = services.start_task(organisation=organisation, user=None, kind="test.lines", label="Lignes",
                                job=jobs.write_lines, params={"lines": 1}, dedupe_key="lignes")
    second = services.start_task(organisation=organisation, user=None, kind="test.lines", label="Lignes",
                                 job=jobs.write_lines, params={"lines": 1}, dedupe_key="lignes")
    db.session.commit()
    assert second.id == first.id and handed_over == [first.id]


def test_run_now_runs_a_task_left_for_a_worker_which_then_skips_it(organisation, handed_over):
    from jobs._runner import run_task

    task = start(organisation)
    assert task.status is TaskStatus.QUEUED and handed_over == [task.id]
    services.run_now(task)  # the demo's seed, which needs the file before it goes on
    db.session.refresh(task)
    assert (task.status, task.attempts) == (TaskStatus.DONE, 1)
    assert task.result_abspath().read_text(encoding="utf-8") == "ligne 1\nligne 2\nligne 3\n"
    assert run_task(task.id) is None  # the worker's turn comes: the task is not queued any more
    db.session.refresh(task)
    assert (task.status, task.attempts) == (TaskStatus.DONE, 1)


def test_inline_task_runs_at_once_and_keeps_its_result(organisation):
    user = UserFactory()
    task = start(organisation, user=user)
    assert task.status is TaskStatus.DONE
    assert task.ran_inline and task.attempts == 1
    assert task.requested_by_id == user.id
    assert (task.progress_done, task.progress_total, task.percent) == (3, 3, 100)
    assert task.message == "3 lignes écrites."
    path = task.result_abspath()
    assert path.read_text(encoding="utf-8") == "ligne 1\nligne 2\nligne 3\n"
    assert path.parent.name == "tasks" and path.parent.parent.name == str(organisation.id)
    assert task.result_filename == "lignes.txt" and task.result_mimetype == "text/plain"
    assert task.result_size == path.stat().st_size and len(task.download_token) >= 40


def test_job_receives_the_params_stored_on_the_row(organisation):
    task = start(organisation, params={"lines": 5})
    assert db.session.get(Task, task.id).params == {"lines": 5}
    assert task.result_abspath().read_text().count("\n") == 5


def test_expected_failure_shows_its_french_message(organisation):
    task = start(organisation, job=jobs.fail_in_french)
    assert task.status is TaskStatus.FAILED
    assert task.message == "Aucune écriture pour l'exercice 2026."


def test_unexpected_failure_hides_the_detail(organisation):
    task = start(organisation, job=jobs.crash)
    assert task.status is TaskStatus.FAILED
    assert "detail technique" not in task.message
    assert f"tâche n° {task.id}" in task.message


def test_failed_job_leaves_no_file(organisation, app):
    from pathlib import Path

    folder = Path(app.config["STORAGE_DIR"]) / str(organisation.id) / "tasks"
    before = set(folder.glob("*")) if folder.exists() else set()
    task = start(organisation, job=jobs.write_then_crash)
    assert task.status is TaskStatus.FAILED and task.result_path is None
    assert (set(folder.glob("*")) if folder.exists() else set()) == before


def test_params_must_be_json(organisation):
    with pytest.raises(TypeError):
        start(organisation, params={"when": object()})


def test_only_task_jobs_can_be_started(organisation):
    with pytest.raises(TypeError):
        start(organisation, job=lambda task: None)


def test_retry_of_a_failed_task(organisation, tmp_path):
    marker = tmp_path / "marker"
    task = start(organisation, job=jobs.fails_until_marker, params={"marker": str(marker)})
    assert task.status is TaskStatus.FAILED
    marker.write_text("ok")
    again = services.retry_task(task)
    assert task.status is TaskStatus.QUEUED  # runs once the retry is committed
    db.session.commit()
    assert again.id == task.id
    assert (task.status, task.attempts, task.message) == (TaskStatus.DONE, 2, "Réussi.")


def test_only_failed_tasks_can_be_retried(organisation):
    task = start(organisation)
    with pytest.raises(services.TaskError, match="en échec"):
        services.retry_task(task)


def test_dedupe_key_returns_the_active_task(organisation, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(services, "enqueue_task", lambda task: True)  # nothing runs it
    first = start(organisation, dedupe_key="lines:3")
    second = start(organisation, dedupe_key="lines:3")
    assert second.id == first.id and first.status is TaskStatus.QUEUED
    assert db.session.query(Task).filter_by(dedupe_key="lines:3").count() == 1
    third = start(organisation, dedupe_key="lines:4")
    assert third.id != first.id


def test_dedupe_key_allows_a_new_task_once_the_first_is_finished(organisation):
    first = start(organisation, dedupe_key="lines:3")
    assert first.status is TaskStatus.DONE
    second = start(organisation, dedupe_key="lines:3")
    assert second.id != first.id


def test_enqueue_failure_keeps_the_task_queued(organisation, app, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from backoffice.extensions import rq

    class DeadQueue:
        def enqueue(self, *args, **kwargs):
            raise RedisConnectionError("Connection refused")

    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(rq, "get_queue", lambda name: DeadQueue())
    task = start(organisation)
    assert task.status is TaskStatus.QUEUED
    assert "ne répond pas" in task.message
