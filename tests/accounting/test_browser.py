"""The manual entry form in a real browser: adding lines, live totals, the server's refusal of an
unbalanced entry, then a balanced one posted."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401  (the same Debian Chromium as tests/browser)
    TIMEOUT_MS,
    LiveServer,
    QuietRequestHandler,
    browser_type_launch_args,
    seed_user,
)


@pytest.fixture(scope="module")
def live_app(app, tmp_path_factory):
    """A live server for this module only (torn down with it, so that it never meets the one of
    tests/browser), on a SQLite file: what is tested here is the browser side of the form."""
    import threading
    import uuid

    from werkzeug.serving import make_server

    from backoffice import create_app
    from backoffice.extensions import db, limiter
    from config import Testing
    from tests.conftest import REDIS_URL

    server = make_server("127.0.0.1", 0, lambda environ, start: served(environ, start), threaded=True,
                         request_handler=QuietRequestHandler)
    live = create_app(Testing, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path_factory.mktemp('acc-live') / 'live.sqlite'}",
                      SERVER_NAME=f"127.0.0.1:{server.server_port}",
                      STORAGE_DIR=str(tmp_path_factory.mktemp("acc-live-storage")), REDIS_URL=REDIS_URL,
                      RQ_CONNECTION=REDIS_URL, RQ_QUEUE_PREFIX=f"maillage-acc-live-{uuid.uuid4().hex[:8]}")
    served = live
    with live.app_context():
        db.create_all()
    thread = threading.Thread(target=server.serve_forever, name="accounting-live-server", daemon=True)
    thread.start()
    limiter.init_app(app)  # create_app bound the shared limiter to the live app: give it back
    try:
        yield LiveServer(live, server)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with live.app_context():
            db.engine.dispose()
        limiter.init_app(app)


@pytest.fixture
def page(browser):
    """A page of its own context: pytest-playwright's ``page`` would cache this module's server
    address as the session's ``base_url`` for the tests of tests/browser."""
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in(page, live_app, email, password):
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live_app.url + "/auth/login")
    page.get_by_label("Adresse e-mail", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return page

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

PASSWORD = "une phrase assez longue"


def _purge_books():
    """Posted entries are undeletable by design: lift the guards to leave an empty database."""
    from sqlalchemy import text

    from backoffice.accounting import db_guards
    from backoffice.extensions import db

    connection = db.session.connection()
    with db_guards.suspended(connection):
        connection.execute(text("DELETE FROM accounting_lines"))
        connection.execute(text("DELETE FROM accounting_entries"))


def _entries():
    from sqlalchemy import select

    from backoffice.accounting.models import JournalEntry
    from backoffice.extensions import db

    return [(e.reference, str(e.total), [line.account.number for line in e.lines])
            for e in db.session.scalars(select(JournalEntry))]


def test_treasurer_enters_a_manual_entry(live_app, page):
    live_app.run(seed_user, "tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD)
    _sign_in(page, live_app, "tresoriere@example.org", PASSWORD)
    try:
        page.goto(live_app.url + "/o/cpts-test/accounting/entries/new")
        expect(page.get_by_role("heading", level=1)).to_have_text("Saisir une écriture")
        page.get_by_label("Pièce justificative").fill("FAC-2026-117")
        page.get_by_label("Libellé", exact=True).fill("Cabinet Atlantique – honoraires")
        rows = page.locator("tr.entry-line")
        expect(rows).to_have_count(4)
        page.get_by_role("button", name="Ajouter une ligne").click()
        expect(rows).to_have_count(5)
        expect(page.get_by_label("Compte (ligne 5)")).to_be_focused()

        page.get_by_label("Compte (ligne 1)").fill("6226")
        page.get_by_label("Débit (ligne 1)").fill("1 200,00")
        page.get_by_label("Compte (ligne 5)").fill("6064")
        page.get_by_label("Débit (ligne 5)").fill("40,50")
        page.get_by_label("Compte (ligne 2)").fill("512")
        page.get_by_label("Crédit (ligne 2)").fill("1 200,00")
        expect(page.locator("#entry-difference")).to_have_text("(écart 40,50\u00a0€)")

        page.get_by_role("button", name="Enregistrer l'écriture").click()
        expect(page.locator("#entry-errors")).to_contain_text("Écriture déséquilibrée")
        assert live_app.run(_entries) == []

        page.get_by_label("Crédit (ligne 2)").fill("1 240,50")
        expect(page.locator("#entry-difference")).to_have_text("(équilibrée)")
        page.get_by_role("button", name="Enregistrer l'écriture").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Écriture 2026-00001")
        assert live_app.run(_entries) == [("2026-00001", "1240.50", ["6226", "512", "6064"])]
    finally:
        live_app.run(_purge_books)
