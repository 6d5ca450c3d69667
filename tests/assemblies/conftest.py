"""Fixtures of the assembly tests: the membership period and collèges of tests/membership."""
from tests.membership.conftest import colleges, period  # noqa: F401  (fixtures)


import pytest  # noqa: E402


@pytest.fixture
def ag(organisation, period):
    """A convened AGO of eight voters (seven professionals and an EHPAD), quorum 1/4, 2 proxies at
    most; its second resolution is a secret ballot."""
    from datetime import date

    from backoffice.assemblies import services
    from tests.assemblies import factories as f

    f.roll_world(organisation, period)
    a = f.assembly(organisation, resolutions=2)
    services.update_resolution(a.resolutions[1], secret=True)
    services.convene(a, on=date(2026, 5, 21))
    return a
