import pytest

from tests.people.helpers import HEADER, rpps


@pytest.fixture
def people_rows():
    return [
        HEADER,
        ["Mme", "Morvan", "Claire", "Infirmière", rpps(1), "claire.morvan@example.org", "06 12 34 56 78", "44350", "Guérande"],
        ["M.", "Le Goff", "Yann", "Médecin généraliste", rpps(2), "yann.legoff@example.org", "0240000001", "44500", "La Baule-Escoublac"],
        ["Mme", "Hérault", "Zoé", "Kinésithérapeute", rpps(3), "zoe.herault@example.org", "", "44490", "Le Croisic"],
    ]

