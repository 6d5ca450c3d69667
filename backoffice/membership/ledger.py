"""The one place where membership talks to the accounting module.

Every money event of a membership posts a balanced journal entry through
``backoffice.accounting.services`` (``post_event`` / ``reverse_entry``); the id of the entry
is kept on the membership or payment row. Accounting errors (e.g. accounts not set up) become
``MembershipError`` with the accounting module's French message, so that the caller's
transaction is rolled back and nothing is half-recorded.
"""
import importlib

from backoffice.extensions import db


def _accounting():
    try:
        return importlib.import_module("backoffice.accounting.services")
    except ModuleNotFoundError as exc:
        if exc.name != "backoffice.accounting.services":
            raise
        return None


def accounting_available():
    module = _accounting()
    return module is not None and hasattr(module, "post_event")


def post(organisation, event, **kwargs):
    """Post ``event`` (fee_due, fee_paid, fee_refund) and return the entry id (None if no ledger)."""
    from backoffice.membership.services import MembershipError

    module = _accounting()
    if module is None:
        return None
    try:
        entry = module.post_event(organisation, event, **kwargs)
    except module.AccountingError as exc:
        raise MembershipError(f"Écriture comptable impossible : {exc}") from exc
    return getattr(entry, "id", entry)


def _entry_model():
    from backoffice.accounting.models import JournalEntry

    return JournalEntry


def reverse(entry_id, entry_date=None, label=None):
    """Reverse the journal entry ``entry_id``; returns the reversing entry's id (None if none)."""
    from backoffice.membership.services import MembershipError

    module = _accounting()
    if module is None or entry_id is None:
        return None
    entry = db.session.get(_entry_model(), entry_id)
    if entry is None:
        raise MembershipError(f"L'écriture comptable n° {entry_id} est introuvable.")
    try:
        reversal = module.reverse_entry(entry, entry_date=entry_date, label=label)
    except module.AccountingError as exc:
        raise MembershipError(f"Contre-passation impossible : {exc}") from exc
    return getattr(reversal, "id", reversal)
