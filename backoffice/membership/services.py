"""Membership rules: periods, fee grid, category suggestion, memberships, payments.

Services take model objects and plain values, flush (never commit) and raise
``MembershipError`` with a French message. Every money event posts its journal entry through
``backoffice.membership.ledger`` in the same transaction:

=====================  ==============================================================
event                  accounting
=====================  ==============================================================
membership created     ``fee_due`` (amount due; skipped when 0)
exempted / cancelled   reversal of the ``fee_due`` entry
exemption lifted       ``fee_due`` again
reinstated             ``fee_due`` again (new source; the reversed entry stays)
payment confirmed      ``fee_paid`` (method of the payment)
refund                 ``fee_refund``
reversal of a row      reversal of that row's entry
credit carried over    none (the money already sits on the member's account)
=====================  ==============================================================

Hooks for other modules (receipts, reminders…): ``register_paid_hook(fn)`` — ``fn(membership)``
runs inside the transaction when a membership becomes paid; use
``backoffice.transactions.after_commit(fn)`` inside it for side effects (mails, jobs) that must
wait for the commit.
"""
import secrets
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from backoffice import money
from backoffice.accounting.sources import posting_source
from backoffice.audit.services import current_actor_id
from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.formatting import format_money_plain
from backoffice.membership import ledger
from backoffice.membership.errors import MembershipError, MembershipStatusError  # noqa: F401 - public here
from backoffice.membership.models import (MEMBERSHIP_LIFECYCLE, MEMBERSHIP_TRANSITIONS, OPEN_STATUSES,  # noqa: F401
                                          PAYMENT_TRANSITIONS, REINSTATE, CategoryKind, College, FeeCategory, Membership,
                                          MembershipPayment, MembershipPeriod, MembershipSettings, MembershipStatus,
                                          PaymentKind, PaymentMethod, PaymentStatus)
from backoffice.membership.roll import paid_since
from backoffice.models import ZERO
from backoffice.people.models import PartyKind

S = MembershipStatus


class DuplicateSubmission(MembershipError):
    """The same form (idempotency key) was already recorded; ``payment`` is the first record."""

    def __init__(self, payment):
        super().__init__("Ce paiement a déjà été enregistré (formulaire envoyé deux fois).")
        self.payment = payment


# --------------------------------------------------------------------------------------------
# State machines
# --------------------------------------------------------------------------------------------

# The tables live with the models (``models.MEMBERSHIP_LIFECYCLE``, ``PAYMENT_LIFECYCLE``): a
# status changes only through ``backoffice.lifecycle.move`` (recorded in ``status_changes``).

def can_transition(current, target):
    return MEMBERSHIP_LIFECYCLE.allows(current, target)


def _set_status(membership, target, reason=None):
    """Move ``membership`` to ``target`` (nothing when it is there already)."""
    if membership.status != target:
        move(membership, target, reason=reason)


def derived_status(amount_due, amount_paid):
    """The payment status that amounts imply: paid when amount paid ≥ amount due."""
    if amount_paid >= amount_due:
        return S.PAID
    if amount_paid > 0:
        return S.PARTIALLY_PAID
    return S.AWAITING_PAYMENT


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------

_PAID_HOOKS = []


def register_paid_hook(fn):
    """Call ``fn(membership)`` whenever a membership becomes paid (inside the transaction)."""
    if fn not in _PAID_HOOKS:
        _PAID_HOOKS.append(fn)
    return fn


_CREATED_HOOKS = []


def register_created_hook(fn):
    """Call ``fn(membership)`` whenever a membership is created (inside the transaction).

    Used by the member side: the member gets an account (``member_portal.services``).
    """
    if fn not in _CREATED_HOOKS:
        _CREATED_HOOKS.append(fn)
    return fn


# --------------------------------------------------------------------------------------------
# Settings, periods, grid, collèges
# --------------------------------------------------------------------------------------------

def get_settings(organisation, create=False):
    """The organisation's membership settings; until saved, the defaults in an unsaved row (a
    page that reads them writes nothing). ``create=True``: the row itself, added if new, for a
    change to be saved."""
    settings = db.session.scalar(select(MembershipSettings).where(MembershipSettings.organisation_id == organisation.id))
    if settings is None:
        settings = MembershipSettings(organisation_id=organisation.id, reference_prefix="ADH", due_days=90)
        if create:
            db.session.add(settings)
            db.session.flush()
    return settings


def set_due_days(organisation, due_days, today=None):
    """Set the fee's due date (``due_days`` after the start of a period) and move the due date
    of every period not ended on ``today`` (the current one, the next one if already created)
    to match: the overdue reminders count from it. Ended periods keep theirs. Returns the
    periods whose due date moved, in year order."""
    if due_days is None or not 0 <= int(due_days) <= 365:
        raise MembershipError("L'échéance est comprise entre 0 et 365 jours après le début de la période.")
    settings = get_settings(organisation, create=True)
    settings.due_days = int(due_days)
    today = today or date.today()
    moved = []
    for period in db.session.scalars(select(MembershipPeriod).where(
            MembershipPeriod.organisation_id == organisation.id, MembershipPeriod.ends_on >= today)
            .order_by(MembershipPeriod.year)):
        due_on = period.starts_on + timedelta(days=settings.due_days)
        if period.due_on != due_on:
            period.due_on = due_on
            moved.append(period)
    db.session.flush()
    return moved


def period_for_year(organisation, year, create=True):
    """The membership period starting in ``year`` (the organisation's fiscal year); its due
    date follows the setting (``set_due_days`` moves it while the period runs)."""
    period = db.session.scalar(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == organisation.id, MembershipPeriod.year == year))
    if period is None and create:
        starts_on, ends_on = organisation.fiscal_year_bounds(year)
        due_days = get_settings(organisation).due_days
        period = MembershipPeriod(organisation_id=organisation.id, year=year, starts_on=starts_on, ends_on=ends_on,
                                  renewal_open=True, due_on=starts_on + timedelta(days=due_days))
        db.session.add(period)
        db.session.flush()
    return period


def current_period(organisation, today=None, create=True):
    """The period that contains ``today``."""
    today = today or date.today()
    return period_for_year(organisation, organisation.fiscal_year_of(today), create=create)


def periods(organisation, with_categories=False):
    """Every period of the organisation, latest first; ``with_categories``: their fee grids
    loaded by the same query (a join: a few periods of a few categories)."""
    query = select(MembershipPeriod).where(MembershipPeriod.organisation_id == organisation.id)
    if with_categories:
        query = query.options(joinedload(MembershipPeriod.categories))
    return list(db.session.scalars(query.order_by(MembershipPeriod.year.desc())).unique())


def renewal_periods(organisation, today=None):
    """Periods a member may renew for now: the current one and, once opened, the next one."""
    today = today or date.today()
    year = organisation.fiscal_year_of(today)
    found = db.session.scalars(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == organisation.id, MembershipPeriod.year.in_([year, year + 1]),
        MembershipPeriod.renewal_open.is_(True)).order_by(MembershipPeriod.year))
    return list(found)


def set_fee_category(period, label, amount, kind=CategoryKind.OTHER, position=None, category=None, active=True):
    """Create (or, given ``category``, update) a line of the fee grid of ``period``."""
    amount = clean_amount(amount, allow_zero=True)
    label = (label or "").strip()
    if not label:
        raise MembershipError("Le libellé de la catégorie est obligatoire.")
    duplicate = db.session.scalar(select(FeeCategory).where(
        FeeCategory.period_id == period.id, func.lower(FeeCategory.label) == label.lower(),
        FeeCategory.id != (category.id if category else -1)))
    if duplicate is not None:
        raise MembershipError(f"La catégorie « {label} » existe déjà pour {period.label}.")
    if category is None:
        if position is None:
            position = (db.session.scalar(select(func.max(FeeCategory.position)).where(
                FeeCategory.period_id == period.id)) or 0) + 1
        category = FeeCategory(organisation_id=period.organisation_id, period=period)
        db.session.add(category)
    category.label, category.amount, category.kind, category.active = label, amount, CategoryKind(kind), active
    if position is not None:
        category.position = position
    db.session.flush()
    return category


def copy_grid(source, target):
    """Copy the fee grid of period ``source`` to ``target`` (categories it does not have yet)."""
    existing = {c.label.lower() for c in target.categories}
    for category in source.categories:
        if category.label.lower() not in existing:
            set_fee_category(target, category.label, category.amount, category.kind, category.position,
                             active=category.active)
    db.session.flush()
    return target


def ensure_grid(period, previous=None):
    """Give ``period`` a grid: a copy of ``previous`` (default: the period before) if it has none."""
    if period.categories:
        return period
    previous = previous or db.session.scalar(select(MembershipPeriod).where(
        MembershipPeriod.organisation_id == period.organisation_id, MembershipPeriod.year < period.year,
    ).order_by(MembershipPeriod.year.desc()).limit(1))
    if previous is not None:
        copy_grid(previous, period)
    return period


def colleges(organisation):
    return list(db.session.scalars(select(College).where(College.organisation_id == organisation.id)
                                   .order_by(College.position, College.name)))


def save_college(organisation, name, description=None, party_kind=None, position=None, college=None):
    """Create (or, given ``college``, update) a collège."""
    name = (name or "").strip()
    if not name:
        raise MembershipError("Le nom du collège est obligatoire.")
    duplicate = db.session.scalar(select(College).where(
        College.organisation_id == organisation.id, func.lower(College.name) == name.lower(),
        College.id != (college.id if college else -1)))
    if duplicate is not None:
        raise MembershipError(f"Le collège « {name} » existe déjà.")
    if college is None:
        college = College(organisation_id=organisation.id, position=position or len(colleges(organisation)) + 1)
        db.session.add(college)
    college.name, college.description, college.party_kind = name, description or None, party_kind or None
    if position is not None:
        college.position = position
    db.session.flush()
    return college


# --------------------------------------------------------------------------------------------
# Suggestions (pure)
# --------------------------------------------------------------------------------------------

def suggest_category_kind(party_kind, is_physician, first_membership):
    """The category kind a person should fall in.

    A first membership gets the reduced first-year rate; otherwise a structure pays the
    structure rate, a physician the physician rate, anybody else the other-professional rate.
    """
    if first_membership:
        return CategoryKind.FIRST_YEAR
    if PartyKind(party_kind) is PartyKind.STRUCTURE:
        return CategoryKind.STRUCTURE
    return CategoryKind.PHYSICIAN if is_physician else CategoryKind.OTHER_PROFESSIONAL


def pick_category(categories, kind):
    """The first active category of ``kind`` in ``categories``; falls back from first-year to the
    first active line when the grid has no line of that kind."""
    active = [c for c in sorted(categories, key=lambda c: (c.position, c.id or 0)) if c.active]
    for category in active:
        if category.kind == kind:
            return category
    return active[0] if active else None


def suggest_category(party, period):
    """The suggested ``FeeCategory`` of ``period`` for ``party`` (None if the grid is empty)."""
    first = not has_previous_membership(party, period)
    kind = suggest_category_kind(party.kind, getattr(party, "is_physician", False), first)
    categories = period.categories
    if kind is CategoryKind.FIRST_YEAR and not any(c.kind == kind and c.active for c in categories):
        kind = suggest_category_kind(party.kind, getattr(party, "is_physician", False), False)
    return pick_category(categories, kind)


def suggest_college(party, college_list):
    """The first collège meant for the party's kind, if any."""
    for college in college_list:
        if college.party_kind == party.kind:
            return college
    return None


def has_previous_membership(party, period):
    """True if ``party`` had a (non-cancelled) membership of an earlier period of the same organisation."""
    return bool(db.session.scalar(select(exists().where(
        Membership.party_id == party.id, Membership.organisation_id == period.organisation_id,
        Membership.status != S.CANCELLED,
        Membership.period_id.in_(select(MembershipPeriod.id).where(
            MembershipPeriod.organisation_id == period.organisation_id, MembershipPeriod.year < period.year))))))


# --------------------------------------------------------------------------------------------
# Amounts and references
# --------------------------------------------------------------------------------------------

def clean_amount(value, allow_zero=False):
    """A positive amount with at most two decimals, as ``Decimal`` (``backoffice.money``)."""
    try:
        return money.clean_amount(value, allow_zero=allow_zero)
    except ServiceError as exc:
        raise MembershipError(str(exc)) from None


# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read over the phone or typed from paper stays right.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_LENGTH = 5


def new_payment_reference(prefix, year):
    """A fresh unique payment reference such as ``ADH26-7KQ4M``."""
    for _ in range(50):
        code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        reference = f"{prefix}{year % 100:02d}-{code}"
        if not db.session.scalar(select(exists().where(Membership.payment_reference == reference))):
            return reference
    raise MembershipError("Impossible de générer une référence de paiement unique.")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# Memberships
# --------------------------------------------------------------------------------------------

def _membership_label(membership):
    return f"Cotisation {membership.period.label} {membership.party.display_name}"[:200]


def create_membership(organisation, party, period, category=None, college=None, amount_due=None,
                      joined_on=None, source="treasurer", note=None):
    """Make ``party`` a member of ``organisation`` for ``period``; posts ``fee_due``.

    ``category`` defaults to the suggestion, ``amount_due`` to the category's amount. A second
    membership for the same period is refused (and a unique constraint backs it), except when
    the party's membership of the period was cancelled: that one is reinstated with these
    values (``reinstate_membership``; same row, same payment reference).
    """
    if period.organisation_id != organisation.id:
        raise MembershipError("Cette période n'appartient pas à l'organisation.")
    existing = membership_of(organisation, party, period)
    if existing is not None and existing.status is not S.CANCELLED:
        raise MembershipError(
            f"{party.display_name} a déjà une adhésion pour {period.label} "
            f"({existing.status.label.lower()}) : impossible d'en créer une deuxième.")
    if category is None:
        category = suggest_category(party, period)
    category, college, amount_due = _checked_terms(organisation, period, category, college, amount_due)
    if existing is not None:
        return reinstate_membership(existing, category=category, college=college, amount_due=amount_due,
                                    joined_on=joined_on or date.today(), source=source, note=note)
    settings = get_settings(organisation)
    membership = Membership(
        organisation_id=organisation.id, party=party, period=period, category=category, college=college,
        amount_due=amount_due, amount_paid=ZERO, credit=ZERO,
        status=S.PAID if amount_due == 0 else S.AWAITING_PAYMENT,
        payment_reference=new_payment_reference(settings.reference_prefix, period.starts_on.year),
        joined_on=joined_on or date.today(), source=source, note=note,
    )
    if amount_due == 0:
        membership.paid_on = membership.joined_on
    try:
        with db.session.begin_nested():
            db.session.add(membership)
            db.session.flush()
    except IntegrityError:
        raise MembershipError(f"{party.display_name} a déjà une adhésion pour {period.label}.") from None
    membership.fee_due_entry_id = _post_fee_due(membership)
    db.session.flush()
    for hook in list(_CREATED_HOOKS):
        hook(membership)
    if membership.status is S.PAID:
        _run_paid_hooks(membership)
    return membership


def _checked_terms(organisation, period, category, college, amount_due):
    """(category, college, amount due) of a membership of ``period``, checked; the amount
    defaults to the category's."""
    if category is not None and category.period_id != period.id:
        raise MembershipError("Cette catégorie ne fait pas partie de la grille de la période.")
    if college is not None and college.organisation_id != organisation.id:
        raise MembershipError("Ce collège n'appartient pas à l'organisation.")
    if amount_due is None:
        if category is None:
            raise MembershipError(f"La grille de cotisations {period.label} est vide : indiquez un montant.")
        amount_due = category.amount
    return category, college, clean_amount(amount_due, allow_zero=True)


def reinstate_membership(membership, category=None, college=None, amount_due=None, joined_on=None, source=None,
                         note=None, on=None):
    """Reopen a cancelled membership (a cancellation made by mistake, a member who comes back
    for the same period): awaiting payment again, ``fee_due`` posted again.

    Same row, same payment reference. ``category`` and ``college`` default to the membership's
    own, ``amount_due`` to the category's amount in the grid today (the membership's former
    amount when it has no category); ``joined_on``, ``source`` and ``note`` are kept unless
    given. The cancellation date and reason are cleared: the audit trail keeps them, and the
    books keep the reversed entry. Anything but a cancelled membership is refused.
    """
    if membership.status is not S.CANCELLED:
        raise MembershipError(
            f"{membership.party.display_name} a déjà une adhésion pour {membership.period.label} "
            f"({membership.status.label.lower()}) : elle n'est pas annulée, rien à rétablir.")
    if membership.amount_paid != 0 or _has_pending(membership):  # cancel_membership keeps it so; never trust it
        raise MembershipError("Cette adhésion annulée porte des paiements : impossible de la rétablir.")
    category = category or membership.category
    if amount_due is None and category is None:
        amount_due = membership.amount_due
    category, college, amount_due = _checked_terms(membership.organisation, membership.period, category,
                                                   college or membership.college, amount_due)
    _set_status(membership, REINSTATE[1])
    membership.category, membership.college, membership.amount_due = category, college, amount_due
    membership.cancelled_on = membership.cancellation_reason = None
    membership.exemption_reason = membership.exempted_on = None
    if joined_on is not None:
        membership.joined_on = joined_on
    if source is not None:
        membership.source = source
    if note is not None:
        membership.note = note
    # The cancellation reversed the fee due (or the exemption before it did): post it again,
    # under a source of its own (``_post_fee_due`` keys it on the reversed entry).
    membership.fee_due_entry_id = _post_fee_due(membership, entry_date=on or date.today())
    db.session.flush()
    for hook in list(_CREATED_HOOKS):  # the member's account, as for a new membership
        hook(membership)
    recompute(membership)  # a free category: paid at once (and the paid hooks run)
    return membership


def _post_fee_due(membership, entry_date=None):
    """Post the fee due; a second posting (exemption lifted, category changed, reinstated) gets
    its own source, since the accounting module refuses to re-post a reversed source."""
    if membership.amount_due == 0:
        return None
    # After a reversal, the reversed entry's id tells the postings of one membership apart.
    again = () if membership.fee_due_entry_id is None else (membership.fee_due_entry_id,)
    source = posting_source(Membership, membership.id, *again)
    return ledger.post(membership.organisation, "fee_due", amount=membership.amount_due,
                       entry_date=entry_date or membership.joined_on,
                       party=membership.party, piece_ref=membership.payment_reference,
                       label=_membership_label(membership), source=source)


def _reverse_fee_due(membership, on, label):
    if membership.fee_due_entry_id is not None:
        ledger.reverse(membership.fee_due_entry_id, entry_date=on, label=label)


def exempt_membership(membership, reason, on=None):
    """Exempt a membership with nothing paid (the fee is no longer due: ``fee_due`` reversed)."""
    reason = (reason or "").strip()
    if not reason:
        raise MembershipError("Indiquez le motif de l'exonération.")
    if membership.status is not S.AWAITING_PAYMENT:
        raise MembershipError("Seule une adhésion en attente de paiement, sans paiement reçu, peut être exonérée.")
    _set_status(membership, S.EXEMPT, reason=reason[:250])
    membership.exemption_reason = reason[:250]
    membership.exempted_on = on or date.today()
    _reverse_fee_due(membership, on or date.today(), f"Exonération — {_membership_label(membership)}"[:200])
    db.session.flush()
    return membership


def lift_exemption(membership, on=None):
    """Undo an exemption: the fee is due again (``fee_due`` posted again)."""
    if membership.status is not S.EXEMPT:
        raise MembershipError("Cette adhésion n'est pas exonérée.")
    _set_status(membership, S.AWAITING_PAYMENT)
    membership.exemption_reason = membership.exempted_on = None
    membership.fee_due_entry_id = _post_fee_due(membership, entry_date=on or date.today())
    db.session.flush()
    return membership


def cancel_membership(membership, reason, on=None):
    """Cancel a membership with no money on it (refund or reverse payments first)."""
    reason = (reason or "").strip()
    if not reason:
        raise MembershipError("Indiquez le motif de l'annulation.")
    if membership.status is S.CANCELLED:
        raise MembershipError("Cette adhésion est déjà annulée.")
    if membership.amount_paid != 0 or _has_pending(membership):
        raise MembershipError("Cette adhésion a des paiements : remboursez-les ou annulez-les avant d'annuler l'adhésion.")
    was_exempt = membership.status is S.EXEMPT
    _set_status(membership, S.CANCELLED, reason=reason[:250])
    on = on or date.today()
    membership.cancelled_on, membership.cancellation_reason = on, reason[:250]
    if not was_exempt:
        _reverse_fee_due(membership, on, f"Annulation — {_membership_label(membership)}"[:200])
    db.session.flush()
    return membership


def change_category(membership, category, amount_due=None):
    """Move an unpaid membership to another category of its grid (amount due follows)."""
    if membership.status is not S.AWAITING_PAYMENT:
        raise MembershipError("La catégorie ne peut changer que sur une adhésion en attente de paiement.")
    if category.period_id != membership.period_id:
        raise MembershipError("Cette catégorie ne fait pas partie de la grille de la période.")
    new_amount = clean_amount(category.amount if amount_due is None else amount_due, allow_zero=True)
    on = date.today()
    _reverse_fee_due(membership, on, f"Changement de catégorie — {_membership_label(membership)}"[:200])
    membership.category, membership.amount_due = category, new_amount
    membership.fee_due_entry_id = _post_fee_due(membership, entry_date=on)
    recompute(membership)
    return membership


def membership_history(organisation, party):
    """Every membership of ``party`` in ``organisation``, latest period first, payments loaded."""
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        select(Membership).join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
        .where(Membership.organisation_id == organisation.id, Membership.party_id == party.id)
        .options(selectinload(Membership.payments), selectinload(Membership.category),
                 selectinload(Membership.college))
        .order_by(MembershipPeriod.year.desc())))


def membership_of(organisation, party, period):
    return db.session.scalar(select(Membership).where(
        Membership.organisation_id == organisation.id, Membership.party_id == party.id,
        Membership.period_id == period.id))


def find_by_reference(reference):
    """The membership whose payment reference is ``reference`` (spaces and case tolerated)."""
    from backoffice.membership.matching import compact

    wanted = compact(reference)
    if len(wanted) < 8:
        return None
    normalised = wanted[:-REFERENCE_LENGTH] + "-" + wanted[-REFERENCE_LENGTH:]
    return db.session.scalar(select(Membership).where(Membership.payment_reference == normalised))


# --------------------------------------------------------------------------------------------
# Payments
# --------------------------------------------------------------------------------------------

def _has_pending(membership):
    return any(p.status is PaymentStatus.PENDING for p in membership.payments)


def recompute(membership):
    """Bring ``amount_paid``, ``credit``, ``paid_on`` and the derived status up to date."""
    paid = sum((p.amount for p in membership.payments if p.status is PaymentStatus.CONFIRMED), ZERO)
    membership.amount_paid = paid
    membership.credit = max(paid - membership.amount_due, ZERO)
    if membership.status in (S.EXEMPT, S.CANCELLED):
        db.session.flush()
        return membership
    target = derived_status(membership.amount_due, paid)
    became_paid = target is S.PAID and membership.status is not S.PAID
    _set_status(membership, target)
    if target is S.PAID:
        membership.paid_on = paid_since(
            membership.amount_due, [(p.paid_on, p.amount) for p in membership.payments
                                    if p.status is PaymentStatus.CONFIRMED], default=membership.joined_on)
    else:
        membership.paid_on = None
    db.session.flush()
    if became_paid:
        _run_paid_hooks(membership)
    return membership


def _run_paid_hooks(membership):
    for hook in list(_PAID_HOOKS):
        hook(membership)


def _existing_by_key(organisation_id, key):
    if not key:
        return None
    return db.session.scalar(select(MembershipPayment).where(
        MembershipPayment.organisation_id == organisation_id, MembershipPayment.idempotency_key == key))


def _add_payment_row(payment, membership, reversed_payment=None):
    """Insert ``payment`` (built with foreign key ids, not relationships) inside a savepoint.

    A concurrent twin with the same idempotency key → ``DuplicateSubmission`` and nothing else
    of the transaction is lost. Collections that now hold the row are refreshed.
    """
    try:
        with db.session.begin_nested():
            db.session.add(payment)
            db.session.flush()
    except IntegrityError:
        twin = _existing_by_key(payment.organisation_id, payment.idempotency_key)
        if twin is not None:
            raise DuplicateSubmission(twin) from None
        raise
    db.session.expire(membership, ["payments"])
    if reversed_payment is not None:
        db.session.expire(reversed_payment, ["reversed_by"])
    return payment


def _payment_label(payment):
    kind = {PaymentKind.PAYMENT: "Règlement", PaymentKind.REFUND: "Remboursement"}.get(payment.kind, "Cotisation")
    return f"{kind} {payment.method.label.lower()} — {_membership_label(payment.membership)}"[:200]


def _post_payment(payment):
    """Post the journal entry of a confirmed payment or refund (not for credit carried over)."""
    if payment.method is PaymentMethod.CREDIT:
        return None
    membership = payment.membership
    event = "fee_paid" if payment.kind is PaymentKind.PAYMENT else "fee_refund"
    return ledger.post(membership.organisation, event, amount=abs(payment.amount), entry_date=payment.paid_on,
                       party=membership.party, piece_ref=payment.reference or membership.payment_reference,
                       label=_payment_label(payment), payment_method=payment.method.value,
                       source=posting_source(MembershipPayment, payment.id))


def record_payment(membership, amount, method, paid_on=None, reference=None, cheque_bank=None, payer_name=None,
                   note=None, source="treasurer", idempotency_key=None, user=None, pending=False, mandate=None,
                   direct_debit_run=None):
    """Record money received for ``membership`` and post ``fee_paid``.

    Partial payments are fine; paying more than due leaves a credit (``membership.credit``) to
    refund or carry over. Refused on a cancelled or exempt membership. ``idempotency_key``
    (the form's one-time key): a second call with the same key raises ``DuplicateSubmission``
    and records nothing. ``pending=True`` (direct debit sent, not collected) records the row
    without counting it nor posting anything until ``confirm_payment``.
    """
    if membership.status is S.CANCELLED:
        raise MembershipError("Cette adhésion est annulée : impossible d'y enregistrer un paiement.")
    if membership.status is S.EXEMPT:
        raise MembershipError("Cette adhésion est exonérée : aucun paiement n'est attendu.")
    method = PaymentMethod(method)
    if method is PaymentMethod.CREDIT:
        raise MembershipError("Utilisez le report d'avoir pour payer avec un avoir.")
    amount = clean_amount(amount)
    twin = _existing_by_key(membership.organisation_id, idempotency_key)
    if twin is not None:
        raise DuplicateSubmission(twin)
    if method is PaymentMethod.CHEQUE and not (reference or "").strip():
        raise MembershipError("Indiquez le numéro du chèque.")
    payment = MembershipPayment(
        organisation_id=membership.organisation_id, membership_id=membership.id, kind=PaymentKind.PAYMENT, method=method,
        status=PaymentStatus.PENDING if pending else PaymentStatus.CONFIRMED, amount=amount,
        paid_on=paid_on or date.today(), reference=(reference or "").strip()[:100] or None,
        cheque_bank=(cheque_bank or "").strip()[:100] or None, payer_name=(payer_name or "").strip()[:200] or None,
        note=(note or "").strip()[:250] or None, source=source, idempotency_key=idempotency_key,
        created_by_id=current_actor_id(user), mandate_id=getattr(mandate, "id", None),
        direct_debit_run_id=getattr(direct_debit_run, "id", None),
    )
    _add_payment_row(payment, membership)
    if not pending:
        payment.accounting_entry_id = _post_payment(payment)
        recompute(membership)
    return payment


def confirm_payment(payment, on=None):
    """A pending payment (direct debit) was collected: it now counts, and ``fee_paid`` is posted."""
    if payment.status is not PaymentStatus.PENDING:
        raise MembershipError("Ce paiement n'est pas en attente.")
    if payment.membership.status is S.CANCELLED:
        raise MembershipError("Cette adhésion est annulée : impossible d'y enregistrer un paiement.")
    move(payment, PaymentStatus.CONFIRMED)
    if on is not None:
        payment.paid_on = on
    db.session.flush()
    payment.accounting_entry_id = _post_payment(payment)
    recompute(payment.membership)
    return payment


def fail_payment(payment, reason=None):
    """A pending payment (direct debit) was rejected by the bank: it never counted."""
    if payment.status is not PaymentStatus.PENDING:
        raise MembershipError("Ce paiement n'est pas en attente.")
    move(payment, PaymentStatus.FAILED, reason=reason)
    if reason:
        payment.note = reason[:250]
    db.session.flush()
    return payment


def reverse_payment(payment, on=None, reason=None, user=None, idempotency_key=None):
    """Cancel a confirmed payment or refund: a reversing row (opposite amount) and a reversed entry.

    Nothing is deleted. A row can be reversed once; a reversal cannot be reversed (record the
    payment again instead).
    """
    if payment.kind is PaymentKind.REVERSAL:
        raise MembershipError("Une annulation ne peut pas être annulée : enregistrez à nouveau le paiement.")
    if payment.kind is PaymentKind.CREDIT_OUT or payment.method is PaymentMethod.CREDIT:
        raise MembershipError("Un report d'avoir ne peut pas être annulé ici.")
    if payment.status is not PaymentStatus.CONFIRMED:
        raise MembershipError("Seul un paiement confirmé peut être annulé.")
    if payment.reversed_by is not None:
        raise MembershipError("Ce paiement est déjà annulé.")
    if payment.cheque_deposit_id is not None:
        # Its money has left 5112 for the bank with the deposit slip: reversing the payment
        # would take it out of 5112 again. A refund by transfer takes it out of the bank (512),
        # which is what an unpaid cheque does, and makes the fee due again.
        raise MembershipError("Ce chèque a été remis en banque : il ne peut plus être annulé. S'il revient impayé "
                              "(ou pour rendre l'argent), enregistrez un remboursement par virement du même "
                              "montant : la somme sort du compte bancaire et la cotisation redevient due.")
    twin = _existing_by_key(payment.organisation_id, idempotency_key)
    if twin is not None:
        raise DuplicateSubmission(twin)
    on = on or date.today()
    reversal = MembershipPayment(
        organisation_id=payment.organisation_id, membership_id=payment.membership_id, kind=PaymentKind.REVERSAL,
        method=payment.method, status=PaymentStatus.CONFIRMED, amount=-payment.amount, paid_on=on,
        reference=payment.reference, note=(reason or "").strip()[:250] or None, source="treasurer",
        reverses_id=payment.id, idempotency_key=idempotency_key, created_by_id=current_actor_id(user),
    )
    _add_payment_row(reversal, payment.membership, reversed_payment=payment)
    reversal.accounting_entry_id = ledger.reverse(
        payment.accounting_entry_id, entry_date=on, label=f"Annulation — {_payment_label(payment)}"[:200])
    recompute(payment.membership)
    return reversal


def refund(membership, amount, method, paid_on=None, reference=None, note=None, user=None, idempotency_key=None):
    """Give money back to the member (an overpayment, usually); posts ``fee_refund``.

    At most what was paid; ``amount`` defaults to the credit (overpayment).
    """
    method = PaymentMethod(method)
    if method is PaymentMethod.CREDIT:
        raise MembershipError("Mode de remboursement invalide.")
    amount = clean_amount(membership.credit if amount in (None, "") else amount)
    if amount > membership.amount_paid:
        raise MembershipError(
            f"Impossible de rembourser plus que ce qui a été payé ({format_money_plain(membership.amount_paid)} €).")
    twin = _existing_by_key(membership.organisation_id, idempotency_key)
    if twin is not None:
        raise DuplicateSubmission(twin)
    row = MembershipPayment(
        organisation_id=membership.organisation_id, membership_id=membership.id, kind=PaymentKind.REFUND, method=method,
        status=PaymentStatus.CONFIRMED, amount=-amount, paid_on=paid_on or date.today(),
        reference=(reference or "").strip()[:100] or None, note=(note or "").strip()[:250] or None,
        source="treasurer", idempotency_key=idempotency_key, created_by_id=current_actor_id(user),
    )
    _add_payment_row(row, membership)
    row.accounting_entry_id = _post_payment(row)
    recompute(membership)
    return row


def carry_over_credit(source, target, amount=None, on=None, user=None, idempotency_key=None):
    """Use the credit of membership ``source`` to pay membership ``target`` of the same member.

    Two rows, no journal entry: the overpayment already sits on the member's account, which
    the new fee then uses. ``idempotency_key`` (the form's) is kept on the row that pays
    ``target``: the same form sent twice raises ``DuplicateSubmission``.
    """
    twin = _existing_by_key(source.organisation_id, idempotency_key)
    if twin is not None:
        raise DuplicateSubmission(twin)
    if source.party_id != target.party_id or source.organisation_id != target.organisation_id:
        raise MembershipError("Un avoir ne peut servir qu'à une autre adhésion du même membre.")
    if source.id == target.id:
        raise MembershipError("Choisissez une autre adhésion.")
    if target.status in (S.CANCELLED, S.EXEMPT):
        raise MembershipError("Cette adhésion n'attend aucun paiement.")
    amount = clean_amount(min(source.credit, target.balance) if amount in (None, "") else amount)
    if amount > source.credit:
        raise MembershipError("Le montant dépasse l'avoir disponible.")
    on = on or date.today()
    common = dict(organisation_id=source.organisation_id, method=PaymentMethod.CREDIT,
                  status=PaymentStatus.CONFIRMED, paid_on=on, source="credit", created_by_id=current_actor_id(user))
    out = MembershipPayment(membership_id=source.id, kind=PaymentKind.CREDIT_OUT, amount=-amount,
                            related_membership_id=target.id, reference=target.payment_reference, **common)
    into = MembershipPayment(membership_id=target.id, kind=PaymentKind.PAYMENT, amount=amount,
                             related_membership_id=source.id, reference=source.payment_reference,
                             idempotency_key=idempotency_key, **common)
    _add_payment_row(out, source)
    _add_payment_row(into, target)
    recompute(source)
    recompute(target)
    return into


def apply_available_credit(membership, user=None):
    """Pay ``membership`` with what the member has left as credit on their other memberships of
    the organisation (oldest first), as far as it goes; returns the amount used.

    A member who overpaid last year renews for what is left to pay, without asking the treasurer.
    """
    if not membership.is_open:
        return ZERO
    sources = db.session.scalars(select(Membership).where(
        Membership.organisation_id == membership.organisation_id, Membership.party_id == membership.party_id,
        Membership.id != membership.id, Membership.credit > 0).order_by(Membership.period_id, Membership.id))
    used = ZERO
    for source in sources:
        if membership.balance <= 0:
            break
        used += carry_over_credit(source, membership, user=user).amount
    return used


def undeposited_cheques(organisation):
    """Confirmed cheque payments, not reversed, not yet on a deposit slip, oldest first."""
    from sqlalchemy.orm import joinedload

    reversed_ids = select(MembershipPayment.reverses_id).where(MembershipPayment.reverses_id.is_not(None))
    return list(db.session.scalars(
        select(MembershipPayment).where(
            MembershipPayment.organisation_id == organisation.id, MembershipPayment.method == PaymentMethod.CHEQUE,
            MembershipPayment.kind == PaymentKind.PAYMENT, MembershipPayment.status == PaymentStatus.CONFIRMED,
            MembershipPayment.cheque_deposit_id.is_(None), MembershipPayment.id.not_in(reversed_ids))
        .options(joinedload(MembershipPayment.membership).joinedload(Membership.party))
        .order_by(MembershipPayment.paid_on, MembershipPayment.id)))


def open_memberships(organisation, period=None):
    """Memberships still expecting money (awaiting or partially paid)."""
    query = select(Membership).where(Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES))
    if period is not None:
        query = query.where(Membership.period_id == period.id)
    return list(db.session.scalars(query))
