"""A SISA with four associates (one joined in June 2025, one left in September 2025)."""
from datetime import date
from types import SimpleNamespace

import pytest

from backoffice.organisations.affiliations import Role, affiliate
from backoffice.organisations.models import OrganisationKind
from tests.factories import OrganisationFactory, ProfessionalFactory, SiteFactory


@pytest.fixture
def sisa(db):
    return OrganisationFactory(slug="sisa-test", name="SISA Pôle de Santé du Bocage", kind=OrganisationKind.SISA,
                               siren="798765434", city="Mayenne", postcode="53100")


@pytest.fixture
def associates(sisa):
    site = SiteFactory(name="MSP de Lassay-les-Châteaux", commune="Lassay-les-Châteaux")
    people = SimpleNamespace(
        helene=ProfessionalFactory(civility="Mme", first_name="Hélène", last_name="Brochard",
                                   profession="medecin_generaliste", rpps="10003456786", site=site),
        paul=ProfessionalFactory(civility="M.", first_name="Paul", last_name="Chevalier",
                                 profession="medecin_generaliste", rpps="10001234565", site=site),
        soizic=ProfessionalFactory(civility="Mme", first_name="Soizic", last_name="Le Goff",
                                   profession="infirmier", adeli="531234567"),
        erwan=ProfessionalFactory(civility="M.", first_name="Erwan", last_name="Fouquet",
                                  profession="pharmacien", rpps="10009876540"),
    )
    affiliate(people.helene, sisa, Role.ASSOCIATE, date(2012, 12, 1))
    affiliate(people.paul, sisa, Role.ASSOCIATE, date(2012, 12, 1))
    affiliate(people.soizic, sisa, Role.ASSOCIATE, date(2012, 12, 1), ends_on=date(2025, 9, 30))
    affiliate(people.erwan, sisa, Role.ASSOCIATE, date(2025, 6, 16))
    return people
