"""SEPA files: pain.001 (transfers) and pain.008 (direct debits) valid against sepaxml's XSDs,
totals exact to the cent, the creditor identifier (ICS) checked by python-stdnum."""
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
from lxml import etree

from backoffice.banking import sepa, services
from backoffice.banking.errors import BankingError
from tests.factories import ProfessionalFactory, StructureFactory

SCHEMAS = Path(sepaxml.__file__).parent / "schemas"
PAIN_001 = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
PAIN_008 = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


def assert_valid(xml, schema):
    etree.XMLSchema(etree.parse(str(SCHEMAS / f"{schema}.xsd"))).assertValid(etree.fromstring(xml))
    return etree.fromstring(xml)


@pytest.mark.parametrize("value, expected", [("FR72ZZZ123456", "FR72ZZZ123456"), ("fr72 zzz 123456", "FR72ZZZ123456"),
                                             ("DE98ZZZ09999999999", "DE98ZZZ09999999999")])
def test_valid_creditor_identifiers(value, expected):
    assert sepa.clean_creditor_identifier(value) == expected


@pytest.mark.parametrize("value, message", [
    ("FR73ZZZ123456", "la clé de contrôle ne correspond pas"), ("FR72ZZZ12345", "la clé de contrôle"),
    ("123456", "il ressemble à FR12ZZZ123456"), ("", "il ressemble à FR12ZZZ123456"), ("FR72 ZZZ 123456 7", "ICS"),
])
def test_invalid_creditor_identifiers(value, message):
    with pytest.raises(BankingError, match=message) as caught:
        sepa.clean_creditor_identifier(value)
    assert caught.value.field == "creditor_identifier"


@pytest.mark.parametrize("amount, cents", [(Decimal("0.01"), 1), (Decimal("1234.50"), 123450), (Decimal("600"), 60000),
                                           ("19.99", 1999), (Decimal("0.10"), 10), (Decimal("333.330"), 33333)])
def test_to_cents_is_exact(amount, cents):
    assert sepa.to_cents(amount) == cents


@pytest.mark.parametrize("amount, message", [(Decimal("0.005"), "Montant invalide"), (Decimal("0"), "positif"),
                                             (Decimal("-5.00"), "positif"), ("douze", "Montant invalide"),
                                             (Decimal("NaN"), "Montant invalide")])
def test_to_cents_refuses(amount, message):
    with pytest.raises(BankingError, match=message):
        sepa.to_cents(amount)


@pytest.fixture
def payees(organisation):
    chloe = ProfessionalFactory(first_name="Chloé", last_name="Marchand")
    rives = StructureFactory(name="SELARL des Deux Rives")
    kevin = ProfessionalFactory(first_name="Kévin", last_name="Le Gall")
    return [services.set_payee_details(organisation, chloe, "FR7610278060310002020600117", "CMCIFR2A"),
            services.set_payee_details(organisation, rives, "FR7630004000031234567890143", None,
                                       "SELARL des Deux Rives & Associés"),
            services.set_payee_details(organisation, kevin, "FR1420041010050500013M02606", "PSSTFRPPLIL")]


def test_pain001_valid_and_its_total_is_the_sum(organisation, payees):
    amounts = [Decimal("600.00"), Decimal("480.00"), Decimal("0.01")]
    xml = sepa.credit_transfer_file(
        services.default_account(organisation),
        [(payee, amount, f"DERMATO-2026-{n:03d}", f"Aide dermatoscope — convention 2026-{n:03d}")
         for n, (payee, amount) in enumerate(zip(payees, amounts), 1)], date(2026, 3, 10))
    document = assert_valid(xml, "pain.001.001.03")
    assert document.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=PAIN_001) == "1080.01"
    assert document.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=PAIN_001) == "3"
    assert [Decimal(a.text) for a in document.iterfind(".//p:InstdAmt", namespaces=PAIN_001)] == amounts
    assert document.findtext(".//p:Dbtr/p:Nm", namespaces=PAIN_001) == organisation.name.replace("é", "e")
    assert document.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=PAIN_001) == organisation.iban
    assert document.findtext(".//p:ReqdExctnDt", namespaces=PAIN_001) == "2026-03-10"
    assert [n.text for n in document.iterfind(".//p:Cdtr/p:Nm", namespaces=PAIN_001)] == [
        "Chloe MARCHAND", "SELARL des Deux Rives & Associes", "Kevin LE GALL"]
    assert [n.text for n in document.iterfind(".//p:EndToEndId", namespaces=PAIN_001)] == [
        "DERMATO-2026-001", "DERMATO-2026-002", "DERMATO-2026-003"]
    assert document.findtext(".//p:RmtInf/p:Ustrd", namespaces=PAIN_001).startswith("Aide dermatoscope")


@pytest.mark.parametrize("change, message", [
    ({"amount": Decimal("12.345")}, "Montant invalide pour un virement ou un prélèvement : « 12.345 ». (Chloé MARCHAND)"),
    ({"iban": "FR7610278060310002020600118"}, "L'IBAN est invalide. (Chloé MARCHAND)"),
    ({"end_to_end_id": "DERMATO_2026_001"}, "Référence de bout en bout « DERMATO_2026_001 » invalide"),
    ({"end_to_end_id": "DERMATO-2026-002"}, "Deux virements ont la même référence « DERMATO-2026-002 »."),
])
def test_pain001_refuses_bad_payments_naming_the_payee(organisation, payees, change, message):
    first = payees[0]
    if "iban" in change:
        first.iban = change["iban"]
    payments = [(first, change.get("amount", Decimal("600.00")), change.get("end_to_end_id", "DERMATO-2026-001"), ""),
                (payees[1], Decimal("480.00"), "DERMATO-2026-002", "")]
    with pytest.raises(BankingError, match=re.escape(message)):
        sepa.credit_transfer_file(services.default_account(organisation), payments, date(2026, 3, 10))


def test_pain001_from_an_account_without_iban(organisation, payees):
    account = services.default_account(organisation)
    account.iban = None
    with pytest.raises(BankingError, match="IBAN manquant pour le compte « Compte courant »"):
        sepa.credit_transfer_file(account, [(payees[0], Decimal("1.00"), "X1", "")], date(2026, 3, 10))
    with pytest.raises(BankingError, match="Aucun virement"):
        sepa.credit_transfer_file(account, [], date(2026, 3, 10))


def _debit(**changes):
    values = dict(debtor_name="Anne Le Floch & Fils", iban="FR1420041010050500013M02606", bic="PSSTFRPPLIL",
                  amount=Decimal("50.00"), mandate_reference="ADH-12-7KQ4MZ", mandate_signed_on=date(2025, 12, 1),
                  sequence="FRST", description="Cotisation 2026 ADH26-7KQ4M", end_to_end_id="ADH267KQ4M12")
    values.update(changes)
    return sepa.DirectDebit(**values)


def test_pain008_valid_with_the_ics(organisation):
    xml = sepa.direct_debit_file(services.default_account(organisation), "fr72 zzz 123456",
                                 [_debit(), _debit(amount=Decimal("30.10"), sequence="RCUR", end_to_end_id="E2")],
                                 date(2026, 3, 5))
    document = assert_valid(xml, "pain.008.001.02")
    assert document.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=PAIN_008) == "FR72ZZZ123456"
    assert document.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=PAIN_008) == "80.10"
    assert sorted(n.text for n in document.iterfind(".//p:SeqTp", namespaces=PAIN_008)) == ["FRST", "RCUR"]


def test_pain008_checks_the_ics_first(organisation):
    with pytest.raises(BankingError, match="ICS"):
        sepa.direct_debit_file(services.default_account(organisation), "FR73ZZZ123456", [_debit()], date(2026, 3, 5))
