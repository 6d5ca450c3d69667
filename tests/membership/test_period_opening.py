"""A GET never opens the membership period: the screens show « Ouvrir la période », a POST opens it."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.membership import services
from backoffice.membership.models import CategoryKind, FeeCategory, MembershipPeriod

SCREENS = ["/o/cpts-test/membership/", "/o/cpts-test/membership/dashboard", "/o/cpts-test/membership/grid",
           "/o/cpts-test/membership/new"]


def _periods():
    return _db.session.scalar(select(func.count()).select_from(MembershipPeriod))


@pytest.fixture
def year(organisation):
    return organisation.fiscal_year_of(date.today())


@pytest.fixture
def last_year(organisation, year):
    """Last year's period with its grid: what opening this year's copies."""
    period = services.period_for_year(organisation, year - 1)
    services.set_fee_category(period, "Médecin", Decimal("50.00"), CategoryKind.PHYSICIAN)
    services.set_fee_category(period, "Infirmier·e, kinésithérapeute", Decimal("30.00"), CategoryKind.OTHER_PROFESSIONAL)
    return period


@pytest.mark.parametrize("url", SCREENS)
def test_a_screen_before_the_period_is_opened_offers_to_open_it(client, login_as, organisation, year, last_year, url):
    login_as("treasurer")
    _db.session.commit()
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"La période {year} n'est pas encore ouverte" in page
    assert f"Ouvrir la période {year}</button>" in page
    assert f"La grille de cotisations {last_year.label} est reprise" in page
    assert services.period_for_year(organisation, year, create=False) is None and _periods() == 1


def test_a_reader_is_told_who_opens_it(client, login_as, organisation, year):
    login_as("board")
    _db.session.commit()
    page = client.get("/o/cpts-test/membership/dashboard").get_data(as_text=True)
    assert "Un trésorier doit l'ouvrir." in page and "Ouvrir la période" not in page
    assert _periods() == 0


def test_the_button_opens_the_period_with_last_years_grid_and_comes_back(client, login_as, organisation, year,
                                                                          last_year):
    login_as("treasurer")
    _db.session.commit()
    response = client.post("/o/cpts-test/membership/periods?next=/o/cpts-test/membership/dashboard",
                           data={"year": str(year), "copy_grid": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/o/cpts-test/membership/dashboard")
    period = services.period_for_year(organisation, year, create=False)
    assert sorted((c.label, c.amount) for c in period.categories) == [
        ("Infirmier·e, kinésithérapeute", Decimal("30.00")), ("Médecin", Decimal("50.00"))]
    page = client.get("/o/cpts-test/membership/dashboard").get_data(as_text=True)
    assert f"Période {year} ouverte." in page and "n'est pas encore ouverte" not in page


def test_an_older_period_stays_readable_before_the_current_one_is_opened(client, login_as, last_year):
    login_as("board")
    _db.session.commit()
    response = client.get(f"/o/cpts-test/membership/?period={last_year.id}")
    assert response.status_code == 200 and f"Adhérents {last_year.label}" in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(FeeCategory)) == 2
