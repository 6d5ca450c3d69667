"""Background jobs: queues, timeouts and retries declared in one place, and the decorators.

Read ``jobs/README.md`` first. In short:

* ``@task_job(queue=..., timeout=...)`` marks a function ``f(task)`` as the body of a user-visible
  task (a row of ``tasks``); ``backoffice.tasks.services.start_task`` creates the row and, once
  it is committed, enqueues :func:`jobs._runner.run_task` with the task id. The runner loads the row in the
  worker, moves it ``queued → running → done | failed`` and calls ``f(task)``.
* ``@periodic_job(interval=...)`` (or ``cron=...``) marks a function without arguments to be run
  by RQ's cron scheduler (``flask rq cron``) on the ``maintenance`` queue.
* ``@plain_job(queue=...)`` marks a function of plain values (ids) as a job with no ``tasks``
  row, for work nobody watches (one mail): ``f.enqueue(*args, job_id=...)``, same queue policies.

Why not Flask-RQ's ``@rq.job`` directly: its wrapper binds the queue *name* at import time,
while ours carry ``RQ_QUEUE_PREFIX`` (one per test run, ``maillage`` in production), known only
when the app is created. We use everything else of Flask-RQ: the queues it builds from
``RQ_QUEUES`` (``create_app`` fills it from :data:`QUEUES`) and its cron registration. Not its
worker, which builds the whole application again for every job: ``flask worker``
(:mod:`jobs._worker`) builds it once and forks a work-horse per job.
"""
from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
from dataclasses import dataclass

from backoffice.errors import ServiceError

__all__ = [
    "QUEUES",
    "TRANSIENT_ERRORS",
    "QueuePolicy",
    "TaskFailed",
    "TaskJob",
    "task_job",
    "plain_job",
    "periodic_job",
    "rq_queue_names",
    "queue_name",
    "retry_policy",
    "resolve_task_job",
    "register_periodic_jobs",
    "warm_up_jobs",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuePolicy:
    """How jobs of one queue run. Times in seconds."""

    timeout: int  # RQ's job_timeout: the horse is killed after this long
    result_ttl: int  # how long RQ keeps a finished job (our result is the task row anyway)
    failure_ttl: int  # how long RQ keeps a failed job in its FailedJobRegistry
    retry_intervals: tuple[int, ...] = ()  # delays before each retry of a transient error
    label: str = ""

    @property
    def retry_max(self) -> int:
        return len(self.retry_intervals)


DAY = 24 * 3600

# The queues, in the order a worker serves them (first = most urgent).
QUEUES: dict[str, QueuePolicy] = {
    "maintenance": QueuePolicy(timeout=300, result_ttl=3600, failure_ttl=7 * DAY,
                               label="Maintenance (tâches périodiques)"),
    # Mails of web requests (sign-in links…): short jobs that must not wait behind an export.
    # The retries span about 6 minutes, well within a sign-in link's 15.
    "mail": QueuePolicy(timeout=120, result_ttl=3600, failure_ttl=7 * DAY,
                        retry_intervals=(10, 60, 300), label="Envoi des e-mails"),
    "default": QueuePolicy(timeout=600, result_ttl=DAY, failure_ttl=30 * DAY,
                           retry_intervals=(10, 30, 60), label="Exports et documents"),
    "bulk": QueuePolicy(timeout=3600, result_ttl=DAY, failure_ttl=30 * DAY,
                        retry_intervals=(10, 30, 60), label="Générations en masse"),
}


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Errors worth another try a bit later: the mail server or a database hiccup."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import OperationalError

    from backoffice.mail.services import MailError

    return (MailError, OperationalError, RedisConnectionError, ConnectionError, TimeoutError)


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = _transient_errors()


class TaskFailed(ServiceError):
    """Raise from a job to fail its task with this French message (shown as is, no retry)."""


def rq_queue_names(prefix: str) -> list[str]:
    """Flask-RQ's ``RQ_QUEUES`` for ``RQ_QUEUE_PREFIX`` = ``prefix``, in priority order."""
    return [f"{prefix}-{name}" for name in QUEUES]


def queue_name(name: str, prefix: str | None = None) -> str:
    """The RQ name of our queue ``name`` (``default`` → ``maillage-default``)."""
    if name not in QUEUES:
        raise KeyError(f"Unknown queue {name!r}: declare it in jobs.QUEUES")
    if prefix is None:
        from flask import current_app

        prefix = current_app.config["RQ_QUEUE_PREFIX"]
    return f"{prefix}-{name}"


class TaskJob:
    """The body of a task, as declared by :func:`task_job`. Calling it calls the function."""

    def __init__(self, func, queue: str, timeout: int | None, retry: bool):
        if queue not in QUEUES:
            raise KeyError(f"Unknown queue {queue!r}: declare it in jobs.QUEUES")
        self.func = func
        self.queue = queue
        self.timeout = timeout or QUEUES[queue].timeout
        self.retry = retry
        self.name = f"{func.__module__}.{func.__qualname__}"
        functools.update_wrapper(self, func)

    @property
    def policy(self) -> QueuePolicy:
        return QUEUES[self.queue]

    def __call__(self, task):
        return self.func(task)

    def __repr__(self):
        return f"<TaskJob {self.name} queue={self.queue} timeout={self.timeout}>"


def task_job(func=None, *, queue: str = "default", timeout: int | None = None, retry: bool = True):
    """Declare ``func(task)`` as the body of a task run by a worker.

    ``queue`` is one of :data:`QUEUES`; ``timeout`` (seconds) overrides the queue's;
    ``retry=False`` disables the automatic retries of transient errors (for a job with side
    effects that cannot be repeated safely). Usable as ``@task_job`` or ``@task_job(...)``.
    """
    if func is not None:
        return TaskJob(func, queue, timeout, retry)
    return lambda f: TaskJob(f, queue, timeout, retry)


def retry_policy(queue: str):
    """RQ's ``Retry`` for a job of ``queue`` (``JOB_RETRY_INTERVALS`` overrides), or None."""
    from flask import current_app
    from rq import Retry

    intervals = current_app.config.get("JOB_RETRY_INTERVALS")
    intervals = list(QUEUES[queue].retry_intervals if intervals is None else intervals)
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def resolve_task_job(name: str) -> TaskJob:
    """The :class:`TaskJob` at import path ``name`` (stored in ``tasks.job_name``)."""
    target = pkgutil.resolve_name(name)
    if not isinstance(target, TaskJob):
        raise LookupError(f"{name} is not declared with @task_job")
    return target


# --- plain jobs (no task row) -------------------------------------------------------------

def plain_job(func=None, *, queue: str = "default", timeout: int | None = None, retry: bool = True):
    """Declare ``func(*args)`` as a job without a ``tasks`` row; enqueue it with ``func.enqueue``.

    For work nobody watches on a page (deliver one mail). The function gets plain values (ids),
    runs in a worker with an app context, commits its own work and must be idempotent (RQ
    retries, the reconciliation may enqueue it again). The queue's policy applies: timeout
    (``timeout`` overrides), TTLs, and RQ retries with the queue's intervals for
    :data:`TRANSIENT_ERRORS` (unless ``retry=False``); any other exception fails the job at once.
    ``func.enqueue(*args, job_id=None, description=None)`` raises Redis errors: the caller
    decides whether a row waiting in the database is enough. Called directly, it just runs.
    """
    if queue not in QUEUES:
        raise KeyError(f"Unknown queue {queue!r}: declare it in jobs.QUEUES")

    def decorator(f):
        policy = QUEUES[queue]

        @functools.wraps(f)  # same module and name: RQ imports this wrapper by f's path
        def run(*args):
            try:
                return f(*args)
            except Exception as exc:
                if not (retry and isinstance(exc, TRANSIENT_ERRORS)):
                    from rq import get_current_job

                    job = get_current_job()
                    if job is not None:  # a permanent failure: RQ reads this very Job object
                        job.retries_left = 0
                raise

        def enqueue(*args, job_id: str | None = None, description: str | None = None):
            from backoffice.extensions import rq

            return rq.get_queue(queue_name(queue)).enqueue_call(
                run, args=args, job_id=job_id, timeout=timeout or policy.timeout,
                result_ttl=policy.result_ttl, failure_ttl=policy.failure_ttl,
                retry=retry_policy(queue) if retry else None, description=description)

        run.enqueue = enqueue
        run.queue = queue
        return run

    return decorator(func) if func is not None else decorator


# --- periodic jobs -----------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodicJob:
    func: object
    interval: int | None
    cron: str | None
    queue: str

    @property
    def name(self):
        return f"{self.func.__module__}.{self.func.__name__}"


PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def periodic_job(*, interval: int | None = None, cron: str | None = None, queue: str = "maintenance"):
    """Run the decorated function (no arguments) every ``interval`` seconds or on ``cron``.

    The function runs in a worker with an app context; it commits its own work. It must be
    idempotent (the scheduler may start it again after a restart).
    """
    if (interval is None) == (cron is None):
        raise ValueError("periodic_job needs exactly one of interval= or cron=")
    if queue not in QUEUES:
        raise KeyError(f"Unknown queue {queue!r}: declare it in jobs.QUEUES")

    def decorator(func):
        job = PeriodicJob(func, interval, cron, queue)
        PERIODIC_JOBS[job.name] = job
        return func

    return decorator


def import_job_modules() -> list:
    """Import every ``jobs.<module>`` so that their decorators run; returns the modules."""
    return [importlib.import_module(f"{__name__}.{module.name}") for module in pkgutil.iter_modules(__path__)
            if not module.name.startswith("_")]


def warm_up_jobs() -> None:
    """Run once, in the worker before it forks, the statements that every job runs.

    SQLAlchemy compiles a statement the first time it runs and keeps the result in a cache of
    the engine (and of each mapper, for the flushes). A forked work-horse inherits that cache,
    but what it compiles itself dies with it: without this, each job would compile the same
    statements again (a few milliseconds). A job module may define ``warm_up()``, which runs
    them on rows that do not exist (id 0: nothing is read or locked); the runner's
    (:func:`jobs._runner.warm_up`) comes first. It is rolled back, and a database that does not
    answer yet only costs the jobs that time: the worker starts all the same.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from backoffice.extensions import db
    from jobs import _runner

    for module in (_runner, *import_job_modules()):
        warm = getattr(module, "warm_up", None)
        if warm is None:
            continue
        try:
            warm()
        except SQLAlchemyError as exc:
            log.warning("%s.warm_up skipped (the database did not answer): %s", module.__name__, exc)
        finally:
            db.session.rollback()


_registered: set[tuple[str, str]] = set()


def register_periodic_jobs(app) -> None:
    """Register every :func:`periodic_job` with Flask-RQ's cron support for ``app``'s queues.

    Called when the tasks blueprint is registered; ``flask rq cron`` then runs them.
    """
    from backoffice.extensions import rq

    import_job_modules()
    prefix = app.config["RQ_QUEUE_PREFIX"]
    for job in PERIODIC_JOBS.values():
        target = queue_name(job.queue, prefix)
        if (job.name, target) in _registered:  # the RQ extension is shared by every app
            continue
        _registered.add((job.name, target))
        policy = QUEUES[job.queue]
        rq.cron_register(job.func, job.interval if job.interval is not None else job.cron,
                         queue=target, job_timeout=policy.timeout, result_ttl=policy.result_ttl,
                         failure_ttl=policy.failure_ttl, name=f"{prefix}:{job.name}")
