"""The member list, the dashboard, a membership's page and the new membership form."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.errors import attempt
from backoffice.extensions import db
from backoffice.membership import forms, services, stats
from backoffice.membership.models import (College, FeeCategory, Membership, MembershipPeriod, MembershipStatus,
                                          SepaMandate)
from backoffice.membership.services import MembershipError
from backoffice.people.models import Party, fold_for_search
from backoffice.membership.views.common import (MANAGE, VIEW, bp, _current_period, _no_period, _page,
                                                _per_page, _period_choices, _periods, _plain)


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


def _show_page(membership, payment_form=None, refund_form=None, mandate_form=None, refused=None, confirm=None):
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
                           carry_form_key=forms.new_form_key(), refused=refused, confirm=confirm,
                           categories=[c for c in membership.period.categories if c.active])




def _refused(membership, form, message=None, confirm=None):
    """The membership page again with ``form`` as the treasurer typed it (its errors under its
    fields; a service's refusal is already flashed): bad input loses nothing. ``confirm`` lists
    what the treasurer must confirm before the form is accepted."""
    if message:
        flash(message, "danger")
    kind = _SHOWN_FORMS[type(form)]
    return _show_page(membership, refused=kind, confirm=confirm, **{kind: form}), 422


_SHOWN_FORMS = {forms.PaymentForm: "payment_form", forms.RefundForm: "refund_form", forms.MandateForm: "mandate_form"}


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

        def create_membership():
            try:
                return services.create_membership(
                    g.organisation, party, chosen_period, category=category, college=college,
                    amount_due=form.amount_due.amount, joined_on=form.joined_on.data, note=form.note.data or None)
            except IntegrityError:  # a twin created meanwhile: the unique constraint refused it
                raise MembershipError(
                    f"{party.display_name} a déjà une adhésion pour {chosen_period.label}.") from None

        how = "rétablie : elle avait été annulée" if reinstating else "créée"
        done, membership = attempt(create_membership, lambda m: f"Adhésion {chosen_period.label} de "
                                   f"{party.display_name} {how} (référence de paiement {m.payment_reference}).")
        if done:
            return redirect(url_for(".show", membership_id=membership.id))
    return render_template("membership/create.html", form=form, q=q, results=results, party=party,
                           suggestion=suggestion, existing=existing, period=chosen_period)
