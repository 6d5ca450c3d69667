"""French wording that agrees with who is spoken of: articles of organisation names, words
that follow a person's civility, the treasurer's title from the office holder."""
from datetime import date

import pytest

from backoffice.formatting import by_civility, of_name
from backoffice.organisations.affiliations import Role, treasurer_title
from tests.factories import AffiliationFactory, ProfessionalFactory


@pytest.mark.parametrize("name, expected", [
    ("CPTS du Pays Blanc", "de la CPTS du Pays Blanc"),
    ("SISA des Trois Rivières", "de la SISA des Trois Rivières"),
    ("Maison de santé de Guérande", "de la Maison de santé de Guérande"),
    ("Pôle de Santé Libéral du Pays de Mayenne", "du Pôle de Santé Libéral du Pays de Mayenne"),
    ("Association des soignants d'Iroise", "de l'Association des soignants d'Iroise"),
    ("Armor Santé", "d'Armor Santé"),
    ("Kreiz Breizh Santé", "de Kreiz Breizh Santé"),
])
def test_of_name(name, expected):
    assert of_name(name) == expected


@pytest.mark.parametrize("civility, word", [("Mme", "adhérente"), ("M.", "adhérent"), ("Dr", "adhérent"),
                                            (None, "adhérent")])
def test_by_civility(db, civility, word):
    person = ProfessionalFactory(civility=civility)
    assert by_civility(person, "adhérent", "adhérente") == word


@pytest.mark.parametrize("civility, title", [("Mme", "la trésorière"), ("M.", "le trésorier"),
                                             ("Dr", "le trésorier ou la trésorière")])
def test_treasurer_title_follows_the_office_holder(organisation, civility, title):
    AffiliationFactory(organisation=organisation, party=ProfessionalFactory(civility=civility),
                       role=Role.TREASURER, starts_on=date(2020, 1, 1))
    assert treasurer_title(organisation) == title


def test_a_vacant_office_names_both(organisation):
    assert treasurer_title(organisation) == "le trésorier ou la trésorière"


def test_pages_use_the_wording(client, login_as, organisation):
    AffiliationFactory(organisation=organisation, party=ProfessionalFactory(civility="Mme"), role=Role.TREASURER,
                       starts_on=date(2020, 1, 1))
    login_as("board")
    page = client.get("/o/cpts-test/accounting/").text
    assert "Un administrateur ou la trésorière peut l'ouvrir." in page
    assert "La comptabilité de la CPTS de Test n'est pas encore ouverte." in page
