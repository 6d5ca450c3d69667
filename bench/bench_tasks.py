"""Benchmark of the job machinery (``jobs/``, ``backoffice/tasks``) with a real worker.

Run from the repository root: ``python -m bench.bench_tasks`` (needs Redis; a throw-away SQLite
database and storage folder are created in a temporary directory, queues get a unique prefix).

* Overhead per task: 100 tiny tasks (``noop``) run by one ``flask worker --burst`` (the
  application built once, a forked work-horse per job); the time of an idle burst worker
  (start-up, no job) is subtracted (its variation, about 0.1 s of CPU, is a millisecond per
  task over 100). Baseline, in the same run: 20 tiny tasks through Flask-RQ's
  ``flask rq worker --burst``, which starts a fresh ``flask rq work-horse`` process per job
  (the application built again each time: 2 s each, 20 are plenty). Wall time depends on the machine's load;
  CPU time (worker and work-horses, from ``getrusage(RUSAGE_CHILDREN)``) does not, so the
  budget (50 ms per job) is on CPU.
* Bulk: the "Fiches annuaire" task for 1,000 professionals (one .docx each, in a ZIP), run by
  the real worker (start_task → ZIP on disk), then the same job inline for comparison.

Figures go to ``bench/results.json``: the overhead against Flask-RQ's worker (ratio = ours /
theirs), the rest against budgets (ratio = value / budget).
"""
from __future__ import annotations

import os
import sys
import time
import zipfile

from jobs import task_job

QUICK = os.environ.get("BENCH_QUICK") == "1"
TINY_TASKS = {"flask worker": 10 if QUICK else 100, "flask rq worker (Flask-RQ)": 5 if QUICK else 20}
PROFESSIONALS = 100 if QUICK else 1_000
SUFFIX = ".quick" if QUICK else ""
BUDGET_OVERHEAD_CPU_S = 0.050  # CPU per task (a fork and the runner's bookkeeping), worker start-up excluded
BUDGET_SHEETS_S = 60.0  # 1,000 fiches through the worker


@task_job(queue="default")
def noop(task):
    task.report_progress(1, 1, "ok")


def main(argv=None) -> int:
    from backoffice.extensions import db
    from backoffice.people.models import Professional
    from backoffice.tasks.models import Task, TaskStatus
    from backoffice.tasks.services import start_task
    from bench.results import record
    from bench.workers import FLASK_RQ, OURS, run_burst_worker, scratch_app
    from jobs.documents import generate_directory_sheets
    from tests.factories import OrganisationFactory

    failed = False
    with scratch_app("tasks") as (app, env):
        organisation = OrganisationFactory(slug="cpts-bench", name="CPTS du banc d'essai")
        db.session.add_all(Professional(civility="Mme", first_name=f"Prénom{n}", last_name=f"Nom{n:05d}",
                                        profession="infirmier", commune="Guérande", postcode="44350",
                                        email=f"pro{n}@example.org", phone="+33612345678")
                           for n in range(PROFESSIONALS))
        db.session.commit()

        overheads = {}
        for label, command in (("flask worker", OURS), ("flask rq worker (Flask-RQ)", FLASK_RQ)):
            count = TINY_TASKS[label]
            idle, idle_cpu = run_burst_worker(env, command)
            tasks = [start_task(organisation=organisation, user=None, kind="bench.noop", label=f"noop {n}",
                                job=noop).id for n in range(count)]
            db.session.commit()  # the jobs are handed over after the commit, as a request's boundary does
            busy, busy_cpu = run_burst_worker(env, command)
            db.session.rollback()
            assert db.session.query(Task).filter(Task.id.in_(tasks), Task.status == TaskStatus.DONE).count() \
                == count
            overheads[label] = ((busy - idle) / count, (busy_cpu - idle_cpu) / count)
            print(f"{label}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU; worker start-up "
                  f"{idle:.2f} s ({idle_cpu:.2f} s CPU); {count} tiny tasks: "
                  f"{overheads[label][0] * 1000:.0f} ms per task ({overheads[label][1] * 1000:.0f} ms CPU)")
        (overhead, overhead_cpu), (baseline, baseline_cpu) = overheads.values()
        record(f"tasks.overhead_per_task_wall{SUFFIX}", round(overhead, 4), "s", round(baseline, 4),
               round(overhead / baseline, 3))
        record(f"tasks.overhead_per_task_cpu{SUFFIX}", round(overhead_cpu, 4), "s", round(baseline_cpu, 4),
               round(overhead_cpu / baseline_cpu, 3))
        print(f"per task, against Flask-RQ's worker: {overhead_cpu / baseline_cpu:.3f} of its CPU "
              f"(budget {BUDGET_OVERHEAD_CPU_S * 1000:.0f} ms CPU)")

        idle, _cpu = run_burst_worker(env)
        task = start_task(organisation=organisation, user=None, kind="bench.sheets", label="Fiches",
                          job=generate_directory_sheets, params={})
        db.session.commit()
        wall, _cpu = run_burst_worker(env)
        elapsed = wall - idle
        db.session.rollback()
        task = db.session.get(Task, task.id)
        assert task.status is TaskStatus.DONE, task.message
        count = len(zipfile.ZipFile(task.result_abspath()).namelist())
        assert count == PROFESSIONALS
        print(f"{count} fiches annuaire through the worker: {elapsed:.2f} s "
              f"({count / elapsed:.0f} documents/s), ZIP {task.result_size / 1e6:.1f} MB")
        record(f"tasks.directory_sheets_{PROFESSIONALS}_worker{SUFFIX}", round(elapsed, 2), "s", None,
               round(elapsed / BUDGET_SHEETS_S * (1000 / PROFESSIONALS), 3))

        app.config["JOBS_INLINE"] = True
        started = time.perf_counter()
        inline = start_task(organisation=organisation, user=None, kind="bench.sheets", label="Fiches inline",
                            job=generate_directory_sheets, params={"inline": True})
        db.session.commit()  # inline: the job runs right after the commit
        inline_elapsed = time.perf_counter() - started
        assert inline.status is TaskStatus.DONE, inline.message
        print(f"same job inline: {inline_elapsed:.2f} s ({PROFESSIONALS / inline_elapsed:.0f} documents/s)")
        record(f"tasks.directory_sheets_{PROFESSIONALS}_inline{SUFFIX}", round(inline_elapsed, 2), "s", None, None)
        failed = overhead_cpu > BUDGET_OVERHEAD_CPU_S or elapsed > BUDGET_SHEETS_S * PROFESSIONALS / 1000
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
