"""What the job monitor page shows, read from RQ's own registries (no rq-dashboard)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from redis.exceptions import RedisError
from rq import Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.results import Result

from backoffice.extensions import rq
from jobs import QUEUES, queue_name

LAST_FAILED = 10


@dataclass
class QueueInfo:
    name: str
    label: str
    queued: int
    started: int
    scheduled: int
    failed: int


@dataclass
class WorkerInfo:
    name: str
    state: str
    queues: list[str]
    current_job: str | None
    last_heartbeat: datetime | None
    successful: int
    failed: int


@dataclass
class FailedJob:
    id: str
    function: str
    task_id: int | None
    ended_at: datetime | None
    error: str | None  # None: belongs to an organisation the viewer does not administer


@dataclass
class Overview:
    available: bool
    queues: list[QueueInfo] = field(default_factory=list)
    workers: list[WorkerInfo] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)
    error: str | None = None

    @property
    def failed_total(self):
        return sum(q.failed for q in self.queues)


def overview(visible_organisation_ids: set[int]) -> Overview:
    try:
        return _overview(visible_organisation_ids)
    except RedisError as exc:
        return Overview(available=False, error=f"Redis ne répond pas ({exc}).")


def _overview(visible: set[int]) -> Overview:
    result = Overview(available=True)
    workers: dict[str, WorkerInfo] = {}
    failed_ids: list[tuple[str, object]] = []
    for short, policy in QUEUES.items():
        queue = rq.get_queue(queue_name(short))
        failed_registry = FailedJobRegistry(queue=queue)
        result.queues.append(QueueInfo(
            name=queue.name, label=policy.label, queued=queue.count,
            started=StartedJobRegistry(queue=queue).count, scheduled=ScheduledJobRegistry(queue=queue).count,
            failed=failed_registry.count))
        failed_ids += [(job_id, queue) for job_id in failed_registry.get_job_ids(0, LAST_FAILED - 1, desc=True)]
        for worker in Worker.all(queue=queue):
            if worker.name not in workers:
                workers[worker.name] = WorkerInfo(
                    name=worker.name, state=str(worker.get_state()), queues=worker.queue_names(),
                    current_job=worker.get_current_job_id(), last_heartbeat=worker.last_heartbeat,
                    successful=worker.successful_job_count, failed=worker.failed_job_count)
    result.workers = sorted(workers.values(), key=lambda w: w.name)
    connection = rq.get_queue(queue_name("default")).connection
    jobs = [j for j in Job.fetch_many([i for i, _ in failed_ids], connection=connection) if j is not None]
    failed = []
    for job in jobs:
        meta = job.get_meta(refresh=False) or {}
        organisation_id = meta.get("organisation_id")
        error = None
        if organisation_id is None or organisation_id in visible:
            latest = job.latest_result()
            if latest is not None and latest.type == Result.Type.FAILED and latest.exc_string:
                error = latest.exc_string.strip().splitlines()[-1][:300]
            else:
                error = "(pas de détail)"
        failed.append(FailedJob(id=job.id, function=job.func_name, task_id=meta.get("task_id"),
                                ended_at=job.ended_at, error=error))
    failed.sort(key=lambda f: f.ended_at or datetime.min, reverse=True)
    result.failed = failed[:LAST_FAILED]
    return result
