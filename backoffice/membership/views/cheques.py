"""Cheques waiting for a deposit slip, and the slips."""

from flask import g, render_template, request
from flask_login import current_user

from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.errors import attempt
from backoffice.membership import deposits, forms, services
from backoffice.membership.services import MembershipError
from backoffice.membership.views.common import MANAGE, bp, _start


# --------------------------------------------------------------------------------------------
# Cheques
# --------------------------------------------------------------------------------------------

@bp.route("/cheques", methods=["GET", "POST"])
@permission_required(MANAGE)
def cheques():
    form = forms.ChequeDepositForm()

    def deposit_cheques():
        # A cheque's box carries the ids of every payment it makes ("12,13").
        payment_ids = [i for value in request.form.getlist("payment_ids") for i in value.split(",")]
        try:
            return deposits.create_cheque_deposit(g.organisation, payment_ids, form.deposited_on.data,
                                                  user=current_user)
        except ValueError:  # a box tampered with
            raise MembershipError("Sélection invalide.") from None

    if form.validate_on_submit():
        done, deposit = attempt(deposit_cheques, lambda d: f"Bordereau n° {d.number} : {d.cheque_count} chèque(s), "
                                                           "les chèques sont marqués remis.")
        if done:
            from jobs.membership import cheque_deposit_slip

            return _start(cheque_deposit_slip, "membership.cheque_deposit",
                          f"Bordereau de remise de chèques n° {deposit.number}", {"deposit_id": deposit.id},
                          dedupe_key=f"membership.cheque_deposit:{deposit.id}")
    deposit_rows = deposits.deposits(g.organisation)
    return render_template("membership/cheques.html", form=form,
                           cheques=deposits.group_cheques(services.undeposited_cheques(g.organisation)),
                           deposits=deposit_rows, slips=deposits.slip_documents(g.organisation, deposit_rows))


@bp.route("/cheques/deposits/<int:deposit_id>/slip", methods=["POST"])
@permission_required(MANAGE)
def regenerate_slip(deposit_id):
    from backoffice.membership.models import ChequeDeposit
    from jobs.membership import cheque_deposit_slip

    deposit = get_or_404(ChequeDeposit, deposit_id)
    return _start(cheque_deposit_slip, "membership.cheque_deposit", f"Bordereau de remise de chèques n° {deposit.number}",
                  {"deposit_id": deposit.id}, dedupe_key=f"membership.cheque_deposit:{deposit.id}")
