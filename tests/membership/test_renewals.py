"""Renewing last period's members in one action: who is proposed, with which category, and the
job that creates them all or none."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.membership import services
from backoffice.membership.errors import MembershipError
from backoffice.membership.models import CategoryKind, Membership, MembershipStatus
from backoffice.tasks.models import Task, TaskStatus
from tests.factories import ProfessionalFactory, StructureFactory
from tests.membership.test_views_money import flashes

BASE = "/o/cpts-test/membership"


@pytest.fixture
def last_year(organisation, period):
    """2025 with its grid, and its members: who renews, who does not, who already did."""
    before = services.period_for_year(organisation, 2025)
    grid = {}
    for label, amount, kind in [("Médecin", "45.00", CategoryKind.PHYSICIAN),
                                ("Autre professionnel de santé", "25.00", CategoryKind.OTHER_PROFESSIONAL),
                                ("Structure", "90.00", CategoryKind.STRUCTURE),
                                ("Première adhésion", "15.00", CategoryKind.FIRST_YEAR)]:
        grid[kind] = services.set_fee_category(before, label, Decimal(amount), kind)
    college = services.save_college(organisation, "Libéraux", party_kind="professional")
    people = {
        "first_year_physician": ProfessionalFactory(first_name="Anne", last_name="Le Floch",
                                                    profession="medecin_generaliste"),
        "nurse": ProfessionalFactory(first_name="Yann", last_name="Morvan", profession="infirmier"),
        "msp": StructureFactory(name="MSP de Guérande"),
        "cancelled": ProfessionalFactory(first_name="Paul", last_name="Martin", profession="infirmier"),
        "renewed": ProfessionalFactory(first_name="Zoé", last_name="Hérault", profession="orthophoniste"),
    }
    memberships = {
        "first_year_physician": services.create_membership(organisation, people["first_year_physician"], before,
                                                           category=grid[CategoryKind.FIRST_YEAR], college=college,
                                                           joined_on=date(2025, 2, 1)),
        "nurse": services.create_membership(organisation, people["nurse"], before,
                                            category=grid[CategoryKind.OTHER_PROFESSIONAL], joined_on=date(2025, 2, 1)),
        "msp": services.create_membership(organisation, people["msp"], before, category=grid[CategoryKind.STRUCTURE],
                                          joined_on=date(2025, 2, 1)),
        "cancelled": services.create_membership(organisation, people["cancelled"], before, joined_on=date(2025, 2, 1)),
        "renewed": services.create_membership(organisation, people["renewed"], before, joined_on=date(2025, 2, 1)),
    }
    services.record_payment(memberships["nurse"], "25", "transfer", date(2025, 3, 1))
    services.cancel_membership(memberships["cancelled"], reason="Départ du territoire")
    services.create_membership(organisation, people["renewed"], period, joined_on=date(2026, 1, 5))
    return before, people, memberships, college


def _names(candidates):
    return [c.previous.party.display_name for c in candidates]


def test_candidates_are_last_periods_members_not_yet_renewed(period, last_year):
    candidates = services.renewal_candidates(period)
    assert _names(candidates) == ["Anne LE FLOCH", "Yann MORVAN", "MSP de Guérande"]  # by sort name
    suggested = {c.previous.party.display_name: c.category.label for c in candidates}
    # a first year is over: a physician pays the physician rate; the others keep last year's kind
    assert suggested == {"Anne LE FLOCH": "Médecin", "MSP de Guérande": "Structure",
                         "Yann MORVAN": "Autre professionnel de santé"}


def test_candidates_can_be_narrowed(period, last_year):
    _, _, _, college = last_year
    assert _names(services.renewal_candidates(period, who="in_good_standing")) == ["Yann MORVAN"]
    assert _names(services.renewal_candidates(period, who="unpaid")) == ["Anne LE FLOCH", "MSP de Guérande"]
    assert _names(services.renewal_candidates(period, college_id=college.id)) == ["Anne LE FLOCH"]
    with pytest.raises(MembershipError, match="Sélection inconnue"):
        services.renewal_candidates(period, who="everybody")


def test_renewing_creates_the_memberships_with_category_and_college(organisation, period, last_year):
    _, people, _, college = last_year
    created = services.renew_memberships(period, [people["first_year_physician"].id, people["msp"].id],
                                         joined_on=date(2026, 1, 2))
    assert sorted((m.party.display_name, m.category.label, m.amount_due, m.status) for m in created) == [
        ("Anne LE FLOCH", "Médecin", Decimal("50.00"), MembershipStatus.AWAITING_PAYMENT),
        ("MSP de Guérande", "Structure", Decimal("100.00"), MembershipStatus.AWAITING_PAYMENT)]
    physician = next(m for m in created if m.party_id == people["first_year_physician"].id)
    assert physician.college_id == college.id and physician.fee_due_entry_id is not None
    assert physician.source == "renewal"


def test_a_member_renewed_meanwhile_refuses_the_whole_batch(organisation, period, last_year):
    _, people, _, _ = last_year
    with pytest.raises(MembershipError, match="1 des membres choisis ne sont plus à renouveler"):
        services.renew_memberships(period, [people["nurse"].id, people["renewed"].id])


def test_the_treasurer_renews_through_a_job(client, login_as, organisation, period, last_year):
    login_as("treasurer")
    _, people, _, _ = last_year
    page = client.get(f"{BASE}/periods/{period.id}/renew")
    assert page.status_code == 200
    assert "3 membre(s) à renouveler" in page.text and 'name="party_id"' in page.text
    response = client.post(f"{BASE}/periods/{period.id}/renew",
                           data={"party_id": [str(people["nurse"].id), str(people["msp"].id)]})
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    task = db.session.scalar(select(Task).where(Task.kind == "membership.renewal"))
    db.session.refresh(task)
    assert task.status is TaskStatus.DONE and task.message == "2 adhésion(s) 2026 créée(s), cotisations appelées."
    renewed = db.session.scalars(select(Membership.party_id).where(Membership.period_id == period.id)).all()
    assert set(renewed) == {people["renewed"].id, people["nurse"].id, people["msp"].id}


def test_nothing_ticked_or_a_stale_list_is_refused(client, login_as, period, last_year):
    login_as("treasurer")
    _, people, _, _ = last_year
    nothing = client.post(f"{BASE}/periods/{period.id}/renew", data={})
    assert nothing.status_code == 422
    assert ("danger", "Cochez au moins un membre à renouveler.") in flashes(nothing)
    stale = client.post(f"{BASE}/periods/{period.id}/renew", data={"party_id": [str(people["renewed"].id)]})
    assert stale.status_code == 422 and "La liste a changé depuis son affichage" in stale.text
    assert db.session.scalar(select(Task).where(Task.kind == "membership.renewal")) is None


def test_no_previous_period_is_said(client, login_as, organisation, period):
    login_as("treasurer")
    page = client.get(f"{BASE}/periods/{period.id}/renew")
    assert "Aucune période ne précède 2026" in page.text
