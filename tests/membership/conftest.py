"""Fixtures of the membership tests: a period with its fee grid, collèges, members, a query counter."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.membership import services
from backoffice.membership.models import CategoryKind


@pytest.fixture
def period(organisation):
    """The 2026 period of the test organisation with the usual grid (50/30/100 €, first year 20 €)."""
    period = services.period_for_year(organisation, 2026)
    for label, amount, kind in [("Médecin", "50.00", CategoryKind.PHYSICIAN),
                                ("Autre professionnel de santé", "30.00", CategoryKind.OTHER_PROFESSIONAL),
                                ("Structure", "100.00", CategoryKind.STRUCTURE),
                                ("Première adhésion", "20.00", CategoryKind.FIRST_YEAR)]:
        services.set_fee_category(period, label, Decimal(amount), kind)
    return period


@pytest.fixture
def colleges(organisation):
    return [services.save_college(organisation, "Libéraux", party_kind="professional"),
            services.save_college(organisation, "Structures", party_kind="structure"),
            services.save_college(organisation, "Usagers")]


@pytest.fixture
def physician(db):
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(first_name="Anne", last_name="Le Floch", profession="medecin_generaliste")


@pytest.fixture
def nurse(db):
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(first_name="Jean", last_name="Dupont", profession="infirmier")


@pytest.fixture
def membership(organisation, period, physician):
    """Anne Le Floch, physician, 50 € due for 2026 (not a first membership: category forced)."""
    category = next(c for c in period.categories if c.kind is CategoryKind.PHYSICIAN)
    return services.create_membership(organisation, physician, period, category=category, joined_on=date(2026, 1, 10))


@pytest.fixture
def membership_cache(app):
    """The Redis cache of membership figures switched on, with none of another test's entries
    (SQLite gives the next test the same organisation ids)."""
    from backoffice.membership import stats

    def forget():
        connection = stats._redis(app.config["REDIS_URL"])
        for key in connection.scan_iter(f"{app.config['RQ_QUEUE_PREFIX']}:membership:*"):
            connection.delete(key)

    forget()
    app.config["MEMBERSHIP_DASHBOARD_CACHE"] = True
    yield
    del app.config["MEMBERSHIP_DASHBOARD_CACHE"]
    forget()
