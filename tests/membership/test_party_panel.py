"""The person's memberships on his directory page, contributed by membership's feature."""
from datetime import date

from backoffice.membership import services
from backoffice.organisations.affiliations import add_contact


def test_the_person_page_lists_his_memberships(client, login_as, organisation, membership):
    login_as("board")
    services.record_payment(membership, "20", "transfer", date(2026, 2, 1))
    page = client.get(f"/o/cpts-test/people/{membership.party_id}").text
    assert 'id="h-party-memberships"' in page
    assert f'/membership/members/{membership.id}"' in page and "Partiellement payée" in page
    assert "50,00" in page and "20,00" in page


def test_a_person_without_membership_is_offered_one(client, login_as, organisation, nurse):
    login_as("treasurer")
    add_contact(organisation, nurse)
    page = client.get(f"/o/cpts-test/people/{nurse.id}").text
    assert "Aucune adhésion." in page and f"/membership/new?party={nurse.id}" in page


def test_a_person_of_another_organisation_shows_no_membership_panel(client, login_as, organisation, nurse):
    login_as("treasurer")
    page = client.get(f"/o/cpts-test/people/{nurse.id}").text
    assert "n'a pas de lien avec" in page and 'id="h-party-memberships"' not in page
