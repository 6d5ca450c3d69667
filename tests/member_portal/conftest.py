"""Fixtures of the member pages: a grid for this year and the next, a member with an account."""
import re
from datetime import date
from decimal import Decimal

import pytest

from backoffice.membership import services
from backoffice.membership.models import CategoryKind

GRID = [("Médecin", "50.00", CategoryKind.PHYSICIAN), ("Autre professionnel de santé", "30.00",
        CategoryKind.OTHER_PROFESSIONAL), ("Structure", "100.00", CategoryKind.STRUCTURE),
        ("Première adhésion", "20.00", CategoryKind.FIRST_YEAR)]


@pytest.fixture(autouse=True)
def _storage_per_test(app, tmp_path, monkeypatch):
    """A fresh STORAGE_DIR per test: ids are reused after each rollback, files would not be."""
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))


@pytest.fixture
def this_year():
    return date.today().year


def make_grid(organisation, year):
    period = services.period_for_year(organisation, year)
    for label, amount, kind in GRID:
        services.set_fee_category(period, label, Decimal(amount), kind)
    return period


@pytest.fixture
def last_period(organisation, this_year):
    return make_grid(organisation, this_year - 1)


@pytest.fixture
def current_period(organisation, this_year, last_period):
    return make_grid(organisation, this_year)


@pytest.fixture
def anne(db):
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(civility="Dr", first_name="Anne", last_name="Le Floch", profession="medecin_generaliste",
                               email="anne.lefloch@example.org", phone=None, address=None)


@pytest.fixture
def anne_last_year(organisation, anne, last_period):
    """Anne was a member last year (paid): the renewal suggests the physician rate."""
    membership = services.create_membership(organisation, anne, last_period, joined_on=last_period.starts_on)
    services.record_payment(membership, membership.amount_due, "transfer", last_period.starts_on)
    return membership


@pytest.fixture
def anne_user(anne, anne_last_year):
    from backoffice.auth.models import User
    from backoffice.extensions import db

    return db.session.query(User).filter_by(party_id=anne.id).one()


@pytest.fixture
def as_anne(login_as, anne_user):
    return login_as("member", user=anne_user)


def form_key(html):
    return re.search(r'name="form_key" type="hidden" value="([^"]+)"', html).group(1)
