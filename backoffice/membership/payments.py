"""Membership payments: recording, confirming or failing a direct debit, reversals, refunds,
credit carried over, cheques waiting for a deposit slip. Every confirmed row posts its journal
entry (``ledger``) and brings its membership up to date (``memberships.recompute``). Public
through ``backoffice.membership.services``.
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from backoffice.accounting.sources import posting_source
from backoffice.audit.services import current_actor_id
from backoffice.extensions import db
from backoffice.formatting import format_money_plain
from backoffice.lifecycle import move
from backoffice.membership import ledger
from backoffice.membership.errors import DuplicateSubmission, MembershipError, clean_amount
from backoffice.membership.memberships import _membership_label, recompute
from backoffice.membership.models import (Membership, MembershipPayment, MembershipStatus, PaymentKind, PaymentMethod,
                                          PaymentStatus)
from backoffice.models import ZERO

S = MembershipStatus


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


def _piece_ref_length():
    from backoffice.accounting.models import JournalEntry

    return JournalEntry.__table__.c.piece_ref.type.length


def _post_payment(payment):
    """Post the journal entry of a confirmed payment or refund (not for credit carried over)."""
    if payment.method is PaymentMethod.CREDIT:
        return None
    return ledger.post(payment.membership.organisation, **payment_event(payment))


def payment_event(payment):
    """The ``post_event`` arguments of a confirmed payment or refund (``event`` included)."""
    membership = payment.membership
    # A bank's reference can be longer than a piece reference of the books (60): the membership's
    # own reference names the piece then (the payment keeps the bank's), so a long end-to-end
    # reference on a statement never makes its line unconfirmable.
    piece_ref = payment.reference if payment.reference and len(payment.reference) <= _piece_ref_length() \
        else membership.payment_reference
    return dict(event="fee_paid" if payment.kind is PaymentKind.PAYMENT else "fee_refund",
                amount=abs(payment.amount), entry_date=payment.paid_on, party=membership.party,
                piece_ref=piece_ref, label=_payment_label(payment),
                payment_method=payment.method.value, source=posting_source(MembershipPayment, payment.id))


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
    payment = new_payment(membership, amount, method, paid_on=paid_on, reference=reference, cheque_bank=cheque_bank,
                          payer_name=payer_name, note=note, source=source, idempotency_key=idempotency_key,
                          user=user, pending=pending, mandate=mandate, direct_debit_run=direct_debit_run,
                          check_key=True)
    _add_payment_row(payment, membership)
    if not pending:
        payment.accounting_entry_id = _post_payment(payment)
        recompute(membership)
    return payment


def new_payment(membership, amount, method, paid_on=None, reference=None, cheque_bank=None, payer_name=None,
                note=None, source="treasurer", idempotency_key=None, user=None, pending=False, mandate=None,
                direct_debit_run=None, check_key=False):
    """The unsaved row of a payment ``record_payment`` accepts (its refusals, in French);
    ``check_key``: a payment already recorded under ``idempotency_key`` raises ``DuplicateSubmission``."""
    if membership.status is S.CANCELLED:
        raise MembershipError("Cette adhésion est annulée : impossible d'y enregistrer un paiement.")
    if membership.status is S.EXEMPT:
        raise MembershipError("Cette adhésion est exonérée : aucun paiement n'est attendu.")
    method = PaymentMethod(method)
    if method is PaymentMethod.CREDIT:
        raise MembershipError("Utilisez le report d'avoir pour payer avec un avoir.")
    amount = clean_amount(amount)
    if check_key:
        twin = _existing_by_key(membership.organisation_id, idempotency_key)
        if twin is not None:
            raise DuplicateSubmission(twin)
    return MembershipPayment(
        organisation_id=membership.organisation_id, membership_id=membership.id, kind=PaymentKind.PAYMENT, method=method,
        status=PaymentStatus.PENDING if pending else PaymentStatus.CONFIRMED, amount=amount,
        paid_on=paid_on or date.today(), reference=(reference or "").strip()[:100] or None,
        cheque_bank=(cheque_bank or "").strip()[:100] or None, payer_name=(payer_name or "").strip()[:200] or None,
        note=(note or "").strip()[:250] or None, source=source, idempotency_key=idempotency_key,
        created_by_id=current_actor_id(user), mandate_id=getattr(mandate, "id", None),
        direct_debit_run_id=getattr(direct_debit_run, "id", None),
    )


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


def unusual_payment(membership, amount, method, paid_on, idempotency_key=None) -> list[str]:
    """What is odd about recording this payment, for the treasurer to confirm before it is
    recorded (French sentences; empty when nothing is): far more than what is still due (a typo
    of 500 for 50, or the whole family's fees on one member), or the same payment as one already
    recorded for this member on that day (a double entry, or a second cheque?)."""
    if _existing_by_key(membership.organisation_id, idempotency_key) is not None:
        return []  # the same form sent twice: record_payment says it is recorded already
    amount, method = clean_amount(amount), PaymentMethod(method)
    paid_on = paid_on or date.today()
    warnings = []
    due = membership.balance
    if amount > 2 * due:
        warnings.append(f"Ce paiement de {format_money_plain(amount)} € dépasse de loin ce qui reste dû "
                        f"({format_money_plain(due)} €) : le surplus restera en avoir sur le compte du membre.")
    twins = [p for p in membership.payments
             if p.kind is PaymentKind.PAYMENT and p.status is PaymentStatus.CONFIRMED and not p.is_reversed
             and p.amount == amount and p.method is method
             and (p.paid_on == paid_on or (p.created_at and p.created_at.date() == date.today()))]
    if twins:
        warnings.append(f"Un paiement identique ({format_money_plain(amount)} €, {method.label.lower()}, du "
                        f"{twins[0].paid_on:%d/%m/%Y}) est déjà enregistré pour ce membre : est-ce bien un "
                        "second paiement ?")
    return warnings


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
    if on < payment.paid_on:
        raise MembershipError(f"La contre-passation ne peut pas précéder le paiement du "
                              f"{payment.paid_on:%d/%m/%Y}.", field="reversed_on")
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
