"""Browser tests: Debian's Chromium, driven by Playwright, against a real server.

Mark a test ``@pytest.mark.browser`` and ``@pytest.mark.no_db_transaction`` (its
data is committed, for the server's threads to see) and use:

- ``live_app``: the running server (``LiveServer``): ``live_app.url``,
  ``live_app.app``, ``live_app.url_for(endpoint, **values)`` (absolute),
  ``live_app.run(fn, *args, **kwargs)``: runs ``fn`` in the app's context, commits
  and returns its result (return ids or plain values: ORM objects are expired
  after the commit). The database is emptied after each test.
- seeding helpers to pass to ``live_app.run``: ``seed_organisation(slug, name)``,
  ``seed_user(email, roles={"cpts-test": ["admin"]}, password=None, full_name="")``;
- ``page``: pytest-playwright's page, whose relative URLs go to the server
  (``page.goto("/auth/login")``);
- ``signed_in_page(email, password)``: signs in through the form and returns the
  page, on the landing page.

One server per test run, on 127.0.0.1 and a free port, in a thread, serving an
app built on its own database: a SQLite file, or with TEST_DATABASE=postgresql a
PostgreSQL database created for the run and dropped after it. Chromium is
launched once per run (pytest-playwright's session-scoped ``browser``).

Put such tests in this folder. Importing these fixtures into a test module elsewhere
makes pytest build a second server, while the browser keeps the first one's address:
the test then signs in on a server that does not know its user.
"""
import contextlib
import os
import threading
import uuid

import pytest
from sqlalchemy import select, text
from werkzeug.serving import WSGIRequestHandler, make_server

from backoffice import create_app
from backoffice.extensions import db
from config import Testing
from config import sqlalchemy_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
# Playwright's default (30 s) only makes a broken test slow to report.
TIMEOUT_MS = 15_000


class QuietRequestHandler(WSGIRequestHandler):
    """Logs only errors: a page pulls half a dozen static files."""

    def log_request(self, code="-", size="-"):
        if str(code).startswith(("4", "5")):
            super().log_request(code, size)


class LiveServer:
    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"

    def run(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` in the app's context, committed; returns its result."""
        with self.app.app_context():
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
                return result
            finally:
                db.session.remove()

    def url_for(self, endpoint, **values):
        from flask import url_for

        with self.app.app_context():
            return url_for(endpoint, _external=True, **values)

    def reset(self):
        """Empty every table.

        In no particular order (``sorted_tables`` warns, hence fails, when
        foreign keys form a cycle): PostgreSQL truncates them all at once, SQLite
        checks foreign keys at the commit, when every table is empty.
        """
        with self.app.app_context():
            tables = list(db.metadata.tables.values())
            with db.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    names = ", ".join(f'"{table.name}"' for table in tables)
                    connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                else:
                    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                    for table in tables:
                        connection.execute(table.delete())


def _live_database(tmp_path_factory):
    """(SQLAlchemy URL, cleanup) of an empty database of the selected kind."""
    if os.environ.get("TEST_DATABASE", "sqlite") != "postgresql":
        return f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.sqlite'}", lambda: None
    import psycopg

    from tests.conftest import POSTGRES_ADMIN_URL

    name = f"maillage_live_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


@contextlib.contextmanager
def serving(app, database_uri, storage_dir, name="live"):
    """A ``LiveServer``: a new app on ``database_uri`` (tables created), served in a thread until
    the block ends. ``app`` is the test app, given back the shared extensions."""
    from backoffice.extensions import limiter
    from tests.conftest import REDIS_URL

    served = {}
    # Bind first (port 0: a free one), then build the app knowing its address.
    server = make_server("127.0.0.1", 0, lambda environ, start: served["app"](environ, start), threaded=True,
                         request_handler=QuietRequestHandler)
    live = create_app(
        Testing,
        SQLALCHEMY_DATABASE_URI=database_uri,
        SERVER_NAME=f"127.0.0.1:{server.server_port}",
        STORAGE_DIR=str(storage_dir),
        REDIS_URL=REDIS_URL,
        RQ_CONNECTION=REDIS_URL,
        RQ_QUEUE_PREFIX=f"maillage-{name}-{uuid.uuid4().hex[:8]}",
    )
    served["app"] = live
    with live.app_context():
        db.create_all()
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-server", daemon=True)
    thread.start()
    # create_app bound the shared extensions (the rate limiter's storage) to the
    # new app: bind them back to the test app, which the other tests use.
    limiter.init_app(app)
    try:
        yield LiveServer(live, server)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with live.app_context():
            db.engine.dispose()
        limiter.init_app(app)


@pytest.fixture(scope="session")
def live_server(app, tmp_path_factory):
    """The server of the whole run (``live_app`` is what tests use)."""
    url, drop_database = _live_database(tmp_path_factory)
    try:
        with serving(app, sqlalchemy_url(url), tmp_path_factory.mktemp("live-storage")) as server:
            yield server
    finally:
        drop_database()


@pytest.fixture
def live_app(live_server, request):
    if "no_db_transaction" not in request.keywords:
        pytest.fail("Tests using the live server must be marked @pytest.mark.no_db_transaction.")
    from backoffice.extensions import limiter

    limiter.reset()
    live_server.reset()  # also before: a test never depends on how the previous one ended
    yield live_server
    live_server.reset()


@pytest.fixture(scope="session")
def base_url(live_server):
    """pytest-playwright opens relative URLs against the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium: never a browser downloaded by `playwright install`.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


@pytest.fixture
def page(page):
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture
def signed_in_page(page, live_app):
    """``signed_in_page(email, password)``: the page, signed in through the login form."""

    return lambda email, password: sign_in(page, email, password)


def sign_in(page, email, password, base_url=""):
    """Sign in through the login form (``base_url``: for a page without pytest-playwright's); returns the page."""
    page.goto(base_url + "/auth/login")
    page.get_by_label("Adresse e-mail", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return page


# --- seeding, for live_app.run ---------------------------------------------------------------

def empty_books():
    """Delete the test's journal entries (``live_app.run(empty_books)`` before the reset): on
    SQLite the live server's reset deletes rows, which the accounting guards refuse for posted
    entries (PostgreSQL's TRUNCATE does not fire them)."""
    from backoffice.accounting.db_guards import suspended

    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    with suspended(connection):
        connection.execute(text("DELETE FROM accounting_lines"))
        connection.execute(text("DELETE FROM accounting_entries"))


def seed_organisation(slug="cpts-test", name="CPTS de Test", kind="cpts"):
    """The organisation ``slug`` (created if missing); returns its id."""
    from backoffice.organisations.models import Organisation, OrganisationKind

    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        organisation = Organisation(slug=slug, name=name, kind=OrganisationKind(kind), fiscal_year_start_month=1)
        db.session.add(organisation)
        db.session.flush()
    return organisation.id


def seed_user(email, roles=None, password=None, full_name=""):
    """An account with ``roles`` ({org slug: [role, …]}; organisations made if needed); returns its id."""
    from backoffice.auth.services import create_user, grant_role
    from backoffice.organisations.models import Organisation

    user = create_user(email, full_name or email, password)
    for slug, role_names in (roles if roles is not None else {"cpts-test": ["admin"]}).items():
        organisation = db.session.get(Organisation, seed_organisation(slug))
        for role in role_names:
            grant_role(user, organisation, role)
    db.session.flush()
    return user.id
