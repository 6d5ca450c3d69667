"""The fee grid, periods, collèges and the membership settings."""

from flask import abort, flash, g, redirect, render_template, request, url_for

from backoffice import formatting
from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.membership import forms, sepa, services
from backoffice.errors import ServiceError, attempt, show_refusal
from backoffice.membership.models import CategoryKind, FeeCategory, MembershipPeriod
from backoffice.membership.views.common import (MANAGE, VIEW, _start, bp, _can_manage, _current_period,
                                                _no_period, _plain, safe_back)


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
        if form.validate_on_submit() and attempt(
                lambda: services.set_fee_category(period, form.label.data, form.amount.amount,
                                                  CategoryKind(form.kind.data), position=form.position.data,
                                                  active=form.active.data),
                f"Catégorie « {form.label.data} » ajoutée à la grille {period.label}.")[0]:
            return redirect(url_for(".grid", period=period.id))
    return render_template("membership/grid.html", period=period, periods=services.periods(g.organisation),
                           form=form, period_form=forms.PeriodForm(year=(current or period).year + 1))




@bp.route("/grid/<int:category_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_category(category_id):
    category = get_or_404(FeeCategory, category_id)
    form = forms.FeeCategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data, form.amount.data = category.kind.value, _plain(category.amount) or "0"
    if form.validate_on_submit() and attempt(
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
    if form.validate_on_submit() and attempt(
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

    def save():
        sepa.set_creditor_identifier(g.organisation, form.creditor_identifier.data)
        services.get_settings(g.organisation, create=True).reference_prefix = form.reference_prefix.data
        try:
            services.set_reference_scheme(g.organisation, form.reference_scheme.data)
        except ServiceError as exc:
            form.reference_scheme.errors = [*form.reference_scheme.errors, str(exc)]
            raise
        return services.set_due_days(g.organisation, form.due_days.data)

    def refused(exc):  # the creditor identifier and the reference scheme are the service's checks
        show_refusal(exc)
        if not form.reference_scheme.errors:
            form.creditor_identifier.errors = [*form.creditor_identifier.errors, str(exc)]

    if form.validate_on_submit() and attempt(save, lambda moved: "Paramètres des adhésions enregistrés."
                                             + _moved_due_dates(moved), on_error=refused)[0]:
        return redirect(url_for(".settings"))
    return render_template("membership/settings.html", form=form)


def _moved_due_dates(periods):
    """`` Échéance déplacée : 2026 au 1er avril 2026, … (…)`` (empty when no period moved)."""
    if not periods:
        return ""
    dates = ", ".join(f"{p.label} au {formatting.format_date_fr(p.due_on)}" for p in periods)
    return f" Échéance déplacée : {dates} (les relances après l'échéance en partent)."


@bp.route("/periods/<int:period_id>/renew", methods=["GET", "POST"])
@permission_required(MANAGE)
def renew(period_id):
    """Last period's members to renew for ``period``: filter, tick, then a job creates them."""
    from jobs.membership import renew_memberships

    period = get_or_404(MembershipPeriod, period_id)
    filters = forms.RenewalFilterForm(request.args)
    colleges = services.colleges(g.organisation)
    filters.college.choices = {0: "Tous"} | {c.id: c.name for c in colleges}
    who = filters.who.data if filters.who.data in services.RENEWAL_WHO else "all"
    candidates = services.renewal_candidates(period, who=who, college_id=filters.college.data or None)
    if request.method == "POST":
        chosen = [int(v) for v in request.form.getlist("party_id") if v.isdigit()]
        shown = {c.previous.party_id for c in candidates}
        if not chosen:
            flash("Cochez au moins un membre à renouveler.", "danger")
        elif not set(chosen) <= shown:
            flash("La liste a changé depuis son affichage (un membre a été inscrit entre-temps) : vérifiez-la "
                  "et validez à nouveau.", "danger")
        else:
            return _start(renew_memberships, "membership.renewal",
                          f"Renouvellement de {len(chosen)} adhésion(s) {period.label}",
                          {"period_id": period.id, "party_ids": sorted(chosen)},
                          dedupe_key=f"membership.renewal:{period.id}")
    return render_template("membership/renew.html", period=period, filters=filters, candidates=candidates,
                           previous=services.previous_period(period),
                           empty_grid=not any(c.active for c in period.categories)), \
        (422 if request.method == "POST" else 200)
