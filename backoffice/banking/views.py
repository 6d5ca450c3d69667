"""The treasurer's bank accounts, under ``/o/<org>/banking/``: list, add, edit, choose the default."""
from flask import flash, g, redirect, render_template, url_for

from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.banking import services
from backoffice.banking.errors import BankingError
from backoffice.banking.forms import BankAccountForm
from backoffice.banking.models import BankAccount
from backoffice.extensions import db

bp = org_blueprint("banking", __name__, url_prefix="/banking")

MANAGE = "banking.manage"


def _save(form, action):
    """Run ``action()`` in a savepoint; a refusal goes under its field. True when saved."""
    if not form.validate_on_submit():
        return False
    try:
        with db.session.begin_nested():  # a refusal undoes only what the service did
            action()
    except BankingError as exc:
        field = getattr(form, exc.field or "", None)
        (field.errors if field is not None else form.form_errors).append(str(exc))
        return False
    return True


@bp.route("/accounts")
@permission_required(MANAGE)
def accounts():
    return render_template("banking/accounts.html", accounts=services.accounts(g.organisation))


@bp.route("/accounts/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def new_account():
    form = BankAccountForm()
    if _save(form, lambda: services.create_account(g.organisation, **form.values())):
        flash(f"Compte « {form.name.data.strip()} » ajouté.", "success")
        return redirect(url_for(".accounts"))
    return render_template("banking/account_form.html", form=form, account=None), 422 if form.is_submitted() else 200


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_account(account_id):
    account = get_or_404(BankAccount, account_id)
    form = BankAccountForm(obj=account)
    if _save(form, lambda: services.update_account(account, active=form.active.data, **form.values())):
        flash(f"Compte « {account.name} » enregistré.", "success")
        return redirect(url_for(".accounts"))
    return render_template("banking/account_form.html", form=form, account=account), 422 if form.is_submitted() else 200


@bp.route("/accounts/<int:account_id>/default", methods=["POST"])
@permission_required(MANAGE)
def make_default(account_id):
    account = get_or_404(BankAccount, account_id)
    try:
        with db.session.begin_nested():
            services.make_default(account)
    except BankingError as exc:
        flash(str(exc), "danger")
    else:
        flash(f"« {account.name} » est le compte par défaut : les membres paient sur ce compte.", "success")
    return redirect(url_for(".accounts"))
