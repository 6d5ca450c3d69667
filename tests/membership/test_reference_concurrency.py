"""Eight treasurers' screens create memberships at the same instant on PostgreSQL, none of the
members having a number yet: under the association's scheme each gets his own number from the
organisation's counter and his own reference, and no creation fails. (SQLite serialises writers.)"""
import threading
import uuid

import pytest
from sqlalchemy import select, text

from backoffice.membership import memberships as membership_rules
from backoffice.membership import services
from backoffice.membership.models import Membership
from backoffice.organisations.models import Organisation
from tests.concurrency import run_in_threads

THREADS = 8


@pytest.fixture
def committed_scheme(app, db, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: concurrency is PostgreSQL's case")
    from backoffice.organisations.services import create_organisation
    from tests.factories import ProfessionalFactory

    # No member accounts nor receipts: this is about references (those hooks have their own tests).
    monkeypatch.setattr(membership_rules, "_CREATED_HOOKS", [])
    monkeypatch.setattr(membership_rules, "_PAID_HOOKS", [])
    organisation = create_organisation("CPTS de la Presqu'île", "cpts", slug=f"ref-{uuid.uuid4().hex[:8]}")
    services.set_reference_scheme(organisation, "COT{year}/{number:05}")
    period = services.period_for_year(organisation, 2026)
    parties = [ProfessionalFactory(last_name=f"Le Goff-{n}", email=None) for n in range(THREADS)]
    db.session.commit()
    ids = dict(organisation=organisation.id, period=period.id, parties=[p.id for p in parties])
    yield ids
    db.session.rollback()
    with db.engine.begin() as connection:
        for statement in ("DELETE FROM memberships WHERE organisation_id = :org",
                          "DELETE FROM membership_periods WHERE organisation_id = :org",
                          "DELETE FROM membership_settings WHERE organisation_id = :org",
                          "DELETE FROM status_changes WHERE organisation_id = :org",
                          "DELETE FROM audit_entries WHERE organisation_id = :org",
                          "DELETE FROM organisations WHERE id = :org"):
            connection.execute(text(statement), {"org": ids["organisation"]})
        connection.execute(text("DELETE FROM parties WHERE id = ANY(:ids)"), {"ids": ids["parties"]})


@pytest.mark.no_db_transaction
def test_memberships_created_at_once_get_distinct_numbers(app, db, committed_scheme):
    barrier = threading.Barrier(THREADS)

    def work(index):
        from backoffice.extensions import db as session_db
        from backoffice.membership.models import MembershipPeriod
        from backoffice.people.models import Party

        organisation = session_db.session.get(Organisation, committed_scheme["organisation"])
        period = session_db.session.get(MembershipPeriod, committed_scheme["period"])
        party = session_db.session.get(Party, committed_scheme["parties"][index])
        barrier.wait()
        # Nothing due: no journal entry (the books of a throw-away organisation cannot be deleted).
        services.create_membership(organisation, party, period, amount_due=0)
        session_db.session.commit()
        session_db.session.remove()

    run_in_threads(app, work, THREADS)
    rows = db.session.execute(select(Membership.payment_reference, Membership.member_number)
                              .where(Membership.organisation_id == committed_scheme["organisation"])).all()
    assert sorted(rows) == [(f"COT2026/{n:05d}", str(n)) for n in range(1, THREADS + 1)]
    organisation = db.session.get(Organisation, committed_scheme["organisation"])
    assert services.get_settings(organisation).member_counter == THREADS
    db.session.rollback()
