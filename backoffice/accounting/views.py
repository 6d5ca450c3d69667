"""Accounting screens under ``/o/<org>/accounting/`` and the ``flask accounting`` commands.

Who may do what: everyone with ``accounting.view`` (admin, treasurer, board, accountant) reads
the books (and the closing checklist of a fiscal year); ``accounting.export`` (admin, treasurer,
accountant) starts exports and downloads them; ``accounting.edit`` (admin, treasurer) posts manual
entries, reverses, letters and closes months; ``accounting.close`` (admin, treasurer) closes a
fiscal year; ``accounting.settings`` (admin, treasurer) edits the chart, journals and posting
rules.
"""
from datetime import date

import click
from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from backoffice.accounting import closing as closings, exporting, reporting, rules, services
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.forms import (
    AccountEditForm,
    AccountForm,
    ClosePeriodForm,
    CloseYearForm,
    ExportForm,
    JournalEditForm,
    JournalForm,
    ManualEntryForm,
    PlainForm,
    ReverseForm,
)
from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    EntryStatus,
    ExportRecord,
    Journal,
    JournalEntry,
    JournalLine,
    Ledger,
)
from backoffice.auth.permissions import can, get_or_404, org_blueprint, permission_required, safe_next_url
from backoffice.errors import show_refusal
from backoffice.extensions import db

bp = org_blueprint("accounting", __name__, url_prefix="/accounting")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _current_year():
    return g.organisation.fiscal_year_of(date.today())


def _year():
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return _current_year()
    return year if 1900 <= year <= 2999 else _current_year()


def _date_arg(name):
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _period(year):
    """The fiscal year's bounds, narrowed by ``?start=`` and ``?end=`` (ISO dates) if given."""
    first, last = g.organisation.fiscal_year_bounds(year)
    start, end = _date_arg("start") or first, _date_arg("end") or last
    if start > end:
        start, end = first, last
    return start, end


def _years():
    """Fiscal years with entries, plus the current one, most recent first."""
    years = set(db.session.scalars(select(JournalEntry.fiscal_year).distinct().where(
        JournalEntry.organisation_id == g.organisation.id, JournalEntry.status == EntryStatus.POSTED.value)))
    years.add(_current_year())
    return sorted(years, reverse=True)


def _page():
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


class BooksNotOpened(Exception):
    """A page of the books was asked for before they were set up (a GET never sets them up)."""


def _books():
    """The organisation, its books set up. A GET before they exist shows how to open them
    (``open_books``) instead of creating a chart of accounts in the viewer's name."""
    if request.method == "GET" and db.session.get(Ledger, g.organisation.id) is None:
        raise BooksNotOpened
    services.ensure_ledger(g.organisation)
    return g.organisation


@bp.errorhandler(BooksNotOpened)
def books_not_opened(error):
    return render_template("accounting/not_opened.html", chart=rules.CHARTS[rules.chart_for(g.organisation)],
                           journals=rules.DEFAULT_JOURNALS)


@bp.route("/open", methods=["POST"])
@permission_required("accounting.settings")
def open_books():
    if not PlainForm().validate():
        abort(400)
    services.ensure_ledger(g.organisation)
    flash("La comptabilité est ouverte : plan comptable, journaux et règles de comptabilisation sont en place.",
          "success")
    return redirect(url_for("accounting.index"))


def _context(**values):
    """Values every accounting page uses (year selector, navigation)."""
    year = values.pop("year", None) or _year()
    start, end = values.pop("period", None) or _period(year)
    return dict(year=year, years=_years(), start=start, end=end, **values)


def _on_field(form, fields, default):
    """An ``on_error`` for ``_apply``: the refusal next to its field (``default`` if not one of ``fields``)."""
    def show(error):
        show_refusal(AccountingError(str(error), error.field if error.field in fields else default), form)
    return show


def _apply(action, success, on_error=show_refusal):
    """Call ``action()`` in a savepoint; flash ``success`` (a message, or a function of the
    result), or hand the ``AccountingError`` to ``on_error`` (the savepoint undid only this call).

    Returns ``(ok, result)``."""
    try:
        with db.session.begin_nested():  # an error undoes this call only
            result = action()
    except AccountingError as error:
        on_error(error)
        return False, None
    flash(success(result) if callable(success) else success, "success")
    return True, result


# --------------------------------------------------------------------------------------------
# Reading the books
# --------------------------------------------------------------------------------------------

def _submit(form, action, success, fields, default, permission=None):
    """``(saved, status)`` of a settings form: not posted → ``(False, 200)``; refused → ``(False, 422)``
    with the refusal next to its field (``fields``, else ``default``); saved → ``(True, 200)``.
    ``permission`` is checked only on a post (the page itself may be readable by more roles)."""
    if not form.is_submitted():
        return False, 200
    if permission and not can(permission):
        abort(403)
    saved = bool(form.validate() and _apply(action, success, _on_field(form, fields, default))[0])
    return saved, 200 if saved else 422


@bp.route("/")
@permission_required("accounting.view")
def index():
    _books()
    year = _year()
    start, end = g.organisation.fiscal_year_bounds(year)
    balance = reporting.trial_balance(g.organisation, start, end)
    monthly = reporting.monthly_results(g.organisation, start, end)
    income = sum((i for _, i, _ in monthly), services.ZERO)
    expense = sum((e for _, _, e in monthly), services.ZERO)
    treasury = [row for row in balance.rows if row.account_number.startswith("5")]
    return render_template(
        "accounting/index.html", balance=balance, monthly=monthly, chart=reporting.bar_chart(monthly),
        income=income, expense=expense, treasury=treasury,
        unlettered=reporting.unlettered_count(g.organisation), **_context(year=year, period=(start, end)))


@bp.route("/balance")
@permission_required("accounting.view")
def balance():
    _books()
    year = _year()
    start, end = _period(year)
    account_class = request.args.get("class", "")
    account_class = account_class if account_class in set("12345678") else ""
    trial = reporting.trial_balance(g.organisation, start, end, account_class or None)
    return render_template("accounting/balance.html", trial=trial, account_class=account_class,
                           **_context(year=year, period=(start, end)))


@bp.route("/ledger")
@permission_required("accounting.view")
def ledger():
    _books()
    year = _year()
    start, end = _period(year)
    number = request.args.get("account", "").strip()
    context = _context(year=year, period=(start, end))
    if not number:
        trial = reporting.trial_balance(g.organisation, start, end)
        return render_template("accounting/ledger_index.html", trial=trial, **context)
    account = db.session.scalar(select(Account).where(Account.organisation_id == g.organisation.id,
                                                      Account.number == number))
    if account is None:
        abort(404)
    auxiliary = None
    if request.args.get("aux"):
        try:
            auxiliary = get_or_404(AuxiliaryAccount, int(request.args["aux"]))
        except ValueError:
            abort(404)
    pagination, rows, opening, totals = reporting.account_ledger(g.organisation, account, start, end, page=_page(),
                                                                 per_page=50, auxiliary=auxiliary)
    auxiliaries = reporting.auxiliary_balances(g.organisation, start, end, account) if account.collective else []
    return render_template("accounting/ledger.html", account=account, auxiliary=auxiliary, pagination=pagination,
                           rows=rows, opening=opening, totals=totals, auxiliaries=auxiliaries, **context)


@bp.route("/journal")
@permission_required("accounting.view")
def journal():
    _books()
    year = _year()
    start, end = _period(year)
    journals = list(db.session.scalars(select(Journal).where(Journal.organisation_id == g.organisation.id)
                                       .order_by(Journal.code)))
    chosen = next((j for j in journals if j.code == request.args.get("journal")), None)
    search = request.args.get("q", "").strip()
    sort = request.args.get("sort", "number")
    pagination = db.paginate(reporting.journal_query(g.organisation, start, end, chosen, search, sort),
                             page=_page(), per_page=25, error_out=False)
    return render_template("accounting/journal.html", pagination=pagination, journals=journals, chosen=chosen,
                           search=search, sort=sort, **_context(year=year, period=(start, end)))


@bp.route("/entries/<int:entry_id>")
@permission_required("accounting.view")
def entry(entry_id):
    entry = get_or_404(JournalEntry, entry_id)
    if entry.status != EntryStatus.POSTED.value:
        abort(404)
    return render_template("accounting/entry.html", entry=entry, reversal=services.reversal_of(entry),
                           form=ReverseForm(formdata=None), **_context(year=entry.fiscal_year))


# --------------------------------------------------------------------------------------------
# Manual entries and reversals
# --------------------------------------------------------------------------------------------

def _entry_form_choices(form):
    from backoffice.people.models import Party

    journals = db.session.scalars(select(Journal).where(Journal.organisation_id == g.organisation.id,
                                                        Journal.active.is_(True)).order_by(Journal.code))
    form.journal.choices = {j.code: f"{j.code} – {j.label}" for j in journals}
    parties = {"": "—"} | {str(p.id): p.display_name for p in db.session.scalars(
        select(Party).order_by(Party.sort_name))}
    for line in form.lines:
        line.form.party.choices = parties


def _accounts():
    return list(db.session.scalars(select(Account).where(Account.organisation_id == g.organisation.id,
                                                         Account.active.is_(True)).order_by(Account.number)))


@bp.route("/entries/new", methods=["GET", "POST"])
@permission_required("accounting.edit")
def new_entry():
    from backoffice.people.models import Party

    _books()
    form = ManualEntryForm()
    if request.method == "GET":
        form.journal.data = "OD"
        form.entry_date.data = date.today()
    _entry_form_choices(form)
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            specs = []
            for line in form.lines:
                sub = line.form
                if sub.is_blank():
                    continue
                party = None
                if sub.party.data:
                    party = db.session.get(Party, int(sub.party.data)) if sub.party.data.isdigit() else None
                    if party is None:
                        sub.party.errors.append("Tiers inconnu.")
                        break
                specs.append(services.EntryLineSpec(sub.account.data, debit=sub.debit.data or None,
                                                    credit=sub.credit.data or None, party=party,
                                                    label=sub.label.data or None))
            else:
                try:
                    with db.session.begin_nested():  # an error undoes this call only
                        posted = services.post_entry(g.organisation, form.journal.data, form.entry_date.data,
                                                     form.piece_ref.data, form.label.data, specs,
                                                     piece_date=form.piece_date.data)
                except AccountingError as error:
                    field = getattr(form, error.field, None) if error.field in ("entry_date", "piece_ref", "label",
                                                                                "journal") else None
                    if field is not None:
                        field.errors.append(str(error))
                    else:
                        form.form_errors.append(str(error))
                else:
                    flash(f"Écriture {posted.reference} enregistrée.", "success")
                    return redirect(url_for("accounting.entry", entry_id=posted.id))
        flash("L'écriture n'a pas été enregistrée : voir les messages ci-dessous.", "danger")
    return render_template("accounting/entry_form.html", form=form, accounts=_accounts(), **_context()), status


@bp.route("/entries/<int:entry_id>/reverse", methods=["POST"])
@permission_required("accounting.edit")
def reverse(entry_id):
    entry = get_or_404(JournalEntry, entry_id)
    form = ReverseForm()
    if not form.validate():
        flash("Date de contre-passation invalide.", "danger")
        return redirect(url_for("accounting.entry", entry_id=entry.id))
    ok, reversal = _apply(
        lambda: services.reverse_entry(entry, entry_date=form.entry_date.data, label=form.label.data or None),
        lambda reversal: f"Écriture {entry.reference} contre-passée par l'écriture {reversal.reference}.")
    return redirect(url_for("accounting.entry", entry_id=reversal.id if ok else entry.id))


# --------------------------------------------------------------------------------------------
# Lettering
# --------------------------------------------------------------------------------------------

@bp.route("/lettering")
@permission_required("accounting.view")
def lettering():
    _books()
    groups = reporting.unlettered_by_auxiliary(g.organisation)
    return render_template("accounting/lettering.html", groups=groups, form=PlainForm(), **_context())


@bp.route("/lettering", methods=["POST"])
@permission_required("accounting.edit")
def letter():
    form = PlainForm()
    if not form.validate():
        abort(400)
    ids = [int(value) for value in request.form.getlist("line") if value.isdigit()]
    lines = [get_or_404(JournalLine, ident) for ident in ids]
    _apply(lambda: services.letter_lines(g.organisation, lines), lambda code: f"{len(lines)} lignes lettrées ({code}).")
    return redirect(url_for("accounting.lettering"))


@bp.route("/lettering/auto", methods=["POST"])
@permission_required("accounting.edit")
def auto_letter():
    form = PlainForm()
    if not form.validate():
        abort(400)
    aux_ids = db.session.scalars(select(JournalLine.auxiliary_id).distinct().where(
        JournalLine.organisation_id == g.organisation.id, JournalLine.auxiliary_id.is_not(None),
        JournalLine.lettering_code.is_(None))).all()
    codes = []
    for aux_id in aux_ids:
        codes.extend(services.auto_letter(g.organisation, aux_id))
    flash(f"Lettrage automatique : {len(codes)} groupe(s) lettré(s)." if codes
          else "Lettrage automatique : rien ne s'équilibre encore.", "success" if codes else "info")
    return redirect(url_for("accounting.lettering"))


@bp.route("/lettering/unletter", methods=["POST"])
@permission_required("accounting.edit")
def unletter():
    form = PlainForm()
    if not form.validate():
        abort(400)
    code = request.form.get("code", "").strip().upper()
    _apply(lambda: services.unletter(g.organisation, code), lambda count: f"Lettrage {code} retiré de {count} lignes.")
    return redirect(safe_next_url(url_for("accounting.lettering")))


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

@bp.route("/periods")
@permission_required("accounting.view")
def periods():
    _books()
    year = _year()
    months, year_closed = services.period_overview(g.organisation, year)
    return render_template("accounting/periods.html", months=months, year_closed=year_closed,
                           form=ClosePeriodForm(formdata=None), **_context(year=year))


@bp.route("/periods/close", methods=["POST"])
@permission_required("accounting.edit")
def close_period():
    form = ClosePeriodForm()
    if not form.validate() or not form.year.data.isdigit() or (form.month.data and not form.month.data.isdigit()):
        abort(400)
    year = int(form.year.data)
    if form.kind.data == "year":  # a fiscal year closes from its checklist, behind its confirmation
        return redirect(url_for("accounting.closing", year=year))
    _apply(lambda: services.close_period(g.organisation, form.kind.data, year,
                                         int(form.month.data) if form.month.data else None),
           lambda period: f"{period} : clôture enregistrée ; ses écritures sont validées.")
    fiscal_year = g.organisation.fiscal_year_of(date(year, int(form.month.data), 1)) if form.month.data else year
    return redirect(url_for("accounting.periods", year=fiscal_year))


@bp.route("/closing")
@permission_required("accounting.view")
def closing():
    """The closing checklist of a fiscal year, then its confirmation form (or, once closed,
    what the closing kept)."""
    _books()
    year = _year()
    from backoffice.tasks.services import active_task

    done = closings.year_closing(g.organisation, year)
    running = None if done else active_task(g.organisation, closing_task_key(year))
    checks = [] if done else closings.closing_checklist(g.organisation, year)
    return render_template("accounting/closing.html", checks=checks, closing=done, running=running,
                           refused=any(check.refuses for check in checks), form=CloseYearForm(formdata=None),
                           closed_on=closings.paris_date(done.closed_at) if done else None,
                           **_context(year=year, period=g.organisation.fiscal_year_bounds(year)))


@bp.route("/closing/<int:year>", methods=["POST"])
@permission_required("accounting.close")
def close_year(year):
    form = CloseYearForm()
    if not form.validate():
        for error in form.confirm.errors or ["Formulaire expiré : recommencez."]:
            flash(error, "danger")
        return redirect(url_for("accounting.closing", year=year))
    try:  # refuse at once what the job would refuse (already closed, a blocking check)
        closings.refuse_closing(g.organisation, year)
    except AccountingError as error:
        show_refusal(error)
        return redirect(url_for("accounting.closing", year=year))
    # A year of 200,000 lines takes seconds to close: a job does it, the task page shows it.
    from backoffice.tasks.services import start_task
    from jobs.accounting import close_fiscal_year

    start, end = g.organisation.fiscal_year_bounds(year)
    task = start_task(organisation=g.organisation, user=current_user, kind="accounting.close",
                      label=f"Clôture de l'exercice du {start:%d/%m/%Y} au {end:%d/%m/%Y}", job=close_fiscal_year,
                      params={"year": year}, dedupe_key=closing_task_key(year))
    return redirect(url_for("tasks.show", task_id=task.id))


def closing_task_key(year):
    return f"accounting.close:{int(year)}"


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------

def _export_form():
    form = ExportForm()
    closed = {y for y in _years() if closings.is_year_closed(g.organisation, y)}
    form.year.choices = {y: (f"{y}" if g.organisation.fiscal_year_start_month == 1 else f"{y}-{y + 1}")
                         + (" (clôturé : FEC définitif)" if y in closed else " (ouvert : FEC provisoire)")
                         for y in _years()}
    return form


@bp.route("/exports", methods=["GET", "POST"])
@permission_required("accounting.export")
def exports():
    _books()
    form = _export_form()
    if request.method == "GET":
        form.year.data = _year()
    status = 200
    if form.validate_on_submit():
        from backoffice.tasks.services import start_task
        from jobs.accounting import export_accounting

        fmt, report = form.fmt.data, form.report.data
        params = {"year": form.year.data, "format": fmt, "encoding": form.encoding.data}
        if fmt != "fec":
            params["report"] = report if (report != "all" or fmt == "xlsx") else "journal"
            if form.start.data:
                params["start"] = form.start.data.isoformat()
            if form.end.data:
                params["end"] = form.end.data.isoformat()
        try:  # refuse at once what the job would refuse (no entries, wrong encoding, no SIREN…)
            exporting.check_export(g.organisation, params["year"], fmt, params.get("report"), params["encoding"],
                                   form.start.data if fmt != "fec" else None, form.end.data if fmt != "fec" else None)
        except AccountingError as error:
            form.form_errors.append(str(error))
            status = 422
        else:
            label = f"Export {fmt.upper()} {params['year']}" + (
                f" – {exporting.REPORTS.get(params.get('report'), 'trois états')}" if fmt != "fec" else "")
            task = start_task(organisation=g.organisation, user=current_user, kind="accounting.export", label=label,
                              job=export_accounting, params=params,
                              dedupe_key="accounting.export:" + ":".join(str(v) for v in sorted(params.items())))
            return redirect(url_for("tasks.show", task_id=task.id))
    elif form.is_submitted():
        status = 422
    return render_template("accounting/exports.html", form=form, history=exporting.history(g.organisation),
                           **_context()), status


def _send_stored(record, stored_path, filename):
    if not stored_path:
        abort(404)
    try:
        path = exporting.absolute(stored_path)
    except AccountingError:
        abort(404)
    if not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=filename, max_age=0)


@bp.route("/exports/<int:record_id>/file")
@permission_required("accounting.export")
def export_file(record_id):
    record = get_or_404(ExportRecord, record_id)
    return _send_stored(record, record.stored_path, record.filename)


@bp.route("/exports/<int:record_id>/notice")
@permission_required("accounting.export")
def export_notice(record_id):
    record = get_or_404(ExportRecord, record_id)
    name = record.filename.rsplit(".", 1)[0] + "_notice.txt"
    return _send_stored(record, record.notice_path, name)


# --------------------------------------------------------------------------------------------
# Chart of accounts, journals, posting rules
# --------------------------------------------------------------------------------------------

@bp.route("/accounts", methods=["GET", "POST"])
@permission_required("accounting.view")
def accounts():
    _books()
    form = AccountForm()
    saved, status = _submit(
        form, lambda: services.add_account(g.organisation, form.number.data, form.label.data, form.collective.data),
        lambda account: f"Compte {account} ajouté.", ("number", "label"), "number", permission="accounting.settings")
    if saved:
        return redirect(url_for("accounting.accounts"))
    search = request.args.get("q", "").strip()
    stmt = select(Account).where(Account.organisation_id == g.organisation.id).order_by(Account.number)
    if search:
        stmt = stmt.where(Account.number.startswith(search) | Account.label.ilike(f"%{search}%"))
    pagination = db.paginate(stmt, page=_page(), per_page=50, error_out=False)
    used = set(db.session.scalars(select(JournalLine.account_id).distinct().where(
        JournalLine.organisation_id == g.organisation.id)))
    return render_template("accounting/accounts.html", form=form, pagination=pagination, used=used, search=search,
                           delete_form=PlainForm(formdata=None), **_context()), status


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@permission_required("accounting.settings")
def edit_account(account_id):
    account = get_or_404(Account, account_id)
    form = AccountEditForm(obj=account)
    saved, status = _submit(
        form, lambda: services.update_account(account, form.label.data, form.collective.data, form.active.data),
        lambda _: f"Compte {account} enregistré.", ("label", "collective", "active"), "label")
    if saved:
        return redirect(url_for("accounting.accounts", q=account.number))
    return render_template("accounting/account_edit.html", form=form, account=account,
                           delete_form=PlainForm(formdata=None), **_context()), status


@bp.route("/accounts/<int:account_id>/delete", methods=["POST"])
@permission_required("accounting.settings")
def delete_account(account_id):
    account = get_or_404(Account, account_id)
    if not PlainForm().validate():
        abort(400)
    if _apply(lambda: services.delete_account(account), f"Compte {account.number} supprimé.")[0]:
        return redirect(url_for("accounting.accounts"))
    return redirect(url_for("accounting.edit_account", account_id=account_id))


@bp.route("/journals", methods=["GET", "POST"])
@permission_required("accounting.view")
def journals():
    _books()
    form = JournalForm()
    saved, status = _submit(
        form, lambda: services.add_journal(g.organisation, form.code.data, form.label.data, form.kind.data),
        lambda journal: f"Journal {journal} ajouté.", ("code", "label", "kind"), "code",
        permission="accounting.settings")
    if saved:
        return redirect(url_for("accounting.journals"))
    items = list(db.session.scalars(select(Journal).where(Journal.organisation_id == g.organisation.id)
                                    .order_by(Journal.code)))
    return render_template("accounting/journals.html", form=form, journals=items, **_context()), status


@bp.route("/journals/<int:journal_id>", methods=["GET", "POST"])
@permission_required("accounting.settings")
def edit_journal(journal_id):
    journal = get_or_404(Journal, journal_id)
    form = JournalEditForm(obj=journal)
    saved, status = _submit(form, lambda: services.update_journal(journal, form.label.data, form.active.data),
                            lambda _: f"Journal {journal} enregistré.", (), "active")
    if saved:
        return redirect(url_for("accounting.journals"))
    return render_template("accounting/journal_edit.html", form=form, journal=journal, **_context()), status


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("accounting.settings")
def settings():
    _books()
    form = PlainForm()
    errors = {}
    status = 200
    if form.is_submitted():
        if not form.validate():
            abort(400)
        status = 422
        savepoint = db.session.begin_nested()  # all or nothing
        for spec, _ in services.posting_rules(g.organisation):
            try:
                services.update_posting_rule(g.organisation, spec.name,
                                             debit_account=request.form.get(f"{spec.name}-debit"),
                                             credit_account=request.form.get(f"{spec.name}-credit"),
                                             journal=request.form.get(f"{spec.name}-journal"))
            except AccountingError as error:
                errors[spec.name] = str(error)
        for method in rules.PAYMENT_METHODS:
            try:
                services.update_payment_method(g.organisation, method, request.form.get(f"method-{method}-account"),
                                               request.form.get(f"method-{method}-journal"))
            except AccountingError as error:
                errors[f"method-{method}"] = str(error)
        if errors:
            savepoint.rollback()
            flash("Les règles n'ont pas été enregistrées : voir les messages dans le tableau.", "danger")
        else:
            savepoint.commit()
            flash("Règles de comptabilisation enregistrées.", "success")
            return redirect(url_for("accounting.settings"))
    journals = list(db.session.scalars(select(Journal).where(Journal.organisation_id == g.organisation.id,
                                                             Journal.active.is_(True)).order_by(Journal.code)))
    return render_template("accounting/settings.html", form=form, errors=errors,
                           event_rules=services.posting_rules(g.organisation),
                           method_rules=services.payment_method_rules(g.organisation), accounts=_accounts(),
                           journals=journals, submitted=request.form if errors else None,
                           **_context()), status


# --------------------------------------------------------------------------------------------
# Command line: flask accounting …
# --------------------------------------------------------------------------------------------

def _organisation_or_fail(slug):
    from backoffice.organisations.models import Organisation

    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise click.ClickException(f"Organisation inconnue : {slug}")
    return organisation


@bp.cli.command("export")
@click.option("--org", "slug", required=True, help="Identifiant (slug) de l'organisation.")
@click.option("--year", type=int, required=True, help="Exercice (année de son ouverture).")
@click.option("--format", "fmt", type=click.Choice(sorted(exporting.FORMATS)), required=True)
@click.option("--output", type=click.Path(dir_okay=True, writable=True), required=True,
              help="Fichier ou dossier de destination (le nom normalisé est utilisé dans un dossier).")
@click.option("--report", type=click.Choice([*exporting.REPORTS, "all"]), default=None,
              help="État pour CSV/XLSX (défaut : journal en CSV, les trois en XLSX).")
@click.option("--encoding", default=None, help="FEC : utf-8 ou iso-8859-15 ; CSV : utf-8 (avec BOM) ou cp1252.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Début (CSV/XLSX).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Fin (CSV/XLSX).")
def export_command(slug, year, fmt, output, report, encoding, start, end):
    """Export the books of an organisation (for cron): FEC, CSV or XLSX."""
    organisation = _organisation_or_fail(slug)
    try:
        with db.session.begin_nested():  # an error undoes this call only
            record = exporting.export_to_path(organisation, year, fmt, output, report=report, encoding=encoding,
                                              start=start.date() if start else None, end=end.date() if end else None,
                                              origin="cli")
    except AccountingError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{record.output_path} : {record.line_count} lignes, SHA-256 {record.sha256}")
    if record.message:
        click.echo(record.message)


@bp.cli.command("init")
@click.option("--org", "slug", required=True)
def init_command(slug):
    """Set up the books of an organisation (chart of accounts, journals, rules) if not yet done."""
    organisation = _organisation_or_fail(slug)
    ledger = services.ensure_ledger(organisation)
    db.session.commit()
    click.echo(f"{organisation.name} : comptabilité prête ({rules.CHARTS[ledger.chart]}).")


# The annual accounts and budget screens live in their own module, on this blueprint.
from backoffice.accounting import annual_views  # noqa: E402,F401
# The opening screen's routes live beside their rules; importing them registers them on ``bp``.
from backoffice.accounting import opening_views  # noqa: E402,F401
