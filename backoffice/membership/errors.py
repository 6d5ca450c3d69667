"""Membership's errors (French messages for the user), and the amount reader that raises them;
``services`` re-exports them."""
from backoffice import money
from backoffice import errors
from backoffice.errors import ServiceError
from backoffice.lifecycle import LifecycleError


class MembershipError(ServiceError):
    """A membership rule was broken; the message is in French, ready for the user."""


class MembershipStatusError(LifecycleError, MembershipError):
    """A status move that a membership machine (membership, payment, direct-debit run) refuses."""


class DuplicateSubmission(MembershipError, errors.DuplicateSubmission):
    """The same form (idempotency key) was already recorded; ``payment`` is the first record."""

    def __init__(self, payment):
        super().__init__("Ce paiement a déjà été enregistré (formulaire envoyé deux fois).")
        self.payment = payment


def clean_amount(value, allow_zero=False):
    """A positive amount with at most two decimals, as ``Decimal`` (``backoffice.money``)."""
    try:
        return money.clean_amount(value, allow_zero=allow_zero)
    except ServiceError as exc:
        raise MembershipError(str(exc)) from None
