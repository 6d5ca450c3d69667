"""Reminders (relances): renewal opening, then reminders N days after the due date.

Who gets what, for an organisation, on a given day (:func:`due_reminders`):

* **renewal** — for a period T open to renewal, from ``renewal_notice_days`` before T starts
  until T's due date: members of the period before T (paid, exempt or partially paid) who
  have no membership of T at all (a cancelled one counts: they said no, so no automatic
  mail; the treasurer can still remind them by hand from the lapsed list, and renewing
  reinstates the cancelled membership).
* **overdue_<n>** — memberships still expecting money (awaiting or partially paid) of a
  recent period, ``n`` days or more after their due date (the period's, or the day they joined
  if later), for the largest ``n`` of ``overdue_days`` already reached. Paid, exempt and
  cancelled memberships are never reminded.

Each send is logged per member and period (``ReminderLog``); a scheduled kind is sent once
(a partial unique index backs it), and nobody gets a scheduled reminder within
``QUIET_DAYS`` of any other reminder for the same period. The treasurer previews the list and
the mail, sends them all (a task) or one by hand (:func:`send_reminder`, kind ``manual``).
The scheduled run (:func:`run_scheduled`, daily) is idempotent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from backoffice.extensions import db
from backoffice.member_portal.models import ReminderLog, ReminderSettings
from backoffice.mail.services import external_url, render_mail
from backoffice.membership import services
from backoffice.membership.models import (OPEN_STATUSES, Membership, MembershipPeriod, MembershipStatus)
from backoffice.membership.services import MembershipError
from backoffice.membership.periods import previous_period
from backoffice.models import utcnow

log = logging.getLogger(__name__)

S = MembershipStatus
RENEWAL, MANUAL = "renewal", "manual"
QUIET_DAYS = 7
# Overdue reminders concern periods that ended less than this long ago.
OVERDUE_HORIZON = timedelta(days=365)
MAX_OVERDUE_STEPS = 6


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------

def get_reminder_settings(organisation, create=False):
    """The organisation's reminder settings; until saved, the defaults in an unsaved row.
    ``create=True``: the row itself, added if new, for a change to be saved."""
    settings = db.session.scalar(select(ReminderSettings).where(ReminderSettings.organisation_id == organisation.id))
    if settings is None:
        settings = ReminderSettings(organisation_id=organisation.id, enabled=True, renewal_notice_days=30,
                                    overdue_days=[15, 45])
        if create:
            db.session.add(settings)
            db.session.flush()
    return settings


def parse_overdue_days(text):
    """``"15, 45"`` → ``[15, 45]`` (sorted, unique, 1 to 365); French message otherwise."""
    values = set()
    for part in (text or "").replace(";", ",").replace(" ", ",").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 365:
            raise MembershipError(f"« {part} » n'est pas un nombre de jours entre 1 et 365.")
        values.add(int(part))
    if len(values) > MAX_OVERDUE_STEPS:
        raise MembershipError(f"Au plus {MAX_OVERDUE_STEPS} relances après l'échéance.")
    return sorted(values)


def save_reminder_settings(organisation, enabled, renewal_notice_days, overdue_days):
    if renewal_notice_days is None or not 0 <= int(renewal_notice_days) <= 180:
        raise MembershipError("Le renouvellement s'annonce entre 0 et 180 jours avant le début de la période.")
    settings = get_reminder_settings(organisation, create=True)
    settings.enabled = bool(enabled)
    settings.renewal_notice_days = int(renewal_notice_days)
    settings.overdue_days = overdue_days if isinstance(overdue_days, list) else parse_overdue_days(overdue_days)
    db.session.flush()
    return settings


# --------------------------------------------------------------------------------------------
# Who gets a reminder
# --------------------------------------------------------------------------------------------

@dataclass
class Reminder:
    """A reminder to send: ``membership`` is the open one (overdue, manual) or, for a renewal,
    the member's membership of the previous period."""

    kind: str
    membership: Membership
    period: MembershipPeriod

    @property
    def party(self):
        return self.membership.party

    @property
    def recipient(self):
        return (self.party.email or "").strip()

    @property
    def asks_renewal(self):
        return self.membership.period_id != self.period.id

    @property
    def kind_label(self):
        from backoffice.member_portal.models import reminder_kind_label

        return reminder_kind_label(self.kind)


def renewal_targets(organisation, today, notice_days, create=True):
    """Periods whose renewal is announced on ``today``: starting within ``notice_days`` (or
    started, until their due date), open to renewal. The next period is created (with the
    previous grid) when its announcement date has come."""
    year = organisation.fiscal_year_of(today)
    targets = []
    for candidate in (year, year + 1):
        starts_on, _ = organisation.fiscal_year_bounds(candidate)
        if today < starts_on - timedelta(days=notice_days):
            continue
        period = services.period_for_year(organisation, candidate, create=create)
        if period is None or not period.renewal_open:
            continue
        if today > (period.due_on or period.ends_on):
            continue
        services.ensure_grid(period)
        targets.append(period)
    return targets


def _logged(organisation, period_ids):
    """{(party_id, period_id): [(kind, sent_on)]} of reminders already sent for these periods."""
    if not period_ids:
        return {}
    found = {}
    for party_id, period_id, kind, sent_at in db.session.execute(select(
            ReminderLog.party_id, ReminderLog.period_id, ReminderLog.kind, ReminderLog.sent_at).where(
            ReminderLog.organisation_id == organisation.id, ReminderLog.period_id.in_(period_ids))):
        found.setdefault((party_id, period_id), []).append((kind, sent_at.date()))
    return found


def _quiet(history, today):
    return any(sent_on > today - timedelta(days=QUIET_DAYS) for _, sent_on in history)


def _renewal_candidates(organisation, target):
    previous = previous_period(target)
    if previous is None:
        return []
    other = aliased(Membership)
    renewed = select(other.id).where(other.organisation_id == organisation.id, other.period_id == target.id,
                                     other.party_id == Membership.party_id).exists()
    return list(db.session.scalars(
        select(Membership).where(Membership.organisation_id == organisation.id, Membership.period_id == previous.id,
                                 Membership.status.in_([S.PAID, S.EXEMPT, S.PARTIALLY_PAID]), ~renewed)
        .options(joinedload(Membership.party), joinedload(Membership.period)).order_by(Membership.id)))


def overdue_step(membership, today, overdue_days):
    """The largest of ``overdue_days`` reached by ``membership`` on ``today`` (None: not yet)."""
    period = membership.period
    due = max(period.due_on or period.starts_on, membership.joined_on)
    late = (today - due).days
    reached = [n for n in overdue_days if late >= n]
    return max(reached) if reached else None


def _overdue_candidates(organisation, today):
    return list(db.session.scalars(
        select(Membership).join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
        .where(Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES),
               MembershipPeriod.starts_on <= today, MembershipPeriod.ends_on >= today - OVERDUE_HORIZON)
        .options(joinedload(Membership.party), joinedload(Membership.period)).order_by(Membership.id)))


def due_reminders(organisation, today=None, create=True):
    """The reminders the scheduled run would send today (also what the treasurer previews).

    Members without an e-mail address are listed too (``recipient`` empty): they cannot be
    reminded by mail and the preview says so.
    """
    today = today or date.today()
    settings = get_reminder_settings(organisation)
    reminders = []
    targets = renewal_targets(organisation, today, settings.renewal_notice_days, create=create)
    overdue = _overdue_candidates(organisation, today)
    history = _logged(organisation, {t.id for t in targets} | {m.period_id for m in overdue})
    for target in targets:
        for membership in _renewal_candidates(organisation, target):
            sent = history.get((membership.party_id, target.id), [])
            if any(kind == RENEWAL for kind, _ in sent) or _quiet(sent, today):
                continue
            reminders.append(Reminder(RENEWAL, membership, target))
    for membership in overdue:
        step = overdue_step(membership, today, settings.overdue_days or [])
        if step is None:
            continue
        kind = f"overdue_{step}"
        sent = history.get((membership.party_id, membership.period_id), [])
        if any(k == kind for k, _ in sent) or _quiet(sent, today):
            continue
        reminders.append(Reminder(kind, membership, membership.period))
    return reminders


# --------------------------------------------------------------------------------------------
# The mail
# --------------------------------------------------------------------------------------------

def render_reminder(reminder):
    """(subject, body) of ``reminder``'s mail."""
    membership, period = reminder.membership, reminder.period
    organisation = membership.organisation
    amount = None
    if reminder.asks_renewal:
        category = services.suggest_category(membership.party, period)
        amount = category.amount if category is not None else None
    return render_mail(
        "membership/member/mail/reminder.txt", reminder=reminder, membership=membership, period=period,
        organisation=organisation, party=membership.party, renewal=reminder.asks_renewal, amount=amount,
        settings=services.get_settings(organisation),
        portal_url=external_url("self_service.member.home", org=organisation.slug),
        signin_url=external_url("auth.request_link"))


def _deliver(reminder, user=None, today=None, send=None):
    """Send ``reminder`` and log it (in a savepoint: a concurrent run's twin is skipped).

    ``send`` is ``send_mail`` (default: the daily job, already in a worker) or ``queue_mail``
    (a web request: delivered by a worker once the request has committed)."""
    from backoffice.mail.services import send_mail

    send = send or send_mail
    if not reminder.recipient:
        raise MembershipError(f"{reminder.party.display_name} n'a pas d'adresse e-mail : relance impossible.")
    subject, body = render_reminder(reminder)
    entry = ReminderLog(organisation_id=reminder.membership.organisation_id, party_id=reminder.membership.party_id,
                        period_id=reminder.period.id, membership_id=reminder.membership.id, kind=reminder.kind,
                        channel="email", recipient=reminder.recipient[:200], sent_at=utcnow(),
                        sent_by_id=getattr(user, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
            send(reminder.recipient, subject, body)
    except IntegrityError:
        log.info("reminder %s of party %s for period %s already sent", reminder.kind, reminder.membership.party_id,
                 reminder.period.id)
        return None
    return entry


def send_reminder(membership, kind=MANUAL, user=None, today=None):
    """Remind one member by hand (the treasurer's button); the caller commits, and the mail
    leaves through a worker after that commit (no mail server inside a web request).

    ``membership`` expecting money → a payment reminder for it. A membership in good
    standing whose member has not renewed for the period now open (or whose membership of it
    was cancelled: the dashboard's lapsed list) → a renewal reminder.
    Anything else (paid and renewed, exempt, cancelled) → ``MembershipError``: nobody who has
    paid is reminded.
    """
    today = today or date.today()
    if kind == MANUAL and _just_sent(membership):
        raise MembershipError(f"Une relance vient d'être envoyée à {membership.party.display_name} : "
                              "attendez avant d'en envoyer une autre.")
    if membership.status in OPEN_STATUSES:
        reminder = Reminder(kind, membership, membership.period)
    elif membership.status is S.CANCELLED:
        raise MembershipError("Cette adhésion est annulée : aucune relance à envoyer.")
    else:
        target = _renewal_period_for(membership, today)
        if target is None:
            raise MembershipError(f"{membership.party.display_name} est à jour de sa cotisation : "
                                  "aucune relance à envoyer.")
        reminder = Reminder(kind, membership, target)
    from backoffice.mail.services import queue_mail

    entry = _deliver(reminder, user=user, today=today, send=queue_mail)
    if entry is None:
        raise MembershipError("Cette relance a déjà été envoyée.")
    return entry


def _just_sent(membership, minutes=10):
    """A reminder went to this member in the last minutes (a double click, two treasurers)."""
    return db.session.scalar(select(ReminderLog.id).where(
        ReminderLog.organisation_id == membership.organisation_id, ReminderLog.party_id == membership.party_id,
        ReminderLog.sent_at > utcnow() - timedelta(minutes=minutes)).limit(1)) is not None


def _renewal_period_for(membership, today):
    """The period open to renewal after ``membership``'s one that its member has not joined.

    A cancelled membership of that period does not count as joined: the member can renew
    (which reinstates it), and the dashboard lists them among the lapsed (``stats.lapsed_query``).
    """
    for period in services.renewal_periods(membership.organisation, today):
        if period.year <= membership.period.year:
            continue
        joined = services.membership_of(membership.organisation, membership.party, period)
        if joined is None or joined.status is S.CANCELLED:
            return period
    return None


def send_due_reminders(organisation, today=None, progress=None):
    """Send today's reminders of ``organisation``. Returns (sent, skipped): members without
    an address and mail failures are skipped (they stay due: the next run tries again)."""
    from backoffice.mail.services import MailError

    reminders = due_reminders(organisation, today)
    sent, skipped = [], []
    for index, reminder in enumerate(reminders, 1):
        try:
            entry = _deliver(reminder, today=today) if reminder.recipient else None
        except MailError as exc:
            log.warning("reminder to %s failed: %s", reminder.recipient, exc)
            entry = None
        (sent if entry is not None else skipped).append(reminder)
        if progress is not None:
            progress(index, len(reminders), "Relances envoyées")
    return sent, skipped


def history_query(organisation):
    return (select(ReminderLog).where(ReminderLog.organisation_id == organisation.id)
            .options(joinedload(ReminderLog.party), joinedload(ReminderLog.period))
            .order_by(ReminderLog.sent_at.desc(), ReminderLog.id.desc()))


def run_scheduled(today=None):
    """The daily run: every organisation with membership periods and reminders on. Commits per
    organisation, so that one organisation's trouble does not hold the others back."""
    from backoffice.organisations.models import Organisation

    today = today or date.today()
    organisation_ids = list(db.session.scalars(select(MembershipPeriod.organisation_id).distinct()))
    totals, failed = {}, []
    for organisation_id in organisation_ids:
        organisation = db.session.get(Organisation, organisation_id)
        try:
            if get_reminder_settings(organisation).enabled:
                sent, skipped = send_due_reminders(organisation, today)
                totals[organisation.slug] = (len(sent), len(skipped))
            db.session.commit()
        except Exception:  # noqa: BLE001 - the other organisations still get their run
            db.session.rollback()
            log.exception("reminders of organisation %s failed", organisation_id)
            failed.append(organisation_id)
    if failed:
        raise RuntimeError(f"reminders failed for organisation(s) {failed}; the others were sent")
    return totals
