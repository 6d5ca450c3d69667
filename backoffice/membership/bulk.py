"""Memberships created by the hundred (a workbook import), each with its payments.

``create_memberships(organisation, period, items)`` makes the rows, states, journal entries,
lettering, audit entries and hook effects that ``create_membership`` then ``record_payment``
would make item after item, in the same order (same numbers, same lettering codes), with a
number of SQL statements that does not grow with the items: the terms, references, payments and
postings are checked and built in memory, then written a table at a time. Statuses move through
``lifecycle.move`` as one by one (``recompute``), and the created hooks run once for all of them
(``register_created_hook(fn, many=…)``).

Only new memberships: a party with a membership of the period already (a cancelled one
included, which ``create_membership`` reinstates) is refused — the caller takes those one by
one. Public through ``backoffice.membership.services``.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from backoffice.audit.services import record_bulk_creates
from backoffice.extensions import db
from backoffice.membership import ledger
from backoffice.membership.errors import MembershipError
from backoffice.membership.memberships import (_run_created_hooks, _run_paid_hooks, checked_terms, fee_due_event,
                                               known_member_numbers, new_membership, new_references,
                                               recompute)
from backoffice.membership.models import Membership, MembershipStatus
from backoffice.membership.payments import new_payment, payment_event
from backoffice.membership.periods import previous_members, suggest_category
from backoffice.membership.stats import figures_changed
from backoffice.models import insert_objects, update_objects


@dataclass
class NewPayment:
    """A payment to record on a new membership (``record_payment``'s arguments)."""

    method: str
    paid_on: date
    amount: Decimal | None = None  # None: the membership's amount due
    reference: str | None = None
    note: str | None = None
    idempotency_key: str | None = None


@dataclass
class NewMembership:
    """A membership to create (``create_membership``'s arguments) and its payments, in order.
    ``label`` names the item in a refusal (« Ligne 7 (Claire MORVAN) »)."""

    party: object
    amount_due: Decimal | None = None  # None: the suggested category's amount
    joined_on: date | None = None
    note: str | None = None
    member_number: str | None = None
    payments: list = field(default_factory=list)
    label: str = ""


@contextmanager
def _named(item):
    try:
        yield
    except MembershipError as exc:
        if not item.label:
            raise
        raise MembershipError(f"{item.label} : {exc}") from None


def create_memberships(organisation, period, items, source="import", user=None):
    """Create the memberships ``items`` (``NewMembership``) of ``period`` and record their
    payments; returns the memberships in order. Refuses (``MembershipError``, French, the item
    named) exactly what ``create_membership`` and ``record_payment`` refuse, a party twice, and a
    party that has a membership of the period already; the caller's transaction rolls back."""
    items = list(items)
    if not items:
        return []
    if period.organisation_id != organisation.id:
        raise MembershipError("Cette période n'appartient pas à l'organisation.")
    party_ids = [item.party.id for item in items]
    if len(set(party_ids)) != len(party_ids):
        raise MembershipError("Une même personne figure deux fois parmi les adhésions à créer.")
    _refuse_members(organisation, period, items)
    previous = previous_members(party_ids, period)
    known = known_member_numbers(organisation, party_ids)
    references = new_references(organisation, period, [item.member_number or known.get(item.party.id)
                                                       for item in items])
    memberships = []
    for item, (reference, number) in zip(items, references):
        with _named(item):
            category = suggest_category(item.party, period, first=item.party.id not in previous)
            category, college, amount_due = checked_terms(organisation, period, category, None, item.amount_due)
            memberships.append(new_membership(organisation, item.party, period, category, college, amount_due,
                                              item.joined_on, source, item.note, reference, number))
    # A statement per table (not a flush of a thousand objects), audited as a flush would.
    db.session.flush()  # the people (their ids) first
    try:
        with db.session.begin_nested():
            insert_objects(memberships)
    except IntegrityError:  # a concurrent import of the same people, or a reference just taken
        raise MembershipError(f"Une adhésion {period.label} vient d'être créée pour l'une de ces personnes ou avec "
                              "l'une de ces références : rechargez la page et importez de nouveau.") from None
    db.session.add_all(memberships)
    payments = [_payments(item, membership, source, user) for item, membership in zip(items, memberships)]
    new_payments = insert_objects([payment for rows in payments for payment in rows])
    db.session.add_all(new_payments)
    record_bulk_creates(memberships + new_payments)
    figures_changed(organisation.id)
    events, owners = [], []  # in the order one by one would post them
    for membership, rows in zip(memberships, payments):
        if membership.amount_due != 0:
            events.append(fee_due_event(membership))
            owners.append(membership)
        for row in rows:
            set_committed_value(row, "membership", membership)
            events.append(payment_event(row))
            owners.append(row)
        set_committed_value(membership, "payments", rows)
    for owner, entry_id in zip(owners, ledger.post_at_once(organisation, events)):
        if isinstance(owner, Membership):
            owner.fee_due_entry_id = entry_id
        else:
            owner.accounting_entry_id = entry_id
    # A statement per table, not an UPDATE per row (a round trip each for PostgreSQL).
    update_objects(memberships)
    update_objects(new_payments)
    _run_created_hooks(memberships)
    for membership, rows in zip(memberships, payments):
        if membership.status is MembershipStatus.PAID:
            _run_paid_hooks(membership)  # nothing due: paid at once
        if rows:
            recompute(membership, flush=False)
    update_objects(memberships)
    db.session.flush()
    return memberships


def _refuse_members(organisation, period, items):
    ids = sorted(item.party.id for item in items)
    for start in range(0, len(ids), 500):
        member = db.session.scalar(select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.period_id == period.id,
            Membership.party_id.in_(ids[start:start + 500])).limit(1))
        if member is not None:
            item = next(item for item in items if item.party.id == member.party_id)
            with _named(item):
                raise MembershipError(f"{item.party.display_name} a déjà une adhésion pour {period.label} "
                                      f"({member.status.label.lower()}).")


def _payments(item, membership, source, user):
    rows, keys = [], set()
    for payment in item.payments:
        if payment.idempotency_key and payment.idempotency_key in keys:
            continue  # the same payment twice: recorded once, as record_payment would
        keys.add(payment.idempotency_key)
        with _named(item):
            rows.append(new_payment(membership, membership.amount_due if payment.amount is None else payment.amount,
                                    payment.method, payment.paid_on, reference=payment.reference,
                                    note=payment.note, source=source, idempotency_key=payment.idempotency_key,
                                    user=user))
    return rows
