"""The treasurer's bank accounts, under ``/o/<org>/banking/``: list, add, edit, choose the
default; the bank reconciliation of each account (match, book from the statement, check the
balance, the état de rapprochement as a task) and the rules remembered by label."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.banking import booking, reconciliation, services
from backoffice.banking.errors import BankingError
from backoffice.banking.forms import (BankAccountForm, BookLineForm, ClosingBalanceForm, LabelRuleForm,
                                      ReconcileForm)
from backoffice.banking.models import BankAccount, BankLabelRule, BankLineMatch, BankStatement, BankStatementLine
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


# --------------------------------------------------------------------------------------------
# Bank reconciliation
# --------------------------------------------------------------------------------------------

def _attempt(action, success):
    """Run ``action()`` in a savepoint (a refusal undoes everything it did); flash the outcome."""
    try:
        with db.session.begin_nested():
            result = action()
    except BankingError as exc:
        flash(str(exc), "danger")
        return None
    flash(success(result) if callable(success) else success, "success")
    return result


def _back(account_id):
    return redirect(url_for(".reconciliation_page", account_id=account_id,
                            statement=request.args.get("statement") or None))


def _account_statements(account):
    return list(db.session.scalars(select(BankStatement).where(BankStatement.bank_account_id == account.id)
                                   .order_by(BankStatement.id.desc()).limit(24)))


@bp.route("/reconciliation")
@permission_required(MANAGE)
def reconciliation_index():
    """The default account's reconciliation (the accounts list when there is none)."""
    account = services.default_account(g.organisation)
    if account is None:
        flash("Ajoutez d'abord le compte bancaire de l'organisation.", "info")
        return redirect(url_for(".accounts"))
    return redirect(url_for(".reconciliation_page", account_id=account.id))


@bp.route("/accounts/<int:account_id>/reconciliation")
@permission_required(MANAGE)
def reconciliation_page(account_id):
    account = get_or_404(BankAccount, account_id)
    statements = _account_statements(account)
    chosen = request.args.get("statement", type=int)
    statement = next((s for s in statements if s.id == chosen), None) if chosen else \
        next((s for s in statements if s.closing_balance is not None), statements[0] if statements else None)
    state = reconciliation.position(account)
    rules = booking.rules(g.organisation)
    open_lines = [(o, reconciliation.candidates(o, state.ledger_open), booking.proposed_rule(rules, o.line),
                   booking.suggested_keyword(o.line)) for o in state.open_lines]
    proposals = sum(1 for _, _, rule, _ in open_lines if rule is not None)
    recent = [link for o in state.lines for link in o.links if link.direct][-15:]
    by_id = {o.line.id: o.line for o in state.lines}
    balance_form = ClosingBalanceForm(obj=statement) if statement else None
    if balance_form is not None and statement.closing_balance is not None:
        balance_form.closing_balance.data = f"{statement.closing_balance}".replace(".", ",")
    return render_template(
        "banking/reconciliation.html", account=account, accounts=services.accounts(g.organisation),
        statements=statements, statement=statement, check=reconciliation.statement_check(statement) if statement
        else None, open_lines=open_lines, ledger_open=state.ledger_open, recent=recent, lines_by_id=by_id,
        balance_form=balance_form, reconcile_form=ReconcileForm(), book_form=BookLineForm(),
        ledger_missing=reconciliation.ledger_account(account) is None, proposals=proposals,
        tolerance=reconciliation.DATE_TOLERANCE)


@bp.route("/accounts/<int:account_id>/reconciliation/auto", methods=["POST"])
@permission_required(MANAGE)
def auto_reconcile(account_id):
    account = get_or_404(BankAccount, account_id)
    _attempt(lambda: reconciliation.auto_reconcile(account, by=current_user),
             lambda done: f"{done} opération(s) rapprochée(s) automatiquement (même montant, dates à "
                          f"{reconciliation.DATE_TOLERANCE} jours au plus, une seule écriture possible). "
                          "Les autres attendent votre choix.")
    return _back(account.id)


@bp.route("/accounts/<int:account_id>/reconciliation/book-proposed", methods=["POST"])
@permission_required(MANAGE)
def book_proposed(account_id):
    account = get_or_404(BankAccount, account_id)
    line_ids = [value for value in request.form.getlist("line") if value.isdigit()]
    if not line_ids:
        flash("Cochez les opérations à comptabiliser selon leur règle.", "danger")
    else:
        _attempt(lambda: booking.book_proposed(account, line_ids, by=current_user),
                 lambda entries: f"{len(entries)} opération(s) comptabilisée(s) selon leur règle et rapprochée(s).")
    return _back(account.id)


@bp.route("/lines/<int:line_id>/reconcile", methods=["POST"])
@permission_required(MANAGE)
def reconcile_line(line_id):
    line = get_or_404(BankStatementLine, line_id)
    form = ReconcileForm()
    if form.validate_on_submit():
        chosen = form.journal_line_id.data or []
        if len(chosen) > 1:  # a payment split over several entries: all of them or none
            _attempt(lambda: reconciliation.reconcile_split(line, chosen, by=current_user),
                     f"Opération du {line.booked_on:%d/%m/%Y} rapprochée de {len(chosen)} écritures.")
        else:
            _attempt(lambda: reconciliation.reconcile(line, chosen[0] if chosen else None, by=current_user),
                     f"Opération du {line.booked_on:%d/%m/%Y} rapprochée.")
    else:
        flash("Choisissez la ligne d'écriture à rapprocher.", "danger")
    return _back(line.bank_account_id)


@bp.route("/lines/<int:line_id>/book", methods=["POST"])
@permission_required(MANAGE)
def book_line(line_id):
    line = get_or_404(BankStatementLine, line_id)
    form = BookLineForm()
    if form.validate_on_submit():
        remember = (form.keyword.data or "").strip() if form.remember.data else None
        if form.remember.data and not remember:
            flash("Indiquez le mot du libellé à retenir (par exemple MAIF).", "danger")
            return _back(line.bank_account_id)
        _attempt(lambda: booking.book_line(line, form.account_number.data, label=form.label.data or None,
                                           remember=remember, by=current_user),
                 lambda entry: f"Opération comptabilisée (écriture {entry.reference}) et rapprochée."
                               + (f" Règle retenue : « {remember} »." if remember else ""))
    else:
        flash("Vérifiez le compte et le libellé saisis.", "danger")
    return _back(line.bank_account_id)


@bp.route("/matches/<int:match_id>/undo", methods=["POST"])
@permission_required(MANAGE)
def undo_match(match_id):
    match = get_or_404(BankLineMatch, match_id)
    account_id = match.line.bank_account_id
    _attempt(lambda: reconciliation.unreconcile(match, by=current_user),
             lambda reversal: "Rapprochement défait." if reversal is None else
             f"Rapprochement défait ; l'écriture passée depuis le relevé est contre-passée "
             f"(écriture {reversal.reference}).")
    return _back(account_id)


@bp.route("/statements/<int:statement_id>/balance", methods=["POST"])
@permission_required(MANAGE)
def statement_balance(statement_id):
    statement = get_or_404(BankStatement, statement_id)
    form = ClosingBalanceForm()
    if form.validate_on_submit():
        _attempt(lambda: reconciliation.set_closing_balance(statement, form.closing_date.data,
                                                            form.closing_balance.data),
                 "Solde du relevé enregistré.")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors) or "Vérifiez le solde.", "danger")
    return redirect(url_for(".reconciliation_page", account_id=statement.bank_account_id, statement=statement.id))


@bp.route("/statements/<int:statement_id>/etat", methods=["POST"])
@permission_required(MANAGE)
def reconciliation_statement(statement_id):
    from backoffice.tasks.services import start_task
    from jobs.banking import reconciliation_statement as job

    statement = get_or_404(BankStatement, statement_id)
    fmt = "docx" if request.form.get("format") == "docx" else "xlsx"
    try:
        result = reconciliation.check(statement)  # refused here already: no task for a file that cannot be
    except BankingError as exc:
        flash(str(exc), "danger")
        return redirect(url_for(".reconciliation_page", account_id=statement.bank_account_id,
                                statement=statement.id))
    task = start_task(organisation=g.organisation, user=current_user, kind="banking.reconciliation",
                      label=f"État de rapprochement {statement.bank_account.name} au {result.as_of:%d/%m/%Y}",
                      job=job, params={"statement_id": statement.id, "format": fmt},
                      dedupe_key=f"banking.reconciliation:{statement.id}:{fmt}")
    return redirect(url_for("tasks.show", task_id=task.id))


# --------------------------------------------------------------------------------------------
# Rules remembered by label
# --------------------------------------------------------------------------------------------

@bp.route("/rules")
@permission_required(MANAGE)
def rules():
    return render_template("banking/rules.html", rules=booking.rules(g.organisation))


def _rule_form(rule):
    form = LabelRuleForm(obj=rule)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                saved = booking.save_rule(g.organisation, form.keyword.data, form.account_number.data, rule=rule,
                                          by=current_user)
        except BankingError as exc:
            field = getattr(form, exc.field or "", None)
            (field.errors if field is not None else form.form_errors).append(str(exc))
        else:
            flash(f"Règle « {saved.keyword} » → {saved.account_number} enregistrée.", "success")
            return redirect(url_for(".rules"))
    return render_template("banking/rule_form.html", form=form, rule=rule), 422 if form.is_submitted() else 200


@bp.route("/rules/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def new_rule():
    return _rule_form(None)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_rule(rule_id):
    return _rule_form(get_or_404(BankLabelRule, rule_id))


@bp.route("/rules/<int:rule_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def delete_rule(rule_id):
    rule = get_or_404(BankLabelRule, rule_id)
    keyword = rule.keyword
    booking.delete_rule(rule)
    flash(f"Règle « {keyword} » supprimée.", "success")
    return redirect(url_for(".rules"))
