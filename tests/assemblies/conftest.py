"""Fixtures of the assembly tests: the membership period and collèges of tests/membership."""
from tests.membership.conftest import colleges, period  # noqa: F401  (fixtures)
