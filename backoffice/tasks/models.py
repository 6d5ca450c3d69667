"""A task: one user-visible background job (an export, a batch of documents…) and its result.

The row is the truth about a job: RQ keeps finished jobs only for a while, the row stays.
Its lifecycle is :data:`TASK_LIFECYCLE` (a ``backoffice.lifecycle`` machine over :data:`TRANSITIONS`):
every status change goes through :meth:`Task.move_to` (``lifecycle.move`` plus the task's message)
and is a ``status_changes`` row; writing ``task.status`` of a saved task raises ``DirectStatusWrite``.
"""
from __future__ import annotations

import logging
import mimetypes
import os
import secrets
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from flask import current_app
from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer,
                        String, Text, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle, LifecycleError, move
from backoffice.models import utcnow


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return STATUS_LABELS[self]

    @property
    def badge(self):
        """Bootstrap colour of the status badge."""
        return {"queued": "secondary", "running": "primary", "done": "success",
                "failed": "danger", "expired": "light", "cancelled": "warning"}[self.value]

    @property
    def is_active(self):
        return self in ACTIVE_STATUSES


STATUS_LABELS = {
    TaskStatus.QUEUED: "En attente",
    TaskStatus.RUNNING: "En cours",
    TaskStatus.DONE: "Terminée",
    TaskStatus.FAILED: "Échec",
    TaskStatus.EXPIRED: "Expirée",
    TaskStatus.CANCELLED: "Annulée",
}
ACTIVE_STATUSES = frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING})

Q, R, D, F, X, C = (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.DONE, TaskStatus.FAILED,
                    TaskStatus.EXPIRED, TaskStatus.CANCELLED)
# status -> the statuses it may move to, and why.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    Q: frozenset({R,   # a worker picked the job
                  F,   # given up before running (e.g. its job function no longer exists)
                  C}),  # the user pressed "Annuler" before a worker picked it
    R: frozenset({D,   # the job returned
                  F,   # the job raised, timed out, or its worker died too often
                  Q,   # transient error retried by RQ, or dead worker detected and re-queued
                  C}),  # the user pressed "Annuler": its work-horse is stopped, its work discarded
    D: frozenset({X}),  # result file deleted after TASK_RESULT_DAYS
    F: frozenset({Q}),  # the user pressed "Réessayer"
    X: frozenset(),
    C: frozenset({Q}),  # the user pressed "Réessayer"
}


class TransitionError(LifecycleError):
    """A status change the task lifecycle does not allow."""


def _stamp_times(task, source, target, reason) -> None:
    """The times (and counters) that go with a task's new status."""
    now = utcnow()
    if target is TaskStatus.RUNNING:
        task.attempts = (task.attempts or 0) + 1
        task.started_at = task.heartbeat_at = now
        task.finished_at = None
    elif target is TaskStatus.QUEUED:
        task.queued_at = now
        task.heartbeat_at = None
        task.finished_at = None
    elif target in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED):
        task.finished_at = now
        if target is TaskStatus.DONE and task.progress_total is not None:
            task.progress_done = task.progress_total


TASK_LIFECYCLE = Lifecycle("task", TRANSITIONS, noun="la tâche", on_move=_stamp_times, error=TransitionError,
                           verbs={(C, Q): "Réessayer", (F, Q): "Réessayer", (Q, C): "Annuler", (R, C): "Annuler"})


def lock_if_status(task_id: int, *statuses: TaskStatus) -> bool:
    """Lock the task's row if its latest committed status is one of ``statuses``.

    For decisions that race with another process (a worker finishing, a user cancelling, the
    reconciliation): call it, then re-read the row and move it in the same transaction
    (see :meth:`backoffice.lifecycle.Lifecycle.lock_if_status`).
    """
    return TASK_LIFECYCLE.lock_if_status(task_id, *statuses)


@TASK_LIFECYCLE.bind
class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("progress_done >= 0", name="progress_done_positive"),
        CheckConstraint("progress_total IS NULL OR progress_total >= 0", name="progress_total_positive"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        # Two clicks, one job: at most one *active* task per organisation and dedupe key.
        Index("uq_tasks_active_dedupe_key", "organisation_id", "dedupe_key", unique=True,
              postgresql_where=text("dedupe_key IS NOT NULL AND status IN ('queued', 'running')"),
              sqlite_where=text("dedupe_key IS NOT NULL AND status IN ('queued', 'running')")),
        Index("ix_tasks_organisation_created", "organisation_id", "created_at"),
        Index("ix_tasks_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    job_name: Mapped[str] = mapped_column(String(200))  # import path of the @task_job
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=TaskStatus.QUEUED)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)  # French, for the user
    rq_job_id: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ran_inline: Mapped[bool] = mapped_column(Boolean, default=False)
    # The result: a file under STORAGE_DIR (path relative to it, in the organisation's folder).
    result_path: Mapped[str | None] = mapped_column(String(300))
    result_filename: Mapped[str | None] = mapped_column(String(200))
    result_mimetype: Mapped[str | None] = mapped_column(String(120))
    result_size: Mapped[int | None] = mapped_column(BigInteger)
    download_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation = relationship("Organisation")
    requested_by = relationship("User")

    def __repr__(self):
        return f"<Task {self.id} {self.kind} {self.status}>"

    # --- lifecycle ---------------------------------------------------------------------------
    def can_move_to(self, status: TaskStatus) -> bool:
        return TASK_LIFECYCLE.can_move(self, status)

    def move_to(self, status: TaskStatus, message: str | None = None, *, by=None) -> None:
        """Move the task through :data:`TASK_LIFECYCLE` (recorded, times stamped); ``message``
        (French, for the user) replaces the task's message when given and is the move's reason.
        ``by`` left out: the acting user (the signed-in user, or the requester in its job)."""
        move(self, status, by=by, reason=message or None)
        if message is not None:
            self.message = message

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int | None:
        """Progress in % (None when the total is unknown)."""
        if self.status is TaskStatus.DONE:
            return 100
        if not self.progress_total:
            return None
        return max(0, min(100, int(self.progress_done * 100 / self.progress_total)))

    @property
    def log(self) -> logging.LoggerAdapter:
        """A logger that stamps the task (and organisation) on every line."""
        return TaskLogger(logging.getLogger(f"jobs.task.{self.kind}"), {"task_id": self.id})

    # --- inside a job ----------------------------------------------------------------------
    def report_progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress; the page shows it. Throttled; never fails the job.

        In a worker the values are written in their own short transaction (and to the RQ
        job's ``meta``), so the page sees them while the job's own transaction is still open.
        """
        from jobs._runtime import current_runtime

        runtime = current_runtime()
        if runtime is not None and runtime.task_id == self.id:
            runtime.report_progress(self, done, total, message)
        else:  # inline run or outside a job: plain attributes, committed with the rest
            self.progress_done = max(0, int(done))
            if total is not None:
                self.progress_total = max(0, int(total))
            if message is not None:
                self.message = message

    @contextmanager
    def result_file(self, filename: str, mode: str = "wb", **open_kwargs):
        """Open the task's result file; it is moved into place only if the block succeeds.

        ``filename`` is the name the user downloads. The file lives in
        ``STORAGE_DIR/<organisation id>/tasks/``.
        """
        folder = task_files_dir(self.organisation_id)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = Path(filename).suffix.lower()[:10]
        # Named after the task, so that cancelling it can find a half-written file.
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".tmp-task-{self.id}-", suffix=suffix)
        os.close(fd)
        try:
            with open(temporary, mode, **open_kwargs) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            old = self.result_abspath()
            final = folder / f"task-{self.id}-{secrets.token_hex(8)}{suffix}"
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if old is not None and old != final:  # a retry replaces the previous result
            old.unlink(missing_ok=True)
        from jobs._runtime import current_runtime

        runtime = current_runtime()
        if runtime is not None and runtime.task_id == self.id:
            runtime.written_files.append(final)
        storage = Path(current_app.config["STORAGE_DIR"])
        self.result_path = final.relative_to(storage).as_posix()
        self.result_filename = filename
        self.result_mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self.result_size = final.stat().st_size
        self.download_token = secrets.token_urlsafe(32)

    def result_abspath(self) -> Path | None:
        if not self.result_path:
            return None
        return Path(current_app.config["STORAGE_DIR"]) / self.result_path

    @property
    def expires_on(self):
        """The day the result file will be deleted (see ``expire_results``)."""
        if self.finished_at is None or self.status is not TaskStatus.DONE:
            return None
        return (self.finished_at + timedelta(days=current_app.config["TASK_RESULT_DAYS"])).date()

    @property
    def has_result(self) -> bool:
        return self.status is TaskStatus.DONE and bool(self.result_path and self.download_token)


class TaskLogger(logging.LoggerAdapter):
    def process(self, msg, kwargs):
        return f"[task {self.extra['task_id']}] {msg}", kwargs


def task_files_dir(organisation_id: int) -> Path:
    """Where the result files of an organisation's tasks live."""
    return Path(current_app.config["STORAGE_DIR"]) / str(int(organisation_id)) / "tasks"
