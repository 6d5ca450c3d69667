"""The commands a new production instance starts with: an organisation, then its administrator."""
from sqlalchemy import select

from backoffice.auth.models import Role
from backoffice.auth.services import find_user_by_email
from backoffice.organisations.models import Organisation, OrganisationKind


def test_a_new_instance_gets_its_organisation_then_its_admin(runner, db):
    result = runner.invoke(args=["create-organisation", "CPTS du Val Fleuri", "--kind", "cpts"])
    assert result.exit_code == 0, result.output
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "CPTS du Val Fleuri"))
    assert (organisation.slug, organisation.kind) == ("cpts-du-val-fleuri", OrganisationKind.CPTS)

    result = runner.invoke(args=["create-user", "presidente@valfleuri.fr", "cpts-du-val-fleuri", "admin",
                                 "--name", "Présidente"], input="une phrase assez longue\nune phrase assez longue\n")
    assert result.exit_code == 0, result.output
    assert find_user_by_email("presidente@valfleuri.fr").roles_in(organisation) == {Role.ADMIN}


def test_a_taken_identifier_is_refused_in_french(runner, organisation):
    result = runner.invoke(args=["create-organisation", "Autre", "--slug", organisation.slug])
    assert result.exit_code != 0
    assert "déjà pris" in result.output
