"""The task lifecycle, as a table."""
import pytest
from sqlalchemy.exc import IntegrityError

from backoffice.extensions import db
from backoffice.lifecycle import DirectStatusWrite, all_transitions, forbidden_transitions, history
from backoffice.tasks.models import TASK_LIFECYCLE, TRANSITIONS, Task, TaskStatus, TransitionError
from tests.factories import UserFactory

Q, R, D, F, X, C = (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.EXPIRED,
                    TaskStatus.CANCELLED)

ALLOWED = {(Q, R), (Q, F), (Q, C), (R, D), (R, F), (R, Q), (R, C), (D, X), (F, Q), (C, Q)}


def make_task(organisation, status=Q, **kwargs):
    task = Task(organisation_id=organisation.id, kind="test", label="Test", job_name="tests.x", params={},
                status=status, progress_done=0, attempts=0, **kwargs)
    db.session.add(task)
    db.session.flush()
    return task


@pytest.mark.parametrize("source, target", all_transitions(TASK_LIFECYCLE))
def test_every_allowed_move_is_made_and_recorded(organisation, source, target):
    user = UserFactory(full_name="Jeanne Martin")
    task = make_task(organisation, status=source)
    task.move_to(target, "Motif donné", by=user)
    db.session.flush()
    assert task.status is target
    [change] = history(task)
    assert (change.from_status, change.to_status, change.changed_by_id, change.reason) == (
        source.value, target.value, user.id, "Motif donné")
    assert change.organisation_id == organisation.id


@pytest.mark.parametrize("source, target", forbidden_transitions(TASK_LIFECYCLE))
def test_every_forbidden_move_is_refused_in_french(organisation, source, target):
    task = make_task(organisation, status=source)
    with pytest.raises(TransitionError) as refused:
        task.move_to(target)
    assert str(refused.value) == f"Impossible de passer la tâche de « {source.label} » à « {target.label} »."
    assert task.status is source and history(task) == []


def test_the_status_of_a_saved_task_is_not_written_directly(organisation):
    task = make_task(organisation)
    with pytest.raises(DirectStatusWrite):
        task.status = R


def test_table_is_the_documented_one():
    assert {(s, t) for s, targets in TRANSITIONS.items() for t in targets} == ALLOWED
    assert set(all_transitions(TASK_LIFECYCLE)) == ALLOWED


def test_running_counts_attempts_and_stamps_times(organisation):
    task = make_task(organisation)
    task.move_to(R)
    assert (task.attempts, task.finished_at) == (1, None)
    assert task.started_at == task.heartbeat_at
    task.move_to(Q, "remise en file")
    assert task.heartbeat_at is None and task.message == "remise en file"
    task.move_to(R)
    assert task.attempts == 2
    task.progress_total = 10
    task.move_to(D)
    assert task.progress_done == 10 and task.percent == 100 and task.finished_at is not None


def test_cancelling_stamps_the_end(organisation):
    task = make_task(organisation, status=R)
    task.move_to(C, "Annulée par Jeanne.")
    assert task.finished_at is not None and task.message == "Annulée par Jeanne."
    assert (task.status.label, task.is_active, task.has_result) == ("Annulée", False, False)


def test_lock_if_status_follows_the_committed_status(organisation):
    from backoffice.tasks.models import lock_if_status

    task = make_task(organisation, status=R)
    assert lock_if_status(task.id, R) and lock_if_status(task.id, Q, R)
    assert not lock_if_status(task.id, Q) and not lock_if_status(task.id, C)
    db.session.execute(db.update(Task).where(Task.id == task.id).values(status=C))
    assert not lock_if_status(task.id, Q, R)
    db.session.refresh(task)
    assert task.status is C  # the no-op update changed nothing else


def test_percent(organisation):
    task = make_task(organisation, status=R)
    assert task.percent is None
    task.progress_total, task.progress_done = 3, 1
    assert task.percent == 33


def test_one_active_task_per_dedupe_key(organisation, other_organisation):
    make_task(organisation, dedupe_key="export:2026")
    make_task(organisation, status=D, dedupe_key="export:2026")  # finished ones do not count
    make_task(other_organisation, dedupe_key="export:2026")  # nor other organisations
    with pytest.raises(IntegrityError), db.session.begin_nested():
        make_task(organisation, status=R, dedupe_key="export:2026")
