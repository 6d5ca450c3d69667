"""Money on one membership: payments, reversals, refunds, credit, the treasurer's decisions."""

from flask import abort, flash, request
from flask_login import current_user

from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.membership import forms, services
from backoffice.membership.models import FeeCategory, Membership, MembershipPayment
from backoffice.errors import attempt
from backoffice.membership.views.common import MANAGE, _back, bp, _plain
from backoffice.membership.views.members import _refused


# --------------------------------------------------------------------------------------------
# Money on one membership
# --------------------------------------------------------------------------------------------



@bp.route("/members/<int:membership_id>/payments", methods=["POST"])
@permission_required(MANAGE)
def record_payment(membership_id):
    membership = get_or_404(Membership, membership_id)
    form = forms.PaymentForm()
    if not form.validate_on_submit():
        return _refused(membership, form, "Le paiement n'a pas été enregistré : corrigez les champs signalés.")
    if not form.confirmed.data:
        warnings = services.unusual_payment(membership, form.amount.amount, form.method.data, form.paid_on.data,
                                           idempotency_key=form.form_key.data or None)
        if warnings:
            for warning in warnings:
                flash(warning, "warning")
            return _refused(membership, form, None, confirm=warnings)
    ok, _ = attempt(lambda: services.record_payment(
                        membership, form.amount.amount, form.method.data, form.paid_on.data,
                        reference=form.reference.data, cheque_bank=form.cheque_bank.data,
                        payer_name=form.payer_name.data, note=form.note.data,
                        idempotency_key=form.form_key.data or None, user=current_user),
                    lambda payment: (f"Paiement de {_plain(payment.amount)} € enregistré. "
                                     f"Statut : {membership.status.label.lower()}."),
                    duplicate=str)
    return _back(membership) if ok else _refused(membership, form)


@bp.route("/payments/<int:payment_id>/reverse", methods=["POST"])
@permission_required(MANAGE)
def reverse_payment(payment_id):
    payment = get_or_404(MembershipPayment, payment_id)
    form = forms.ReversalForm()
    if not form.validate_on_submit():
        flash("Indiquez le motif de la contre-passation" + (
            f" ; {form.reversed_on.errors[0]}" if form.reversed_on.errors else "") + ".", "danger")
        return _back(payment.membership)
    attempt(lambda: services.reverse_payment(payment, on=form.reversed_on.data, reason=form.reason.data,
                                             user=current_user, idempotency_key=form.form_key.data or None),
            "Paiement contre-passé : une écriture de contre-passation a été enregistrée.",
            duplicate="Cette contre-passation a déjà été enregistrée.")
    return _back(payment.membership)


@bp.route("/members/<int:membership_id>/refund", methods=["POST"])
@permission_required(MANAGE)
def refund(membership_id):
    membership = get_or_404(Membership, membership_id)
    form = forms.RefundForm()
    if not form.validate_on_submit():
        return _refused(membership, form, "Le remboursement n'a pas été enregistré : corrigez les champs signalés.")
    ok, _ = attempt(lambda: services.refund(membership, form.amount.amount, form.method.data, form.paid_on.data,
                                            reference=form.reference.data, note=form.note.data, user=current_user,
                                            idempotency_key=form.form_key.data or None),
                    "Remboursement enregistré.", duplicate="Ce remboursement a déjà été enregistré.")
    return _back(membership) if ok else _refused(membership, form)


@bp.route("/members/<int:membership_id>/carry-credit", methods=["POST"])
@permission_required(MANAGE)
def carry_credit(membership_id):
    membership = get_or_404(Membership, membership_id)
    target_id = request.form.get("target_id", "")
    target = get_or_404(Membership, int(target_id)) if target_id.isdigit() else None
    if target is None:
        flash("Choisissez l'adhésion à régler avec l'avoir.", "danger")
        return _back(membership)
    attempt(lambda: services.carry_over_credit(membership, target, user=current_user,
                                               idempotency_key=request.form.get("form_key") or None),
            f"Avoir reporté sur l'adhésion {target.period.label}.",
            duplicate="Cet avoir a déjà été reporté (formulaire envoyé deux fois).")
    return _back(membership)


def _decision(membership_id, action, success):
    membership = get_or_404(Membership, membership_id)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        flash("Indiquez le motif.", "danger")
        return _back(membership)
    attempt(lambda: action(membership, form.reason.data), success)
    return _back(membership)


@bp.route("/members/<int:membership_id>/exempt", methods=["POST"])
@permission_required(MANAGE)
def exempt(membership_id):
    return _decision(membership_id, services.exempt_membership, "Adhésion exonérée.")


@bp.route("/members/<int:membership_id>/cancel", methods=["POST"])
@permission_required(MANAGE)
def cancel(membership_id):
    return _decision(membership_id, services.cancel_membership, "Adhésion annulée.")


@bp.route("/members/<int:membership_id>/reinstate", methods=["POST"])
@permission_required(MANAGE)
def reinstate(membership_id):
    membership = get_or_404(Membership, membership_id)
    attempt(lambda: services.reinstate_membership(membership),
            lambda m: f"Adhésion rétablie : {_plain(m.amount_due) or '0'} € de nouveau dus.")
    return _back(membership)


@bp.route("/members/<int:membership_id>/lift-exemption", methods=["POST"])
@permission_required(MANAGE)
def lift_exemption(membership_id):
    membership = get_or_404(Membership, membership_id)
    attempt(lambda: services.lift_exemption(membership), "Exonération levée : la cotisation est de nouveau due.")
    return _back(membership)


@bp.route("/members/<int:membership_id>/category", methods=["POST"])
@permission_required(MANAGE)
def change_category(membership_id):
    membership = get_or_404(Membership, membership_id)
    category_id = request.form.get("category_id", "")
    category = get_or_404(FeeCategory, int(category_id)) if category_id.isdigit() else None
    if category is None:
        abort(400)
    attempt(lambda: services.change_category(membership, category), f"Catégorie changée : {category.label}.")
    return _back(membership)
