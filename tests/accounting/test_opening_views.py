"""The opening screen: the AN's state and link, (re)generating it, the allocation form."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.accounting import opening, services
from backoffice.accounting.services import EntryLineSpec

BASE = "/o/cpts-test/accounting"


@pytest.fixture
def treasurer(login_as, books):
    services.post_event(books, "subsidy_received", amount=Decimal("1000.00"), entry_date=date(2026, 3, 1),
                        piece_ref="ARS", label="Subvention")
    services.post_entry(books, "BQ", date(2026, 4, 1), "LOY", "Loyer", [
        EntryLineSpec("6132", debit=Decimal("400.00")), EntryLineSpec("512", credit=Decimal("400.00"))])
    return login_as("treasurer")


def _text(response):
    return response.get_data(as_text=True)


def test_generate_then_see_the_provisional_an(client, treasurer, books):
    page = _text(client.get(BASE + "/openings?year=2027"))
    assert "Aucun à-nouveau" in page and "Générer les à-nouveaux" in page and "Excédent de 600,00" in page
    response = client.post(BASE + "/openings/2027/generate")
    assert response.status_code == 302
    entry = opening.current_opening(books, 2027)
    page = _text(client.get(BASE + "/openings?year=2027"))
    assert "Provisoires" in page and f"/entries/{entry.id}" in page and "Régénérer les à-nouveaux" in page
    assert "après la clôture de 2026" in page


def test_the_allocation_form_after_the_closing(client, treasurer, books):
    services.close_period(books, "year", 2026)
    opening.generate_opening(books, 2027)
    page = _text(client.get(BASE + "/openings?year=2027"))
    assert "Définitifs" in page and "Régénérer" not in page and "1068 Autres réserves" in page
    refused = client.post(BASE + "/openings/2027/allocate", data={
        "decided_on": "2027-06-12", "to_carry_forward": "100,00", "reserve_account": "1068", "to_reserves": "400,00"})
    assert refused.status_code == 422 and "ne correspond pas au résultat de l&#39;exercice 2026" in _text(refused)
    assert opening.current_allocation(books, 2026) is None
    response = client.post(BASE + "/openings/2027/allocate", data={
        "decided_on": "12/06/2027", "to_carry_forward": "200,00", "reserve_account": "1068", "to_reserves": "400,00"})
    assert response.status_code == 302
    entry = opening.current_allocation(books, 2026)
    assert {line.account.number: line.credit for line in entry.lines if line.credit} == {
        "110": Decimal("200.00"), "1068": Decimal("400.00")}
    assert f"/entries/{entry.id}" in _text(client.get(BASE + "/openings?year=2027"))


def test_a_board_member_reads_but_does_not_generate(client, login_as, books):
    login_as("board")
    assert client.get(BASE + "/openings?year=2027").status_code == 200
    assert client.post(BASE + "/openings/2027/generate").status_code == 403
