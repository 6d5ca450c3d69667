"""What the benchmarks of the job machinery share: a throw-away application, and burst workers.

``with scratch_app("tasks") as (app, env):`` gives a Testing application (pushed app context)
on a new SQLite database, storage folder and Redis queue prefix, all removed afterwards, and
``env``, the environment a worker subprocess needs to share them.
``run_burst_worker(env)`` runs ``flask worker --burst`` until the queues are empty and returns
its wall and CPU seconds (the worker and its work-horses).
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("worker",)  # flask worker: jobs/_worker.py
FLASK_RQ = ("rq", "worker")  # Flask-RQ's: a new process per job
TESTING_APP = "backoffice:create_app('testing')"


@contextmanager
def scratch_app(name: str):
    from backoffice import create_app
    from backoffice.extensions import db, rq
    from config import Testing

    folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    prefix = f"maillage-bench-{uuid.uuid4().hex[:8]}"
    settings = dict(SQLALCHEMY_DATABASE_URI=url, STORAGE_DIR=str(folder / "storage"), RQ_QUEUE_PREFIX=prefix,
                    JOBS_INLINE=False)
    env = dict(os.environ, TEST_DATABASE_URL=url, STORAGE_DIR=settings["STORAGE_DIR"], RQ_QUEUE_PREFIX=prefix,
               MAILLAGE_ENV="testing", PYTHONPATH=str(ROOT))
    app = create_app(Testing, **settings)
    try:
        with app.app_context():
            db.create_all()
            yield app, env
    finally:
        with app.app_context():
            for queue in rq.queues.values():
                queue.empty()
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_burst_worker(env, command=OURS, app_spec: str = TESTING_APP) -> tuple[float, float]:
    """Run a burst worker of ``app_spec``; (wall seconds, CPU seconds of the worker and its horses)."""
    from backoffice.extensions import db

    db.session.rollback()  # SQLite: an open read transaction here would block the worker's commits
    started, cpu = time.perf_counter(), _cpu_of_children()
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", app_spec, *command, "--burst"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
    return time.perf_counter() - started, _cpu_of_children() - cpu
