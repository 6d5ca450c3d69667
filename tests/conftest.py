"""Shared fixtures: a real database (SQLite or PostgreSQL), a real Redis, clients and roles.

``TEST_DATABASE=postgresql`` runs the suite on a PostgreSQL database created for
this run (and dropped after it); the default is a SQLite file in a temporary
folder, so that a live server or a worker process can share it.
Every test runs inside a transaction that is rolled back at its end.
"""
import contextlib
import os
import uuid

import pytest
import redis as redis_lib
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import event, select

from backoffice import create_app
from backoffice.extensions import db as _db
from config import Testing
from config import sqlalchemy_url

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _require_redis():
    try:
        redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis_lib.RedisError as exc:
        pytest.exit(f"Redis does not answer at {REDIS_URL} ({exc}). Start it (see ../shared/domain/services.md) "
                    "or run `make test`, which starts it.", returncode=3)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if os.environ.get("TEST_DATABASE", "sqlite") != "postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    import psycopg

    name = f"maillage_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL does not answer at {POSTGRES_ADMIN_URL} ({exc}). Start it "
                    "(see ../shared/domain/services.md) or run `make test`, which starts it.", returncode=3)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    _require_redis()
    app = create_app(
        Testing,
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(database_url),
        STORAGE_DIR=str(tmp_path_factory.mktemp("storage")),
        REDIS_URL=REDIS_URL,
        RQ_CONNECTION=REDIS_URL,
        RQ_QUEUE_PREFIX=f"maillage-test-{uuid.uuid4().hex[:8]}",
    )
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


class _ConnectionSession(FlaskSQLAlchemySession):
    """A session that really uses the connection it is given.

    Flask-SQLAlchemy's session picks the app's engine for every mapped class and
    ignores ``bind``: without this, a view's commit was a real commit and the
    test's data outlived the test.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


@pytest.fixture(autouse=True)
def db(request, app):
    """The database, inside a transaction rolled back after the test.

    Requests made by the test client share this transaction: a view's commit
    only releases a savepoint.
    """
    if "no_db_transaction" in request.keywords:
        with app.app_context():
            yield _db
        return
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original_session = _db.session
        _db.session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _ConnectionSession}
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original_session
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _storage_per_test(app, tmp_path, monkeypatch):
    """A fresh STORAGE_DIR per test: row ids are reused after each rollback, files would not be."""
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def organisation(db):
    from tests.factories import OrganisationFactory

    return OrganisationFactory(slug="cpts-test", name="CPTS de Test")


@pytest.fixture
def other_organisation(db):
    from tests.factories import OrganisationFactory

    return OrganisationFactory(slug="cpts-autre", name="CPTS Autre")


@pytest.fixture
def login_as(client, organisation):
    """Sign the test client in with a role: ``login_as("treasurer")``, or ``None`` for anonymous.

    Returns the user. ``org`` defaults to the ``organisation`` fixture.
    """
    from tests.factories import UserFactory

    def login(role, org=None, user=None):
        with client.session_transaction() as session:
            session.clear()
        if role is None:
            return None
        user = user or UserFactory()
        if role != "nobody":
            from backoffice.auth.services import grant_role

            grant_role(user, org or organisation, role)
        _db.session.flush()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        return user

    return login


@pytest.fixture
def pdf_renditions(app, monkeypatch):
    """The document jobs keep a PDF beside their Word files, with the real LibreOffice (skipped
    where it is not installed; ``make test`` installs it)."""
    import shutil

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    monkeypatch.setitem(app.config, "DOCUMENTS_PDF", True)


def pdf_text(data):
    """The text of a PDF (every page, joined), read back with pypdf."""
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def outbox(db):
    """The mails sent during the test (MAIL_BACKEND=outbox)."""
    from backoffice.mail.models import OutboxMessage

    def messages(recipient=None):
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient)
        return list(_db.session.scalars(query))

    return messages


@pytest.fixture(autouse=True)
def _reset_rate_limits(app):
    """Every test starts with empty rate-limit counters (memory:// storage in tests).

    Without it, the sign-in posts of one test count against the next ones and a
    test could get a 429 depending on the order the suite runs in.
    """
    from backoffice.extensions import limiter

    limiter.reset()
    yield


@pytest.fixture(autouse=True)
def _fresh_g_per_request(app):
    """Clear ``g`` at the start of each test-client request, as production does.

    The test's app context (pushed by ``db``) is shared by its requests, and so is
    ``g``: without this, Flask-Login's cached user of a previous request would
    survive ``login_as`` switching to another one.
    """
    from flask import g, request_started

    def clear(sender, **extra):
        for name in list(g):
            g.pop(name)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


@pytest.fixture(autouse=True)
def _setup_committed_before_each_request(app):
    """What the test made before a request is committed (a savepoint released), as if another
    request had saved it: the request's boundary then commits or rolls back only its own work."""
    from flask import request_started

    def commit(sender, **extra):
        _db.session.commit()

    request_started.connect(commit, app)
    yield
    request_started.disconnect(commit, app)


class QueryCounter:
    """The SQL statements run while it listens (SAVEPOINT, RELEASE and ROLLBACK left out)."""

    def __init__(self):
        self.statements = []

    @property
    def count(self):
        return len(self.statements)

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: ...`` then ``counter.count`` = SQL statements run (the
    test transaction's savepoints left out), ``counter.statements`` their text: a page or a
    service whose count grows with the number of rows has an N+1."""
    @contextlib.contextmanager
    def counting():
        counter = QueryCounter()
        engine = _db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting
