"""The Word report through a real RQ worker, committed data: the programme page's button starts
one task (two clicks, one task), the page says it is being prepared, the worker writes the
durable document with its progress, and the programme page then links it."""
from datetime import date

import pytest
from sqlalchemy import select

from backoffice.auth.services import grant_role
from backoffice.extensions import db, rq
from backoffice.grants import reports, services
from backoffice.grants.models import GrantFollowUp
from backoffice.tasks.models import Task, TaskStatus
from jobs import queue_name
from tests.accounting.test_closing_job import committed_everything  # noqa: F401  (fixture)
from tests.factories import OrganisationFactory, UserFactory
from tests.grants.factories import dermatoscope_programme, submitted
from tests.tasks.conftest import real_jobs, simple_worker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.no_db_transaction


@pytest.fixture
def programme(committed_everything):  # noqa: F811
    organisation = OrganisationFactory(slug="cpts-rapport", name="CPTS du Rapport")
    programme = dermatoscope_programme(organisation)
    application = submitted(organisation, programme)
    services.approve(application, on=date(2026, 4, 7))
    db.session.add(GrantFollowUp(application=application, year=2026, quarter=2, screenings=18, referrals=2))
    treasurer = UserFactory()
    grant_role(treasurer, organisation, "treasurer")
    db.session.commit()
    return programme, treasurer


def test_the_word_report_in_a_real_worker(programme, simple_worker, client):  # noqa: F811
    programme, treasurer = programme
    with client.session_transaction() as session:
        session["_user_id"] = str(treasurer.id)
    base = f"/o/{programme.organisation.slug}/aides/programmes/{programme.id}"
    first = client.post(base + "/rapport", data={"file_format": "docx"})
    second = client.post(base + "/rapport", data={"file_format": "docx"})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]                  # two clicks, one task
    assert rq.get_queue(queue_name("default")).count == 1
    assert "Rapport Word en préparation" in client.get(base).text
    simple_worker()
    db.session.rollback()
    task = db.session.scalar(select(Task).where(Task.organisation_id == programme.organisation_id,
                                                Task.kind == "grants.report"))
    assert task.status is TaskStatus.DONE, task.message
    assert (task.progress_done, task.progress_total) == (2, 2) and "version 1" in task.message
    document = reports.current_report(programme)
    page = client.get(base).text
    assert "Rapport Word en préparation" not in page and f"/documents/files/{document.id}" in page
    assert client.get(f"/o/{programme.organisation.slug}/documents/files/{document.id}").status_code == 200
