"""The annual accounts and the budget prévisionnel screens, on the accounting blueprint
(``accounting.annual_accounts``, ``accounting.budget``…; imported at the end of ``views``).

Who: ``accounting.view`` reads both; ``accounting.edit`` (admin, treasurer) enters the budget;
``accounting.export`` (admin, treasurer, accountant) starts the files (a task: XLSX, Word, PDF).
"""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice.accounting import annual, budget
from backoffice.accounting.forms import AnnualExportForm, BudgetLineForm, PlainForm
from backoffice.accounting.views import _accounts, _apply, _books, _context, _submit, _year, bp
from backoffice.auth.permissions import permission_required
from backoffice.formatting import format_money

ANNUAL_FORMATS = {"xlsx": "XLSX", "docx": "Word", "pdf": "PDF"}


def _export_form(year):
    from backoffice.documents.engine.pdf import pdf_available

    form = AnnualExportForm(year=str(year))
    if not pdf_available():  # the documents engine converts with LibreOffice, when installed
        form.fmt.choices = [choice for choice in form.fmt.choices if choice[0] != "pdf"]
    return form


@bp.route("/annual")
@permission_required("accounting.view")
def annual_accounts():
    _books()
    year = _year()
    accounts = annual.annual_accounts(g.organisation, year)
    return render_template("accounting/annual.html", accounts=accounts, export_form=_export_form(year),
                           **_context(year=year, period=(accounts.start, accounts.end)))


@bp.route("/annual/export", methods=["POST"])
@permission_required("accounting.export")
def annual_export():
    from backoffice.tasks.services import start_task
    from jobs.accounting import annual_accounts_file

    _books()
    form = _export_form(_year())
    if not form.validate_on_submit() or not form.year.data.isdigit():
        flash("Choisissez le fichier à préparer.", "danger")
        return redirect(url_for("accounting.annual_accounts"))
    year, fmt = int(form.year.data), form.fmt.data
    task = start_task(organisation=g.organisation, user=current_user, kind="accounting.annual",
                      label=f"Comptes annuels {year} ({ANNUAL_FORMATS[fmt]})", job=annual_accounts_file,
                      params={"year": year, "format": fmt}, dedupe_key=f"accounting.annual:{year}:{fmt}")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.route("/budget", methods=["GET", "POST"])
@permission_required("accounting.view")
def budget_page():
    _books()
    year = _year()
    form = BudgetLineForm()

    def save():
        return budget.set_budget_line(g.organisation, year, form.account.data, form.amount.amount, form.label.data)

    saved, status = _submit(form, save, lambda line: f"Budget {year} : {line.account_prefix} « {line.label} », "
                                                     f"{format_money(line.amount)}.",
                            ("account", "amount", "label"), "account", permission="accounting.edit")
    if saved:
        return redirect(url_for("accounting.budget_page", year=year))
    return render_template("accounting/budget.html", report=budget.budget_report(g.organisation, year), form=form,
                           delete_form=PlainForm(), accounts=_accounts(), **_context(year=year)), status


@bp.route("/budget/<int:line_id>/delete", methods=["POST"])
@permission_required("accounting.edit")
def delete_budget_line(line_id):
    _books()
    if not PlainForm().validate():
        abort(400)
    ok, line = _apply(lambda: budget.delete_budget_line(g.organisation, line_id),
                      lambda line: f"Ligne {line.account_prefix} « {line.label} » retirée du budget {line.fiscal_year}.")
    year = line.fiscal_year if ok else request.args.get("year")
    return redirect(url_for("accounting.budget_page", year=year))

