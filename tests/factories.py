"""factory_boy factories bound to the current test session."""
import factory

from backoffice.auth.models import User
from backoffice.extensions import db
from backoffice.organisations.models import Organisation, OrganisationKind
from backoffice.people.models import Professional, Site, Structure


class Factory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (the session changes per test)
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(Factory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"CPTS numéro {n}")
    kind = OrganisationKind.CPTS
    siren = "812345676"
    address = "12 rue de la Poste"
    postcode = "44350"
    city = "Guérande"
    iban = "FR7630004000031234567890143"
    bic = "BNPAFRPPXXX"
    fiscal_year_start_month = 1


class UserFactory(Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Utilisateur {n}")
    active = True


class SiteFactory(Factory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"MSP numéro {n}")
    kind = "msp"
    postcode = "53100"
    commune = "Mayenne"


class ProfessionalFactory(Factory):
    class Meta:
        model = Professional

    civility = "Mme"
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    profession = "infirmier"
    email = factory.Sequence(lambda n: f"pro{n}@example.org")
    commune = "Guérande"
    postcode = "44350"


class StructureFactory(Factory):
    class Meta:
        model = Structure

    name = factory.Sequence(lambda n: f"EHPAD numéro {n}")
    structure_type = "ehpad"
    commune = "Guérande"
