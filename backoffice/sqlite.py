"""The embedded SQLite default, made to hold while the web process and a worker both write.

Set on every connection of a ``sqlite`` URL (SQLAlchemy ``connect`` event), nothing else for
other databases:

* ``journal_mode=WAL``: readers never block a writer and a writer never blocks readers (a page
  being drawn no longer stops a payment's commit, nor the worker's);
* ``busy_timeout`` (``SQLITE_BUSY_TIMEOUT`` seconds): a writer waits for the other one instead
  of failing at once with « database is locked »;
* ``foreign_keys=ON``, and transaction control handed back to SQLAlchemy (pysqlite starts
  transactions lazily and breaks SAVEPOINT; SQLAlchemy's documented recipe).

The busy timeout cannot help a transaction that *read* before another process committed and
then wants to write: SQLite refuses it at once (``SQLITE_BUSY_SNAPSHOT``), whatever the timeout.
So a transaction that will write takes the write lock when it begins (``BEGIN IMMEDIATE``,
waiting up to the busy timeout): the transactions of a request that may write (any method but
GET, HEAD and OPTIONS — a GET never writes), and of everything outside a request (a job, a
command, a test's own transaction). GET requests begin deferred and read a snapshot, never
waiting. Writers are serialised: a job holds the lock for as long as its transaction lasts, so
a request that writes meanwhile waits for it (up to the busy timeout). A view that must act
before waiting (cancelling the job that holds the lock) is marked :func:`reads_first`.
"""
import time

from flask import current_app, has_request_context, request
from sqlalchemy import event

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SQLITE_BUSY = 5  # the primary result code (SQLITE_BUSY_SNAPSHOT, 517, is not worth waiting for)


def configure_sqlite(app):
    """Install the connection settings and the BEGIN choice on ``app``'s engine (SQLite only)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from backoffice.extensions import db

    with app.app_context():
        engine = db.engine
    busy_ms = int(float(app.config.get("SQLITE_BUSY_TIMEOUT", 15)) * 1000)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")  # first: switching to WAL may have to wait
        cursor.execute("PRAGMA journal_mode = WAL")  # kept by the file; "memory" for an in-memory database
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes_expected() else "BEGIN")


def reads_first(view):
    """Mark a view whose transaction begins deferred although it writes: it must do something
    before waiting for the write lock (the cancel of a task stops the work-horse that holds
    it). Its write then goes through :func:`retry_while_busy`. Put it under ``@bp.route``."""
    view.sqlite_reads_first = True
    return view


def retry_while_busy(statement, timeout=None):
    """``statement()``, run again while SQLite refuses it with SQLITE_BUSY.

    A transaction that began by reading and then writes while another connection holds the
    write lock is refused at once, without the busy timeout. When the other writer is known to
    end without committing (a work-horse being stopped), waiting for it keeps the snapshot
    valid: retry until ``timeout`` (the busy timeout) has passed. Other databases: one call.
    """
    from sqlalchemy.exc import OperationalError

    from backoffice.extensions import db

    if db.engine.dialect.name != "sqlite":
        return statement()
    deadline = time.monotonic() + (timeout if timeout is not None else current_app.config["SQLITE_BUSY_TIMEOUT"])
    while True:
        try:
            return statement()
        except OperationalError as error:
            if getattr(error.orig, "sqlite_errorcode", None) != SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def writes_expected():
    """Whether the transaction beginning now may write (and must hold the write lock from its start)."""
    if has_request_context():
        view = current_app.view_functions.get(request.endpoint)
        return request.method not in SAFE_METHODS and not getattr(view, "sqlite_reads_first", False)
    from rq import get_current_job

    if get_current_job() is not None:
        return True
    return bool(current_app.config.get("SQLITE_IMMEDIATE_OUTSIDE_REQUESTS", True))
