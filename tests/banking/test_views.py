"""The treasurer's bank accounts pages: list, add (French errors under the fields), edit, default."""
import pytest

from backoffice.banking import services
from tests.membership.test_views_money import field_errors

IBAN = "FR76 1027 8060 3100 0202 0600 117"


def form(**changes):
    return {"name": "Livret A Crédit Mutuel", "iban": IBAN, "bic": "CMCIFR2A", "journal_code": "BQ2",
            "ledger_account": "5122", **changes}


def test_treasurer_adds_an_account_and_makes_it_the_default(client, login_as, organisation):
    login_as("treasurer")
    page = client.get("/o/cpts-test/banking/accounts").get_data(as_text=True)
    assert "Compte courant" in page and "FR76 3000 4000 0312 3456 7890 143" in page and "par défaut" in page
    response = client.post("/o/cpts-test/banking/accounts/new", data=form())
    assert response.status_code == 302
    savings = next(a for a in services.accounts(organisation) if a.name == "Livret A Crédit Mutuel")
    assert (savings.iban, savings.journal_code, savings.ledger_account) == (IBAN.replace(" ", ""), "BQ2", "5122")
    client.post(f"/o/cpts-test/banking/accounts/{savings.id}/default")
    assert organisation.iban == savings.iban
    assert "est le compte par défaut" in client.get("/o/cpts-test/banking/accounts").get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("iban", "FR76 1027 8060 3100 0202 0600 118", "L'IBAN est invalide."),
    ("iban", "", "Indiquez l'IBAN du compte."),
    ("bic", "CMCI", "Le BIC est invalide (8 ou 11 caractères)."),
    ("ledger_account", "411", "Le compte comptable d'une banque commence par 512 (par exemple 512 ou 5121)."),
    ("name", "Compte courant", "Un compte s'appelle déjà « Compte courant »."),
])
def test_wrong_details_come_back_under_their_field(client, login_as, organisation, field, value, message):
    login_as("treasurer")
    response = client.post("/o/cpts-test/banking/accounts/new", data=form(**{field: value}))
    assert response.status_code == 422
    assert field_errors(response, field) == [message]
    assert 'value="Livret A Crédit Mutuel"' in response.get_data(as_text=True) or field == "name"
    assert len(services.accounts(organisation)) == 1


def test_edit_an_account(client, login_as, organisation):
    login_as("treasurer")
    account = services.default_account(organisation)
    page = client.get(f"/o/cpts-test/banking/accounts/{account.id}").get_data(as_text=True)
    assert 'value="FR7630004000031234567890143"' in page
    response = client.post(f"/o/cpts-test/banking/accounts/{account.id}",
                           data=form(name="Compte courant BNP", iban="FR7630004000031234567890143", bic="BNPAFRPPXXX",
                                     journal_code="bq", ledger_account="5121", active="y"))
    assert response.status_code == 302
    assert (account.name, account.journal_code, account.ledger_account) == ("Compte courant BNP", "BQ", "5121")
    response = client.post(f"/o/cpts-test/banking/accounts/{account.id}",
                           data=form(name="Compte courant BNP", iban=account.iban))  # unticked: not used any more
    assert response.status_code == 422 and "ne peut pas être désactivé" in field_errors(response, "active")[0]
    assert account.active
