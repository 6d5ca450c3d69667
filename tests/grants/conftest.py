import pytest

from tests.grants.factories import dermatoscope_programme


@pytest.fixture
def programme(organisation):
    return dermatoscope_programme(organisation)
