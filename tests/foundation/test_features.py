"""The feature registry: declarations checked, the menu and dashboard built from it, and a
SISA kept out of the membership pages it does not use."""
import re

import pytest
from flask import g

from backoffice import features
from backoffice.auth.permissions import PERMISSIONS
from backoffice.features import Feature, MenuEntry, TaskKind
from backoffice.organisations.models import OrganisationKind
from tests.factories import OrganisationFactory

MENU = re.compile(r'<a class="nav-link" href="[^"]+">([^<]+)</a>')


def _menu(html):
    return MENU.findall(html.split('id="nav-main"', 1)[1].split("</nav>", 1)[0])


@pytest.fixture
def sisa(db):
    return OrganisationFactory(slug="sisa-mayenne", name="SISA Pôle de Santé Libéral du Pays de Mayenne",
                               kind=OrganisationKind.SISA)


def test_every_permission_of_the_table_belongs_to_a_feature(app):
    declared = set().union(*(feature.permissions for feature in features.features()))
    assert declared == set(PERMISSIONS)


def test_the_declarations_hold(app):
    features.check(app)  # create_app ran it too
    names = [feature.name for feature in features.features()]
    assert len(names) == len(set(names))
    assert {"membership", "accounting", "people"} <= set(names)


@pytest.mark.parametrize("bad, message", [
    (Feature("x", "X", permissions=frozenset({"x.nothing"})), "unknown permissions"),
    (Feature("x", "X", menu=(MenuEntry("X", "main.index", "audit.view"),)), "add \\['audit.view'\\]"),
    (Feature("x", "X", permissions=frozenset({"audit.view"}), menu=(MenuEntry("X", "x.nowhere", "audit.view"),)),
     "no endpoint 'x.nowhere'"),
    (Feature("x", "X", blueprints=("nowhere",)), "no blueprint 'nowhere'"),
    (Feature("x", "X", permissions=frozenset({"accounting.export"}),
             task_kinds=(TaskKind("accounting.export", "accounting.export"),)), "declared twice"),
])
def test_a_wrong_declaration_stops_the_start(app, bad, message):
    with pytest.raises(LookupError, match=message):
        features.check(app, (*features.features(), bad))


def test_a_cpts_shows_membership(client, login_as, organisation):
    login_as("treasurer")
    page = client.get("/o/cpts-test/").get_data(as_text=True)
    assert _menu(page)[:3] == ["Tableau de bord", "Annuaire", "Adhésions"]


@pytest.mark.parametrize("role", ["admin", "treasurer", "board", "accountant"])
def test_a_sisa_shows_no_membership(client, login_as, sisa, role):
    login_as(role, org=sisa)
    response = client.get("/o/sisa-mayenne/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Adhésions" not in _menu(page) and "Mon adhésion" not in _menu(page)
    assert 'id="membership-panel-title"' not in page


@pytest.mark.parametrize("url", ["/o/sisa-mayenne/membership/", "/o/sisa-mayenne/membership/settings",
                                 "/o/sisa-mayenne/espace-adherent/"])
def test_a_sisas_membership_pages_answer_404_with_an_explanation(client, login_as, sisa, url):
    login_as("treasurer" if "espace" not in url else "member", org=sisa)
    response = client.get(url)
    assert response.status_code == 404
    assert "Les pages « " in response.get_data(as_text=True)
    assert "ne servent pas aux organisations de type SISA" in response.get_data(as_text=True)


def test_a_sisa_member_has_no_membership_entry(client, login_as, sisa):
    login_as("member", org=sisa)
    assert client.get("/o/sisa-mayenne/espace-adherent/").status_code == 404
    assert client.get("/espace-adherent/").status_code in (200, 302)  # his list of organisations still opens


def test_permissions_are_computed_once_per_request(app, login_as, organisation, monkeypatch):
    from backoffice.auth import permissions

    user = login_as("treasurer")
    calls = []
    real = permissions.roles_of
    monkeypatch.setattr(permissions, "roles_of", lambda *args: calls.append(args) or real(*args))
    with app.test_request_context("/o/cpts-test/"):
        g.organisation = organisation
        first = features.menu(organisation, user)
        assert features.menu(organisation, user) == first
        features.panels(organisation, user)
        assert len(calls) == 1
    assert [entry.label for entry in first][:3] == ["Tableau de bord", "Annuaire", "Adhésions"]
