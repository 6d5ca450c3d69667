"""Reminders of late quarterly follow-up reports.

A beneficiary whose equipment is delivered reports each quarter's activity
(``services.report_follow_up``), from the quarter of the delivery on. A quarter's report is
*late* once the quarter has ended and ``GRANTS_FOLLOW_UP_GRACE_DAYS`` (30) more days have
passed. :func:`send_reminders` (the daily job ``jobs.grants.send_follow_up_reminders``) e-mails,
through the mail queue, each beneficiary with late quarters not yet reminded, and records one
``GrantFollowUpReminder`` per application and quarter (audited, unique): a rerun — or two runs at
once — sends nothing twice. Staff see the late reports on the programme page
(:func:`late_follow_ups`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from backoffice.extensions import db
from backoffice.grants.models import GrantApplication, GrantFollowUp, GrantFollowUpReminder, GrantStatus

log = logging.getLogger(__name__)

# The statuses of an application whose beneficiary holds the equipment and reports its use.
REPORTING_STATUSES = (GrantStatus.DELIVERED,)


def grace_days() -> int:
    return int(current_app.config.get("GRANTS_FOLLOW_UP_GRACE_DAYS", 30))


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    if quarter == 4:
        return date(year, 12, 31)
    return date(year, quarter * 3 + 1, 1) - timedelta(days=1)


def due_quarters(delivered_on: date, today: date, grace: int) -> list[tuple[int, int]]:
    """The quarters, from the delivery's, whose report is due by ``today`` (ended ``grace`` days ago)."""
    quarters, (year, quarter) = [], quarter_of(delivered_on)
    while quarter_end(year, quarter) + timedelta(days=grace) < today:
        quarters.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return quarters


@dataclass
class LateFollowUp:
    """An application whose reports of ``quarters`` are late; ``reminded``: {quarter: when}."""

    application: GrantApplication
    quarters: list
    reminded: dict = field(default_factory=dict)

    @property
    def not_reminded(self):
        return [q for q in self.quarters if q not in self.reminded]

    @property
    def labels(self):
        return ", ".join(f"T{q} {y}" for y, q in self.quarters)


def late_follow_ups(*, organisation=None, programme=None, today=None) -> list[LateFollowUp]:
    """The applications of ``programme`` (or ``organisation``, or all) with late reports."""
    today = today or date.today()
    grace = grace_days()
    query = (select(GrantApplication).where(GrantApplication.status.in_(REPORTING_STATUSES),
                                            GrantApplication.delivered_on.is_not(None))
             .options(selectinload(GrantApplication.applicant), selectinload(GrantApplication.programme))
             .order_by(GrantApplication.id))
    if programme is not None:
        query = query.where(GrantApplication.programme_id == programme.id)
    if organisation is not None:
        query = query.where(GrantApplication.organisation_id == organisation.id)
    applications = list(db.session.scalars(query))
    if not applications:
        return []
    ids = [a.id for a in applications]
    reported = set(tuple(row) for row in db.session.execute(select(GrantFollowUp.application_id, GrantFollowUp.year, GrantFollowUp.quarter)
                                      .where(GrantFollowUp.application_id.in_(ids))))
    reminded = {}
    for application_id, year, quarter, sent_at in db.session.execute(
            select(GrantFollowUpReminder.application_id, GrantFollowUpReminder.year, GrantFollowUpReminder.quarter,
                   GrantFollowUpReminder.sent_at).where(GrantFollowUpReminder.application_id.in_(ids))):
        reminded.setdefault(application_id, {})[(year, quarter)] = sent_at
    late = []
    for application in applications:
        quarters = [q for q in due_quarters(application.delivered_on, today, grace)
                    if (application.id, *q) not in reported]
        if quarters:
            late.append(LateFollowUp(application, quarters,
                                     {q: at for q, at in reminded.get(application.id, {}).items() if q in quarters}))
    return late


def send_reminders(today=None) -> list[tuple[int, int, int]]:
    """E-mail every beneficiary with late reports not yet reminded (one mail per application,
    naming its quarters), recording each (application, quarter) reminded. Flushes; the caller
    commits, and the mails leave after that commit. Returns the (application id, year, quarter)
    reminded. A beneficiary without an e-mail address is left to the staff (the programme page)."""
    from backoffice.mail.services import external_url, queue_mail

    sent = []
    for item in late_follow_ups(today=today):
        application = item.application
        quarters = item.not_reminded
        email = (getattr(application.applicant, "email", None) or "").strip()
        if not quarters or not email:
            continue
        try:
            with db.session.begin_nested():
                for year, quarter in quarters:
                    db.session.add(GrantFollowUpReminder(application_id=application.id, year=year, quarter=quarter,
                                                         recipient=email))
                db.session.flush()
                programme = application.programme
                labels = ", ".join(f"T{q} {y}" for y, q in quarters)
                link = external_url("grants.member.show", org=programme.organisation.slug,
                                    application_id=application.id)
                queue_mail(email, f"Suivi d'activité à déclarer ({labels}) — {programme.name}", "\n".join([
                    f"Bonjour {application.applicant.display_name},", "",
                    f"Le suivi d'activité de votre {application.equipment_kind.lower()} (aide {application.reference}, "
                    f"programme « {programme.name} ») n'a pas encore été déclaré pour : {labels}.",
                    "Les financeurs du programme demandent ces chiffres chaque trimestre (dépistages réalisés, "
                    "orientations vers un dermatologue).", "",
                    f"Déclarez-les depuis votre espace : {link}", "", programme.organisation.name]))
        except IntegrityError:  # another run reminded them a moment ago
            log.info("follow-up reminder of %s already recorded", application.reference)
            continue
        sent += [(application.id, year, quarter) for year, quarter in quarters]
    return sent
