"""What a task needs while it runs in a worker: progress writes and a heartbeat.

On PostgreSQL both are written in their own short transaction on a separate connection, so
that the page sees them while the job's own transaction is still open, and they never wait
long for a lock that the job's transaction might hold (``lock_timeout``): a progress or
heartbeat write that cannot happen quickly is skipped, never fatal. Progress also goes to the
RQ job's ``meta`` (throttled to once a second), which the progress endpoint reads as well:
on SQLite (development), that is the only channel (see ``TaskRuntime.__init__``).
"""
from __future__ import annotations

import contextvars
import logging
import threading
import time

from sqlalchemy import inspect, update

from backoffice.extensions import db
from backoffice.models import utcnow

log = logging.getLogger(__name__)

_current: contextvars.ContextVar[TaskRuntime | None] = contextvars.ContextVar("task_runtime", default=None)

PROGRESS_EVERY_SECONDS = 1.0


def current_runtime() -> TaskRuntime | None:
    return _current.get()


class TaskRuntime:
    """Side channel of one running task (in a worker; inline runs have none)."""

    def __init__(self, task_id: int, job, heartbeat_seconds: float):
        self.task_id = task_id
        self.job = job
        self.heartbeat_seconds = heartbeat_seconds
        self.engine = db.engine
        self._last_progress = 0.0
        # Inline runs share the request's transaction: plain attributes, no side connection.
        # SQLite (development) neither: a second writer would make the job's own commit fail
        # (in WAL mode, SQLITE_BUSY_SNAPSHOT) or wait; progress then goes through the RQ
        # job's meta only, and liveness through RQ's own job heartbeat.
        self._side_writes = job is not None and self.engine.dialect.name != "sqlite"
        self.written_files: list = []  # result files of this run, deleted if it fails
        self._last_values: dict = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._token = None

    # --- context ------------------------------------------------------------------------
    def __enter__(self):
        self._token = _current.set(self)
        if self.heartbeat_seconds > 0 and self._side_writes:
            self._thread = threading.Thread(target=self._beat, name=f"heartbeat-task-{self.task_id}",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        _current.reset(self._token)
        return False

    # --- heartbeat ----------------------------------------------------------------------
    def _beat(self):
        while not self._stop.wait(self.heartbeat_seconds):
            self._write({"heartbeat_at": utcnow()})

    # --- progress -----------------------------------------------------------------------
    def report_progress(self, task, done, total, message):
        from sqlalchemy.orm.attributes import set_committed_value

        values = {"progress_done": max(0, int(done))}
        if total is not None:
            values["progress_total"] = max(0, int(total))
        if message is not None:
            values["message"] = message
        if self.job is None:  # inline: plain attributes, committed with the rest
            for key, value in values.items():
                setattr(task, key, value)
            return
        self._last_values.update(values)
        final = total is not None and done >= total
        now = time.monotonic()
        if not final and now - self._last_progress < PROGRESS_EVERY_SECONDS:
            return
        self._last_progress = now
        self._save_meta(values)
        if inspect(task).modified:
            # The job's own transaction holds changes to the task: keep the values there
            # (committed with the rest) rather than writing the same row from two transactions.
            for key, value in values.items():
                setattr(task, key, value)
        elif not self._side_writes or self._write({**values, "heartbeat_at": utcnow()}):
            # In the database (or, on SQLite, in the job's meta only): reflect the values
            # without making the task dirty, which would lock its row in the job's transaction.
            for key, value in values.items():
                set_committed_value(task, key, value)
        else:
            for key, value in values.items():
                setattr(task, key, value)

    def keep_last_progress(self, task) -> None:
        """Before the final commit: the last reported values, unless the job set them itself."""
        from sqlalchemy.orm.attributes import flag_modified

        state = inspect(task)
        for key, value in self._last_values.items():
            if not state.attrs[key].history.has_changes():
                setattr(task, key, value)
                flag_modified(task, key)  # it may equal the in-memory value already

    def _save_meta(self, values):
        if self.job is None:
            return
        try:
            self.job.meta.update({"progress_done": values["progress_done"],
                                  "progress_total": values.get("progress_total", self.job.meta.get("progress_total")),
                                  "message": values.get("message", self.job.meta.get("message"))})
            self.job.save_meta()
        except Exception:  # noqa: BLE001 - progress must never fail the job
            log.warning("task %s: could not save the job meta", self.task_id, exc_info=True)

    def _write(self, values) -> bool:
        """One short transaction on its own connection; False if it could not be done quickly."""
        from backoffice.tasks.models import Task, TaskStatus

        with self._lock:
            try:
                with self.engine.connect() as connection, connection.begin():
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
                    connection.execute(update(Task).where(
                        Task.id == self.task_id, Task.status == TaskStatus.RUNNING).values(**values))
                return True
            except Exception:  # noqa: BLE001 - a skipped heartbeat is not an error of the job
                log.info("task %s: progress/heartbeat write skipped (the row is busy)", self.task_id,
                         exc_info=log.isEnabledFor(logging.DEBUG))
                if "progress_done" in values:
                    self._side_writes = False
                return False
