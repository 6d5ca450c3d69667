"""Staff screens of equipment grants, under ``/o/<org>/aides/``.

Views are thin: load (404 for another organisation's rows), authorise, validate, call a
service, flash, redirect; the request's boundary commits, a refusal answers 422 and rolls back.
"""
import io
from datetime import date

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.errors import act_or_refuse, show_refusal
from backoffice.extensions import db
from backoffice.formatting import format_money
from backoffice.forms import EXPIRED, csrf_refused
from backoffice.grants import agreements, attachments, committee, forms, payments, reports, services
from backoffice.grants import follow_up as late_reports  # the module: a view below is named follow_up
from backoffice.grants.models import (DOCUMENT_STEPS, GRANT_LIFECYCLE, AttachmentKind, GrantApplication, GrantAttachment, GrantProgramme,
                                      GrantDeviceCustody, GrantStatus)
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


def _start(job_name, kind, label, params, dedupe_key=None):
    """Start the task of ``jobs.grants.<job_name>`` and show its page (handed over after the commit)."""
    import jobs.grants
    from backoffice.tasks.services import start_task

    task = start_task(organisation=g.organisation, user=current_user, kind=kind, label=label,
                      job=getattr(jobs.grants, job_name), params=params, dedupe_key=dedupe_key)
    return redirect(url_for("tasks.show", task_id=task.id))


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
            status = show_refusal(error, form)
            return render_template("grants/programme_form.html", form=form, programme=None), status
        flash(f"Programme « {programme.name} » créé.", "success")
        return redirect(url_for("grants.programme", programme_id=programme.id))
    status = 422 if form.errors else 200
    return render_template("grants/programme_form.html", form=form, programme=None), status


@bp.route("/programmes/<int:programme_id>")
@permission_required(VIEW)
def programme(programme_id):
    from backoffice.tasks.services import active_task

    programme = get_or_404(GrantProgramme, programme_id)
    required = [(kind, status) for status in DOCUMENT_STEPS for kind in programme.documents_for(status)]
    figures = reports.programme_report(programme, with_activity=False)
    return render_template("grants/programme.html", programme=programme, budget=figures.budget,
                           pending=figures.budget.counts.get(GrantStatus.SUBMITTED, 0),
                           late_follow_ups=late_reports.late_follow_ups(programme=programme),
                           grace_days=late_reports.grace_days(),
                           awaiting_agreement=figures.budget.counts.get(GrantStatus.APPROVED, 0),
                           ceiling=services.ceiling_text(programme), statuses=list(GrantStatus),
                           required_documents=required, funding_form=forms.FundingForm(formdata=None),
                           report_form=forms.ReportForm(formdata=None), report_document=reports.current_report(programme),
                           report_task=active_task(g.organisation, _report_key(programme, "docx")),
                           budget_chart=reports.budget_chart(figures), activity_chart=reports.activity_chart(figures),
                           budget_series=reports.BUDGET_SERIES, activity_series=reports.ACTIVITY_SERIES)


def _report_key(programme, fmt):
    return f"grants.report:{programme.id}:{fmt}"


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
            status = show_refusal(error, form)
            return render_template("grants/programme_form.html", form=form, programme=programme), status
        flash("Programme enregistré.", "success")
        return redirect(url_for("grants.programme", programme_id=programme.id))
    status = 422 if form.errors else 200
    return render_template("grants/programme_form.html", form=form, programme=programme), status


# --------------------------------------------------------------------------------------------
# The committee meeting: the board decides the submitted applications of a programme at once
# --------------------------------------------------------------------------------------------

def _render_committee(programme, rows, typed=None, errors=None, status=200):
    typed = typed if typed is not None else {
        row.application.id: (committee.LATER, forms.amount_text(row.proposed), "") for row in rows}
    return render_template("grants/committee.html", programme=programme, rows=rows, typed=typed,
                           errors=errors or {}, actions=committee.ACTIONS, form=forms.CommitteeForm(),
                           budget=services.budget(programme)), status


@bp.route("/programmes/<int:programme_id>/comite", methods=["GET", "POST"])
@permission_required(DECIDE)
def committee_meeting(programme_id):
    """One screen per programme: approve, reject or leave each submitted application, applied together."""
    programme = get_or_404(GrantProgramme, programme_id)
    rows = committee.agenda(programme)
    if request.method == "GET":
        return _render_committee(programme, rows)
    form = forms.CommitteeForm()
    decisions, typed = forms.committee_decisions(request.form, [row.application.id for row in rows])
    if not form.validate_on_submit():
        show_refusal(GrantError(EXPIRED))
        return _render_committee(programme, rows, typed, status=422)
    try:
        result = committee.decide_batch(programme, decisions)
    except committee.CommitteeRefused as refused:
        show_refusal(refused)
        return _render_committee(programme, committee.agenda(programme), typed, refused.errors, 422)
    except GrantError as error:
        show_refusal(error)
        return _render_committee(programme, rows, typed, status=422)
    flash(f"{result.summary}.", "success")
    return redirect(url_for("grants.committee_meeting", programme_id=programme.id))


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
            status = show_refusal(error, form)
            return render_template("grants/application_form.html", form=form, application=None), status
        flash(f"Demande {application.reference} enregistrée (brouillon).", "success")
        return redirect(url_for("grants.application", application_id=application.id))
    status = 422 if form.errors else 200
    return render_template("grants/application_form.html", form=form, application=None), status


def _render_detail(application, status=200, payment_form=None):
    """The application's page (also shown again, 422, with a refusal flashed, or with the
    payment form as typed and its errors under its fields)."""
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
                           upload_form=forms.UploadForm(), scan_form=forms.ScanForm(), delivery_form=forms.DeliveryForm(),
                           payment_form=payment_form or forms.PaymentForm(formdata=None, paid_on=date.today()),
                           agreements=agreements.agreement_versions(application),
                           follow_ups=services.follow_ups(application),
                           missing=services.missing_documents(application, GrantStatus.SUBMITTED)), status


@bp.route("/demandes/<int:application_id>")
@permission_required(VIEW)
def application(application_id):
    return _render_detail(get_or_404(GrantApplication, application_id))


@bp.route("/demandes/<int:application_id>/modifier", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_application(application_id):
    application = get_or_404(GrantApplication, application_id)
    if not services.editable(application):
        # the form of an examined application would only end in a refusal once filled in
        flash(services.NOT_EDITABLE, "warning")
        return redirect(url_for("grants.application", application_id=application.id))
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
            status = show_refusal(error, form)
            return render_template("grants/application_form.html", form=form, application=application), status
        flash("Demande enregistrée.", "success")
        return redirect(url_for("grants.application", application_id=application.id))
    status = 422 if form.errors else 200
    return render_template("grants/application_form.html", form=form, application=application), status


def _act(application, action, success):
    """Run ``action()`` (a service) in a savepoint; a refusal shows the page again (422)."""
    return act_or_refuse(action, success, row=application, render=_render_detail,
                         target=url_for("grants.application", application_id=application.id))


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


# --------------------------------------------------------------------------------------------
# Documents: uploads, the convention, signature, delivery
# --------------------------------------------------------------------------------------------

def _upload(form):
    data = form.file.data.read(attachments.max_bytes() + 1)
    return form.file.data.filename, data


@bp.route("/demandes/<int:application_id>/pieces", methods=["POST"])
@permission_required(MANAGE)
def upload(application_id):
    application = get_or_404(GrantApplication, application_id)
    form = forms.UploadForm()
    if not form.validate_on_submit():
        return _refuse(application, GrantError(" ".join(form.file.errors or form.kind.errors) or "Fichier refusé."))
    filename, data = _upload(form)
    return _act(application, lambda: attachments.add_attachment(application, form.kind.data, filename, data),
                "Pièce enregistrée.")


@bp.route("/pieces/<int:attachment_id>")
@login_required
def attachment(attachment_id):
    """An uploaded document: to the applicant and to staff who may see grants; 404 otherwise."""
    row = get_or_404(GrantAttachment, attachment_id)
    if not attachments.may_view(current_user, row):
        abort(404)
    path = attachments.path_of(row)
    if not path.is_file():
        abort(404)
    return send_file(io.BytesIO(path.read_bytes()), mimetype=row.content_type, as_attachment=True,
                     download_name=row.filename, max_age=0)


@bp.route("/demandes/<int:application_id>/convention", methods=["POST"])
@permission_required(DECIDE)
def issue_agreement(application_id):
    application = get_or_404(GrantApplication, application_id)
    if application.status not in (GrantStatus.APPROVED, GrantStatus.AGREEMENT_ISSUED):
        return _refuse(application, GrantError(f"Pas de convention à émettre pour une demande "
                                               f"« {application.status.label} »."))
    return _start("grant_agreement", "grants.agreement", f"Convention {application.reference}",
                  {"application_id": application.id}, dedupe_key=f"grants.agreement:{application.id}")


@bp.route("/programmes/<int:programme_id>/conventions", methods=["POST"])
@permission_required(DECIDE)
def issue_agreements(programme_id):
    """The conventions of all the programme's approved applications at once (after the committee)."""
    programme = get_or_404(GrantProgramme, programme_id)
    if not agreements.awaiting_agreement(programme):
        show_refusal(GrantError("Aucune aide accordée n'attend sa convention dans ce programme."))
        return redirect(url_for("grants.programme", programme_id=programme.id)), 303
    return _start("grant_agreements", "grants.agreements", f"Conventions — {programme.name}",
                  {"programme_id": programme.id}, dedupe_key=f"grants.agreements:{programme.id}")


@bp.route("/demandes/<int:application_id>/signature", methods=["POST"])
@permission_required(MANAGE)
def sign_scan(application_id):
    application = get_or_404(GrantApplication, application_id)
    form = forms.ScanForm()
    if not form.validate_on_submit():
        return _refuse(application, GrantError(" ".join(form.file.errors) or "Fichier refusé."))
    filename, data = _upload(form)
    return _act(application, lambda: agreements.sign_by_scan(application, filename, data, user=current_user),
                "Convention signée enregistrée.")


@bp.route("/demandes/<int:application_id>/livraison", methods=["POST"])
@permission_required(MANAGE)
def deliver(application_id):
    application = get_or_404(GrantApplication, application_id)
    form = forms.DeliveryForm()
    if not form.validate_on_submit():
        return _refuse(application, GrantError("Indiquez le numéro de série.", field="serial_number"))
    return _act(application, lambda: services.record_delivery(application, form.serial_number.data,
                                                              delivered_on=form.delivered_on.data),
                "Livraison enregistrée.")


@bp.route("/demandes/<int:application_id>/cloturer", methods=["POST"])
@permission_required(MANAGE)
def close(application_id):
    application = get_or_404(GrantApplication, application_id)
    return _act(application, lambda: services.close(application), "Demande clôturée.")


bp.add_url_rule("/demandes/<int:application_id>/remboursement", "claim_repayment", permission_required(DECIDE)(
    _reason_action(services.claim_repayment, "Remboursement demandé au bénéficiaire.")), methods=["POST"])


# --------------------------------------------------------------------------------------------
# The member's space: his applications, from a phone too (/o/<org>/aides/mon-espace/…)
# --------------------------------------------------------------------------------------------

member_bp = Blueprint("member", __name__, url_prefix="/mon-espace")
APPLY = "grants.apply"


def _own(application_id):
    """The signed-in member's own application, else 404."""
    application = get_or_404(GrantApplication, application_id)
    if current_user.party_id is None or application.applicant_id != current_user.party_id:
        abort(404)
    return application


def _me():
    party = db.session.get(Party, current_user.party_id) if current_user.party_id else None
    if party is None:
        abort(404)
    return party


@member_bp.route("/")
@permission_required(APPLY)
def index():
    party_id = current_user.party_id  # an account not linked to a directory entry has no application
    rows = db.session.scalars(select(GrantApplication).where(
        GrantApplication.organisation_id == g.organisation.id, GrantApplication.applicant_id == party_id)
        .order_by(GrantApplication.id.desc())).all() if party_id else []
    today = date.today()
    open_programmes = [p for p in services.programmes(g.organisation) if p.is_open_on(today)]
    # The link to his lent devices: custodies hang on approved applications, listed just above.
    lent = db.session.scalar(select(func.count(GrantDeviceCustody.id)).where(
        GrantDeviceCustody.application_id.in_([a.id for a in rows]))) if rows else 0
    return render_template("grants/member/index.html", applications=rows, programmes=open_programmes,
                           linked=party_id is not None, lent=lent)


@member_bp.route("/programmes/<int:programme_id>/demande", methods=["GET", "POST"])
@permission_required(APPLY)
def apply(programme_id):
    """The member's application: the rules checked for him first, then the form with the quote."""
    programme = get_or_404(GrantProgramme, programme_id)
    party = _me()
    form = forms.MemberApplicationForm()
    sites = _sites()
    form.site_id.choices = _site_choices(sites)
    if request.method == "GET":
        form.equipment_kind.data = programme.equipment_kind
        form.site_id.data = getattr(party, "site_id", None) or 0
    checks = services.eligibility(programme, party, site=sites.get(form.site_id.data),
                                  training_on=form.training_on.data, on=date.today())
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                application = services.create_application(g.organisation, programme, party, **form.values(sites))
                if form.quote.data:
                    filename, data = _upload_file(form.quote)
                    attachments.add_attachment(application, AttachmentKind.QUOTE, filename, data, field="quote")
                if form.training_certificate.data:
                    filename, data = _upload_file(form.training_certificate)
                    attachments.add_attachment(application, AttachmentKind.TRAINING_CERTIFICATE, filename, data,
                                               field="training_certificate")
        except GrantError as error:
            status = show_refusal(error, form)
            return render_template("grants/member/apply.html", form=form, programme=programme, checks=checks,
                                   ceiling=services.ceiling_text(programme)), status
        flash("Demande enregistrée : vérifiez-la puis déposez-la.", "success")
        return redirect(url_for("grants.member.show", application_id=application.id))
    status = 422 if form.errors else 200
    return render_template("grants/member/apply.html", form=form, programme=programme, checks=checks,
                           ceiling=services.ceiling_text(programme)), status


def _upload_file(field):
    return field.data.filename, field.data.read(attachments.max_bytes() + 1)


def _render_own(application, status=200):
    checks = services.eligibility(application.programme, application.applicant, site=application.site,
                                  training_on=application.training_on,
                                  on=application.submitted_on or date.today(), application=application)
    return render_template("grants/member/show.html", application=application, checks=checks, S=GrantStatus,
                           lifecycle=GRANT_LIFECYCLE, upload_form=forms.UploadForm(),
                           agreements=agreements.agreement_versions(application),
                           current_agreement=agreements.current_agreement(application),
                           missing=services.missing_documents(application, GrantStatus.SUBMITTED),
                           history=history(application), follow_ups=services.follow_ups(application),
                           follow_up_form=forms.FollowUpForm(formdata=None, year=date.today().year,
                                                             quarter=(date.today().month - 1) // 3 + 1),
                           follow_up_open=application.status in services.FOLLOW_UP_STATUSES), status


@member_bp.route("/demandes/<int:application_id>")
@permission_required(APPLY)
def show(application_id):
    return _render_own(_own(application_id))


def _member_act(application, action, success):
    return act_or_refuse(action, success, row=application, render=_render_own,
                         target=url_for("grants.member.show", application_id=application.id))


@member_bp.route("/demandes/<int:application_id>/pieces", methods=["POST"])
@permission_required(APPLY)
def upload(application_id):
    application = _own(application_id)
    form = forms.UploadForm()
    if not form.validate_on_submit():
        show_refusal(GrantError(" ".join(form.file.errors or form.kind.errors) or "Fichier refusé."))
        return _render_own(application, 422)
    filename, data = _upload_file(form.file)
    return _member_act(application, lambda: attachments.add_attachment(application, form.kind.data, filename, data),
                       "Pièce enregistrée.")


@member_bp.route("/demandes/<int:application_id>/deposer", methods=["POST"])
@permission_required(APPLY)
def submit(application_id):
    application = _own(application_id)
    return _member_act(application, lambda: services.submit(application),
                       "Demande déposée : le bureau l'examinera à sa prochaine réunion.")


@member_bp.route("/demandes/<int:application_id>/signer", methods=["POST"])
@permission_required(APPLY)
def sign(application_id):
    """The beneficiary signs his convention online: the click, its date, his IP, the document's SHA-256."""
    application = _own(application_id)
    if request.form.get("accept") != "oui":
        show_refusal(GrantError("Cochez « J'ai lu la convention et je l'accepte » pour la signer."))
        return _render_own(application, 422)
    return _member_act(application, lambda: agreements.sign_online(application, current_user, request.remote_addr),
                       "Convention signée. Merci !")


@member_bp.route("/demandes/<int:application_id>/suivi", methods=["POST"])
@permission_required(APPLY)
def follow_up(application_id):
    """The beneficiary reports a quarter's activity (screenings, referrals)."""
    application = _own(application_id)
    form = forms.FollowUpForm()
    if not form.validate_on_submit():
        show_refusal(GrantError("Suivi incomplet : " + " ".join(e for errors in form.errors.values() for e in errors)))
        return _render_own(application, 422)
    return _member_act(application, lambda: services.report_follow_up(
        application, form.year.data, form.quarter.data, form.screenings.data, form.referrals.data,
        comment=form.comment.data), f"Suivi du T{form.quarter.data} {form.year.data} enregistré. Merci !")


@member_bp.route("/demandes/<int:application_id>/retirer", methods=["POST"])
@permission_required(APPLY)
def withdraw(application_id):
    application = _own(application_id)
    reason = (request.form.get("reason") or "").strip() or "Retirée par le demandeur"
    return _member_act(application, lambda: services.withdraw(application, reason), "Demande retirée.")


bp.register_blueprint(member_bp)


# --------------------------------------------------------------------------------------------
# Money: the payment on the invoice, the SEPA transfers, the funding received, the report
# --------------------------------------------------------------------------------------------

@bp.route("/demandes/<int:application_id>/versement", methods=["POST"])
@permission_required(MANAGE)
def pay(application_id):
    application = get_or_404(GrantApplication, application_id)
    form = forms.PaymentForm()

    def render(row, status):
        return _render_detail(row, status, payment_form=form)

    if not form.validate_on_submit():
        if csrf_refused(form):
            show_refusal(GrantError(EXPIRED))
        return render(application, 422)
    return act_or_refuse(lambda: payments.record_payment(application, paid_on=form.paid_on.data,
                                                         invoice_reference=form.invoice_reference.data,
                                                         invoice_amount=form.invoice_amount.amount),
                         "Versement enregistré et comptabilisé.", row=application, render=render, form=form,
                         target=url_for("grants.application", application_id=application.id))


def _render_payments(status=200, payee_forms=None):
    rows = payments.payable(g.organisation)
    payee_forms = payee_forms or {}
    for application, _ in rows:
        payee_forms.setdefault(application.applicant_id, forms.PayeeForm(prefix=f"p{application.applicant_id}",
                                                                         formdata=None))
    return render_template("grants/payments.html", rows=rows, payee_forms=payee_forms,
                           transfer_form=forms.TransferForm(formdata=None, execution_date=date.today())), status


@bp.route("/versements")
@permission_required(MANAGE)
def payments_index():
    return _render_payments()


@bp.route("/versements/coordonnees/<int:party_id>", methods=["POST"])
@permission_required(MANAGE)
def payee(party_id):
    from backoffice.banking import services as banking
    from backoffice.banking.errors import BankingError

    party = db.get_or_404(Party, party_id)
    if not any(a.applicant_id == party.id for a, _ in payments.payable(g.organisation)):
        abort(404)
    form = forms.PayeeForm(prefix=f"p{party.id}")
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                banking.set_payee_details(g.organisation, party, form.iban.data, form.bic.data or None)
        except BankingError as error:
            status = show_refusal(error, form)
            return _render_payments(status, {party.id: form})
        flash(f"Coordonnées bancaires de {party.display_name} enregistrées.", "success")
        return redirect(url_for("grants.payments_index"))
    return _render_payments(422, {party.id: form})


@bp.route("/versements/virements", methods=["POST"])
@permission_required(MANAGE)
def transfers():
    form = forms.TransferForm()
    ids = [int(value) for value in request.form.getlist("application_id") if value.isdigit()]
    if not form.validate_on_submit() or not ids:
        show_refusal(GrantError("Choisissez les aides à verser et la date d'exécution."))
        return _render_payments(422)
    return _start("grant_transfers", "grants.transfers", f"Virements des aides ({len(ids)})",
                  {"application_ids": ids, "execution_date": form.execution_date.data.isoformat()})


@bp.route("/programmes/<int:programme_id>/financeurs/<int:funder_id>/recu", methods=["POST"])
@permission_required(MANAGE)
def funding_received(programme_id, funder_id):
    programme = get_or_404(GrantProgramme, programme_id)
    funder = next((f for f in programme.funders if f.id == funder_id), None)
    if funder is None:
        abort(404)
    form = forms.FundingForm()
    if not form.validate_on_submit():
        show_refusal(GrantError("Date de réception invalide (jj/mm/aaaa)."))
        return redirect(url_for("grants.programme", programme_id=programme.id)), 303
    try:
        with db.session.begin_nested():
            payments.record_funding(funder, form.received_on.data)
    except GrantError as error:
        show_refusal(error)
        return redirect(url_for("grants.programme", programme_id=programme.id)), 303
    flash(f"Subvention de {funder.name} comptabilisée.", "success")
    return redirect(url_for("grants.programme", programme_id=programme.id))


@bp.route("/programmes/<int:programme_id>/rapport", methods=["POST"])
@permission_required(VIEW)
def report(programme_id):
    programme = get_or_404(GrantProgramme, programme_id)
    form = forms.ReportForm()
    fmt = form.file_format.data if form.validate_on_submit() else "docx"
    return _start("grant_report", "grants.report", f"Rapport financeurs — {programme.name}",
                  {"programme_id": programme.id, "format": fmt}, dedupe_key=_report_key(programme, fmt))


@bp.route("/programmes/<int:programme_id>/fonds-dedies", methods=["POST"])
@permission_required(MANAGE)
def dedicated_funds(programme_id):
    """At the year-end: the unspent funding carried, and last year's used (``payments``: events
    ``dedicated_funds_carried`` / ``dedicated_funds_used`` of the posting rules)."""
    programme = get_or_404(GrantProgramme, programme_id)
    year = request.form.get("year", "")
    if not (year.isdigit() and 2000 < int(year) < 2100):
        show_refusal(GrantError("Indiquez l'exercice (par exemple 2026)."))
        return redirect(url_for("grants.programme", programme_id=programme.id)), 303
    year = int(year)
    try:
        with db.session.begin_nested():
            used = payments.use_dedicated_funds(programme, year)
            carried = payments.carry_dedicated_funds(programme, year)
    except GrantError as error:
        show_refusal(error)
        return redirect(url_for("grants.programme", programme_id=programme.id)), 303
    flash(f"Exercice {year} : " + "; ".join(filter(None, [
        f"fonds dédiés reportés {format_money(carried.total)}" if carried else "aucun fonds dédié à reporter",
        f"fonds dédiés {year - 1} utilisés {format_money(used.total)}" if used else None])) + ".", "success")
    return redirect(url_for("grants.programme", programme_id=programme.id))


# The in-kind programmes' device screens live beside their rules; importing them registers them on ``bp``.
from backoffice.grants import device_views  # noqa: E402,F401
