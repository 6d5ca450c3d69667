"""Uploads checked by content, the convention issued by a job as a durable document, its signature."""
from datetime import date
from decimal import Decimal

import docx
import pytest
from sqlalchemy import select

from backoffice.documents import generated
from backoffice.extensions import db
from backoffice.grants import agreements, attachments, services
from backoffice.grants.models import AttachmentKind, GrantStatus
from backoffice.grants.services import GrantError
from backoffice.tasks.models import Task
from tests.factories import UserFactory
from tests.grants.factories import submitted

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40


@pytest.mark.parametrize("filename, data, content_type, stored_as", [
    ("devis.pdf", PDF, "application/pdf", "devis.pdf"),
    ("photo du devis.JPG", JPEG, "image/jpeg", "photo du devis.JPG"),
    ("capture", PNG, "image/png", "capture.png"),
    ("devis.docx", PDF, "application/pdf", "devis.docx.pdf"),  # the content decides, not the name
])
def test_accepted_files(organisation, programme, filename, data, content_type, stored_as):
    application = submitted(organisation, programme)
    row = attachments.add_attachment(application, AttachmentKind.QUOTE, filename, data)
    assert (row.content_type, row.filename, row.size) == (content_type, stored_as, len(data))
    path = attachments.path_of(row)
    assert path.read_bytes() == data and path.parent.parent.name == str(organisation.id)


@pytest.mark.parametrize("filename, data, message", [
    ("devis.pdf", b"<html>pas un pdf</html>", "« devis.pdf » n'est ni un PDF, ni une image JPEG ou PNG."),
    ("vide.pdf", b"", "Le fichier est vide."),
    ("enorme.pdf", PDF + b"0" * 2048, "Fichier trop volumineux"),
])
def test_refused_files(app, organisation, programme, monkeypatch, filename, data, message):
    monkeypatch.setitem(app.config, "GRANTS_MAX_UPLOAD_BYTES", 1024)
    application = submitted(organisation, programme)
    with pytest.raises(GrantError, match=message):
        attachments.add_attachment(application, AttachmentKind.QUOTE, filename, data)
    assert application.attachments == []


def test_required_quote_blocks_submission(organisation):
    from tests.grants.factories import application, dermatoscope_programme

    programme = dermatoscope_programme(organisation, required_documents={"quote": "submitted"})
    row = application(organisation, programme)
    with pytest.raises(GrantError, match="Pièce manquante : devis."):
        services.submit(row, on=date(2026, 3, 2))
    attachments.add_attachment(row, AttachmentKind.QUOTE, "devis.pdf", PDF)
    services.submit(row, on=date(2026, 3, 2))
    assert row.status is GrantStatus.SUBMITTED


def _issue(app, organisation, application, user=None):
    from backoffice.tasks.services import start_task
    from jobs.grants import grant_agreement

    task = start_task(organisation=organisation, user=user, kind="grants.agreement", label="Convention",
                      job=grant_agreement, params={"application_id": application.id})
    db.session.commit()  # the job is handed over after the commit (inline in tests)
    db.session.expire_all()
    return db.session.get(Task, task.id)


def _text(document):
    return "\n".join(p.text for p in docx.Document(str(document.abspath())).paragraphs)


def test_agreement_issued_by_a_job_then_reissued(app, organisation, programme):
    application = submitted(organisation, programme)
    services.approve(application, Decimal("550.00"), on=date(2026, 4, 7))
    task = _issue(app, organisation, application)
    assert task.status.value == "done", task.message
    assert application.status is GrantStatus.AGREEMENT_ISSUED
    first = agreements.current_agreement(application)
    text = _text(first)
    assert "550,00\u00a0€, soit cinq cent cinquante euros" in text
    assert "RPPS" not in text or application.applicant.rpps in text
    assert first.number == "2026-0001" and generated.verify(first)
    assert task.message == "Convention n° 2026-0001 (version 1) émise."
    task = _issue(app, organisation, application)
    second = agreements.current_agreement(application)
    assert (second.version, second.number) == (2, "2026-0001")
    assert [(d.version, d.status.value) for d in agreements.agreement_versions(application)] == [
        (2, "generated"), (1, "superseded")]
    assert first.abspath().is_file() and generated.verify(first)


def test_agreement_refused_before_approval(app, organisation, programme):
    application = submitted(organisation, programme)
    task = _issue(app, organisation, application)
    assert task.status.value == "failed" and "Pas de convention à émettre" in task.message


def test_online_signature_records_click_ip_and_fingerprint(app, organisation, programme):
    application = submitted(organisation, programme)
    services.approve(application)
    _issue(app, organisation, application)
    stranger = UserFactory()
    with pytest.raises(GrantError, match="Seul le bénéficiaire"):
        agreements.sign_online(application, stranger, "203.0.113.9")
    member = UserFactory(party_id=application.applicant_id)
    agreements.sign_online(application, member, "203.0.113.7")
    document = agreements.current_agreement(application)
    assert application.status is GrantStatus.AGREEMENT_SIGNED and application.signature_method == "online"
    assert (application.signed_ip, application.signed_sha256) == ("203.0.113.7", document.sha256)
    assert document.status.value == "signed" and application.signed_by_id == member.id


def test_signature_by_scan(app, organisation, programme):
    application = submitted(organisation, programme)
    services.approve(application)
    _issue(app, organisation, application)
    agreements.sign_by_scan(application, "convention signée.pdf", PDF)
    scan = application.attachments_of(AttachmentKind.SIGNED_AGREEMENT)[0]
    assert application.status is GrantStatus.AGREEMENT_SIGNED and application.signed_sha256 == scan.sha256
    with pytest.raises(GrantError, match="ne peut pas être signée"):
        agreements.sign_by_scan(application, "encore.pdf", PDF)


def _issue_all(organisation, programme, user=None):
    from backoffice.tasks.services import start_task
    from jobs.grants import grant_agreements

    task = start_task(organisation=organisation, user=user, kind="grants.agreements", label="Conventions",
                      job=grant_agreements, params={"programme_id": programme.id})
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Task, task.id)


def test_the_conventions_of_a_committee_issued_in_one_job(app, organisation, programme):
    """After the committee: one job issues the conventions of the approved applications that have
    none, numbered in order, each its own durable document, all in one ZIP; the application issued
    already, the submitted one and the rejected one are left alone."""
    import hashlib
    import io
    import zipfile

    approved = [submitted(organisation, programme) for _ in range(3)]
    for application, amount in zip(approved, ("600,00", "480,00", "550,00")):
        services.approve(application, amount, on=date(2026, 4, 7))
    issued_before = submitted(organisation, programme)
    services.approve(issued_before, on=date(2026, 4, 7))
    agreements.issue_agreement(issued_before)
    waiting = submitted(organisation, programme)
    rejected = submitted(organisation, programme)
    services.reject(rejected, "Matériel hors programme")
    task = _issue_all(organisation, programme)
    assert task.status.value == "done", task.message
    assert task.message == "3 convention(s) émise(s)."
    documents = [agreements.current_agreement(a) for a in approved]
    assert [d.number for d in documents] == ["2026-0002", "2026-0003", "2026-0004"]
    assert all(a.status is GrantStatus.AGREEMENT_ISSUED for a in approved)
    assert "480,00\u00a0€, soit quatre cent quatre-vingts euros" in _text(documents[1])
    assert approved[1].applicant.display_name in _text(documents[1])
    assert [d.version for d in agreements.agreement_versions(issued_before)] == [1]
    assert (waiting.status, rejected.status) == (GrantStatus.SUBMITTED, GrantStatus.REJECTED)
    from backoffice.mail.models import OutgoingMail

    told = db.session.scalars(select(OutgoingMail.recipient).where(
        OutgoingMail.subject.startswith("Votre convention d'attribution est prête à signer"))).all()
    assert sorted(told) == sorted(a.applicant.email for a in approved + [issued_before])
    with zipfile.ZipFile(io.BytesIO(task.result_abspath().read_bytes())) as archive:
        assert archive.namelist() == [f"convention-{a.reference.lower()}.docx" for a in approved]
        assert [hashlib.sha256(archive.read(n)).hexdigest() for n in archive.namelist()] == [
            d.sha256 for d in documents]
    again = _issue_all(organisation, programme)
    assert again.status.value == "failed" and "Aucune aide accordée n'attend sa convention" in again.message
