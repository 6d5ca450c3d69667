"""Periodic jobs that keep tasks honest: nothing left running forever, nothing lost, no stale files."""
import logging

from backoffice.tasks import services
from jobs import periodic_job

log = logging.getLogger(__name__)


@periodic_job(interval=60)
def watch_tasks():
    """Re-queue (or fail) tasks whose worker died; enqueue again queued tasks whose job vanished."""
    dead = services.recover_dead_tasks()
    lost = services.reconcile_queued_tasks()
    if dead or lost:
        log.warning("watch_tasks: %d dead task(s) recovered, %d lost job(s) enqueued again", len(dead), len(lost))
    return {"dead": [t.id for t in dead], "requeued": [t.id for t in lost]}


@periodic_job(cron="17 3 * * *")
def expire_task_results():
    """Delete result files older than TASK_RESULT_DAYS (their tasks become "expirée")."""
    count = services.expire_results()
    log.info("expire_task_results: %d result file(s) deleted", count)
    return count
