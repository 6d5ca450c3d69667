"""Jobs used by the tests of the job machinery (importable by a worker subprocess)."""
import os
import time
from pathlib import Path

from backoffice.mail.services import MailError
from jobs import TaskFailed, task_job


@task_job(queue="default", timeout=60)
def write_lines(task):
    """Writes ``params["lines"]`` lines, reporting progress."""
    lines = task.params.get("lines", 3)
    with task.result_file("lignes.txt", mode="w", encoding="utf-8") as f:
        for n in range(1, lines + 1):
            f.write(f"ligne {n}\n")
            task.report_progress(n, lines, f"Ligne {n}")
    task.message = f"{lines} lignes écrites."


@task_job(queue="default")
def fail_in_french(task):
    raise TaskFailed("Aucune écriture pour l'exercice 2026.")


@task_job(queue="default")
def crash(task):
    raise RuntimeError("detail technique à ne pas montrer")


@task_job(queue="default")
def write_then_crash(task):
    with task.result_file("partiel.txt", mode="w") as f:
        f.write("partiel")
    raise RuntimeError("after the file")


@task_job(queue="default")
def flaky_mail(task):
    """Fails with a transient MailError on its first ``params["failures"]`` attempts."""
    if task.attempts <= task.params.get("failures", 1):
        raise MailError("le serveur SMTP ne répond pas")
    task.message = f"Réussi à l'essai {task.attempts}."


@task_job(queue="default")
def fails_until_marker(task):
    """Fails until the file ``params["marker"]`` exists (the test creates it, then retries)."""
    if not Path(task.params["marker"]).exists():
        raise TaskFailed("Le fichier attendu est absent.")
    task.message = "Réussi."


@task_job(queue="bulk", timeout=120)
def slow(task):
    """Counts to ``params["steps"]`` slowly; writes its pid to ``params["pidfile"]`` first."""
    pidfile = task.params.get("pidfile")
    if pidfile:
        Path(pidfile).write_text(str(os.getpid()))
    steps = task.params.get("steps", 50)
    pause = task.params.get("sleep", 0.1) if task.attempts == 1 else 0  # a re-run goes fast
    for n in range(1, steps + 1):
        time.sleep(pause)
        task.report_progress(n, steps, f"Étape {n}")
    task.message = "Fini."


@task_job(queue="bulk", timeout=120)
def slow_zip(task):
    """Writes ``params["steps"]`` lines slowly into its result file (a big ZIP, in short).

    Writes its pid to ``params["pidfile"]`` once the result file is open.
    """
    steps = task.params.get("steps", 50)
    with task.result_file("archive.txt", mode="w", encoding="utf-8") as f:
        if task.params.get("pidfile"):
            Path(task.params["pidfile"]).write_text(str(os.getpid()))
        for n in range(1, steps + 1):
            f.write(f"document {n}\n")
            f.flush()
            time.sleep(task.params.get("sleep", 0.1))
            task.report_progress(n, steps, f"Document {n}")
    task.message = "Archive prête."


@task_job(queue="default")
def cancelled_before_the_end(task):
    """Loads its row ("running"), then the user's cancel commits elsewhere before the job ends."""
    from sqlalchemy import update

    from backoffice.extensions import db
    from backoffice.tasks.models import Task, TaskStatus

    lines = task.params.get("lines", 2)
    with db.engine.begin() as connection:  # another transaction: the web request of "Annuler"
        connection.execute(update(Task).where(Task.id == task.id).values(status=TaskStatus.CANCELLED,
                                                                        message="Annulée."))
    with task.result_file("trop-tard.txt", mode="w", encoding="utf-8") as f:
        f.write("ligne\n" * lines)
    task.message = "Fini."


@task_job(queue="default", timeout=60)
def describe_the_process(task):
    """Writes, as JSON, what the process running it looks like from the inside.

    The CPU time this process had spent when the job started (a process that built the
    application itself has spent about a second), its pid and parent's, the application
    object, and the database connection it was given (``info["owner"]``, a mark the test
    puts on the parent's connection; on PostgreSQL, the server process serving it).
    """
    import json
    import sys

    from flask import current_app
    from sqlalchemy import text

    from backoffice.extensions import db

    cpu_at_start = time.process_time()
    connection = db.session.connection()
    backend = (connection.execute(text("select pg_backend_pid()")).scalar()
               if connection.dialect.name == "postgresql" else None)
    facts = {"cpu_at_start": cpu_at_start, "pid": os.getpid(), "ppid": os.getppid(), "argv": sys.argv,
             "app": id(current_app._get_current_object()), "backend_pid": backend,
             "connection_owner": connection.connection.info.get("owner")}
    with task.result_file("processus.json", mode="w", encoding="utf-8") as f:
        json.dump(facts, f)


@task_job(queue="default", timeout=1)
def hangs(task):
    """Never ends by itself (a mail server that never answers, a stuck conversion)."""
    time.sleep(120)


@task_job(queue="default")
def rename_city(task):
    """Changes the organisation's city (an audited row) and says who the job acts for."""
    from backoffice.audit.services import current_actor_id

    task.organisation.city = task.params["city"]
    task.message = f"acteur {current_actor_id()}"
