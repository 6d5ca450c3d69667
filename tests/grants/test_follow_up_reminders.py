"""Late quarterly follow-up reports: the beneficiary is e-mailed once per application and quarter
(recorded and audited, so a rerun sends nothing twice), staff see the late ones on the
programme page; the periodic job runs on a real RQ worker."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import delete, func, select

from backoffice.audit.models import AuditEntry
from backoffice.extensions import db, rq
from backoffice.grants import follow_up
from backoffice.grants.models import GrantFollowUp, GrantFollowUpReminder, GrantStatus
from backoffice.mail.models import OutgoingMail
from tests.factories import GrantApplicationFactory, ProfessionalFactory, SiteFactory
from tests.grants.factories import dermatoscope_programme
from tests.tasks.conftest import real_jobs, simple_worker  # noqa: F401 - fixtures


@pytest.mark.parametrize("delivered_on, today, grace, expected", [
    (date(2026, 5, 10), date(2026, 7, 30), 30, []),                        # T2 ended 30/06, grace until 30/07
    (date(2026, 5, 10), date(2026, 7, 31), 30, [(2026, 2)]),
    (date(2026, 5, 10), date(2026, 11, 15), 30, [(2026, 2), (2026, 3)]),
    (date(2025, 12, 31), date(2026, 5, 1), 30, [(2025, 4), (2026, 1)]),    # across the year
    (date(2026, 9, 30), date(2026, 10, 5), 0, [(2026, 3)]),
    (date(2026, 10, 1), date(2026, 12, 4), 30, []),
])
def test_due_quarters(delivered_on, today, grace, expected):
    assert follow_up.due_quarters(delivered_on, today, grace) == expected


def _delivered(programme, delivered_on, email="dr.le-gall@example.org", status=GrantStatus.DELIVERED, **fields):
    applicant = ProfessionalFactory(first_name="Maëlys", last_name="Le Gall", email=email,
                                    profession="medecin_generaliste")
    return GrantApplicationFactory(programme=programme, applicant=applicant, status=status,
                                   site=SiteFactory(name="Cabinet du Croisic", commune="Le Croisic"),
                                   amount_granted=Decimal("599.92"), amount_paid=Decimal("599.92"),
                                   paid_on=delivered_on, delivered_on=delivered_on, serial_number="HD30-118274",
                                   **fields)


def test_a_late_quarter_is_reminded_once_and_audited(organisation, programme, outbox):
    late = _delivered(programme, date(2026, 5, 10))
    db.session.add(GrantFollowUp(application=late, year=2026, quarter=2, screenings=31, referrals=3))
    up_to_date = _delivered(programme, date(2026, 5, 10), email="inf.moreau@example.org")
    for quarter in (2, 3):
        db.session.add(GrantFollowUp(application=up_to_date, year=2026, quarter=quarter, screenings=9, referrals=0))
    _delivered(programme, date(2026, 5, 10), email=None)          # no address: left to the staff
    paid_only = _delivered(programme, date(2026, 5, 10), email="pharmacie.port@example.org",
                           status=GrantStatus.PAID)                # equipment not delivered yet
    db.session.flush()
    sent = follow_up.send_reminders(today=date(2026, 11, 15))
    assert sent == [(late.id, 2026, 3)]
    db.session.commit()   # the boundary: the mail leaves after it
    mails = outbox("dr.le-gall@example.org")
    assert len(mails) == 1 and "(T3 2026)" in mails[0].subject
    assert f"aide {late.reference}" in mails[0].body and f"/aides/mon-espace/demandes/{late.id}" in mails[0].body
    reminder = db.session.scalar(select(GrantFollowUpReminder))
    assert (reminder.application_id, reminder.year, reminder.quarter) == (late.id, 2026, 3)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.table_name == "grant_follow_up_reminders")) == 1
    assert follow_up.send_reminders(today=date(2026, 11, 16)) == []         # a rerun sends nothing
    assert follow_up.send_reminders(today=date(2027, 2, 1)) == [(late.id, 2026, 4), (up_to_date.id, 2026, 4)]
    db.session.commit()
    assert [len(outbox(r)) for r in ("dr.le-gall@example.org", "inf.moreau@example.org")] == [2, 1]


def test_staff_see_the_late_reports_on_the_programme_page(client, login_as, organisation, programme, monkeypatch):
    late = _delivered(programme, date.today() - timedelta(days=200))
    _delivered(programme, date.today() - timedelta(days=200), email=None)
    follow_up.send_reminders()
    login_as("accountant")
    page = client.get(url_for("grants.programme", org="cpts-test", programme_id=programme.id)).get_data(as_text=True)
    assert "Suivis d'activité en retard" in page and late.reference in page
    assert f"le {date.today():%d/%m/%Y}" in page
    assert "pas d'adresse e-mail : à relancer autrement" in page


# --- the periodic job, on a real worker ------------------------------------------------------

@pytest.fixture
def grant_rows(app):
    """Delete what the worker test commits (grants, mails, audit, the directory)."""
    from tests.tasks.conftest import CLEANED

    names = ("outbox_messages", "outgoing_mails", "grant_follow_up_reminders", "grant_follow_ups",
             "grant_applications", "grant_funders", "grant_programmes", *CLEANED)
    tables = [db.metadata.tables[name] for name in dict.fromkeys(names) if name in db.metadata.tables]
    marks = {t.name: db.session.scalar(select(func.coalesce(func.max(t.c.id), 0))) for t in tables}
    db.session.rollback()
    yield
    db.session.rollback()
    for table in tables:
        db.session.execute(delete(table).where(table.c.id > marks[table.name]))
    db.session.commit()


@pytest.mark.no_db_transaction
def test_the_periodic_job_reminds_on_a_real_worker_and_a_rerun_sends_nothing(app, grant_rows, simple_worker):
    from jobs import PERIODIC_JOBS, queue_name
    from jobs.grants import send_follow_up_reminders
    from tests.factories import OrganisationFactory

    assert PERIODIC_JOBS["jobs.grants.send_follow_up_reminders"].cron == "40 7 * * *"
    organisation = OrganisationFactory(slug="cpts-suivi", name="CPTS du Suivi")
    programme = dermatoscope_programme(organisation, opens_on=None, closes_on=None)
    application = _delivered(programme, date.today() - timedelta(days=200), email="dr.suivi@example.org")
    db.session.commit()
    queue = rq.get_queue(queue_name("maintenance"))
    for _ in range(2):
        queue.enqueue(send_follow_up_reminders)
        simple_worker()
    db.session.rollback()
    mails = db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == "dr.suivi@example.org")).all()
    assert len(mails) == 1 and "Suivi d'activité à déclarer" in mails[0].subject
    reminders = db.session.scalars(select(GrantFollowUpReminder).where(
        GrantFollowUpReminder.application_id == application.id)).all()
    assert len(reminders) == len(follow_up.due_quarters(application.delivered_on, date.today(), 30)) >= 1
