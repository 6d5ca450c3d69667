"""The opening screen: the AN's state and link, (re)generating it, the allocation form."""
import re
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


def _allocation(decided_on, *lines, **extra):
    """The allocation form's data: ``lines`` are ``(account, amount)``; the form has four rows."""
    data = {"decided_on": decided_on, **extra}
    for n, (account, amount) in enumerate(lines):
        data[f"lines-{n}-account"], data[f"lines-{n}-amount"] = account, amount
    return data


def test_the_allocation_form_after_the_closing(client, treasurer, books):
    services.close_period(books, "year", 2026)
    opening.generate_opening(books, 2027)
    page = _text(client.get(BASE + "/openings?year=2027"))
    assert "Définitifs" in page and "Régénérer" not in page and "1068 Autres réserves" in page
    assert 'name="lines-3-amount"' in page and '<option selected value="110">' in page
    assert "4551" not in page  # a CPTS has no associates to distribute to
    refused = client.post(BASE + "/openings/2027/allocate", data=_allocation(
        "2027-06-12", ("110", "100,00"), ("1068", "400,00")))
    assert refused.status_code == 422
    assert ("La répartition (500,00\u00a0€) ne correspond pas au résultat de l&#39;exercice 2026 : l&#39;excédent "
            "est de 600,00\u00a0€ (manque de 100,00\u00a0€)") in _text(refused)
    assert opening.current_allocation(books, 2026) is None
    response = client.post(BASE + "/openings/2027/allocate", data=_allocation(
        "12/06/2027", ("110", "150,00"), ("1068", "400,00"), ("1063", "50"), ("", "")))
    assert response.status_code == 302
    entry = opening.current_allocation(books, 2026)
    assert {line.account.number: line.credit for line in entry.lines if line.credit} == {
        "110": Decimal("150.00"), "1068": Decimal("400.00"), "1063": Decimal("50.00")}
    assert f"/entries/{entry.id}" in _text(client.get(BASE + "/openings?year=2027"))


@pytest.mark.parametrize("lines, message", [
    ((("512", "600,00"),), "Le compte 512 ne reçoit pas de résultat"),
    ((("", "600,00"),), "Choisissez le compte auquel affecter 600,00"),
    ((("110", "six cents"),), "Le montant affecté au compte 110"),
    ((("110", "300"), ("1068", "300,01")), "excès de 0,01"),
])
def test_an_allocation_that_does_not_add_up_is_refused_in_french(client, treasurer, books, lines, message):
    services.close_period(books, "year", 2026)
    opening.generate_opening(books, 2027)
    refused = client.post(BASE + "/openings/2027/allocate", data=_allocation("12/06/2027", *lines))
    assert refused.status_code == 422 and message in _text(refused).replace("&#39;", "'")
    assert 'id="allocation-errors"' in _text(refused)
    assert opening.current_allocation(books, 2026) is None


def test_a_board_member_reads_but_does_not_generate(client, login_as, books):
    login_as("board")
    assert client.get(BASE + "/openings?year=2027").status_code == 200
    assert client.post(BASE + "/openings/2027/generate").status_code == 403


def test_a_sisa_treasurer_distributes_the_result_to_the_associates_from_the_form(client, login_as, sisa):
    from tests.accounting.conftest import sisa_2026_closed

    people = sisa_2026_closed(sisa, {"Anne Morel": "200", "Luc Garnier": "100", "Yves Le Goff": None})
    login_as("treasurer", org=sisa)
    base = "/o/sisa-test/accounting"
    page = _text(client.get(base + "/openings?year=2027"))
    assert "4551" in page and "(réparti entre les associés selon leurs parts sociales)" in page
    refused = client.post(base + "/openings/2027/allocate", data=_allocation(
        "12/06/2027", ("4551", "9 000,00")))
    assert refused.status_code == 422
    shown = re.sub(r"[\u00a0\u202f]", " ", _text(refused))  # the amounts' no-break spaces
    assert "l&#39;excédent est de 10 000,00 € (manque de 1 000,00 €)" in shown
    assert opening.current_allocation(sisa, 2026) is None
    response = client.post(base + "/openings/2027/allocate", data=_allocation(
        "12/06/2027", ("4551", "7 000,00"), ("1068", "3 000,00")))
    assert response.status_code == 302
    entry = opening.current_allocation(sisa, 2026)
    # 7 000,00 by 200 and 100 shares, to the cent; Yves has no shares and no line.
    assert {line.auxiliary.party_id: line.credit for line in entry.lines if line.account.number == "4551"} == {
        people["Anne Morel"].id: Decimal("4666.67"), people["Luc Garnier"].id: Decimal("2333.33")}
    assert sum(line.credit for line in entry.lines) == sum(line.debit for line in entry.lines) == Decimal("10000.00")
    assert "Affectation du résultat 2026 enregistrée" in _text(client.get(base + "/openings?year=2027"))


def test_a_sisa_whose_associates_hold_no_shares_is_told_so_on_the_form(client, login_as, sisa):
    from tests.accounting.conftest import sisa_2026_closed

    sisa_2026_closed(sisa, {"Anne Morel": None, "Luc Garnier": None})
    login_as("treasurer", org=sisa)
    refused = client.post("/o/sisa-test/accounting/openings/2027/allocate", data=_allocation(
        "12/06/2027", ("4551", "10 000,00")))
    assert refused.status_code == 422
    assert "Aucun associé de l&#39;exercice 2026 n&#39;a de parts sociales" in _text(refused)
    assert opening.current_allocation(sisa, 2026) is None
