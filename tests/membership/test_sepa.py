"""SEPA direct debit: mandate validation, pain.008 valid against its XSD, collection (the ICS check is
banking's: tests/banking/test_sepa.py)."""
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
from lxml import etree

from backoffice.membership import sepa, services
from backoffice.membership.models import DirectDebitRunStatus, MembershipStatus, PaymentStatus
from backoffice.membership.services import MembershipError

IBAN_MEMBER = "FR1420041010050500013M02606"
BIC_MEMBER = "PSSTFRPPLIL"


def test_mandate_validation(organisation, physician):
    with pytest.raises(MembershipError, match="IBAN"):
        sepa.create_mandate(organisation, physician, "FR1420041010050500013M02607", BIC_MEMBER, date(2026, 1, 5))
    with pytest.raises(MembershipError, match="BIC"):
        sepa.create_mandate(organisation, physician, IBAN_MEMBER, "PSST", date(2026, 1, 5))
    mandate = sepa.create_mandate(organisation, physician, IBAN_MEMBER.lower(), BIC_MEMBER, date(2026, 1, 5))
    assert mandate.iban == IBAN_MEMBER and mandate.reference.startswith(f"ADH-{physician.id}-")
    with pytest.raises(MembershipError, match="déjà utilisée"):
        sepa.create_mandate(organisation, physician, IBAN_MEMBER, BIC_MEMBER, date(2026, 1, 6), reference=mandate.reference)
    second = sepa.create_mandate(organisation, physician, IBAN_MEMBER, BIC_MEMBER, date(2026, 1, 6))
    assert not mandate.active and second.active


@pytest.fixture
def run(organisation, membership, physician, nurse, period):
    sepa.set_creditor_identifier(organisation, "FR72ZZZ123456")
    sepa.create_mandate(organisation, physician, IBAN_MEMBER, BIC_MEMBER, date(2025, 12, 1), debtor_name="Anne Le Floch & Fils")
    other = services.create_membership(organisation, nurse, period)  # no mandate: not collectable
    assert [m.id for m in sepa.collectable_memberships(organisation)] == [membership.id]
    with pytest.raises(MembershipError, match="ne peuvent pas être prélevées"):
        sepa.create_run(organisation, [membership, other], date.today() + timedelta(days=5))
    return sepa.create_run(organisation, [membership], date.today() + timedelta(days=5))


def test_pain008_valid_against_xsd(run, membership):
    assert membership.amount_paid == 0 and run.payments[0].status is PaymentStatus.PENDING
    sepa.generate_file(run)
    schema = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")))
    document = etree.fromstring(run.xml)
    schema.assertValid(document)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
    assert document.findtext(".//p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=ns) == run.payments[0].mandate.reference
    assert document.findtext(".//p:InstdAmt", namespaces=ns) == "50.00"
    assert document.findtext(".//p:SeqTp", namespaces=ns) == "FRST"
    assert document.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=ns) == "FR72ZZZ123456"
    # Already being collected: not offered again.
    assert sepa.collectable_memberships(membership.organisation) == []


def test_collect_confirms_payments(run, membership):
    with pytest.raises(MembershipError, match="fichier a été généré"):
        sepa.collect_run(run)
    sepa.generate_file(run)
    sepa.collect_run(run)
    assert run.status is DirectDebitRunStatus.COLLECTED
    assert membership.status is MembershipStatus.PAID and membership.amount_paid == Decimal("50.00")


def test_rejected_debit_never_counts(run, membership):
    sepa.generate_file(run)
    sepa.reject_payment(run.payments[0])
    sepa.collect_run(run)
    assert membership.status is MembershipStatus.AWAITING_PAYMENT and membership.amount_paid == 0


def test_run_needs_ics(organisation, membership):
    with pytest.raises(MembershipError, match="ICS"):
        sepa.create_run(organisation, [membership], date.today() + timedelta(days=5))
