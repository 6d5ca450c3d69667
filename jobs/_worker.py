"""The worker: builds the application once, then forks a work-horse per job.

Flask-RQ's own worker (``flask rq worker``) starts a fresh ``flask rq work-horse`` process per
job, which imports and builds the whole application again: about 1.3 s of CPU per job here, for
a mail of two lines. :class:`ForkWorker` is RQ's plain forking ``Worker`` run from a process
that already holds the built application: the child inherits it, so a job's fixed cost is the
fork (a few milliseconds), once the worker has done up front what each child would otherwise
redo (:meth:`ForkWorker._prepare_once`). Everything else is RQ's: the horse is in its own process group, the
job's timeout is enforced inside it (``JobTimeoutException``) and by its parent (kill after
timeout + 60 s), ``send_stop_job_command`` kills it, a horse that dies is reported as failed.

What must not cross the fork is the database: the child drops the pool it inherited without
closing it (``engine.dispose(close=False)``, the SQLAlchemy recipe for fork), so it opens its
own connections and never talks on the parent's sockets, and each job runs in a fresh
application context (its own session, its own ``g``). Redis connections are re-created by
redis-py itself in a new process.

``flask worker [QUEUES…] [--burst] [--with-scheduler]`` (see :func:`worker_command`) is what
the Procfiles run; queues are our short names (``mail``, ``default``…), all of them by default.
"""
from __future__ import annotations

import gc

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import Worker

from backoffice.extensions import db
from backoffice.extensions import rq as rq_extension

__all__ = ["ForkWorker", "make_worker", "worker_command"]


class ForkWorker(Worker):
    """RQ's forking worker for an application built once, in this process."""

    def __init__(self, queues, *, app, **kwargs):
        super().__init__(queues, **kwargs)
        self.app = app
        self._prepare_once()

    @staticmethod
    def _prepare_once():
        """What every job would otherwise redo in its child: SQLAlchemy configures the mappers
        on the first query (about 0.35 s here) and compiles each statement the first time it
        runs (those of every job, a few milliseconds: :func:`jobs.warm_up_jobs`), the runner is
        imported on the first task, redis-py reads its own package metadata for each new
        connection (a child's first command opens one: about 3 ms), and the first garbage
        collection copies the inherited heap."""
        from redis.driver_info import DriverInfo
        from sqlalchemy.orm import configure_mappers

        from jobs import warm_up_jobs

        configure_mappers()
        warm_up_jobs()
        for queue in rq_extension.queues.values():
            # Resolved once here, the pool's connections of every child reuse it.
            queue.connection.connection_pool.connection_kwargs.setdefault("driver_info", DriverInfo())
        # What exists now is shared with every child: out of the collector's sight, so that a
        # collection in a child does not touch (and copy) every page of the application.
        gc.freeze()

    def fork_work_horse(self, job, queue):
        # No transaction of this process may be open across the fork (SQLite: a read lock
        # that would block the job's commit); its connections go back to its pool, for it alone.
        db.session.rollback()
        super().fork_work_horse(job, queue)

    def main_work_horse(self, job, queue):
        """In the child, right after the fork: fresh database connections, a fresh app context."""
        with self.app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)  # the parent's connections are its own: forget, never close
            super().main_work_horse(job, queue)  # runs the job, then os._exit


def make_worker(app, queues=(), **kwargs) -> ForkWorker:
    """A :class:`ForkWorker` for ``app``'s queues named ``queues`` (short names; all by default).

    Call it inside an app context; ``kwargs`` go to RQ's ``Worker`` (``name``…).
    """
    from jobs import QUEUES, queue_name

    known = rq_extension.queues
    names = [queue_name(name) if name in QUEUES else name for name in queues] or list(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.BadParameter(f"file(s) inconnue(s) : {', '.join(unknown)} ; connues : {', '.join(QUEUES)}")
    selected = [known[name] for name in names]
    return ForkWorker(selected, app=app, connection=selected[0].connection, job_class=selected[0].job_class,
                      **kwargs)


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.option("--with-scheduler", is_flag=True, help="Also run RQ's scheduler (retries with a delay).")
@click.option("--name", default=None, help="The worker's name in Redis.")
@click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs.")
@click.option("--logging-level", default="INFO", show_default=True)
@with_appcontext
def worker_command(queues, burst, with_scheduler, name, max_jobs, logging_level):
    """Run jobs: the application is built once, each job runs in a forked child."""
    worker = make_worker(current_app._get_current_object(), queues, name=name)
    worker.work(burst=burst, with_scheduler=with_scheduler, max_jobs=max_jobs, logging_level=logging_level)
