"""The one function RQ runs for every task: load the row, run the body, record the outcome.

``run_task(task_id)`` is what :func:`backoffice.tasks.services.enqueue_task` puts on the queue.
It runs in the worker's forked work-horse (``jobs._worker``), inside an app context with its own session.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from backoffice.errors import ServiceError
from backoffice.audit.services import acting_as
from backoffice.extensions import db
from backoffice.tasks.models import Task, TaskStatus, lock_if_status
from jobs import TRANSIENT_ERRORS, TaskFailed, resolve_task_job
from jobs._runtime import TaskRuntime

log = logging.getLogger(__name__)


def run_task(task_id: int) -> int | None:
    """Run task ``task_id`` (RQ entry point). Returns the task id; raises if the task failed."""
    job = get_current_job()
    # Hold the row while it is queued, until `running` is committed: a cancel in the same
    # instant either comes first (we see `cancelled` and stop here) or waits for us.
    queued = lock_if_status(task_id, TaskStatus.QUEUED)
    task = db.session.get(Task, task_id)
    if task is None:
        log.warning("[task %s] no such task (deleted?): job %s ignored", task_id, job and job.id)
        return None
    if job is not None and task.rq_job_id != job.id:
        # An older job of a task that was re-queued since (dead worker, reconciliation).
        task.log.warning("job %s is not the task's current job (%s): ignored", job.id, task.rq_job_id)
        db.session.rollback()
        return None
    if not queued:
        task.log.warning("status is %s, not queued: job %s ignored", task.status, job and job.id)
        db.session.rollback()
        return None
    return execute(task, job)


def execute(task: Task, job=None) -> int:
    """Run ``task`` now, in this process (``job`` is the RQ job, None when inline).

    Commits ``running``, calls the body, then commits its work and ``done`` once; on error,
    rolls the body's work back, commits ``failed`` (or ``queued`` for a retry) and re-raises.
    What the job changes is recorded in the name of the user who asked for it (audit rows,
    ``created_by``): there is no signed-in user in a worker.
    """
    with acting_as(task.requested_by_id):
        return _execute(task, job)


def _execute(task: Task, job=None) -> int:
    task_id = task.id
    try:
        job_def = resolve_task_job(task.job_name)
    except (ImportError, AttributeError, LookupError, ValueError) as exc:
        task.log.error("cannot find the job %s: %s", task.job_name, exc)
        task.move_to(TaskStatus.FAILED, "Ce traitement n'existe plus dans cette version de Maillage ; "
                                        "relancez-le depuis sa page.")
        db.session.commit()
        _no_retry(job)
        raise TaskFailed(task.message) from exc
    task.move_to(TaskStatus.RUNNING, message="")
    task.ran_inline = job is None
    db.session.commit()
    task.log.info("started (%s, attempt %s%s)", task.job_name, task.attempts, ", inline" if job is None else "")
    heartbeat = current_app.config["JOB_HEARTBEAT_SECONDS"] if job is not None else 0
    with TaskRuntime(task_id, job, heartbeat) as runtime:
        try:
            job_def.func(task)
            runtime.keep_last_progress(task)
            if not lock_if_status(task_id, TaskStatus.RUNNING):
                raise _Cancelled
            task.move_to(TaskStatus.DONE)
            db.session.commit()
        except _Cancelled:
            # The user cancelled it while it ran and that commit came first: keep `cancelled`.
            _discard(runtime)
            _no_retry(job)
            task.log.info("cancelled while running: its work is discarded")
            return None
        except BaseException as exc:
            _record_failure(task_id, job, job_def, exc, runtime)
            raise
    task.log.info("done")
    return task_id


def warm_up() -> None:
    """The runner's first statements, run once on task 0 by the worker before it forks (see
    :func:`jobs.warm_up_jobs`): they find nothing, no row is read or locked."""
    lock_if_status(0, TaskStatus.QUEUED)
    db.session.get(Task, 0)


class _Cancelled(Exception):
    """The task's row is no longer ``running`` when the job ends (it was cancelled)."""


def _discard(runtime) -> None:
    """Roll the job's work back, and delete the result files whose rows that removes."""
    db.session.rollback()
    for path in runtime.written_files:
        Path(path).unlink(missing_ok=True)


def _record_failure(task_id, job, job_def, exc, runtime) -> None:
    _discard(runtime)  # the rows of the result files were rolled back: no orphan files
    try:
        # Locked while we decide: a cancel in the same instant waits, or has already won.
        running = lock_if_status(task_id, TaskStatus.RUNNING)
    except Exception:  # noqa: BLE001 - the database itself is failing; RQ keeps the job
        db.session.rollback()
        log.exception("[task %s] could not record the failure", task_id)
        return
    task = db.session.get(Task, task_id) if running else None
    if task is None:
        db.session.rollback()
        _no_retry(job)  # cancelled (or deleted): nothing may run it again
        log.info("[task %s] ended with %r, but it is no longer running (cancelled?)", task_id, exc)
        return
    retries_left = (job.retries_left or 0) if job is not None else 0
    if isinstance(exc, TRANSIENT_ERRORS) and job_def.retry and retries_left:
        delay = job.get_retry_interval()
        task.log.warning("transient error, RQ retries in %s s (%s left): %r", delay, retries_left, exc)
        task.move_to(TaskStatus.QUEUED, f"Erreur temporaire ({_short(exc)}) : nouvel essai automatique "
                                        f"dans {delay} secondes.")
    elif not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt: the process is stopping
        task.log.warning("interrupted (%r): back to the queue", exc)
        task.move_to(TaskStatus.QUEUED, "Le traitement a été interrompu ; il reprendra automatiquement.")
        _no_retry(job)  # the reconciliation enqueues it again
    else:
        message = failure_message(task, exc, job_def)
        if _is_expected(exc):
            task.log.warning("failed: %s", exc)
        else:
            task.log.error("failed with an unexpected error", exc_info=exc)
        task.move_to(TaskStatus.FAILED, message)
        _no_retry(job)
    try:
        db.session.commit()
    except Exception:  # noqa: BLE001 - the database itself is failing; RQ keeps the job
        db.session.rollback()
        log.exception("[task %s] could not record the failure", task_id)


def _no_retry(job) -> None:
    """A permanent failure: RQ must not retry it (it reads this very Job object)."""
    if job is not None:
        job.retries_left = 0


def _is_expected(exc) -> bool:
    """The application's own refusals (French, for the user); anything else is a bug whose
    text (often English) stays in the logs."""
    return isinstance(exc, ServiceError)


def _short(exc) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def failure_message(task: Task, exc: BaseException, job_def=None) -> str:
    """The French explanation the task page shows."""
    if isinstance(exc, TRANSIENT_ERRORS):
        detail = f" ({_short(exc)})" if _is_expected(exc) else ""
        return ("Le serveur de messagerie ou la base de données n'a pas répondu, même après plusieurs "
                f"essais{detail}. Réessayez dans quelques minutes.")
    if _is_expected(exc):
        # Our own exceptions carry a French message meant for the user (house rule).
        return str(exc) or "Le traitement a échoué."
    if isinstance(exc, JobTimeoutException):
        minutes = max(1, round((job_def.timeout if job_def else 600) / 60))
        return (f"Le traitement a dépassé la durée maximale autorisée ({minutes} min). "
                "Réessayez ; si cela se reproduit, réduisez la sélection.")
    return (f"Une erreur inattendue a interrompu le traitement (tâche n° {task.id}). Elle est "
            "consignée dans le journal technique ; réessayez, et si elle se reproduit, signalez ce numéro.")
