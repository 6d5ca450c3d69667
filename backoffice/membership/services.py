"""Membership rules: periods, fee grid, category suggestion, memberships, payments.

The public surface of membership's rules, made of three modules (import from here):
``periods`` (settings, periods, fee grids, collèges, category suggestions), ``memberships``
(status machine, hooks, payment references, a membership's life, ``recompute``) and
``payments`` (payments, direct debits confirmed or failed, reversals, refunds, credit).

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

from backoffice.membership.errors import (  # noqa: F401 - the public surface
    MembershipError, MembershipStatusError, DuplicateSubmission, clean_amount)
from backoffice.membership.periods import (  # noqa: F401 - the public surface
    get_settings, set_reference_scheme, reference_scheme, set_due_days, period_for_year, current_period, periods,
    renewal_periods, set_fee_category, copy_grid, ensure_grid, colleges,
    save_college, suggest_category_kind, pick_category, previous_period, suggest_category, suggest_college,
    has_previous_membership)
from backoffice.membership.memberships import (  # noqa: F401 - the public surface
    can_transition, derived_status, register_paid_hook, register_created_hook, REFERENCE_ALPHABET,
    REFERENCE_LENGTH, new_payment_reference, reference_conflicts, create_membership, reinstate_membership, exempt_membership,
    lift_exemption, cancel_membership, change_category, membership_history, membership_of,
    find_by_reference, recompute, open_memberships)
from backoffice.membership.bulk import NewMembership, NewPayment, create_memberships  # noqa: F401
from backoffice.membership.renewals import (  # noqa: F401 - the public surface
    WHO as RENEWAL_WHO, renew_memberships, renewal_candidates)
from backoffice.membership.payments import (  # noqa: F401 - the public surface
    record_payment, confirm_payment, fail_payment, reverse_payment, refund, unusual_payment,
    carry_over_credit, apply_available_credit, undeposited_cheques)
from backoffice.membership.models import MEMBERSHIP_TRANSITIONS, PAYMENT_TRANSITIONS, REINSTATE  # noqa: F401
from backoffice.models import ZERO  # noqa: F401 - callers compute balances with it
