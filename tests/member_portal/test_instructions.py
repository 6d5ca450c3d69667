"""The member's payment page: the cheque instructions name the payee and the organisation's postal
address, for the amount still due."""
import html
import re
from datetime import date

from backoffice.membership import services


def section(page, heading_id):
    """The HTML of the card whose heading has id ``heading_id``."""
    start = page.index(">", page.index(f'id="{heading_id}"')) + 1
    return page[start:page.index("</section>", start)]


def plain(fragment):
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("\xa0", " ").replace("\u202f", " ")
    return " ".join(text.split())


def address_lines(cheque):
    """The lines of the postal address shown in the cheque card."""
    address = re.search(r"<address[^>]*>(.*?)</address>", cheque, re.S).group(1)
    return [html.unescape(line).strip() for line in address.split("<br>")]


def payment_page(client, membership):
    response = client.get(f"/o/cpts-test/espace-adherent/adhesions/{membership.id}/paiement")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_cheque_instructions_name_the_payee_and_the_address(client, organisation, anne, as_anne, current_period):
    membership = services.create_membership(organisation, anne, current_period)
    cheque = section(payment_page(client, membership), "pay-cheque")
    assert "À l'ordre de CPTS de Test, d'un montant de 50,00 €, à envoyer à :" in plain(cheque)
    assert address_lines(cheque) == ["CPTS de Test", "12 rue de la Poste", "44350 Guérande"]
    assert f"Notez au dos du chèque la référence {membership.payment_reference}." in plain(cheque)


def test_cheque_amount_is_what_remains_due(client, organisation, anne, as_anne, current_period):
    membership = services.create_membership(organisation, anne, current_period)
    services.record_payment(membership, "30", "cash", date.today())
    cheque = plain(section(payment_page(client, membership), "pay-cheque"))
    assert "d'un montant de 20,00 €" in cheque


def test_cheque_address_follows_the_organisation(client, organisation, anne, as_anne, current_period):
    organisation.name, organisation.address = "CPTS Presqu'île", "Maison de santé, 4 place du Marché"
    organisation.postcode, organisation.city = "44500", "La Baule-Escoublac"
    membership = services.create_membership(organisation, anne, current_period)
    cheque = section(payment_page(client, membership), "pay-cheque")
    assert "À l'ordre de CPTS Presqu'île," in plain(cheque)
    assert address_lines(cheque) == [
        "CPTS Presqu'île", "Maison de santé, 4 place du Marché", "44500 La Baule-Escoublac"]


def test_nothing_to_pay_once_paid(client, organisation, anne, as_anne, current_period):
    membership = services.create_membership(organisation, anne, current_period)
    services.record_payment(membership, membership.amount_due, "transfer", date.today())
    page = payment_page(client, membership)
    assert 'id="pay-cheque"' not in page and "Rien à régler sur cette adhésion." in html.unescape(page)
