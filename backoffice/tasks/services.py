"""Starting, retrying and watching tasks.

The rule everywhere: the task row is committed *before* its job is enqueued, and the job gets
the task id (Indico / redash; microblog's bug #220 is the counter-example). Starting, retrying
and cancelling never commit: they flush, and hand the job to a worker (or run it inline) through
``backoffice.transactions.after_commit`` once the request's transaction has committed; a request
that rolls back starts nothing. If Redis does not answer, the task waits in the database and the
periodic reconciliation enqueues it later. The periodic functions at the end are job bodies and
commit each decision.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from backoffice.auth.models import Role
from backoffice.auth.permissions import roles_of
from backoffice.errors import ServiceError
from backoffice.extensions import db, rq
from backoffice.models import utcnow
from backoffice.sqlite import retry_while_busy
from backoffice.tasks.models import ACTIVE_STATUSES, Task, TaskStatus, lock_if_status, task_files_dir
from backoffice.transactions import after_commit
from jobs import TaskJob, queue_name, resolve_task_job, retry_policy

log = logging.getLogger(__name__)


class TaskError(ServiceError):
    """A task operation refused, with a French message for the user."""


class TaskForbidden(TaskError):
    """The user may not act on this task (views answer 403)."""


# --- starting --------------------------------------------------------------------------------

def start_task(organisation, user, kind: str, label: str, job: TaskJob, params: dict | None = None,
               dedupe_key: str | None = None) -> Task:
    """Create a task (flushed: it has an id) and run ``job`` for it once the current transaction
    commits (:func:`backoffice.transactions.after_commit`: a worker, or inline without Redis).

    With a ``dedupe_key``, an active (queued or running) task of the organisation with the same
    key is returned instead of starting a second one.
    """
    if not isinstance(job, TaskJob):
        raise TypeError(f"{job!r} is not declared with @task_job")
    params = dict(params or {})
    json.dumps(params)  # fail here, in the view, rather than in the worker
    if dedupe_key:
        existing = active_task(organisation, dedupe_key)
        if existing is not None:
            return existing
    task = Task(organisation_id=organisation.id, requested_by_id=_user_id(user), kind=kind, label=label,
                job_name=job.name, params=params, dedupe_key=dedupe_key, status=TaskStatus.QUEUED,
                progress_done=0, attempts=0)
    try:
        with db.session.begin_nested():
            db.session.add(task)
            db.session.flush()
    except IntegrityError:
        # Another request inserted the same active key between our check and our insert.
        existing = active_task(organisation, dedupe_key) if dedupe_key else None
        if existing is None:
            raise
        return existing
    task.rq_job_id = _new_job_id(task)
    db.session.flush()
    dispatch_after_commit(task)
    return task


def active_task(organisation, dedupe_key: str) -> Task | None:
    return db.session.scalar(select(Task).where(
        Task.organisation_id == organisation.id, Task.dedupe_key == dedupe_key,
        Task.status.in_(ACTIVE_STATUSES)))


def may_manage(task: Task, user) -> bool:
    """Who may retry or cancel a task: the one who asked for it, an admin or a treasurer."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (task.requested_by_id == user.id
            or bool(roles_of(user, task.organisation) & {Role.ADMIN, Role.TREASURER}))


def retry_task(task: Task) -> Task:
    """Run a failed or cancelled task again (the "Réessayer" button). Returns the task that will run."""
    if task.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        raise TaskError("Seule une tâche en échec ou annulée peut être relancée.")
    if task.dedupe_key:
        other = active_task(task.organisation, task.dedupe_key)
        if other is not None:
            return other
    task.move_to(TaskStatus.QUEUED, "Relancée ; en attente d'un serveur de tâches.")
    task.progress_done = 0
    task.rq_job_id = _new_job_id(task)
    db.session.flush()
    dispatch_after_commit(task)
    return task


# --- cancelling ------------------------------------------------------------------------------

CANCEL_LOCK_TIMEOUT = "10s"  # PostgreSQL: how long a cancel waits for a job finishing this instant


def cancel_task(task: Task, user) -> Task:
    """Cancel a queued or running task (the "Annuler" button); the row is locked until the
    transaction commits, and the half-written file is deleted after the commit.

    Its RQ job is taken off the queue, or its work-horse stopped (``send_stop_job_command``:
    RQ kills it, marks the job *stopped* and never retries it). Then the row becomes
    ``cancelled`` under :func:`lock_if_status`: if the job finished in the same instant,
    whichever committed first wins; the runner never overwrites ``cancelled`` (it takes the
    same lock before committing ``done`` or a failure), and the reconciliation only looks at
    queued and running tasks. A half-written result file is deleted.

    Raises :class:`TaskForbidden` for someone else than the requester, an admin or a
    treasurer, and :class:`TaskError` (French) when the task is no longer queued or running.
    """
    if not may_manage(task, user):
        raise TaskForbidden("Seuls la personne qui a lancé la tâche, les administrateurs et les trésoriers "
                            "peuvent l'annuler.")
    if not task.is_active:
        raise TaskError(_no_longer_active(task))
    task_id, job_id = task.id, task.rq_job_id
    # Stop the work-horse first: until it is dead it may hold the row (its final commit) or,
    # on SQLite, the database; a kill rolls its transaction back and frees both.
    if job_id and not task.ran_inline:
        _stop_rq_job(task, job_id)
    try:
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL lock_timeout = '{CANCEL_LOCK_TIMEOUT}'"))
        # SQLite: the stopped work-horse may still hold the write lock for an instant.
        claimed = retry_while_busy(lambda: lock_if_status(task_id, *ACTIVE_STATUSES))
    except OperationalError as exc:
        db.session.rollback()
        log.warning("[task %s] cancel: the row stayed locked (%s)", task_id, exc)
        raise TaskError("La tâche est en train de se terminer ; réessayez dans un instant.") from exc
    db.session.refresh(task)
    if not claimed:  # it finished (or failed) before we could take the row
        raise TaskError(_no_longer_active(task))
    task.move_to(TaskStatus.CANCELLED, f"Annulée par {user}.")
    db.session.flush()
    task.log.info("cancelled by user %s (job %s)", user.id, job_id)
    after_commit(lambda: _remove_partial_files(task))
    return task


def _no_longer_active(task: Task) -> str:
    return f"Cette tâche ne peut plus être annulée : elle est « {task.status.label} »."


def _stop_rq_job(task: Task, job_id: str) -> None:
    """Take the job off its queue, or stop its work-horse; Redis trouble is only logged."""
    try:
        connection = redis_connection()
        job = Job.fetch(job_id, connection=connection)
        status = job.get_status(refresh=False)
        if status == JobStatus.STARTED:
            send_stop_job_command(connection, job_id)
        elif status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            job.cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass  # already gone, or finished in the meantime: the row decides
    except RedisError as exc:
        # The row is cancelled anyway: the runner discards the job's work when it ends.
        task.log.warning("cancel: could not reach RQ for job %s (%s)", job_id, exc)


def _remove_partial_files(task: Task) -> None:
    """Files a stopped run may have left: its temporary file, or a result never committed."""
    folder = task_files_dir(task.organisation_id)
    kept = task.result_abspath()
    for pattern in (f".tmp-task-{task.id}-*", f"task-{task.id}-*"):
        for path in folder.glob(pattern):
            if path != kept:
                path.unlink(missing_ok=True)


def dispatch_after_commit(task: Task) -> None:
    """:func:`dispatch` ``task`` once the current transaction has committed (forgotten if it
    rolls back: the row is gone with it)."""
    task_id = task.id

    def dispatch_committed():
        committed = db.session.get(Task, task_id)
        if committed is not None and committed.status is TaskStatus.QUEUED:
            dispatch(committed)

    after_commit(dispatch_committed)


def dispatch(task: Task) -> None:
    """Hand a committed, queued task to a worker, or run it here when ``JOBS_INLINE``."""
    if current_app.config.get("JOBS_INLINE"):
        run_inline(task)
    else:
        enqueue_task(task)


def run_inline(task: Task) -> None:
    """Development without Redis: run the job now, in this process (and say so)."""
    from jobs._runner import execute

    task.log.warning("JOBS_INLINE: running inside the web process (no worker)")
    try:
        execute(task, job=None)
    except Exception:  # noqa: BLE001 - the task row says what went wrong; the page shows it
        db.session.rollback()


def run_now(task: Task) -> None:
    """Run a committed, queued task's job here and now, whatever ``JOBS_INLINE`` says: for the
    demo's seed, which goes on with the file a job of its own wrote. A worker that dequeues the
    job afterwards finds the task no longer queued and leaves it. Raises if the job fails (the
    task then says why)."""
    from jobs._runner import run_task

    run_task(task.id)


def enqueue_task(task: Task) -> bool:
    """Put ``run_task(task.id)`` on the task's queue under ``task.rq_job_id``.

    Returns False (and notes it on the task, committing the note: this runs after the task's own
    commit) when Redis does not answer.
    """
    from jobs._runner import run_task

    job_def = resolve_task_job(task.job_name)
    policy = job_def.policy
    retry = retry_policy(job_def.queue) if job_def.retry else None
    try:
        rq.get_queue(queue_name(job_def.queue)).enqueue(
            run_task, task.id, job_id=task.rq_job_id, job_timeout=job_def.timeout,
            result_ttl=policy.result_ttl, failure_ttl=policy.failure_ttl, retry=retry,
            description=f"{task.kind} (tâche {task.id})",
            meta={"task_id": task.id, "organisation_id": task.organisation_id})
    except RedisError as exc:
        task.log.warning("could not enqueue (Redis: %s); the reconciliation will", exc)
        task.message = ("En attente : le serveur de tâches ne répond pas. La tâche partira "
                        "automatiquement dès son retour.")
        db.session.commit()
        return False
    return True


def _new_job_id(task: Task) -> str:
    # Unique across databases sharing one Redis (test runs, staging): the prefix and a nonce.
    return f"{current_app.config['RQ_QUEUE_PREFIX']}-task-{task.id}-{secrets.token_hex(4)}"


def _user_id(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.id


# --- reading ---------------------------------------------------------------------------------

def tasks_page(organisation, page: int, per_page: int, status: str | None = None):
    query = select(Task).where(Task.organisation_id == organisation.id).options(selectinload(Task.requested_by))
    if status:
        query = query.where(Task.status == TaskStatus(status))
    return db.paginate(query.order_by(Task.created_at.desc(), Task.id.desc()), page=page,
                       per_page=per_page, error_out=False)


def progress_of(task: Task) -> dict:
    """What the progress endpoint answers: the row, completed by the RQ job's meta.

    ``meta`` is fresher when the job's progress writes could not reach the database (SQLite
    with a job holding a write lock).
    """
    done, total, message = task.progress_done, task.progress_total, task.message
    if task.status is TaskStatus.RUNNING and task.rq_job_id and not task.ran_inline:
        meta = _job_meta(task.rq_job_id)
        if meta and (meta.get("progress_done") or 0) > (done or 0):
            done = meta["progress_done"]
            total = meta.get("progress_total") or total
            message = meta.get("message") or message
    percent = task.percent
    if total and task.status is not TaskStatus.DONE:
        percent = max(0, min(100, int(done * 100 / total)))
    return {"id": task.id, "status": task.status.value, "status_label": task.status.label,
            "done": done, "total": total, "percent": percent, "message": message or "",
            "finished": not task.is_active}


def _job_meta(job_id):
    try:
        return Job.fetch(job_id, connection=redis_connection()).get_meta(refresh=False)
    except (NoSuchJobError, RedisError):
        return None


def redis_connection():
    return next(iter(rq.queues.values())).connection


# --- watching (periodic, see jobs/maintenance.py) --------------------------------------------

def recover_dead_tasks(now: datetime | None = None) -> list[Task]:
    """Running tasks whose worker died: re-queue them, or fail them after too many attempts.

    Dead means: no heartbeat for ``JOB_STALE_SECONDS`` *and* RQ does not show the job running
    with a fresh heartbeat of its own (its worker is gone, or it failed without telling us,
    e.g. the work-horse was killed). Commits each decision.
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    candidates = db.session.scalars(select(Task).where(
        Task.status == TaskStatus.RUNNING,
        func.coalesce(Task.heartbeat_at, Task.started_at) < stale).order_by(Task.id)).all()
    recovered = []
    for task in candidates:
        if _rq_job_running(task, stale):
            continue
        if not _still(task, TaskStatus.RUNNING):  # cancelled or finished meanwhile
            continue
        if task.attempts >= current_app.config["TASK_MAX_ATTEMPTS"]:
            task.log.error("worker died, attempt %s: giving up", task.attempts)
            task.move_to(TaskStatus.FAILED, (
                f"Le serveur de tâches s'est arrêté pendant le traitement, {task.attempts} fois de suite ; "
                "la tâche est abandonnée. Réessayez, et si cela se reproduit, signalez-le."))
            db.session.commit()
        else:
            task.log.warning("worker died (last heartbeat %s): re-queued", task.heartbeat_at)
            task.move_to(TaskStatus.QUEUED, "Le serveur de tâches s'est arrêté pendant le traitement ; "
                                            "la tâche a été remise en file d'attente.")
            task.rq_job_id = _new_job_id(task)
            db.session.commit()
            enqueue_task(task)
        recovered.append(task)
    return recovered


def _still(task: Task, status: TaskStatus) -> bool:
    """Lock the row if it is still in ``status`` (and reload it); else end the transaction."""
    if lock_if_status(task.id, status):
        db.session.refresh(task)
        return True
    db.session.rollback()
    return False


def _rq_job_running(task: Task, stale: datetime) -> bool:
    if not task.rq_job_id or task.ran_inline:
        return False
    try:
        job = Job.fetch(task.rq_job_id, connection=redis_connection())
    except NoSuchJobError:
        return False
    if job.get_status(refresh=False) != JobStatus.STARTED:
        return False
    beat = job.last_heartbeat
    return beat is not None and _aware(beat) > stale


def reconcile_queued_tasks(now: datetime | None = None) -> list[Task]:
    """Queued tasks whose RQ job vanished (Redis restarted empty, enqueue failed): enqueue again."""
    now = now or utcnow()
    grace = now - timedelta(seconds=current_app.config["JOB_RECONCILE_GRACE_SECONDS"])
    tasks = db.session.scalars(select(Task).where(
        Task.status == TaskStatus.QUEUED, Task.queued_at < grace).order_by(Task.id)).all()
    connection = redis_connection()
    alive = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}
    requeued = []
    for task in tasks:
        if task.rq_job_id:
            try:
                if Job.fetch(task.rq_job_id, connection=connection).get_status(refresh=False) in alive:
                    continue
            except NoSuchJobError:
                pass
        if not _still(task, TaskStatus.QUEUED):  # cancelled or picked by a worker meanwhile
            continue
        task.log.warning("queued, but its job %s is gone: enqueued again", task.rq_job_id)
        task.rq_job_id = _new_job_id(task)
        task.queued_at = now
        db.session.commit()
        if enqueue_task(task):
            requeued.append(task)
    return requeued


def expire_results(now: datetime | None = None) -> int:
    """Delete result files older than ``TASK_RESULT_DAYS``; their tasks become ``expired``."""
    now = now or utcnow()
    days = current_app.config["TASK_RESULT_DAYS"]
    limit = now - timedelta(days=days)
    tasks = db.session.scalars(select(Task).where(
        Task.status == TaskStatus.DONE, Task.finished_at < limit)).all()
    for task in tasks:
        path = task.result_abspath()
        if path is not None:
            path.unlink(missing_ok=True)
        task.move_to(TaskStatus.EXPIRED, f"Le fichier a été supprimé {days} jours après sa création ; "
                                         "relancez le traitement pour l'obtenir à nouveau.")
        task.download_token = None
        task.result_path = None
        task.log.info("result expired")
    db.session.commit()
    _remove_stale_temporaries(now)
    return len(tasks)


def _remove_stale_temporaries(now: datetime) -> None:
    """Half-written result files of killed workers (``.tmp-*`` older than a day)."""
    storage = Path(current_app.config["STORAGE_DIR"])
    limit = time.time() - 24 * 3600
    for temporary in storage.glob("*/tasks/.tmp-*"):
        try:
            if temporary.stat().st_mtime < limit:
                temporary.unlink()
        except OSError:
            pass


def _aware(moment: datetime) -> datetime:
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


__all__ = ["TaskError", "TaskForbidden", "start_task", "retry_task", "cancel_task", "may_manage", "dispatch",
           "dispatch_after_commit",
           "enqueue_task", "active_task", "tasks_page", "progress_of", "recover_dead_tasks", "reconcile_queued_tasks",
           "expire_results", "task_files_dir"]
