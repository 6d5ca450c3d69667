"""The manual entry form in a real browser: adding lines, live totals, the server's refusal of an
unbalanced entry, then a balanced one posted."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401  (the same Debian Chromium as tests/browser)
    TIMEOUT_MS,
    browser_type_launch_args,
    seed_user,
    serving,
    sign_in,
)


@pytest.fixture(scope="module")
def live_app(app, tmp_path_factory):
    """A live server for this module only (torn down with it, so that it never meets the one of
    tests/browser), on a SQLite file: what is tested here is the browser side of the form."""
    with serving(app, f"sqlite:///{tmp_path_factory.mktemp('acc-live') / 'live.sqlite'}",
                 tmp_path_factory.mktemp("acc-live-storage"), name="acc-live") as server:
        yield server


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
    return sign_in(page, email, password, base_url=live_app.url)

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
        page.goto(live_app.url + "/o/cpts-test/accounting/entries/new")  # the books are not open yet
        page.get_by_role("button", name="Ouvrir la comptabilité").click()
        expect(page.get_by_text("La comptabilité est ouverte")).to_be_visible()
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
