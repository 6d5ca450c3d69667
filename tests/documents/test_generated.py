"""Durable documents: numbers, versions, fingerprints, storage outside task results, downloads."""
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.documents import generated
from backoffice.documents.errors import DocumentError
from backoffice.documents.models import DocumentSequence, DocumentStatus, GeneratedDocument
from backoffice.extensions import db as _db
from backoffice.lifecycle import LifecycleError, all_transitions, forbidden_transitions, history
from tests.factories import ProfessionalFactory
from tests.tasks.conftest import start_and_commit

RECEIPT, SLIP, SHEET = "membership_receipt", "cheque_deposit_slip", "directory_sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _issue(organisation, subject, data=b"PK attestation de L\xc3\xa9a", kind=RECEIPT, **kwargs):
    kwargs.setdefault("filename", "attestation-adhésion.docx")
    return generated.issue_document(organisation, kind, subject, data, **kwargs)


# --- numbers --------------------------------------------------------------------------------

def test_numbers_follow_each_other_per_organisation_kind_and_year(organisation, other_organisation):
    labels = [generated.allocate_number(organisation, RECEIPT, year=2026).label for _ in range(3)]
    assert labels == ["2026-0001", "2026-0002", "2026-0003"]
    assert generated.allocate_number(organisation, RECEIPT, year=2027).label == "2027-0001"  # a new year restarts
    assert generated.allocate_number(other_organisation, RECEIPT, year=2026).label == "2026-0001"
    slip = generated.allocate_number(organisation, SLIP, year=2026)  # not per year: the year is ignored
    assert (slip.year, slip.value, slip.label) == (None, 1, "0001")
    assert generated.allocate_number(organisation, SLIP).label == "0002"
    assert _db.session.get(DocumentSequence, (organisation.id, SLIP, 0)).last_number == 2


def test_a_block_of_numbers_continues_the_sequence_without_a_gap(organisation):
    generated.allocate_number(organisation, RECEIPT, year=2026)
    block = generated.allocate_numbers(organisation, RECEIPT, 3, year=2026)
    assert [n.label for n in block] == ["2026-0002", "2026-0003", "2026-0004"]
    assert generated.allocate_numbers(organisation, RECEIPT, 0, year=2026) == []
    assert generated.allocate_number(organisation, RECEIPT, year=2026).label == "2026-0005"


def test_first_documents_of_many_subjects_at_once_are_those_issued_one_by_one(organisation, tmp_path):
    """The batch path keeps the same rows, files, fingerprints and history as ``issue_document``."""
    from backoffice.organisations.storage import synced_at_end

    people = [ProfessionalFactory() for _ in range(3)]
    _db.session.flush()
    assert generated.subjects_with_versions(organisation, RECEIPT, people) == set()
    single = _issue(organisation, people[0])
    assert generated.subjects_with_versions(organisation, RECEIPT, people) == {people[0].id}
    numbers = generated.allocate_numbers(organisation, RECEIPT, 2, year=2026)
    with synced_at_end():
        batch = generated.issue_first_documents(organisation, RECEIPT, [
            (party, f"PK attestation {n.label}".encode(), f"attestation-{party.id}.docx", n.label)
            for party, n in zip(people[1:], numbers)], mimetype=DOCX)
    assert [(d.version, d.number, d.status) for d in batch] == [
        (1, "2026-0002", DocumentStatus.GENERATED), (1, "2026-0003", DocumentStatus.GENERATED)]
    assert all(generated.verify(d) and d.abspath().read_bytes().startswith(b"PK attestation") for d in batch)
    assert [c.to_status for c in history(batch[0])] == [c.to_status for c in history(single)] == ["generated"]
    assert generated.current_documents(organisation, RECEIPT, people) == {
        people[0].id: single, people[1].id: batch[0], people[2].id: batch[1]}


def test_a_rolled_back_number_is_given_again(organisation):
    generated.allocate_number(organisation, RECEIPT, year=2026)
    with pytest.raises(RuntimeError):
        with _db.session.begin_nested():
            assert generated.allocate_number(organisation, RECEIPT, year=2026).value == 2
            raise RuntimeError("la transaction échoue")
    assert generated.allocate_number(organisation, RECEIPT, year=2026).value == 2


def test_unnumbered_kind_refuses_a_number(organisation):
    with pytest.raises(DocumentError, match="ne sont pas numérotés"):
        generated.allocate_number(organisation, SHEET)
    document = _issue(organisation, ("parties", 1), kind=SHEET, filename="fiche-Le Goff-Léa.docx")
    assert document.number is None


def test_unknown_kind_is_refused_in_french(organisation):
    with pytest.raises(DocumentError, match="Type de document inconnu : procès_verbal"):
        generated.request_document(organisation, "procès_verbal", ("assemblies", 1))


# --- versions -------------------------------------------------------------------------------

def test_reissuing_supersedes_and_keeps_the_number_and_the_old_file(organisation):
    member = ProfessionalFactory(last_name="Le Floch", first_name="Anne")
    first = _issue(organisation, member, b"version 1", year=2026)
    second = _issue(organisation, member, b"version 2 corrig\xc3\xa9e", year=2026)
    assert (first.version, second.version) == (1, 2)
    assert first.number == second.number == "2026-0001"
    assert first.status is DocumentStatus.SUPERSEDED and first.superseded_by_id == second.id
    assert first.superseded_at is not None
    assert second.status is DocumentStatus.GENERATED
    assert first.abspath() != second.abspath()
    assert first.abspath().read_bytes() == b"version 1"  # never overwritten
    assert generated.current_document(organisation, RECEIPT, member).id == second.id
    assert [d.version for d in generated.versions(organisation, RECEIPT, member)] == [2, 1]
    # Another subject gets the next number.
    assert _issue(organisation, ProfessionalFactory(), year=2026).number == "2026-0002"


def test_a_pending_version_is_asked_once_and_a_failed_one_is_asked_again(organisation):
    subject = ("assemblies", 12)
    pending = generated.request_document(organisation, RECEIPT, subject, year=2026)
    assert pending.status is DocumentStatus.PENDING and pending.number == "2026-0001"
    assert generated.request_document(organisation, RECEIPT, subject, year=2026).id == pending.id
    generated.fail_document(pending, "Le modèle est cassé.")
    assert pending.status is DocumentStatus.FAILED and pending.message == "Le modèle est cassé."
    assert generated.current_document(organisation, RECEIPT, subject) is None
    again = generated.request_document(organisation, RECEIPT, subject, year=2026)
    assert again.id == pending.id and again.status is DocumentStatus.PENDING and again.message is None
    generated.store_document(again, b"enfin", filename="attestation.docx")
    assert generated.current_document(organisation, RECEIPT, subject).id == pending.id
    assert _db.session.get(DocumentSequence, (organisation.id, RECEIPT, 2026)).last_number == 1


def test_signing_then_reissuing(organisation, login_as):
    user = login_as("treasurer")
    document = _issue(organisation, ("grant_applications", 3))
    generated.mark_signed(document, by=user)
    assert document.status is DocumentStatus.SIGNED and document.signed_by_id == user.id
    assert generated.current_document(organisation, RECEIPT, ("grant_applications", 3)).id == document.id
    corrected = _issue(organisation, ("grant_applications", 3), b"convention corrig\xc3\xa9e")
    assert document.status is DocumentStatus.SUPERSEDED and corrected.is_current


def test_forbidden_moves_are_refused_in_french(organisation):
    document = _issue(organisation, ("assemblies", 1))
    generated.supersede(document)
    with pytest.raises(LifecycleError, match="Impossible de passer le document de « Remplacé » à « Signé »"):
        generated.mark_signed(document)
    with pytest.raises(DocumentError, match="n'est pas en préparation"):
        generated.store_document(document, b"x", filename="x.docx")


def test_every_move_is_recorded(organisation):
    document = generated.request_document(organisation, RECEIPT, ("assemblies", 4), year=2026)
    generated.fail_document(document, "LibreOffice ne répond pas.")
    generated.request_document(organisation, RECEIPT, ("assemblies", 4), year=2026)
    generated.store_document(document, b"PK", filename="attestation.docx")
    assert [(c.from_status, c.to_status, c.reason) for c in history(document)] == [
        ("pending", "failed", "LibreOffice ne répond pas."), ("failed", "pending", None), ("pending", "generated", None)]


def test_the_lifecycle_table():
    from backoffice.documents.models import DOCUMENT_LIFECYCLE

    allowed = {(s.value, t.value) for s, t in all_transitions(DOCUMENT_LIFECYCLE)}
    assert allowed == {("pending", "generated"), ("pending", "failed"), ("failed", "pending"),
                       ("generated", "signed"), ("generated", "superseded"), ("signed", "superseded")}
    assert ("superseded", "generated") in {(s.value, t.value) for s, t in forbidden_transitions(DOCUMENT_LIFECYCLE)}


def test_one_current_version_is_enforced_by_the_database(organisation):
    from sqlalchemy.exc import IntegrityError

    document = _issue(organisation, ("assemblies", 2))
    twin = GeneratedDocument(organisation_id=organisation.id, kind=RECEIPT, subject_type="assemblies", subject_id=2,
                             version=2, number=document.number, status=DocumentStatus.GENERATED,
                             path=document.path, sha256=document.sha256)
    with pytest.raises(IntegrityError), _db.session.begin_nested():
        _db.session.add(twin)
        _db.session.flush()


# --- files ----------------------------------------------------------------------------------

def test_the_stored_fingerprint_is_the_file_s(organisation, app):
    data = "Attestation n° 2026-0001 — Léa Le Goff, 35,00 €".encode()
    document = _issue(organisation, ("memberships", 5), data, filename="attestation-2026-0001.docx")
    path = document.abspath()
    assert document.sha256 == hashlib.sha256(data).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert document.size == len(data) and document.mimetype == DOCX
    storage = Path(app.config["STORAGE_DIR"])
    assert path.parent == storage / str(organisation.id) / "documents" / RECEIPT
    assert generated.verify(document)
    path.write_bytes(data.replace(b"35,00", b"85,00"))  # altered on disk
    assert not generated.verify(document)
    path.unlink()
    assert not generated.verify(document)


def test_documents_survive_task_result_expiry(organisation, app):
    from backoffice.models import utcnow
    from backoffice.tasks.models import TaskStatus
    from backoffice.tasks.services import expire_results
    from tests.documents.jobs_for_tests import issue_a_receipt

    task = start_and_commit(organisation=organisation, user=None, kind="tests.document", label="Attestation",
                            job=issue_a_receipt, params={})
    assert task.status is TaskStatus.DONE, task.message
    document = _db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.task_id == task.id))
    assert document is not None and document.created_by_id is None
    task.finished_at = utcnow() - timedelta(days=app.config["TASK_RESULT_DAYS"] + 1)
    _db.session.flush()
    assert expire_results() == 1
    assert task.status is TaskStatus.EXPIRED and task.result_abspath() is None
    assert document.abspath().is_file() and generated.verify(document)


def test_a_document_made_by_a_job_names_who_asked_for_it(organisation, login_as):
    from tests.documents.jobs_for_tests import issue_a_receipt

    treasurer = login_as("treasurer")
    task = start_and_commit(organisation=organisation, user=treasurer, kind="tests.document", label="Attestation",
                            job=issue_a_receipt, params={})
    document = _db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.task_id == task.id))
    assert document.created_by_id == treasurer.id and document.task_id == task.id


def test_a_failed_job_leaves_no_document_file(organisation, app):
    from backoffice.tasks.models import TaskStatus
    from tests.documents.jobs_for_tests import issue_then_fail

    task = start_and_commit(organisation=organisation, user=None, kind="tests.document", label="Attestation",
                            job=issue_then_fail, params={})
    assert task.status is TaskStatus.FAILED
    assert _db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.task_id == task.id)) is None
    folder = Path(app.config["STORAGE_DIR"]) / str(organisation.id) / "documents"
    assert not [p for p in folder.rglob("*") if p.is_file()]


# --- downloads ------------------------------------------------------------------------------

def _url(document):
    return f"/o/{document.organisation.slug}/documents/files/{document.id}"


@pytest.fixture
def receipt_document(organisation):
    return _issue(organisation, ("memberships", 999_999), "Attestation — Hervé L'Hôte".encode(),
                  filename="attestation-adhésion-2026-0001.docx")


@pytest.mark.parametrize("role", ["treasurer", "admin", "board"])
def test_staff_download_a_receipt(client, login_as, receipt_document, role):
    login_as(role)
    response = client.get(_url(receipt_document))
    assert response.status_code == 200
    assert response.data == "Attestation — Hervé L'Hôte".encode()
    assert "attestation-adh%C3%A9sion-2026-0001.docx" in response.headers["Content-Disposition"]


def test_download_is_refused_without_the_kind_s_permission(client, login_as, receipt_document, organisation):
    login_as("accountant")
    assert client.get(_url(receipt_document)).status_code == 403
    slip = _issue(organisation, ("membership_cheque_deposits", 4), kind=SLIP, filename="bordereau.docx")
    login_as("board")  # membership.view, not membership.manage
    assert client.get(_url(slip)).status_code == 403
    login_as("treasurer")
    assert client.get(_url(slip)).status_code == 200


def test_another_organisation_gets_404(client, login_as, receipt_document, other_organisation):
    login_as("treasurer", org=other_organisation)
    assert client.get(_url(receipt_document)).status_code == 404
    # Its own organisation's address with the other's document id: 404 too.
    assert client.get(f"/o/{other_organisation.slug}/documents/files/{receipt_document.id}").status_code == 404
    login_as(None)
    response = client.get(_url(receipt_document))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_pending_version_or_a_missing_file_is_404(client, login_as, organisation, receipt_document):
    login_as("treasurer")
    pending = generated.request_document(organisation, RECEIPT, ("memberships", 1), year=2026)
    assert client.get(_url(pending)).status_code == 404
    receipt_document.abspath().unlink()
    assert client.get(_url(receipt_document)).status_code == 404
