"""Membership rows say who made them (``created_by_id``) through ``current_actor_id``: the user
given, else the signed-in one, else the requester of the job running (a receipt batch, a
HelloAsso notification handled by a job), else nobody."""
from datetime import date

from backoffice.audit.services import acting_as
from backoffice.membership import services
from tests.factories import UserFactory


def test_a_payment_recorded_by_a_job_is_the_requesters(membership):
    requester = UserFactory(full_name="Hélène Lefèvre")
    with acting_as(requester.id):
        payment = services.record_payment(membership, "30,00", "transfer", date(2026, 2, 3), reference="ADH26")
    assert payment.created_by_id == requester.id


def test_the_user_given_wins_and_nobody_is_the_system(membership):
    treasurer, requester = UserFactory(), UserFactory()
    with acting_as(requester.id):
        given = services.record_payment(membership, "10,00", "cash", date(2026, 2, 3), user=treasurer)
    assert given.created_by_id == treasurer.id
    system = services.record_payment(membership, "5,00", "cash", date(2026, 2, 4))
    assert system.created_by_id is None
