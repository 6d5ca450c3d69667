"""Reminders: who gets one and who does not, the mail, idempotence of the scheduled run, the
treasurer's preview, "send all" and one by hand."""
import html
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.formatting import format_date_fr
from backoffice.mail.models import MailStatus, OutgoingMail
from backoffice.member_portal.models import ReminderLog
from backoffice.membership import reminders, services
from backoffice.membership.models import CategoryKind, MembershipPeriod
from backoffice.membership.services import MembershipError
from tests.factories import ProfessionalFactory

MAY_1 = date(2026, 5, 1)  # the 2026 fee was due on 1 April 2026 (period start + 90 days)


@pytest.fixture(autouse=True)
def _storage(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))


@pytest.fixture
def period_2025(organisation):
    period = services.period_for_year(organisation, 2025)
    services.set_fee_category(period, "Médecin", Decimal("50.00"), CategoryKind.PHYSICIAN)
    services.set_fee_category(period, "Autre professionnel de santé", Decimal("30.00"), CategoryKind.OTHER_PROFESSIONAL)
    return period


def member(organisation, period, name, status="awaiting", joined_on=date(2026, 1, 10), email=True):
    party = ProfessionalFactory(last_name=name, email=f"{name.lower()}@example.org" if email else None)
    membership = services.create_membership(organisation, party, period, joined_on=joined_on,
                                            amount_due=Decimal("30.00"))
    if status == "paid":
        services.record_payment(membership, Decimal("30.00"), "transfer", joined_on)
    elif status == "partial":
        services.record_payment(membership, Decimal("10.00"), "transfer", joined_on)
    elif status == "exempt":
        services.exempt_membership(membership, "membre d'honneur")
    elif status == "cancelled":
        services.cancel_membership(membership, "départ")
    return membership


@pytest.fixture
def population(organisation, period):
    """Members of 2026 in every situation, seen on 1 May 2026."""
    people = {name: member(organisation, period, name, status) for name, status in [
        ("Attente", "awaiting"), ("Partiel", "partial"), ("Paye", "paid"), ("Exonere", "exempt"),
        ("Annule", "cancelled"), ("Deja", "awaiting")]}
    people["Tardif"] = member(organisation, period, "Tardif", joined_on=date(2026, 4, 25))  # due 25 April
    people["Sansmail"] = member(organisation, period, "Sansmail", email=False)
    _db.session.add(ReminderLog(organisation_id=organisation.id, party_id=people["Deja"].party_id,
                                period_id=period.id, membership_id=people["Deja"].id, kind="overdue_15",
                                recipient="deja@example.org",
                                sent_at=datetime(2026, 4, 17, 8, tzinfo=timezone.utc)))
    _db.session.flush()
    return people


def names(due):
    return sorted(r.party.last_name for r in due)


def test_who_gets_an_overdue_reminder_and_who_does_not(organisation, population):
    due = reminders.due_reminders(organisation, MAY_1)
    assert names(due) == ["Attente", "Partiel", "Sansmail"]
    assert {r.kind for r in due} == {"overdue_15"}


def test_only_the_largest_step_reached_is_sent(organisation, population):
    due = reminders.due_reminders(organisation, date(2026, 5, 20))  # 49 days late
    assert {r.party.last_name: r.kind for r in due}["Attente"] == "overdue_45"
    assert {r.party.last_name: r.kind for r in due}["Deja"] == "overdue_45"   # had the 15-day one only
    assert "Tardif" in names(due)  # 25 days after joining late: its 15-day reminder


def test_nothing_before_the_first_step(organisation, population):
    assert reminders.due_reminders(organisation, date(2026, 4, 10)) == []


def test_sending_is_logged_and_idempotent(organisation, population, outbox):
    sent, skipped = reminders.send_due_reminders(organisation, MAY_1)
    assert names(sent) == ["Attente", "Partiel"] and names(skipped) == ["Sansmail"]
    logs = _db.session.scalars(select(ReminderLog).where(ReminderLog.kind == "overdue_15")).all()
    assert sorted(log.recipient for log in logs) == ["attente@example.org", "deja@example.org",
                                                     "partiel@example.org"]
    mails = outbox("attente@example.org")
    assert len(mails) == 1 and population["Attente"].payment_reference in mails[0].body
    assert "FR7630004000031234567890143" in mails[0].body and "30,00" in mails[0].body
    assert "/auth/link" in mails[0].body  # how to sign in
    again, _ = reminders.send_due_reminders(organisation, MAY_1)
    assert again == [] and len(outbox("attente@example.org")) == 1


def test_scheduled_run_twice_sends_once(organisation, population, outbox):
    first = reminders.run_scheduled(MAY_1)
    second = reminders.run_scheduled(MAY_1)
    assert first["cpts-test"] == (2, 1) and second["cpts-test"] == (0, 1)
    assert _db.session.scalar(select(func.count()).select_from(ReminderLog)) == 3


def test_disabled_reminders_send_nothing_on_schedule(organisation, population, outbox):
    reminders.save_reminder_settings(organisation, False, 30, [15, 45])
    assert reminders.run_scheduled(MAY_1) == {}
    assert outbox("attente@example.org") == []


def test_recent_reminder_of_any_kind_keeps_the_scheduled_one_quiet(organisation, period):
    late = member(organisation, period, "Relance")
    _db.session.add(ReminderLog(organisation_id=organisation.id, party_id=late.party_id, period_id=period.id,
                                membership_id=late.id, kind="manual", recipient="relance@example.org",
                                sent_at=datetime(2026, 4, 28, 9, tzinfo=timezone.utc)))
    _db.session.flush()
    assert reminders.due_reminders(organisation, MAY_1) == []
    assert names(reminders.due_reminders(organisation, date(2026, 5, 6))) == ["Relance"]


# --------------------------------------------------------------------------------------------
# Renewal opening
# --------------------------------------------------------------------------------------------

@pytest.fixture
def members_2026(organisation, period):
    return {name: member(organisation, period, name, status, joined_on=date(2026, 2, 1)) for name, status in [
        ("Fidele", "paid"), ("Honneur", "exempt"), ("Moitie", "partial"), ("Jamais", "awaiting"),
        ("Parti", "cancelled"), ("Renouvele", "paid"), ("Refus", "paid")]}


def test_renewal_opening_reaches_last_years_members_who_have_not_renewed(organisation, members_2026):
    too_early = reminders.due_reminders(organisation, date(2026, 11, 20))  # 42 days before the period
    assert [r for r in too_early if r.kind == "renewal"] == []
    period_2027 = services.period_for_year(organisation, 2027)
    services.ensure_grid(period_2027)
    services.create_membership(organisation, members_2026["Renouvele"].party, period_2027)
    said_no = services.create_membership(organisation, members_2026["Refus"].party, period_2027)
    services.cancel_membership(said_no, "ne renouvelle pas")
    due = [r for r in reminders.due_reminders(organisation, date(2026, 12, 5)) if r.kind == "renewal"]
    assert names(due) == ["Fidele", "Honneur", "Moitie"]
    assert {r.period.year for r in due} == {2027}


def test_renewal_opening_creates_the_next_period_with_its_grid_and_mails_the_amount(organisation, members_2026,
                                                                                     outbox):
    sent, _ = reminders.send_due_reminders(organisation, date(2026, 12, 5))
    period_2027 = _db.session.scalar(select(MembershipPeriod).where(MembershipPeriod.year == 2027))
    assert period_2027 is not None and {c.label for c in period_2027.categories} >= {"Médecin"}
    body = outbox("fidele@example.org")[0].body
    subject = outbox("fidele@example.org")[0].subject
    assert subject.startswith("Renouvellement de votre adhésion 2027")
    assert "/espace-adherent/" in body and "30,00" in body
    assert reminders.send_due_reminders(organisation, date(2026, 12, 6))[0] == []


def test_renewal_notice_is_configurable(organisation, members_2026):
    reminders.save_reminder_settings(organisation, True, 60, "15, 45")
    assert "Fidele" in names(reminders.due_reminders(organisation, date(2026, 11, 5)))


@pytest.mark.parametrize("text, expected", [("15, 45", [15, 45]), ("45;15 15", [15, 45]), ("", [])])
def test_overdue_days_parsing(text, expected):
    assert reminders.parse_overdue_days(text) == expected


@pytest.mark.parametrize("text", ["15, abc", "0", "400", "1,2,3,4,5,6,7"])
def test_overdue_days_bad_input(text):
    with pytest.raises(MembershipError):
        reminders.parse_overdue_days(text)


# --------------------------------------------------------------------------------------------
# By hand
# --------------------------------------------------------------------------------------------

def test_manual_reminder_of_an_open_membership(db, organisation, period, outbox):
    late = member(organisation, period, "Main")
    entry = reminders.send_reminder(late, today=MAY_1)
    assert outbox("main@example.org") == []  # a treasurer's click: the mail leaves after the commit…
    db.session.commit()
    # …through the mail queue (its job runs inline in tests)
    assert entry.kind == "manual" and outbox("main@example.org")[0].subject.startswith("Rappel : cotisation 2026")
    assert db.session.scalar(select(OutgoingMail.status).where(OutgoingMail.recipient == "main@example.org")) \
        is MailStatus.SENT
    with pytest.raises(MembershipError, match="vient d'être envoyée"):
        reminders.send_reminder(late, today=MAY_1)


def test_nobody_who_has_paid_is_reminded_by_hand(db, organisation, period, period_2025, outbox):
    paid = member(organisation, period, "Ajour", "paid")
    with pytest.raises(MembershipError, match="à jour de sa cotisation"):
        reminders.send_reminder(paid, today=MAY_1)
    cancelled = member(organisation, period, "Stop", "cancelled")
    with pytest.raises(MembershipError, match="annulée"):
        reminders.send_reminder(cancelled, today=MAY_1)
    # a member of 2025 who did not renew for 2026 (the lapsed list): a renewal reminder
    lapsed = member(organisation, period_2025, "Ancien", "paid", joined_on=date(2025, 2, 1))
    reminders.send_reminder(lapsed, today=MAY_1)
    db.session.commit()
    assert outbox("ancien@example.org")[0].subject.startswith("Renouvellement de votre adhésion 2026")
    assert outbox("ajour@example.org") == [] and outbox("stop@example.org") == []


def test_one_click_reminder_of_a_lapsed_member_whose_renewal_was_cancelled(client, organisation, login_as, outbox):
    """The dashboard lists them as lapsed; the "Relancer" button sends a renewal reminder, and
    renewing reinstates the cancelled membership."""
    from backoffice.auth.models import User
    from backoffice.member_portal import services as portal
    from backoffice.membership import stats

    year = organisation.fiscal_year_of(date.today())
    previous = services.period_for_year(organisation, year - 1)
    services.set_fee_category(previous, "Médecin", Decimal("50.00"), CategoryKind.PHYSICIAN)
    current = services.ensure_grid(services.period_for_year(organisation, year))
    last = member(organisation, previous, "Revenant", "paid", joined_on=previous.starts_on)
    cancelled = services.create_membership(organisation, last.party, current, amount_due=Decimal("30.00"))
    services.cancel_membership(cancelled, "ne renouvelle pas")
    _db.session.commit()
    assert last.id in stats.lapsed_ids(organisation, current)
    login_as("treasurer")
    dashboard = client.get("/o/cpts-test/membership/dashboard").get_data(as_text=True)
    assert f"/membership/members/{last.id}/remind" in dashboard
    response = client.post(f"/o/cpts-test/membership/members/{last.id}/remind", follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "Relance envoyée à" in page and "à jour de sa cotisation" not in page
    mail = outbox("revenant@example.org")[0]
    assert mail.subject.startswith(f"Renouvellement de votre adhésion {current.label}")
    assert "/espace-adherent/" in mail.body
    user = _db.session.scalar(select(User).where(User.party_id == last.party_id))
    renewed, _ = portal.renew(user, organisation, current)
    assert renewed.id == cancelled.id and renewed.status.value == "awaiting_payment"
    assert last.id not in stats.lapsed_ids(organisation, current)


def test_member_without_email_cannot_be_reminded(organisation, period):
    with pytest.raises(MembershipError, match="pas d'adresse e-mail"):
        reminders.send_reminder(member(organisation, period, "Muet", email=False), today=MAY_1)


def test_treasurer_button_on_the_member_page(client, organisation, period, login_as, outbox):
    late = member(organisation, period, "Bouton")
    _db.session.commit()
    login_as("treasurer")
    page = client.get(f"/o/cpts-test/membership/members/{late.id}").get_data(as_text=True)
    assert "Envoyer une relance" in page
    response = client.post(f"/o/cpts-test/membership/members/{late.id}/remind", follow_redirects=True)
    assert "Relance envoyée à" in html.unescape(response.get_data(as_text=True))
    assert len(outbox("bouton@example.org")) == 1


def test_treasurer_previews_then_sends_them_all(client, organisation, period, login_as, outbox):
    due_on = date.today() - timedelta(days=20)
    period.due_on = due_on
    late = member(organisation, period, "Apercu", joined_on=due_on - timedelta(days=30))
    _db.session.commit()
    login_as("treasurer")
    page = html.unescape(client.get("/o/cpts-test/membership/relances").get_data(as_text=True))
    assert "Apercu" in page.upper() or "APERCU" in page
    assert "Relance à J+15" in page and late.payment_reference in page  # the list and the mail text
    assert outbox("apercu@example.org") == []  # previewing sends nothing
    response = client.post("/o/cpts-test/membership/relances/envoyer")
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    assert len(outbox("apercu@example.org")) == 1
    assert "Aucune relance à envoyer" in html.unescape(client.get("/o/cpts-test/membership/relances")
                                                      .get_data(as_text=True))


def test_changing_the_due_date_in_the_settings_moves_the_overdue_reminders(client, organisation, login_as):
    """The current period is created at the first visit: changing "Échéance" afterwards must still
    move its due date, from which the overdue reminders count."""
    period = services.current_period(organisation)
    late = member(organisation, period, "Echeance", joined_on=period.starts_on)
    _db.session.commit()
    day = period.starts_on + timedelta(days=40)

    def reminded():
        return [r.kind for r in reminders.due_reminders(organisation, day) if r.membership.id == late.id]

    assert reminded() == []  # due after 90 days by default
    login_as("treasurer")
    response = client.post("/o/cpts-test/membership/settings", data={"reference_prefix": "ADH", "due_days": "35"},
                           follow_redirects=True)
    due_on = period.starts_on + timedelta(days=35)
    page = html.unescape(response.get_data(as_text=True))
    assert f"Échéance déplacée : {period.label} au {format_date_fr(due_on)}" in page
    assert period.due_on == due_on and reminded() == []  # 5 days late: before the J+15 reminder
    client.post("/o/cpts-test/membership/settings", data={"reference_prefix": "ADH", "due_days": "20"})
    assert period.due_on == period.starts_on + timedelta(days=20) and reminded() == ["overdue_15"]


def test_reminder_settings_form(client, organisation, login_as):
    login_as("treasurer")
    response = client.post("/o/cpts-test/membership/relances", data={
        "enabled": "y", "renewal_notice_days": "45", "overdue_days": "10, 40"}, follow_redirects=True)
    assert "Paramètres des relances enregistrés" in html.unescape(response.get_data(as_text=True))
    settings = reminders.get_reminder_settings(organisation)
    assert (settings.renewal_notice_days, settings.overdue_days) == (45, [10, 40])
    response = client.post("/o/cpts-test/membership/relances", data={"renewal_notice_days": "45",
                                                                     "overdue_days": "dix"})
    assert "« dix » n'est pas un nombre de jours" in html.unescape(response.get_data(as_text=True))


def test_scheduled_jobs_are_registered_with_the_cron():
    from jobs import PERIODIC_JOBS, import_job_modules

    import_job_modules()
    assert PERIODIC_JOBS["jobs.membership_member.send_membership_reminders"].cron == "0 7 * * *"
    assert PERIODIC_JOBS["jobs.membership_member.start_pending_receipts"].interval == 300
