"""The one place where membership talks to the accounting module.

Every money event of a membership posts a balanced journal entry through
``backoffice.accounting.services`` (``post_event`` / ``reverse_entry``); the id of the entry
is kept on the membership or payment row. Accounting errors (e.g. accounts not set up) become
``MembershipError`` with the accounting module's French message, so that the caller's
transaction is rolled back and nothing is half-recorded.
"""
from backoffice.accounting import services as accounting
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import JournalEntry
from backoffice.extensions import db


def post(organisation, event, **kwargs):
    """Post ``event`` (fee_due, fee_paid, fee_refund, cheques_deposited) and return the entry id."""
    from backoffice.membership.errors import MembershipError

    try:
        return accounting.post_event(organisation, event, **kwargs).id
    except AccountingError as exc:
        raise MembershipError(f"Écriture comptable impossible : {exc}") from exc


def post_at_once(organisation, events):
    """Post new ``events`` (``post``'s arguments, ``event`` included) with few statements
    (``accounting.post_events_at_once``); returns the entry ids in order."""
    from backoffice.membership.errors import MembershipError

    try:
        return [entry.id for entry in accounting.post_events_at_once(organisation, events)]
    except AccountingError as exc:
        raise MembershipError(f"Écriture comptable impossible : {exc}") from exc


def attach(organisation, period, on):
    """Where an operation of membership ``period`` made ``on`` is booked (``accounting.cutoff``)."""
    from backoffice.membership.errors import MembershipError

    try:
        return accounting.attach(organisation, period.starts_on, period.ends_on, on)
    except AccountingError as exc:
        raise MembershipError(f"Écriture comptable impossible : {exc}") from exc


def reverse(entry_id, entry_date=None, label=None):
    """Reverse the journal entry ``entry_id``; returns the reversing entry's id (None if none)."""
    from backoffice.membership.services import MembershipError

    if entry_id is None:
        return None
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None:
        raise MembershipError(f"L'écriture comptable n° {entry_id} est introuvable.")
    try:
        return accounting.reverse_entry(entry, entry_date=entry_date, label=label).id
    except AccountingError as exc:
        raise MembershipError(f"Contre-passation impossible : {exc}") from exc
