"""Staff screens of equipment grants, under ``/o/<org>/aides/``.

Views are thin: load (404 for another organisation's rows), authorise, validate, call a
service, flash, redirect; the request's boundary commits, a refusal answers 422 and rolls back.
"""
from flask import current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.errors import ServiceError, show_refusal
from backoffice.extensions import db
from backoffice.grants import forms, services
from backoffice.grants.models import DOCUMENT_STEPS, GRANT_LIFECYCLE, GrantApplication, GrantProgramme, GrantStatus
from backoffice.grants.services import GrantError
from backoffice.lifecycle import history
from backoffice.people.models import Party, Site
from backoffice.people.professions import PROFESSIONS_BY_CODE

bp = org_blueprint("grants", __name__, url_prefix="/aides")

VIEW, DECIDE, MANAGE = "grants.view", "grants.decide", "grants.manage"


@bp.app_template_global()
def grants_profession_label(code):
    profession = PROFESSIONS_BY_CODE.get(code)
    return profession.label if profession else code


def _page():
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _sites():
    return {site.id: site for site in db.session.scalars(select(Site).order_by(Site.name))}


def _site_choices(sites):
    return {0: "—"} | {site.id: f"{site.name}{f' ({site.commune})' if site.commune else ''}" for site in sites.values()}


# --------------------------------------------------------------------------------------------
# Programmes
# --------------------------------------------------------------------------------------------

@bp.route("/")
@permission_required(VIEW)
def index():
    rows = [(p, services.budget(p)) for p in services.programmes(g.organisation)]
    return render_template("grants/index.html", rows=rows)


@bp.route("/programmes/nouveau", methods=["GET", "POST"])
@permission_required(MANAGE)
def new_programme():
    form = forms.ProgrammeForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                values = form.values()
                programme = services.create_programme(g.organisation, funders=values.pop("funders"), **values)
        except GrantError as error:
            return render_template("grants/programme_form.html", form=form, programme=None), show_refusal(error, form)
        flash(f"Programme « {programme.name} » créé.", "success")
        return redirect(url_for("grants.programme", programme_id=programme.id))
    status = 422 if form.errors else 200
    return render_template("grants/programme_form.html", form=form, programme=None), status


@bp.route("/programmes/<int:programme_id>")
@permission_required(VIEW)
def programme(programme_id):
    programme = get_or_404(GrantProgramme, programme_id)
    required = [(kind, status) for status in DOCUMENT_STEPS for kind in programme.documents_for(status)]
    return render_template("grants/programme.html", programme=programme, budget=services.budget(programme),
                           ceiling=services.ceiling_text(programme), statuses=list(GrantStatus),
                           required_documents=required)


@bp.route("/programmes/<int:programme_id>/modifier", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_programme(programme_id):
    programme = get_or_404(GrantProgramme, programme_id)
    form = forms.ProgrammeForm()
    if request.method == "GET":
        form.fill_from(programme)
    elif form.validate_on_submit():
        try:
            with db.session.begin_nested():
                values = form.values()
                services.update_programme(programme, funders=values.pop("funders"), **values)
        except GrantError as error:
            return (render_template("grants/programme_form.html", form=form, programme=programme),
                    show_refusal(error, form))
        flash("Programme enregistré.", "success")
        return redirect(url_for("grants.programme", programme_id=programme.id))
    status = 422 if form.errors else 200
    return render_template("grants/programme_form.html", form=form, programme=programme), status


# --------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------

@bp.route("/demandes")
@permission_required(VIEW)
def applications():
    filters = services.ApplicationFilters.from_args(request.args)
    page = services.application_page(g.organisation, filters, _page(), current_app.config["PER_PAGE"])
    return render_template("grants/applications.html", page=page, filters=filters,
                           programmes=services.programmes(g.organisation), statuses=list(GrantStatus))


def _applicant_choices():
    from backoffice.people.services import related_party_ids

    parties = db.session.scalars(select(Party).where(Party.id.in_(related_party_ids(g.organisation)))
                                 .order_by(Party.sort_name))
    return {p.id: p.display_name for p in parties}


@bp.route("/demandes/nouvelle", methods=["GET", "POST"])
@permission_required(MANAGE)
def new_application():
    """An application entered by staff on a member's behalf (a draft, submitted from its page)."""
    form = forms.StaffApplicationForm()
    programmes = services.programmes(g.organisation)
    form.programme_id.choices = {p.id: p.name for p in programmes}
    form.applicant_id.choices = _applicant_choices()
    sites = _sites()
    form.site_id.choices = _site_choices(sites)
    if request.method == "GET" and programmes:
        form.programme_id.data = int(request.args.get("programme", programmes[0].id)) \
            if request.args.get("programme", "").isdigit() else programmes[0].id
        chosen = next((p for p in programmes if p.id == form.programme_id.data), programmes[0])
        form.equipment_kind.data = chosen.equipment_kind
    if form.validate_on_submit():
        programme = get_or_404(GrantProgramme, form.programme_id.data)
        applicant = db.get_or_404(Party, form.applicant_id.data)
        try:
            with db.session.begin_nested():
                application = services.create_application(g.organisation, programme, applicant,
                                                          **form.values(sites))
        except GrantError as error:
            return render_template("grants/application_form.html", form=form, application=None), \
                show_refusal(error, form)
        flash(f"Demande {application.reference} enregistrée (brouillon).", "success")
        return redirect(url_for("grants.application", application_id=application.id))
    status = 422 if form.errors else 200
    return render_template("grants/application_form.html", form=form, application=None), status


def _render_detail(application, status=200):
    """The application's page (also shown again, 422, with a refusal flashed)."""
    checks = services.eligibility(application.programme, application.applicant, site=application.site,
                                  training_on=application.training_on, on=application.submitted_on,
                                  application=application)
    ceiling = services.ceiling_for(application.programme, application.quoted_price)
    approve_form = forms.ApproveForm()
    if not approve_form.amount.data:
        approve_form.amount.data = forms.amount_text(min(application.amount_requested,
                                                         ceiling or application.amount_requested))
    return render_template("grants/application.html", application=application, checks=checks,
                           history=history(application), lifecycle=GRANT_LIFECYCLE, S=GrantStatus,
                           approve_form=approve_form, reason_form=forms.ReasonForm(), ceiling=ceiling,
                           missing=services.missing_documents(application, GrantStatus.SUBMITTED)), status


@bp.route("/demandes/<int:application_id>")
@permission_required(VIEW)
def application(application_id):
    return _render_detail(get_or_404(GrantApplication, application_id))


@bp.route("/demandes/<int:application_id>/modifier", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_application(application_id):
    application = get_or_404(GrantApplication, application_id)
    form = forms.ApplicationForm()
    sites = _sites()
    form.site_id.choices = _site_choices(sites)
    if request.method == "GET":
        form.fill_from(application)
    elif form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.update_application(application, **form.values(sites))
        except GrantError as error:
            return render_template("grants/application_form.html", form=form, application=application), \
                show_refusal(error, form)
        flash("Demande enregistrée.", "success")
        return redirect(url_for("grants.application", application_id=application.id))
    status = 422 if form.errors else 200
    return render_template("grants/application_form.html", form=form, application=application), status


def _act(application, action, success):
    """Run ``action()`` (a service) in a savepoint; a refusal shows the page again (422)."""
    try:
        with db.session.begin_nested():
            action()
    except ServiceError as error:  # a GrantError, or a move the lifecycle refuses
        return _refuse(application, error)
    flash(success, "success")
    return redirect(url_for("grants.application", application_id=application.id))


def _refuse(application, error):
    show_refusal(error)
    db.session.refresh(application)
    return _render_detail(application, 422)


@bp.route("/demandes/<int:application_id>/deposer", methods=["POST"])
@permission_required(MANAGE)
def submit(application_id):
    application = get_or_404(GrantApplication, application_id)
    return _act(application, lambda: services.submit(application), f"Demande {application.reference} déposée.")


@bp.route("/demandes/<int:application_id>/accorder", methods=["POST"])
@permission_required(DECIDE)
def approve(application_id):
    application = get_or_404(GrantApplication, application_id)
    form = forms.ApproveForm()
    if not form.validate_on_submit():
        return _refuse(application, GrantError(" ".join(form.amount.errors) or "Indiquez le montant accordé."))
    return _act(application, lambda: services.approve(application, form.amount.amount),
                f"Aide accordée à {application.applicant.display_name}.")


def _reason_action(service, success):
    def view(application_id):
        application = get_or_404(GrantApplication, application_id)
        form = forms.ReasonForm()
        if not form.validate_on_submit():
            return _refuse(application, GrantError("Indiquez un motif.", field="reason"))
        return _act(application, lambda: service(application, form.reason.data), success)
    return view


bp.add_url_rule("/demandes/<int:application_id>/refuser", "reject", permission_required(DECIDE)(
    _reason_action(services.reject, "Demande refusée.")), methods=["POST"])
bp.add_url_rule("/demandes/<int:application_id>/retirer", "withdraw", permission_required(MANAGE)(
    _reason_action(services.withdraw, "Demande retirée.")), methods=["POST"])
bp.add_url_rule("/demandes/<int:application_id>/annuler", "cancel", permission_required(DECIDE)(
    _reason_action(services.cancel, "Aide annulée ; son montant revient à l'enveloppe.")), methods=["POST"])
