"""The "Fiches annuaire" end to end: button → task → real worker → ZIP of readable .docx."""
import io
import zipfile

import docx
import pytest

from backoffice.auth.services import grant_role
from backoffice.extensions import db, rq
from backoffice.tasks.models import Task, TaskStatus
from jobs import queue_name
from tests.factories import OrganisationFactory, ProfessionalFactory, SiteFactory, UserFactory
from tests.tasks.conftest import committed, real_jobs, run_worker, simple_worker  # noqa: F401  (fixtures)


def docx_text(data):
    document = docx.Document(io.BytesIO(data))
    return "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])


def sign_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)


@pytest.mark.no_db_transaction
def test_directory_sheets_from_the_button_to_the_zip(committed, run_worker, client):
    org = OrganisationFactory(slug="cpts-fiches", name="CPTS des Fiches", city="Guérande")
    site = SiteFactory(name="MSP de Guérande")
    ProfessionalFactory(first_name="Claire", last_name="Morvan", rpps="10000000008", site=site, phone="+33612345678")
    ProfessionalFactory(first_name="Yann", last_name="Le Goff", profession="medecin_generaliste", commune="La Baule")
    ProfessionalFactory(first_name="Zoé", last_name="Hérault", email=None)
    user = UserFactory()
    grant_role(user, org, "treasurer")
    db.session.commit()
    sign_in(client, user)

    assert "Fiches annuaire" in client.get(f"/o/{org.slug}/documents/").text
    first = client.post(f"/o/{org.slug}/documents/directory-sheets", data={"commune": "", "profession": ""})
    second = client.post(f"/o/{org.slug}/documents/directory-sheets", data={"commune": "", "profession": ""})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # two clicks, one task
    db.session.rollback()
    task = db.session.query(Task).filter_by(organisation_id=org.id).one()
    assert rq.get_queue(queue_name("bulk")).count == 1
    assert task.status is TaskStatus.QUEUED and task.label == "Fiches annuaire"
    assert "Avancement" in client.get(first.headers["Location"]).text

    run_worker()
    task = db.session.get(Task, task.id)
    assert task.status is TaskStatus.DONE, task.message
    assert task.message == "3 fiches annuaire générées."
    assert (task.progress_done, task.progress_total) == (3, 3)
    page = client.get(f"/o/{org.slug}/tasks/{task.id}").text
    assert f"/o/{org.slug}/tasks/{task.id}/download/{task.download_token}" in page
    with client.get(f"/o/{org.slug}/tasks/{task.id}/download/{task.download_token}") as response:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["fiche-Hérault-Zoé.docx", "fiche-Le Goff-Yann.docx", "fiche-Morvan-Claire.docx"]
    claire = docx_text(archive.read("fiche-Morvan-Claire.docx"))
    for expected in ("Fiche annuaire", "Mme Claire Morvan", "Infirmier", "10000000008", "MSP de Guérande",
                     "06 12 34 56 78", "CPTS des Fiches"):
        assert expected in claire
    assert "Médecin généraliste" in docx_text(archive.read("fiche-Le Goff-Yann.docx"))


def test_directory_sheets_filtered_inline(client, login_as, organisation):
    ProfessionalFactory(first_name="Anne", last_name="Guérin", commune="Mayenne")
    ProfessionalFactory(first_name="Paul", last_name="Martin", commune="Guérande")
    login_as("admin")
    response = client.post(f"/o/{organisation.slug}/documents/directory-sheets",
                           data={"commune": "Mayenne", "profession": ""})
    task = db.session.query(Task).one()
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.status is TaskStatus.DONE and task.label == "Fiches annuaire (Mayenne)"
    archive = zipfile.ZipFile(task.result_abspath())
    assert archive.namelist() == ["fiche-Guérin-Anne.docx"]


def test_no_professional_fails_in_french(client, login_as, organisation):
    login_as("treasurer")
    client.post(f"/o/{organisation.slug}/documents/directory-sheets", data={"commune": "", "profession": ""})
    task = db.session.query(Task).one()
    assert task.status is TaskStatus.FAILED
    assert task.message.startswith("Aucun professionnel dans l'annuaire")


def test_unknown_choice_is_refused(client, login_as, organisation):
    login_as("treasurer")
    response = client.post(f"/o/{organisation.slug}/documents/directory-sheets", data={"commune": "Atlantis"})
    assert response.status_code == 422
    assert db.session.query(Task).count() == 0


@pytest.mark.parametrize("role,status", [("admin", 200), ("treasurer", 200), ("board", 403), ("accountant", 403),
                                         ("member", 403)])
def test_documents_page_permissions(client, login_as, organisation, role, status):
    login_as(role)
    assert client.get(f"/o/{organisation.slug}/documents/").status_code == status
