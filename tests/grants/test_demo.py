"""The demo's in-kind programme: one dermatoscope of the Pays Blanc lent to a practice, with its
custody convention, its purchase and payment in the books; a second seed adds nothing."""
from sqlalchemy import func, select

from backoffice import demo
from backoffice.extensions import db
from backoffice.grants import custody, devices
from backoffice.grants.models import DeviceStatus, GrantDevice
from backoffice.organisations.models import Organisation


def test_the_demo_lends_a_device_in_kind_with_its_convention(monkeypatch):
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    pays_blanc = db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-pays-blanc"))
    [device] = devices.devices(pays_blanc)
    assert device.status is DeviceStatus.LENT and device.programme.in_kind and device.paid_on is not None
    holder = device.current_custody
    assert holder.site is not None and holder.application.status.value == "approved"
    document = custody.current_custody_agreement(holder)
    assert document is not None and document.is_stored and document.sha256
    demo.seed()
    assert db.session.scalar(select(func.count()).select_from(GrantDevice)) == 1


def test_the_demo_beneficiaries_to_pay_have_bank_details_and_one_transfer_file_pays_them(monkeypatch):
    from datetime import date

    from lxml import etree

    from backoffice.grants import attachments, payments
    from backoffice.grants.demo import PDF
    from backoffice.grants.models import AttachmentKind, GrantStatus

    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    pays_blanc = db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-pays-blanc"))
    payable = payments.payable(pays_blanc)
    assert len(payable) >= 2 and all(details is not None for _, details in payable)
    for application, _ in payable:  # the invoices arrive, as the programme requires before paying
        attachments.add_attachment(application, AttachmentKind.INVOICE, "facture.pdf", PDF)
    xml, paid = payments.transfer_file(pays_blanc, [a.id for a, _ in payable], date(2026, 12, 10))
    ibans = {node.text for node in etree.fromstring(xml).iter("{*}IBAN")}
    assert {details.iban for _, details in payable} <= ibans
    assert {a.status for a in paid} == {GrantStatus.PAID}
