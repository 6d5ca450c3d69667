"""Receipts and cheque deposit slips are durable generated documents: numbered from the kind's
sequence, fingerprinted, versioned when produced again, downloadable for years."""
from datetime import date

import pytest
from sqlalchemy import select

from backoffice.documents import generated
from backoffice.documents.models import DocumentStatus, GeneratedDocument
from backoffice.extensions import db as _db
from backoffice.member_portal.models import ReceiptStatus
from backoffice.membership import deposits, receipts, services
from backoffice.membership.models import ChequeDeposit
from tests.factories import UserFactory


def _paid_receipt(membership):
    services.record_payment(membership, membership.balance, "transfer", date(2026, 2, 14), reference="VIR-0214")
    return receipts.receipt_of(membership)


def test_a_receipt_is_kept_as_a_numbered_fingerprinted_document(organisation, membership):
    receipt = _paid_receipt(membership)
    data = receipts.generate(receipt)
    document = receipt.document
    assert receipt.status is ReceiptStatus.READY and receipt.is_ready
    assert (document.kind, document.subject_type, document.subject_id) == ("membership_receipt", "memberships",
                                                                           membership.id)
    assert document.number == receipt.number == "2026-0001" and document.version == 1
    assert document.abspath().read_bytes() == data and generated.verify(document)
    assert "/documents/membership_receipt/" in document.abspath().as_posix()
    assert document.filename == "attestation-adhesion-2026-0001.docx"


def test_regenerating_a_receipt_adds_a_version_with_the_same_number(organisation, membership):
    receipt = _paid_receipt(membership)
    receipts.generate(receipt)
    first = receipt.document
    receipts.ensure_receipt(membership, mail_wanted=False)
    receipts.generate(receipt)
    assert receipt.document.version == 2 and receipt.document.number == "2026-0001"
    assert first.status is DocumentStatus.SUPERSEDED and first.abspath().is_file()
    assert generated.current_document(organisation, "membership_receipt", membership).id == receipt.document.id


def test_receipt_numbers_come_from_the_sequence(organisation, period, membership, nurse):
    generated.allocate_number(organisation, "membership_receipt", year=2026)  # e.g. given before a rollback
    assert _paid_receipt(membership).number == "2026-0002"
    other = services.create_membership(organisation, nurse, period)
    assert _paid_receipt(other).number == "2026-0003"


@pytest.mark.parametrize("role, status", [("treasurer", 200), ("board", 200), ("accountant", 403)])
def test_receipt_through_the_document_route(client, login_as, organisation, membership, role, status):
    receipt = _paid_receipt(membership)
    receipts.generate(receipt)
    login_as(role)
    response = client.get(f"/o/cpts-test/documents/files/{receipt.document.id}")
    assert response.status_code == status


def test_a_member_downloads_his_own_receipt_document_and_not_another_s(client, login_as, organisation, period,
                                                                     membership, nurse):
    mine, theirs = _paid_receipt(membership), _paid_receipt(services.create_membership(organisation, nurse, period))
    receipts.generate(mine)
    receipts.generate(theirs)
    login_as("member", user=UserFactory(party_id=membership.party_id))
    assert client.get(f"/o/cpts-test/documents/files/{mine.document.id}").status_code == 200
    assert client.get(f"/o/cpts-test/documents/files/{theirs.document.id}").status_code == 403


def test_a_deposit_slip_is_kept_as_a_document_numbered_as_the_deposit(client, login_as, organisation, membership):
    cheque = services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0012345")
    _db.session.commit()
    login_as("treasurer")
    client.post("/o/cpts-test/membership/cheques", data={"payment_ids": [cheque.id], "deposited_on": "2026-02-03"})
    _db.session.expire_all()
    deposit = _db.session.get(ChequeDeposit, cheque.cheque_deposit_id)
    [document] = _db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.kind == "cheque_deposit_slip"))
    assert (document.subject_type, document.subject_id, document.number) == ("membership_cheque_deposits",
                                                                             deposit.id, "0001")
    assert deposit.number == 1 and document.task_id == deposit.task_id and generated.verify(document)
    page = client.get("/o/cpts-test/membership/cheques").get_data(as_text=True)
    assert f"/o/cpts-test/documents/files/{document.id}" in page and "Bordereau n° 0001" in page
    download = client.get(f"/o/cpts-test/documents/files/{document.id}")
    assert download.status_code == 200 and download.data == document.abspath().read_bytes()
    # Regenerated: a second version, the first one kept.
    client.post(f"/o/cpts-test/membership/cheques/deposits/{deposit.id}/slip")
    versions = generated.versions(organisation, "cheque_deposit_slip", deposit)
    assert [(v.version, v.status) for v in versions] == [(2, DocumentStatus.GENERATED), (1, DocumentStatus.SUPERSEDED)]


def test_deposit_numbers_come_from_the_sequence(organisation, membership):
    first = services.record_payment(membership, "20", "cheque", date(2026, 2, 1), reference="0000001")
    second = services.record_payment(membership, "30", "cheque", date(2026, 2, 2), reference="0000002")
    generated.allocate_number(organisation, "cheque_deposit_slip")  # a number given, then its deposit dropped
    assert deposits.create_cheque_deposit(organisation, [first.id], date(2026, 2, 3)).number == 2
    assert deposits.create_cheque_deposit(organisation, [second.id], date(2026, 2, 3)).number == 3
