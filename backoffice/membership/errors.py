"""Membership's errors (French messages for the user); ``services`` re-exports them."""
from backoffice.errors import ServiceError
from backoffice.lifecycle import LifecycleError


class MembershipError(ServiceError):
    """A membership rule was broken; the message is in French, ready for the user."""


class MembershipStatusError(LifecycleError, MembershipError):
    """A status move that a membership machine (membership, payment, direct-debit run) refuses."""
