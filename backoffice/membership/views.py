"""Treasurer screens of membership, under ``/o/<org>/membership/``.

Views are thin: load (404 for another organisation's rows), authorise, validate, call a
service, flash, redirect; the request's boundary commits. Member self-service lives in ``selfservice*`` modules.
"""
import functools
import secrets
from datetime import date
from pathlib import Path

from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backoffice import formatting
from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.errors import show_refusal
from backoffice.extensions import db
from backoffice.membership import deposits, forms, reminders, sepa, services, statements, stats
from backoffice.banking.models import LineStatus as StatementLineStatus
from backoffice.errors import ServiceError
from backoffice.membership.models import (CategoryKind, College, DirectDebitRun, FeeCategory, Membership,
                                          MembershipPayment, MembershipPeriod, MembershipStatus, SepaMandate)
from backoffice.membership.services import DuplicateSubmission, MembershipError
from backoffice.people.models import Party, fold_for_search

bp = org_blueprint("membership", __name__, url_prefix="/membership")

VIEW, MANAGE = "membership.view", "membership.manage"


def _fail(exc):
    """Show a service's refusal (its savepoint already undid what it had done)."""
    show_refusal(exc)


def _apply(action, success=None, duplicate=None):
    """Call ``action()`` in a savepoint and flash the outcome; returns ``(ok, result)``.

    A ``MembershipError`` is flashed as a refusal (the savepoint undid only what the service did).
    ``duplicate``, when given, is the warning for a form already recorded (``str``: the exception's
    own message); such a form counts as done: ``(True, None)``. ``success`` is the message, or a
    function of the action's result."""
    try:
        with db.session.begin_nested():  # a refusal undoes only what the service did
            result = action()
    except ServiceError as exc:
        if duplicate and isinstance(exc, DuplicateSubmission):
            flash(duplicate(exc) if callable(duplicate) else duplicate, "warning")
            return True, None
        _fail(exc)
    else:
        if success is not None:
            flash(success(result) if callable(success) else success, "success")
        return True, result
    return False, None


def _periods():
    if "membership_periods" not in g:
        # With their grids: the current period's is checked on every page, the list filters on it.
        g.membership_periods = services.periods(g.organisation, with_categories=True)
    return g.membership_periods


def _period_choices():
    return {p.id: p.label for p in _periods()}


def _current_period():
    """The current period, or None while nobody has opened it (a GET never creates it: the
    « Ouvrir la période » button of :func:`_no_period` posts to ``create_period``).

    Periods are read once per request (``_periods``): the list's filter shows them all anyway."""
    year = g.organisation.fiscal_year_of(date.today())
    return next((p for p in _periods() if p.year == year), None)


def _no_period():
    """The page of a membership screen before the current period is opened (not saved, no row)."""
    periods = _periods()
    return render_template("membership/no_period.html", year=g.organisation.fiscal_year_of(date.today()),
                           periods=periods, previous=periods[0] if periods else None)


@bp.app_template_filter("membership_money")
@functools.lru_cache(maxsize=4096)
def membership_money(value):
    """``format_money`` remembered: a member list shows the same few amounts on every row, and
    Babel's currency formatting is the costliest part of rendering it."""
    return formatting.format_money(value)


@bp.app_template_filter("membership_status_badge")
@functools.lru_cache(maxsize=None)
def membership_status_badge(status):
    """The badge of a membership status (a handful of values: built once each)."""
    return Markup('<span class="badge text-bg-{}">{}</span>').format(status.badge, status.label)


def _page():
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _per_page():
    value = request.args.get("per_page", "")
    return min(int(value), 200) if value.isdigit() and int(value) > 0 else current_app.config["PER_PAGE"]


def _start(job, kind, label, params, dedupe_key=None):
    from backoffice.tasks.services import start_task

    task = start_task(organisation=g.organisation, user=current_user, kind=kind, label=label, job=job,
                      params=params, dedupe_key=dedupe_key)
    return redirect(url_for("tasks.show", task_id=task.id))


# --------------------------------------------------------------------------------------------
# Member list, detail, dashboard
# --------------------------------------------------------------------------------------------

@bp.route("/")
@permission_required(VIEW)
def index():
    period = _current_period()
    if period is None and not request.args.get("period", "").isdigit():
        return _no_period()
    filters = stats.MemberFilters.from_args(request.args, default_period_id=period.id if period else None)
    page = stats.member_page(g.organisation, filters, _page(), _per_page())
    selected_period = db.session.get(MembershipPeriod, filters.period_id)
    if selected_period is None or selected_period.organisation_id != g.organisation.id:
        abort(404)
    return render_template("membership/index.html", page=page, filters=filters, period=selected_period,
                           periods=_periods(), categories=selected_period.categories,
                           colleges=services.colleges(g.organisation), statuses=list(MembershipStatus),
                           export_form=forms.ExportForm())


@bp.route("/dashboard")
@permission_required(VIEW)
def dashboard():
    period = _current_period()
    if period is None:
        return _no_period()
    figures = stats.cached_overview(g.organisation, period)
    return render_template(
        "membership/dashboard.html", period=period, counts=figures.status_counts, colleges=figures.colleges,
        by_category=figures.by_category, figures=figures.evolution, chart=stats.bar_chart(figures.evolution),
        lapsed=stats.lapsed_page(g.organisation, period, _page(), _per_page(), periods=_periods()))


@bp.route("/members/<int:membership_id>")
@permission_required(VIEW)
def show(membership_id):
    return _show_page(get_or_404(Membership, membership_id))


def _show_page(membership, payment_form=None, refund_form=None, mandate_form=None, refused=None):
    """The membership page; a payment, refund or mandate form refused comes back as typed, with
    its errors, unfolded (``refused`` names it)."""
    history = services.membership_history(g.organisation, membership.party)
    mandates = list(db.session.scalars(select(SepaMandate).where(
        SepaMandate.organisation_id == g.organisation.id, SepaMandate.party_id == membership.party_id)
        .order_by(SepaMandate.id.desc())))
    payment_form = payment_form or forms.PaymentForm(form_key=forms.new_form_key(),
                                                     amount=_plain(membership.balance) or None)
    refund_form = refund_form or forms.RefundForm(form_key=forms.new_form_key(),
                                                  amount=_plain(membership.credit) or None)
    credit_targets = [m for m in history if m.id != membership.id and m.is_open]
    return render_template("membership/show.html", membership=membership, history=history, mandates=mandates,
                           payment_form=payment_form, refund_form=refund_form, reason_form=forms.ReasonForm(),
                           reversal_form=forms.ReversalForm(form_key=forms.new_form_key()),
                           mandate_form=mandate_form or forms.MandateForm(), credit_targets=credit_targets,
                           carry_form_key=forms.new_form_key(), refused=refused,
                           categories=[c for c in membership.period.categories if c.active])


def _plain(amount):
    return str(amount).replace(".", ",") if amount else ""


@bp.route("/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def create():
    period = _current_period()
    if period is None and not request.args.get("period", "").isdigit() and request.method == "GET":
        return _no_period()
    form = forms.MembershipForm()
    form.period_id.choices = _period_choices()
    q = (request.args.get("q") or "").strip()
    results = []
    if q:
        term = f"%{fold_for_search(q)}%"
        results = list(db.session.scalars(select(Party).where(Party.sort_name.like(term))
                                          .order_by(Party.sort_name).limit(20)))
    party_id = request.values.get("party_id") or request.args.get("party")
    party = db.session.get(Party, int(party_id)) if party_id and str(party_id).isdigit() else None
    chosen_period = period
    if form.period_id.data and request.method == "POST":
        chosen_period = get_or_404(MembershipPeriod, form.period_id.data)
    elif request.args.get("period", "").isdigit():
        chosen_period = get_or_404(MembershipPeriod, int(request.args["period"]))
    if chosen_period is None:
        return _no_period()
    if request.method == "POST":  # a grid copied from the year before, when the form first needs it
        services.ensure_grid(chosen_period)
    form.category_id.choices = {0: "— suggérée —", **{c.id: f"{c.label} ({_plain(c.amount) or '0'} €)"
                                                       for c in chosen_period.categories if c.active}}
    college_list = services.colleges(g.organisation)
    form.college_id.choices = {0: "—", **{c.id: c.name for c in college_list}}
    suggestion = existing = None
    if party is not None:
        suggestion = services.suggest_category(party, chosen_period)
        existing = services.membership_of(g.organisation, party, chosen_period)
        if request.method == "GET":
            form.party_id.data = party.id
            form.period_id.data = chosen_period.id
            form.category_id.data = suggestion.id if suggestion else 0
            college = services.suggest_college(party, college_list)
            form.college_id.data = college.id if college else 0
    if form.validate_on_submit() and party is not None:
        category = db.session.get(FeeCategory, form.category_id.data) if form.category_id.data else None
        college = db.session.get(College, form.college_id.data) if form.college_id.data else None
        if category is not None and category.organisation_id != g.organisation.id:
            abort(404)
        reinstating = existing is not None and existing.status is MembershipStatus.CANCELLED
        try:
            with db.session.begin_nested():  # a refusal undoes only what the service did
                membership = services.create_membership(
                    g.organisation, party, chosen_period, category=category, college=college,
                    amount_due=form.amount_due.amount, joined_on=form.joined_on.data, note=form.note.data or None)
        except (MembershipError, IntegrityError) as exc:
            _fail(exc if isinstance(exc, MembershipError) else
                  MembershipError(f"{party.display_name} a déjà une adhésion pour {chosen_period.label}."))
        else:
            done = "rétablie : elle avait été annulée" if reinstating else "créée"
            flash(f"Adhésion {chosen_period.label} de {party.display_name} {done} "
                  f"(référence de paiement {membership.payment_reference}).", "success")
            return redirect(url_for(".show", membership_id=membership.id))
    return render_template("membership/create.html", form=form, q=q, results=results, party=party,
                           suggestion=suggestion, existing=existing, period=chosen_period)


# --------------------------------------------------------------------------------------------
# Money on one membership
# --------------------------------------------------------------------------------------------

def _back(membership):
    return redirect(url_for(".show", membership_id=membership.id))


@bp.route("/members/<int:membership_id>/payments", methods=["POST"])
@permission_required(MANAGE)
def record_payment(membership_id):
    membership = get_or_404(Membership, membership_id)
    form = forms.PaymentForm()
    if not form.validate_on_submit():
        return _refused(membership, form, "Le paiement n'a pas été enregistré : corrigez les champs signalés.")
    ok, _ = _apply(lambda: services.record_payment(
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
        flash("Indiquez le motif de l'annulation.", "danger")
        return _back(payment.membership)
    _apply(lambda: services.reverse_payment(payment, reason=form.reason.data, user=current_user,
                                            idempotency_key=form.form_key.data or None),
           "Paiement annulé : une écriture d'annulation a été enregistrée.",
           duplicate="Cette annulation a déjà été enregistrée.")
    return _back(payment.membership)


@bp.route("/members/<int:membership_id>/refund", methods=["POST"])
@permission_required(MANAGE)
def refund(membership_id):
    membership = get_or_404(Membership, membership_id)
    form = forms.RefundForm()
    if not form.validate_on_submit():
        return _refused(membership, form, "Le remboursement n'a pas été enregistré : corrigez les champs signalés.")
    ok, _ = _apply(lambda: services.refund(membership, form.amount.amount, form.method.data, form.paid_on.data,
                                           reference=form.reference.data, note=form.note.data, user=current_user,
                                           idempotency_key=form.form_key.data or None),
                   "Remboursement enregistré.", duplicate="Ce remboursement a déjà été enregistré.")
    return _back(membership) if ok else _refused(membership, form)


def _refused(membership, form, message=None):
    """The membership page again with ``form`` as the treasurer typed it (its errors under its
    fields; a service's refusal is already flashed): bad input loses nothing."""
    if message:
        flash(message, "danger")
    kind = _SHOWN_FORMS[type(form)]
    return _show_page(membership, refused=kind, **{kind: form}), 422


_SHOWN_FORMS = {forms.PaymentForm: "payment_form", forms.RefundForm: "refund_form", forms.MandateForm: "mandate_form"}


@bp.route("/members/<int:membership_id>/carry-credit", methods=["POST"])
@permission_required(MANAGE)
def carry_credit(membership_id):
    membership = get_or_404(Membership, membership_id)
    target_id = request.form.get("target_id", "")
    target = get_or_404(Membership, int(target_id)) if target_id.isdigit() else None
    if target is None:
        flash("Choisissez l'adhésion à régler avec l'avoir.", "danger")
        return _back(membership)
    _apply(lambda: services.carry_over_credit(membership, target, user=current_user,
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
    _apply(lambda: action(membership, form.reason.data), success)
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
    _apply(lambda: services.reinstate_membership(membership),
           lambda m: f"Adhésion rétablie : {_plain(m.amount_due) or '0'} € de nouveau dus.")
    return _back(membership)


@bp.route("/members/<int:membership_id>/lift-exemption", methods=["POST"])
@permission_required(MANAGE)
def lift_exemption(membership_id):
    membership = get_or_404(Membership, membership_id)
    _apply(lambda: services.lift_exemption(membership), "Exonération levée : la cotisation est de nouveau due.")
    return _back(membership)


@bp.route("/members/<int:membership_id>/category", methods=["POST"])
@permission_required(MANAGE)
def change_category(membership_id):
    membership = get_or_404(Membership, membership_id)
    category_id = request.form.get("category_id", "")
    category = get_or_404(FeeCategory, int(category_id)) if category_id.isdigit() else None
    if category is None:
        abort(400)
    _apply(lambda: services.change_category(membership, category), f"Catégorie changée : {category.label}.")
    return _back(membership)


# --------------------------------------------------------------------------------------------
# Grid, periods, collèges, settings
# --------------------------------------------------------------------------------------------

@bp.route("/grid", methods=["GET", "POST"])
@permission_required(VIEW)
def grid():
    current = _current_period()
    period_id = request.args.get("period", "")
    period = get_or_404(MembershipPeriod, int(period_id)) if period_id.isdigit() else current
    if request.method == "POST" and not _can_manage():
        abort(403)
    if period is None:
        return _no_period()
    form = forms.FeeCategoryForm()
    if request.method == "POST":
        if form.validate_on_submit() and _apply(
                lambda: services.set_fee_category(period, form.label.data, form.amount.amount,
                                                  CategoryKind(form.kind.data), position=form.position.data,
                                                  active=form.active.data),
                f"Catégorie « {form.label.data} » ajoutée à la grille {period.label}.")[0]:
            return redirect(url_for(".grid", period=period.id))
    return render_template("membership/grid.html", period=period, periods=services.periods(g.organisation),
                           form=form, period_form=forms.PeriodForm(year=(current or period).year + 1))


def _can_manage():
    from backoffice.auth.permissions import can

    return can(MANAGE)


@bp.route("/grid/<int:category_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_category(category_id):
    category = get_or_404(FeeCategory, category_id)
    form = forms.FeeCategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data, form.amount.data = category.kind.value, _plain(category.amount) or "0"
    if form.validate_on_submit() and _apply(
            lambda: services.set_fee_category(category.period, form.label.data, form.amount.amount,
                                              CategoryKind(form.kind.data), position=form.position.data,
                                              category=category, active=form.active.data),
            "Catégorie modifiée. Les adhésions déjà créées gardent leur montant.")[0]:
        return redirect(url_for(".grid", period=category.period_id))
    return render_template("membership/category_form.html", form=form, category=category)


@bp.route("/periods", methods=["POST"])
@permission_required(MANAGE)
def create_period():
    form = forms.PeriodForm()
    if not form.validate_on_submit():
        flash("Année invalide.", "danger")
        return redirect(url_for(".grid"))
    if services.period_for_year(g.organisation, form.year.data, create=False) is not None:
        flash(f"La période {form.year.data} existe déjà.", "warning")
    else:
        flash(f"Période {form.year.data} ouverte.", "success")
    period = services.period_for_year(g.organisation, form.year.data)
    if form.copy_grid.data:
        services.ensure_grid(period)
    return redirect(safe_back(url_for(".grid", period=period.id)))


@bp.route("/periods/<int:period_id>/renewal", methods=["POST"])
@permission_required(MANAGE)
def toggle_renewal(period_id):
    period = get_or_404(MembershipPeriod, period_id)
    period.renewal_open = not period.renewal_open
    flash(f"Renouvellement {period.label} {'ouvert' if period.renewal_open else 'fermé'} aux membres.", "success")
    return redirect(url_for(".grid", period=period.id))


@bp.route("/colleges", methods=["GET", "POST"])
@permission_required(MANAGE)
def colleges():
    form = forms.CollegeForm()
    if form.validate_on_submit() and _apply(
            lambda: services.save_college(g.organisation, form.name.data, form.description.data,
                                          form.party_kind.data),
            f"Collège « {form.name.data} » ajouté.")[0]:
        return redirect(url_for(".colleges"))
    return render_template("membership/colleges.html", form=form, colleges=services.colleges(g.organisation))


@bp.route("/settings", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings():
    current = services.get_settings(g.organisation)
    form = forms.SettingsForm(obj=current)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():  # a refusal undoes only what the service did
                sepa.set_creditor_identifier(g.organisation, form.creditor_identifier.data)
                services.get_settings(g.organisation, create=True).reference_prefix = form.reference_prefix.data
                moved = services.set_due_days(g.organisation, form.due_days.data)
        except ServiceError as exc:  # the creditor identifier is the one check left to the service
            _fail(exc)
            form.creditor_identifier.errors = list(form.creditor_identifier.errors) + [str(exc)]
        else:
            flash("Paramètres des adhésions enregistrés." + _moved_due_dates(moved), "success")
            return redirect(url_for(".settings"))
    return render_template("membership/settings.html", form=form)


def _moved_due_dates(periods):
    """`` Échéance déplacée : 2026 au 1er avril 2026, … (…)`` (empty when no period moved)."""
    if not periods:
        return ""
    dates = ", ".join(f"{p.label} au {formatting.format_date_fr(p.due_on)}" for p in periods)
    return f" Échéance déplacée : {dates} (les relances après l'échéance en partent)."


# --------------------------------------------------------------------------------------------
# Cheques
# --------------------------------------------------------------------------------------------

@bp.route("/cheques", methods=["GET", "POST"])
@permission_required(MANAGE)
def cheques():
    form = forms.ChequeDepositForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                deposit = deposits.create_cheque_deposit(g.organisation, request.form.getlist("payment_ids"),
                                                         form.deposited_on.data, user=current_user)
        except (MembershipError, ValueError) as exc:
            _fail(exc if isinstance(exc, MembershipError) else MembershipError("Sélection invalide."))
        else:
            from jobs.membership import cheque_deposit_slip

            flash(f"Bordereau n° {deposit.number} : {deposit.cheque_count} chèque(s), les chèques sont marqués remis.",
                  "success")
            return _start(cheque_deposit_slip, "membership.cheque_deposit",
                          f"Bordereau de remise de chèques n° {deposit.number}", {"deposit_id": deposit.id},
                          dedupe_key=f"membership.cheque_deposit:{deposit.id}")
    deposit_rows = deposits.deposits(g.organisation)
    return render_template("membership/cheques.html", form=form, cheques=services.undeposited_cheques(g.organisation),
                           deposits=deposit_rows, slips=deposits.slip_documents(g.organisation, deposit_rows))


@bp.route("/cheques/deposits/<int:deposit_id>/slip", methods=["POST"])
@permission_required(MANAGE)
def regenerate_slip(deposit_id):
    from backoffice.membership.models import ChequeDeposit
    from jobs.membership import cheque_deposit_slip

    deposit = get_or_404(ChequeDeposit, deposit_id)
    return _start(cheque_deposit_slip, "membership.cheque_deposit", f"Bordereau de remise de chèques n° {deposit.number}",
                  {"deposit_id": deposit.id}, dedupe_key=f"membership.cheque_deposit:{deposit.id}")


# --------------------------------------------------------------------------------------------
# Bank statements
# --------------------------------------------------------------------------------------------

def _pending_dir():
    return Path(current_app.config["STORAGE_DIR"]) / str(g.organisation.id) / "membership" / "pending-statements"


def _keep_upload(content):
    folder = _pending_dir()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(16)
    (folder / f"{token}.bin").write_bytes(content)
    return token


def _pending_upload(token):
    if not token or not all(ch.isalnum() or ch in "-_" for ch in token):
        return None
    path = _pending_dir() / f"{token}.bin"
    return path if path.is_file() else None


def _after_import(outcome):
    """``outcome``: the import recorded, or ``statements.AlreadyImported`` (nothing recorded)."""
    if isinstance(outcome, statements.AlreadyImported):
        flash(str(outcome), "info")
    else:
        flash(f"{outcome.new_line_count} opération(s) nouvelle(s) sur {outcome.line_count} importée(s).", "success")
    return redirect(url_for(".review_statement"))


@bp.route("/statements", methods=["GET", "POST"])
@permission_required(MANAGE)
def statements_index():
    form = forms.StatementUploadForm()
    if form.validate_on_submit():
        upload = form.statement.data
        content = upload.read()
        try:
            with db.session.begin_nested():  # a refusal undoes only what the service did
                statement = statements.import_statement(g.organisation, upload.filename, content, user=current_user)
        except statements.MappingNeeded as exc:
            flash(str(exc), "info")
            return redirect(url_for(".statement_mapping", token=_keep_upload(content)))
        except statements.AlreadyImported as exc:
            return _after_import(exc)
        except ServiceError as exc:
            _fail(exc)
            form.statement.errors = [str(exc)]
        else:
            return _after_import(statement)
    imports = statements.recent_statements(g.organisation)
    return render_template("membership/statements.html", form=form, imports=imports,
                           waiting=len(statements.lines_to_review(g.organisation)))


@bp.route("/statements/mapping", methods=["GET", "POST"])
@permission_required(MANAGE)
def statement_mapping():
    token = request.values.get("token", "")
    path = _pending_upload(token)
    if path is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "warning")
        return redirect(url_for(".statements_index"))
    content = path.read_bytes()
    try:
        columns = statements.csv_columns(content)
    except ServiceError as exc:
        path.unlink(missing_ok=True)
        flash(str(exc), "danger")
        return redirect(url_for(".statements_index"))
    form = forms.MappingForm(token=token)
    form.set_columns(columns)
    if request.method == "GET":
        saved = statements.saved_mapping(g.organisation)
        for key in statements.MAPPING_FIELDS:
            guess = saved.get(key) if saved.get(key) in columns else _guess_column(key, columns)
            getattr(form, key).data = guess or ""
    if form.validate_on_submit():
        mapping = {key: getattr(form, key).data for key in statements.MAPPING_FIELDS}

        def save_and_import():
            statements.save_csv_mapping(g.organisation, mapping, columns)
            try:
                return statements.import_statement(g.organisation, "relevé.csv", content, user=current_user)
            except statements.AlreadyImported as exc:
                return exc  # the columns chosen are kept all the same

        ok, statement = _apply(save_and_import)
        if ok:
            path.unlink(missing_ok=True)
            return _after_import(statement)
    preview = statements.preview_rows(content)
    return render_template("membership/statement_mapping.html", form=form, preview=preview)


_GUESSES = {
    "date": ("date operation", "date", "date comptable"),
    "label": ("libelle", "libelle operation", "intitule", "description"),
    "amount": ("montant", "montant eur", "montant(eur)"),
    "debit": ("debit", "debit euros", "debit eur"),
    "credit": ("credit", "credit euros", "credit eur"),
    "reference": ("reference", "ref"),
}


def _guess_column(key, columns):
    folded = {fold_for_search(c): c for c in columns}
    for guess in _GUESSES[key]:
        if guess in folded:
            return folded[guess]
    return ""


@bp.route("/statements/review", methods=["GET", "POST"])
@permission_required(MANAGE)
def review_statement():
    if request.method == "POST":
        typed = {int(line_id): request.form.get(f"membership_reference_{line_id}", "")
                 for line_id in request.form.getlist("confirm") if line_id.isdigit()}
        if not typed:
            flash("Cochez au moins une opération à rapprocher.", "warning")
            return redirect(url_for(".review_statement"))
        ok, _ = _apply(lambda: statements.confirm_lines(
                           g.organisation, statements.resolve_typed_memberships(g.organisation, typed),
                           user=current_user),
                       lambda payments: f"{len(payments)} paiement(s) enregistré(s) par virement.")
        if ok:
            return redirect(url_for(".review_statement"))
        # Refused: the same screen with what the treasurer ticked and typed, to correct one line.
        entered = {int(name.rsplit("_", 1)[1]): value for name, value in request.form.items()
                   if name.startswith("membership_reference_") and name.rsplit("_", 1)[1].isdigit()}
        return _review_page(entered=entered, ticked=set(typed)), 422
    return _review_page()


def _review_page(entered=None, ticked=None):
    return render_template("membership/statement_review.html", lines=statements.lines_to_review(g.organisation),
                           open_members=statements.open_membership_choices(g.organisation),
                           Status=StatementLineStatus, entered=entered or {}, ticked=ticked)


@bp.route("/statements/lines/<int:line_id>/ignore", methods=["POST"])
@permission_required(MANAGE)
def ignore_line(line_id):
    line = get_or_404(statements.BankStatementLine, line_id)
    _apply(lambda: statements.ignore_line(line), "Opération ignorée.")
    return redirect(url_for(".review_statement"))


# --------------------------------------------------------------------------------------------
# SEPA direct debit
# --------------------------------------------------------------------------------------------

@bp.route("/sepa", methods=["GET", "POST"])
@permission_required(MANAGE)
def direct_debit():
    form = forms.DirectDebitRunForm()
    if form.validate_on_submit():
        ids = [int(i) for i in request.form.getlist("membership_ids") if i.isdigit()]
        memberships = [get_or_404(Membership, i) for i in ids]
        try:
            with db.session.begin_nested():
                run = sepa.create_run(g.organisation, memberships, form.collection_date.data, user=current_user)
        except MembershipError as exc:
            _fail(exc)
        else:
            from jobs.membership import direct_debit_file

            return _start(direct_debit_file, "membership.direct_debit",
                          f"Prélèvement SEPA du {run.collection_date:%d/%m/%Y}", {"run_id": run.id},
                          dedupe_key=f"membership.direct_debit:{run.id}")
    settings_row = services.get_settings(g.organisation)
    candidates = sepa.collectable_memberships(g.organisation)
    mandates = sepa.active_mandates(g.organisation, [m.party_id for m in candidates])
    return render_template("membership/sepa.html", form=form, candidates=candidates, mandates=mandates,
                           runs=sepa.runs(g.organisation), settings=settings_row)


@bp.route("/sepa/runs/<int:run_id>")
@permission_required(MANAGE)
def direct_debit_run(run_id):
    run = get_or_404(DirectDebitRun, run_id)
    return render_template("membership/sepa_run.html", run=run)


@bp.route("/sepa/runs/<int:run_id>/file")
@permission_required(MANAGE)
def direct_debit_run_file(run_id):
    import io

    run = get_or_404(DirectDebitRun, run_id)
    if run.xml is None:
        abort(404)
    return send_file(io.BytesIO(run.xml), mimetype="application/xml", as_attachment=True,
                     download_name=f"prelevement-sepa-{run.collection_date:%Y%m%d}-{run.id}.xml")


@bp.route("/sepa/runs/<int:run_id>/collect", methods=["POST"])
@permission_required(MANAGE)
def collect_run(run_id):
    run = get_or_404(DirectDebitRun, run_id)
    _apply(lambda: sepa.collect_run(run),
           lambda _: f"Prélèvement encaissé : {run.payment_count} adhésion(s) réglée(s).")
    return redirect(url_for(".direct_debit_run", run_id=run.id))


@bp.route("/sepa/payments/<int:payment_id>/reject", methods=["POST"])
@permission_required(MANAGE)
def reject_debit(payment_id):
    payment = get_or_404(MembershipPayment, payment_id)
    _apply(lambda: sepa.reject_payment(payment), "Prélèvement marqué rejeté.")
    return redirect(url_for(".direct_debit_run", run_id=payment.direct_debit_run_id))


@bp.route("/members/<int:membership_id>/mandates", methods=["POST"])
@permission_required(MANAGE)
def create_mandate(membership_id):
    membership = get_or_404(Membership, membership_id)
    form = forms.MandateForm()
    if not form.validate_on_submit():
        return _refused(membership, form, "Le mandat n'a pas été enregistré : corrigez les champs signalés.")
    ok, _ = _apply(lambda: sepa.create_mandate(g.organisation, membership.party, form.iban.data, form.bic.data,
                                               form.signed_on.data, form.debtor_name.data, form.reference.data),
                   lambda mandate: f"Mandat {mandate.reference} enregistré.")
    return _back(membership) if ok else _refused(membership, form)


@bp.route("/mandates/<int:mandate_id>/revoke", methods=["POST"])
@permission_required(MANAGE)
def revoke_mandate(mandate_id):
    mandate = get_or_404(SepaMandate, mandate_id)
    sepa.revoke_mandate(mandate)
    flash(f"Mandat {mandate.reference} révoqué.", "success")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for(".direct_debit"))


# --------------------------------------------------------------------------------------------
# Export, reminders
# --------------------------------------------------------------------------------------------

@bp.route("/export", methods=["POST"])
@permission_required(VIEW)
def export():
    from jobs.membership import export_members

    form = forms.ExportForm()
    if not form.validate_on_submit():
        abort(400)
    period = _current_period() or next(iter(_periods()), None)  # the latest one, before the current is opened
    if period is None:
        flash("Aucune période d'adhésion n'est ouverte : rien à exporter.", "warning")
        return redirect(url_for(".index"))
    filters = stats.MemberFilters.from_args(request.form, default_period_id=period.id)
    params = {"filters": filters.__dict__, "format": form.file_format.data}
    label = f"Export des adhérents ({form.file_format.data.upper()})"
    return _start(export_members, "membership.export", label, params)


@bp.route("/members/<int:membership_id>/remind", methods=["POST"])
@permission_required(MANAGE)
def remind(membership_id):
    membership = get_or_404(Membership, membership_id)
    # For a lapsed member ``send_reminder`` receives the last membership, which names the
    # period not renewed.
    _apply(lambda: reminders.send_reminder(membership, user=current_user),
           f"Relance envoyée à {membership.party.display_name}.")
    return redirect(safe_back(url_for(".dashboard")))


def safe_back(default):
    from backoffice.auth.permissions import safe_next_url

    return safe_next_url(default)
