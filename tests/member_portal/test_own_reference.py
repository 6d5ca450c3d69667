"""A member renewing on his own is shown the association's own reference (its scheme), on the
payment instructions, when the organisation writes its references that way."""
from backoffice.membership import services
from tests.member_portal.conftest import form_key


def test_a_renewing_member_is_told_the_association_reference(client, organisation, anne, as_anne, current_period,
                                                             anne_last_year):
    anne_last_year.member_number = "108"
    services.set_reference_scheme(organisation, "COT{year}/{number:05}")
    page = client.get("/o/cpts-test/espace-adherent/").get_data(as_text=True)
    response = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}",
                           data={"form_key": form_key(page)}, follow_redirects=True)
    expected = f"COT{current_period.year}/00108"
    assert services.membership_of(organisation, anne, current_period).payment_reference == expected
    html = response.get_data(as_text=True)
    assert f'id="payment-reference">{expected}</code>' in html
    assert anne_last_year.payment_reference.startswith("ADH")  # last year's stays as it was
