"""Books are set up by a POST (« Ouvrir la comptabilité »), never by reading a page."""
import html

import pytest
from sqlalchemy import func, select

from backoffice.accounting.models import Account, Journal, Ledger
from backoffice.extensions import db

BASE = "/o/cpts-test/accounting"
PAGES = [(path, "board") for path in ("/", "/balance", "/ledger", "/journal", "/lettering", "/periods", "/accounts",
                                       "/journals")] + [("/exports", "accountant"), ("/settings", "treasurer"),
                                                        ("/entries/new", "admin")]


def _count(model, organisation):
    return db.session.scalar(select(func.count()).select_from(model).where(model.organisation_id == organisation.id))


@pytest.mark.parametrize("path, role", PAGES)
def test_a_page_of_books_not_opened_says_so_and_writes_nothing(client, login_as, organisation, path, role):
    login_as(role)
    response = client.get(BASE + path)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "La comptabilité de la CPTS de Test n'est pas encore ouverte." in page
    assert "Plan comptable des associations" in page
    may_open = role in ("admin", "treasurer")
    assert ("Ouvrir la comptabilité</button>" in page) is may_open
    assert ("Un administrateur ou le trésorier ou la trésorière peut l'ouvrir." in page) is not may_open
    assert db.session.get(Ledger, organisation.id) is None and _count(Account, organisation) == 0


def test_the_treasurer_opens_the_books(client, login_as, organisation):
    login_as("treasurer")
    assert "Ouvrir la comptabilité</button>" in client.get(BASE + "/").get_data(as_text=True)
    response = client.post(BASE + "/open", follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "La comptabilité est ouverte" in page and "n'est pas encore" not in page
    assert db.session.get(Ledger, organisation.id).chart == "pca_2025"
    assert _count(Account, organisation) > 50 and _count(Journal, organisation) == 4
    client.post(BASE + "/open")  # twice: nothing more
    assert _count(Journal, organisation) == 4


def test_a_sisa_opens_the_general_chart(client, login_as):
    from backoffice.organisations.models import OrganisationKind
    from tests.factories import OrganisationFactory

    sisa = OrganisationFactory(slug="sisa-des-saules", name="SISA des Saules", kind=OrganisationKind.SISA)
    login_as("admin", org=sisa)
    page = html.unescape(client.get("/o/sisa-des-saules/accounting/").get_data(as_text=True))
    assert "Plan comptable général" in page
    client.post("/o/sisa-des-saules/accounting/open")
    assert db.session.get(Ledger, sisa.id).chart == "pcg"


def test_only_the_books_managers_may_open_them(client, login_as, organisation):
    login_as("board")
    assert client.post(BASE + "/open").status_code == 403
    assert db.session.get(Ledger, organisation.id) is None
