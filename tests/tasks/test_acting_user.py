"""A job acts in the name of the user who asked for it: audit rows and ``created_by``."""
import pytest
from sqlalchemy import select

from backoffice.audit.models import AuditEntry
from backoffice.audit.services import acting_user_id, current_actor_id
from backoffice.extensions import db
from backoffice.tasks import services
from backoffice.tasks.models import Task, TaskStatus
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks import jobs_for_tests as jobs
from tests.tasks.conftest import start_and_commit


def _organisation_changes(organisation):
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.table_name == "organisations", AuditEntry.row_id == organisation.id,
        AuditEntry.action == "update")).all()


@pytest.mark.no_db_transaction
def test_a_real_worker_records_the_jobs_changes_in_the_requesters_name(committed, simple_worker):
    organisation = OrganisationFactory(slug="cpts-acteurs", name="CPTS des Marais d'Erdre")
    requester = UserFactory(email="helene.lefevre@example.org", full_name="Hélène Lefèvre")
    db.session.commit()
    task = services.start_task(organisation=organisation, user=requester, kind="test", label="Changement de commune",
                               job=jobs.rename_city, params={"city": "Saint-Étienne-de-Montluc"})
    task_id, requester_id = task.id, requester.id
    db.session.commit()  # the boundary's commit, which enqueues the job
    simple_worker()  # in this process, outside any request: nobody is signed in
    task = db.session.get(Task, task_id)
    assert task.status is TaskStatus.DONE, task.message
    assert task.message == f"acteur {requester_id}"  # what created_by columns get
    [change] = _organisation_changes(task.organisation)
    assert change.after == {"city": "Saint-Étienne-de-Montluc"}
    assert change.user_id == requester_id
    assert acting_user_id.get() is None  # the worker forgets it after the job


def test_a_task_asked_by_nobody_acts_as_the_system(db, organisation):
    task = start_and_commit(organisation=organisation, user=None, kind="test", label="Changement de commune",
                            job=jobs.rename_city, params={"city": "Le Croisic"})
    assert task.status is TaskStatus.DONE and task.message == "acteur None"
    [change] = _organisation_changes(organisation)
    assert change.user_id is None


def test_an_explicit_user_wins(db):
    user = UserFactory()
    db.session.flush()
    assert current_actor_id(user) == user.id
    assert current_actor_id() is None
