"""Receipts (attestations d'adhésion): produced when a membership becomes paid, mailed once,
downloadable by the member and the treasurer, regenerated in bulk as a ZIP."""
import html
import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.member_portal.models import MembershipReceipt, ReceiptStatus
from backoffice.membership import receipts, services
from backoffice.models import utcnow
from backoffice.tasks.models import Task, TaskStatus
from tests.factories import ProfessionalFactory, StructureFactory
from tests.tasks.conftest import real_jobs  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _storage(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))


def document_text(data):
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    return html.unescape(re.sub(r"<[^>]+>", "", xml))


def pay(membership, amount=None, method="transfer", **kwargs):
    return services.record_payment(membership, amount or membership.balance, method, date(2026, 2, 14),
                                   reference=kwargs.pop("reference", "VIR-0214"), **kwargs)


def test_becoming_paid_asks_for_a_numbered_receipt(organisation, period, membership, nurse):
    pay(membership)
    receipt = receipts.receipt_of(membership)
    assert (receipt.number, receipt.status, receipt.mail_wanted) == ("2026-0001", ReceiptStatus.PENDING, True)
    other = services.create_membership(organisation, nurse, period)
    pay(other, Decimal("10.00"))
    assert receipts.receipt_of(other) is None  # partially paid: no receipt
    pay(other)
    assert receipts.receipt_of(other).number == "2026-0002"
    assert len(receipts.receipt_of(other).token) >= 40


def test_context_follows_the_documents_contract(organisation, membership):
    from backoffice.documents.samples import MEMBERSHIP_RECEIPT_VARIABLES

    organisation.address, organisation.city = "12 rue des Forges", "Guérande"
    pay(membership)
    context = receipts.receipt_context(membership, receipts.receipt_of(membership), issued_on=date(2026, 3, 1))
    assert set(context) == MEMBERSHIP_RECEIPT_VARIABLES
    assert context["member"] == {"civility": "Mme", "first_name": "Anne", "last_name": "Le Floch"}
    assert context["amount"] == Decimal("50.00") and context["category"] == "Médecin"
    assert context["payment"] == {"date": date(2026, 2, 14), "method": "virement", "reference": "VIR-0214"}
    assert context["organisation"]["siren"] == "812 345 676"
    assert context["organisation"]["address"] == "12 rue des Forges\n44350 Guérande"


def test_the_receipt_is_signed_by_the_treasurer_of_its_day(organisation, membership):
    from backoffice.organisations.affiliations import Role, affiliate
    from tests.factories import ProfessionalFactory

    affiliate(ProfessionalFactory(first_name="Claire", last_name="Morvan", civility="Mme"), organisation,
              Role.TREASURER, starts_on=date(2024, 9, 14))
    affiliate(ProfessionalFactory(first_name="Loïc", last_name="Guérin", civility="M."), organisation,
              Role.TREASURER, starts_on=date(2026, 6, 8))
    pay(membership)
    receipt = receipts.receipt_of(membership)
    signed = {day: receipts.receipt_context(membership, receipt, issued_on=day)["treasurer"]["name"]
              for day in (date(2026, 3, 1), date(2026, 6, 8))}
    assert signed == {date(2026, 3, 1): "Mme Claire MORVAN", date(2026, 6, 8): "M. Loïc GUÉRIN"}


def test_structure_receipt_names_the_structure(organisation, period):
    clinic = StructureFactory(name="EHPAD Les Mimosas & Fils")
    membership = services.create_membership(organisation, clinic, period)
    pay(membership)
    receipt = receipts.receipt_of(membership)
    text = document_text(receipts.generate(receipt))
    assert "EHPAD Les Mimosas & Fils" in text and "Attestation d'adhésion" in text
    assert "Reçu n° 2026-0001" in text and "20,00" in text  # a first membership: the first-year rate


def test_payment_through_a_view_produces_and_mails_the_receipt(client, organisation, membership, login_as, outbox):
    _db.session.commit()
    login_as("treasurer")
    client.post(f"/o/cpts-test/membership/members/{membership.id}/payments", data={
        "amount": "50", "method": "transfer", "paid_on": "2026-02-14", "reference": "VIR-0214", "form_key": "k1"})
    receipt = receipts.receipt_of(membership)
    assert receipt.status is ReceiptStatus.READY and receipts.absolute_path(receipt).is_file()
    task = _db.session.scalar(select(Task).where(Task.kind == "membership.receipt"))
    assert task.status is TaskStatus.DONE and receipt.task_id == task.id
    [mail] = outbox(membership.party.email)
    assert mail.subject == "Votre attestation d'adhésion 2026 — CPTS de Test"
    assert "[pièce jointe : attestation-adhesion-2026-0001.docx]" in mail.body
    assert receipt.mailed_to == membership.party.email
    # the treasurer downloads it from the member page
    page = client.get(f"/o/cpts-test/membership/members/{membership.id}").get_data(as_text=True)
    assert "Télécharger l&#39;attestation" in page or "Télécharger l'attestation" in page
    download = client.get(f"/o/cpts-test/membership/members/{membership.id}/attestation")
    assert download.status_code == 200 and "Le Floch" in document_text(download.data)


def test_mail_goes_once_even_when_paid_again(client, organisation, membership, login_as, outbox):
    _db.session.commit()
    login_as("treasurer")
    form = {"amount": "50", "method": "transfer", "paid_on": "2026-02-14", "reference": "VIR-0214"}
    client.post(f"/o/cpts-test/membership/members/{membership.id}/payments", data=dict(form, form_key="k1"))
    payment = membership.payments[0]
    client.post(f"/o/cpts-test/membership/payments/{payment.id}/reverse", data={"reason": "erreur", "form_key": "r1"})
    client.post(f"/o/cpts-test/membership/members/{membership.id}/payments", data=dict(form, form_key="k2"))
    assert len(outbox(membership.party.email)) == 1
    assert receipts.receipt_of(membership).number == "2026-0001"
    assert _db.session.scalar(select(func.count()).select_from(MembershipReceipt)) == 1


def test_outside_a_request_the_periodic_job_starts_pending_receipts(organisation, membership, outbox):
    pay(membership)
    _db.session.commit()
    assert _db.session.scalar(select(func.count()).select_from(Task)) == 0
    assert receipts.start_pending() == []  # too recent: the request that paid may still start it
    started = receipts.start_pending(now=utcnow() + timedelta(minutes=5))
    _db.session.commit()  # the periodic job's commit: the tasks run after it
    assert [t.status for t in started] == [TaskStatus.DONE]
    assert receipts.receipt_of(membership).status is ReceiptStatus.READY
    assert receipts.start_pending(now=utcnow() + timedelta(minutes=5)) == []


def test_receipt_of_a_membership_no_longer_paid_fails_the_task_in_french(organisation, membership):
    payment = pay(membership)
    receipt = receipts.receipt_of(membership)
    services.reverse_payment(payment, reason="chèque sans provision")
    _db.session.commit()
    task = receipts.start_receipt_task(receipt)
    _db.session.commit()
    assert task.status is TaskStatus.FAILED and "n'est plus payée" in task.message


def test_demo_memberships_get_no_receipt(organisation, period, physician):
    demo = services.create_membership(organisation, physician, period, source="demo")
    pay(demo)
    assert receipts.receipt_of(demo) is None


def test_treasurer_regenerates_and_board_downloads(client, organisation, membership, login_as, other_organisation):
    pay(membership)
    _db.session.commit()
    login_as("treasurer")
    response = client.post(f"/o/cpts-test/membership/members/{membership.id}/attestation")
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    login_as("board")
    assert client.get(f"/o/cpts-test/membership/members/{membership.id}/attestation").status_code == 200
    assert client.post(f"/o/cpts-test/membership/members/{membership.id}/attestation").status_code == 403
    login_as("treasurer", org=other_organisation)
    assert client.get(f"/o/cpts-autre/membership/members/{membership.id}/attestation").status_code == 404


def test_bulk_regeneration_of_a_period_as_a_zip(client, organisation, period, login_as, outbox):
    members = [services.create_membership(organisation, ProfessionalFactory(email=None), period) for _ in range(3)]
    for m in members[:2]:
        pay(m)
    _db.session.commit()
    login_as("treasurer")
    page = html.unescape(client.get("/o/cpts-test/membership/attestations").get_data(as_text=True))
    assert "2026 : 2 adhésions payées" in page
    response = client.post("/o/cpts-test/membership/attestations", data={"period_id": period.id})
    task = _db.session.scalar(select(Task).where(Task.kind == "membership.receipts"))
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.status is TaskStatus.DONE and task.percent == 100
    archive = zipfile.ZipFile(task.result_abspath())
    assert sorted(archive.namelist()) == ["attestation-adhesion-2026-0001.docx", "attestation-adhesion-2026-0002.docx"]
    assert all(receipts.receipt_of(m).status is ReceiptStatus.READY for m in members[:2])


def test_bulk_regeneration_of_an_empty_period_says_so(organisation, period):
    from backoffice.tasks.services import start_task
    from jobs.membership_member import regenerate_receipts

    task = start_task(organisation=organisation, user=None, kind="membership.receipts", label="x",
                      job=regenerate_receipts, params={"period_id": period.id})
    _db.session.commit()
    assert task.status is TaskStatus.FAILED and "Aucune adhésion payée pour 2026" in task.message


def test_with_a_worker_the_receipt_job_is_enqueued_after_the_commit(client, organisation, membership, login_as,
                                                                    real_jobs):
    from rq.job import Job

    from backoffice.tasks.services import redis_connection

    _db.session.commit()
    login_as("treasurer")
    client.post(f"/o/cpts-test/membership/members/{membership.id}/payments", data={
        "amount": "50", "method": "cheque", "paid_on": "2026-02-14", "reference": "0012345", "form_key": "k1"})
    task = _db.session.scalar(select(Task).where(Task.kind == "membership.receipt"))
    assert task.status is TaskStatus.QUEUED and task.params == {"receipt_id": receipts.receipt_of(membership).id}
    job = Job.fetch(task.rq_job_id, connection=redis_connection())
    assert job.args == (task.id,) and job.origin.endswith("-default")
    assert receipts.receipt_of(membership).status is ReceiptStatus.PENDING  # the worker has not run yet
