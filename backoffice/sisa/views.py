"""The SISA remuneration screens, under ``/o/<org>/sisa/``: load, authorise, call a service, redirect."""
from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.errors import ServiceError, show_refusal
from backoffice.extensions import db
from backoffice.people.models import Party
from backoffice.sisa import services
from backoffice.people import services as people_services
from backoffice.people.forms import ImportForm
from backoffice.sisa import aci
from backoffice.sisa.forms import (KEY_ROWS, AciGridForm, AssociateForm, DeductionForm, IncomeForm, KeysForm,
                                   MeetingForm, PointsForm, PostDeductionsForm, ScenarioForm, SettleRefundForm)
from backoffice.sisa.models import (SisaDeduction, SisaDistribution, SisaIncome, SisaMeeting, SisaMissionPoints,
                                   SisaRefund, SisaScenario)

bp = org_blueprint("sisa", __name__, url_prefix="/sisa")

VIEW, MANAGE, SELF = "sisa.view", "sisa.manage", "sisa.self"


def _check_year(year):
    if not 2000 <= year <= date.today().year + 1:
        from flask import abort

        abort(404)
    return year


@bp.route("/")
@permission_required(VIEW)
def index():
    latest = db.session.scalar(select(func.max(SisaIncome.year)).where(SisaIncome.organisation_id == g.organisation.id))
    return redirect(url_for(".year", year=latest or date.today().year - 1))


# --- the year: income and deductions ------------------------------------------------------

def _year_page(year, income_form=None, deduction_form=None, post_form=None, status=200):
    return render_template(
        "sisa/year.html", year=year, figures=services.year_figures(g.organisation, year),
        income=services.income(g.organisation, year), income_form=income_form or IncomeForm(formdata=None),
        deduction_form=deduction_form or DeductionForm(formdata=None),
        post_form=post_form or PostDeductionsForm(formdata=None, entry_date=date(year, 12, 31)),
        scenarios=services.scenarios(g.organisation, year)), status


@bp.route("/<int:year>/")
@permission_required(VIEW)
def year(year):
    return _year_page(_check_year(year))


@bp.route("/<int:year>/recettes", methods=["POST"])
@permission_required(MANAGE)
def add_income(year):
    form = IncomeForm()
    if not form.validate_on_submit():
        return _year_page(_check_year(year), income_form=form, status=422)
    try:
        row = services.record_income(g.organisation, _check_year(year), form.kind.data, form.label.data,
                                     form.received_on.data, form.amount.amount)
    except ServiceError as error:
        return _year_page(year, income_form=form, status=show_refusal(error, form))
    flash(f"« {row.label} » enregistré et comptabilisé ({services.describe_amount(row.amount)}).", "success")
    return redirect(url_for(".year", year=year))


@bp.route("/<int:year>/retenues", methods=["POST"])
@permission_required(MANAGE)
def add_deduction(year):
    form = DeductionForm()
    if not form.validate_on_submit():
        return _year_page(_check_year(year), deduction_form=form, status=422)
    try:
        row = services.add_deduction(g.organisation, _check_year(year), form.kind.data, form.label.data,
                                     amount=form.amount.data, percentage=form.percentage.data,
                                     account_number=form.account_number.data)
    except ServiceError as error:
        return _year_page(year, deduction_form=form, status=show_refusal(error, form))
    flash(f"Retenue « {row.label} » ajoutée.", "success")
    return redirect(url_for(".year", year=year))


@bp.route("/retenues/<int:deduction_id>/supprimer", methods=["POST"])
@permission_required(MANAGE)
def remove_deduction(deduction_id):
    deduction = get_or_404(SisaDeduction, deduction_id)
    try:
        with db.session.begin_nested():
            services.remove_deduction(deduction)
    except ServiceError as error:
        show_refusal(error)
    else:
        flash(f"Retenue « {deduction.label} » supprimée.", "success")
    return redirect(url_for(".year", year=deduction.year))


@bp.route("/<int:year>/retenues/comptabiliser", methods=["POST"])
@permission_required(MANAGE)
def post_deductions(year):
    form = PostDeductionsForm()
    if not form.validate_on_submit():
        return _year_page(_check_year(year), post_form=form, status=422)
    try:
        posted = services.post_deductions(g.organisation, _check_year(year), form.entry_date.data)
    except ServiceError as error:
        return _year_page(year, post_form=form, status=show_refusal(error, form))
    flash(f"{len(posted)} retenue(s) comptabilisée(s)." if posted else "Toutes les retenues sont déjà comptabilisées.",
          "success")
    return redirect(url_for(".year", year=year))


# --- expected ACI ----------------------------------------------------------------------------

def _aci_page(year, form=None, status=200):
    if form is None:
        start, indicators = aci.starting_grid(g.organisation, year)
        rows = [{"label": i.label, "fixed_points": services.format_plain(i.fixed_points),
                 "variable_points": services.format_plain(i.variable_points),
                 "achievement": services.format_plain(i.achievement)} for i in indicators]
        form = AciGridForm(formdata=None, data={
            "point_value": services.format_plain(start.point_value),
            "advance_percentage": services.format_plain(start.advance_percentage),
            "reference_patients": str(start.reference_patients), "patients": str(start.patients or ""),
            "indicators": rows + [{}] * max(aci.INDICATOR_ROWS - len(rows), 3)})
    history = aci.history(g.organisation)
    return render_template("sisa/aci.html", year=year, form=form, comparison=aci.comparison(g.organisation, year),
                           history=history, chart=aci.chart(history)), status


@bp.route("/<int:year>/aci")
@permission_required(VIEW)
def aci_expected(year):
    return _aci_page(_check_year(year))


@bp.route("/<int:year>/aci", methods=["POST"])
@permission_required(MANAGE)
def save_aci_grid(year):
    form = AciGridForm()
    if not form.validate_on_submit():
        return _aci_page(_check_year(year), form, 422)
    try:
        aci.save_grid(g.organisation, _check_year(year), point_value=form.point_value.data,
                      advance_percentage=form.advance_percentage.data,
                      reference_patients=form.reference_patients.data, patients=form.patients.data,
                      rows=[aci.IndicatorRow(**row) for row in form.indicators.data])
    except ServiceError as error:
        return _aci_page(year, form, show_refusal(error))
    flash(f"Grille ACI {year} enregistrée.", "success")
    return redirect(url_for(".aci_expected", year=year))


# --- associates ----------------------------------------------------------------------------

@bp.route("/<int:year>/associes")
@permission_required(VIEW)
def associates(year):
    rows = services.associates(g.organisation, _check_year(year))
    minutes = services.minutes_by_party(g.organisation, year)
    points = services.points_by_party(g.organisation, year)
    return render_template("sisa/associates.html", year=year, rows=rows, minutes=minutes, points=points,
                           hours=services.hours)


def _associate_or_404(party_id):
    party = db.get_or_404(Party, party_id)
    if not services.is_associate(g.organisation, party):
        from flask import abort

        abort(404)
    return party


@bp.route("/associes/<int:party_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_associate(party_id):
    party = _associate_or_404(party_id)
    year = request.args.get("annee", type=int) or date.today().year
    details = services.associate_details(g.organisation, party)
    payee = services.payee(g.organisation, party)
    form = AssociateForm(data=None if request.method == "POST" else {
        "capital_share": services.format_plain(details.capital_share) if details else "",
        "iban": payee.iban if payee else "", "bic": payee.bic if payee else "",
        "holder_name": payee.holder_name if payee else ""})
    if form.validate_on_submit():
        try:
            services.save_associate(g.organisation, party, capital_share=form.capital_share.amount,
                                    iban=form.iban.data, bic=form.bic.data, holder_name=form.holder_name.data)
        except ServiceError as error:
            status = show_refusal(error, form)  # before rendering: the message goes under its field
            return render_template("sisa/associate_form.html", form=form, party=party, payee=payee, year=year), status
        flash(f"{party.display_name} : fiche enregistrée.", "success")
        return redirect(url_for(".associates", year=year))
    return (render_template("sisa/associate_form.html", form=form, party=party, payee=payee, year=year),
            422 if form.is_submitted() else 200)


# --- keys ----------------------------------------------------------------------------------

def _keys_page(year, form=None, status=200):
    scenarios = services.scenarios(g.organisation, year)
    form = form or ScenarioForm(formdata=None)
    form.copy_from.choices = [SelectChoice(0, "— aucune —")] + [SelectChoice(s.id, s.name) for s in scenarios]
    return render_template("sisa/keys.html", year=year, scenarios=scenarios, form=form,
                           format_weights=services.format_weights), status


@bp.route("/<int:year>/cles")
@permission_required(VIEW)
def keys(year):
    return _keys_page(_check_year(year))


@bp.route("/<int:year>/scenarios", methods=["POST"])
@permission_required(MANAGE)
def create_scenario(year):
    form = ScenarioForm()
    form.copy_from.choices = []
    if not form.validate_on_submit():
        return _keys_page(_check_year(year), form, 422)
    source = get_or_404(SisaScenario, form.copy_from.data) if form.copy_from.data else None
    try:
        scenario = services.create_scenario(g.organisation, _check_year(year), form.name.data, copy_from=source)
    except ServiceError as error:
        return _keys_page(year, form, show_refusal(error, form))
    flash(f"Scénario « {scenario.name} » créé : saisissez ses clés.", "success")
    return redirect(url_for(".edit_scenario", scenario_id=scenario.id))


@bp.route("/scenarios/<int:scenario_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_scenario(scenario_id):
    scenario = get_or_404(SisaScenario, scenario_id)
    if request.method == "POST":
        form = KeysForm()
    else:
        rows = [{"label": k.label, "percentage": services.format_plain(k.percentage), "basis": k.basis,
                 "prorate_presence": k.prorate_presence, "weights": services.format_weights(k.profession_weights)}
                for k in scenario.keys]
        form = KeysForm(data={"keys": rows + [{}] * (KEY_ROWS - len(rows))})
    if form.validate_on_submit():
        try:
            services.set_keys(scenario, [services.KeyRow(**row) for row in form.keys.data])
        except ServiceError as error:
            status = show_refusal(error)  # flashed before rendering
            return render_template("sisa/scenario_form.html", form=form, scenario=scenario), status
        flash(f"Clés du scénario « {scenario.name} » enregistrées (100 %).", "success")
        return redirect(url_for(".simulation", year=scenario.year, scenario=scenario.id))
    return (render_template("sisa/scenario_form.html", form=form, scenario=scenario),
            422 if form.is_submitted() else 200)


# --- mission points ----------------------------------------------------------------------

def _points_page(year, form=None, status=200):
    rows = services.associates(g.organisation, year)
    form = form or PointsForm(formdata=None)
    form.party_id.choices = [SelectChoice(r.party.id, r.party.display_name) for r in rows]
    names = {r.party.id: r.party.display_name for r in rows}
    return render_template("sisa/points.html", year=year, form=form, points=services.mission_points(g.organisation, year),
                           names=names), status


@bp.route("/<int:year>/points", methods=["GET", "POST"])
@permission_required(VIEW)
def points(year):
    _check_year(year)
    if request.method == "GET":
        return _points_page(year)
    from backoffice.auth.permissions import can

    if not can(MANAGE):
        from flask import abort

        abort(403)
    form = PointsForm()
    if not form.validate_on_submit():
        return _points_page(year, form, 422)
    party = db.session.get(Party, form.party_id.data) if form.party_id.data else None
    try:
        services.add_mission_points(g.organisation, year, party, form.label.data, form.points.data)
    except ServiceError as error:
        return _points_page(year, form, show_refusal(error, form))
    flash("Points de mission enregistrés.", "success")
    return redirect(url_for(".points", year=year))


@bp.route("/points/<int:points_id>/supprimer", methods=["POST"])
@permission_required(MANAGE)
def remove_points(points_id):
    row = get_or_404(SisaMissionPoints, points_id)
    services.remove_mission_points(row)
    flash("Points de mission supprimés.", "success")
    return redirect(url_for(".points", year=row.year))


# --- simulation ----------------------------------------------------------------------------

@bp.route("/<int:year>/simulation")
@permission_required(VIEW)
def simulation(year):
    scenarios = services.scenarios(g.organisation, _check_year(year))
    chosen = {s.id: s for s in scenarios}
    scenario = chosen.get(request.args.get("scenario", type=int)) or (scenarios[0] if scenarios else None)
    other = chosen.get(request.args.get("compare", type=int))
    result = other_result = error = None
    if scenario is not None:
        try:
            result = services.simulate(g.organisation, year, scenario)
            if other is not None and other.id != scenario.id:
                other_result = services.simulate(g.organisation, year, other)
        except ServiceError as refusal:
            error = str(refusal)
    return render_template("sisa/simulation.html", year=year, scenarios=scenarios, scenario=scenario, other=other,
                           last_year=services.last_year(g.organisation, year) if result else None,
                           result=result, other_result=other_result, error=error,
                           comparison=services.compare(result, other_result) if result else {})


# --- coordination meetings -------------------------------------------------------------------

@bp.route("/<int:year>/reunions")
@permission_required(VIEW)
def meetings(year):
    return render_template("sisa/meetings.html", year=_check_year(year), rows=services.meetings(g.organisation, year))


def _meeting_page(meeting, form, year, status=200, ticked=None):
    day = form.held_on.data if isinstance(form.held_on.data, date) else (meeting.held_on if meeting else None)
    present = services.present_on(g.organisation, day or date(year, 12, 31))
    if ticked is None:
        ticked = {a.party_id for a in meeting.attendances} if meeting else set()
    by_site = {}
    for party in present.values():
        by_site.setdefault(str(party.site) if getattr(party, "site", None) else "Sans site", []).append(party)
    return render_template("sisa/meeting_form.html", form=form, meeting=meeting, year=year, ticked=ticked,
                           by_site=sorted(by_site.items())), status


def _save_meeting(meeting, year):
    form = MeetingForm(obj=None) if request.method == "POST" else MeetingForm(
        formdata=None, data={"held_on": meeting.held_on, "duration": services.format_minutes(meeting.duration_minutes),
                             "kind": meeting.kind, "theme": meeting.theme} if meeting else {"kind": "rcp"})
    if not form.is_submitted():
        return _meeting_page(meeting, form, year)
    ticked = {int(pid) for pid in request.form.getlist("attendees") if pid.isdigit()}
    if not form.validate():
        return _meeting_page(meeting, form, year, 422, ticked)
    try:
        saved = services.save_meeting(g.organisation, meeting, held_on=form.held_on.data,
                                      minutes=services.parse_minutes(form.duration.data), kind=form.kind.data,
                                      theme=form.theme.data, party_ids=ticked)
    except ServiceError as error:
        status = show_refusal(error, form)
        return _meeting_page(meeting, form, year, status, ticked)
    flash(f"Réunion du {saved.held_on:%d/%m/%Y} enregistrée : {len(saved.attendances)} participant(s).", "success")
    return redirect(url_for(".meetings", year=saved.held_on.year))


@bp.route("/<int:year>/reunions/nouvelle", methods=["GET", "POST"])
@permission_required(MANAGE)
def new_meeting(year):
    return _save_meeting(None, _check_year(year))


@bp.route("/reunions/<int:meeting_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_meeting(meeting_id):
    meeting = get_or_404(SisaMeeting, meeting_id)
    return _save_meeting(meeting, meeting.held_on.year)


@bp.route("/reunions/<int:meeting_id>/supprimer", methods=["POST"])
@permission_required(MANAGE)
def delete_meeting(meeting_id):
    meeting = get_or_404(SisaMeeting, meeting_id)
    year = meeting.held_on.year
    services.delete_meeting(meeting)
    flash("Réunion supprimée.", "success")
    return redirect(url_for(".meetings", year=year))


@bp.route("/reunions/import", methods=["GET", "POST"])
@permission_required(MANAGE)
def import_meetings():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            token = people_services.store_import(g.organisation, upload.read(people_services.import_max_bytes() + 1),
                                                 upload.filename or "")
        except ServiceError as error:
            form.file.errors.append(str(error))
        else:
            return redirect(url_for(".import_meetings_preview", token=token))
    return render_template("sisa/import_upload.html", form=form), 422 if form.is_submitted() else 200


def _stored_or_404(token):
    stored = people_services.load_import(g.organisation, token)
    if stored is None:
        from flask import abort

        abort(404)
    return stored


@bp.route("/reunions/import/<token>", methods=["GET"])
@permission_required(MANAGE)
def import_meetings_preview(token):
    stored = _stored_or_404(token)
    try:
        plan = services.plan_meeting_import(g.organisation, stored.data, stored.filename)
    except ServiceError as error:
        return render_template("sisa/import_preview.html", stored=stored, plan=None, file_error=str(error)), 422
    return render_template("sisa/import_preview.html", stored=stored, plan=plan, file_error=None)


@bp.route("/reunions/import/<token>", methods=["POST"])
@permission_required(MANAGE)
def import_meetings_confirm(token):
    stored = _stored_or_404(token)
    try:
        plan = services.apply_meeting_import(g.organisation, stored.data, stored.filename)
    except ServiceError as error:  # raised before anything is written
        show_refusal(error)
        return redirect(url_for(".import_meetings_preview", token=token))
    people_services.discard_import(g.organisation, token)
    flash(f"Import terminé : {len(plan.meetings)} réunion(s), {plan.attendance_count} présence(s).", "success")
    years = sorted({m.held_on.year for m in plan.meetings})
    return redirect(url_for(".meetings", year=years[-1]))


# --- distributions: versions, validation, payment, outputs ------------------------------------

@bp.route("/<int:year>/repartitions")
@permission_required(VIEW)
def distributions(year):
    return render_template("sisa/distributions.html", year=_check_year(year),
                           versions=services.distributions(g.organisation, year),
                           scenarios=services.scenarios(g.organisation, year))


@bp.route("/<int:year>/repartitions", methods=["POST"])
@permission_required(MANAGE)
def prepare_version(year):
    chosen = {s.id: s for s in services.scenarios(g.organisation, _check_year(year))}
    scenario = chosen.get(request.form.get("scenario", type=int))
    try:
        if scenario is None:
            raise services.SisaError(f"Choisissez un scénario de clés de {year}.", "scenario")
        with db.session.begin_nested():
            distribution = services.prepare_version(g.organisation, year, scenario)
    except ServiceError as error:
        show_refusal(error)
        return redirect(url_for(".distributions", year=year))
    flash(f"Version {distribution.version} préparée : vérifiez-la, puis validez-la.", "success")
    return redirect(url_for(".distribution", distribution_id=distribution.id))


@bp.route("/attestations", methods=["POST"])
@permission_required(MANAGE)
def start_certificates():
    """The certificates of what the associates were paid in the calendar year of the form."""
    from backoffice.tasks.services import start_task
    from jobs.sisa import certificates

    year = request.form.get("year", type=int)
    if year is None or not 2000 <= year <= 2100:
        flash("Indiquez l'année civile des versements (par exemple 2026).", "danger")
        return redirect(request.referrer or url_for(".index"))
    task = start_task(organisation=g.organisation, user=current_user, kind="sisa.certificates",
                      label=f"Attestations des sommes versées en {year}", job=certificates,
                      params={"year": year}, dedupe_key=f"sisa.certificates:{year}")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.route("/repartitions/<int:distribution_id>")
@permission_required(VIEW)
def distribution(distribution_id):
    from backoffice.documents import generated
    from backoffice.sisa.documents import STATEMENT_KIND

    version = get_or_404(SisaDistribution, distribution_id)
    return render_template("sisa/distribution.html", distribution=version, year=version.year,
                           differences=services.differences(version), identical=services.recomputes_identically(version),
                           payable=services.payable(version), last_year=services.last_year(g.organisation, version.year),
                           refunds=services.refunds_of(version), nettings=services.netting_proposals(version),
                           netted=services.netted_against([version.id]),
                           documents=generated.current_documents(g.organisation, STATEMENT_KIND, version.shares),
                           today=date.today())


def _act(distribution_id, action, success):
    """Run ``action(distribution)`` in a savepoint; a refusal is flashed; back to the version."""
    version = get_or_404(SisaDistribution, distribution_id)
    try:
        with db.session.begin_nested():
            result = action(version)
    except ServiceError as error:
        show_refusal(error)
        return redirect(url_for(".distribution", distribution_id=version.id))
    if isinstance(result, str):
        return redirect(result)
    flash(success, "success")
    return redirect(url_for(".distribution", distribution_id=version.id))


def _date_field(name):
    from backoffice.forms import DATE_ERROR

    text = (request.form.get(name) or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            from datetime import datetime

            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise services.SisaError(DATE_ERROR, name)


@bp.route("/repartitions/<int:distribution_id>/valider", methods=["POST"])
@permission_required(MANAGE)
def freeze(distribution_id):
    return _act(distribution_id, lambda d: services.freeze(d, _date_field("entry_date")) and None,
                "Répartition validée et comptabilisée : elle ne peut plus changer.")


@bp.route("/repartitions/<int:distribution_id>/supprimer", methods=["POST"])
@permission_required(MANAGE)
def discard(distribution_id):
    def action(version):
        year = version.year
        services.discard_draft(version)
        flash(f"Version brouillon {year} supprimée.", "success")
        return url_for(".distributions", year=year)

    return _act(distribution_id, action, "")


@bp.route("/repartitions/<int:distribution_id>/compenser", methods=["POST"])
@permission_required(MANAGE)
def net_refunds(distribution_id):
    """Net the refunds owed by the associates ticked against this version's transfers to them."""
    chosen = {int(pid) for pid in request.form.getlist("party_id") if pid.isdigit()}

    def action(version):
        offsets = services.net_refunds(version, _date_field("netted_on"), chosen)
        flash(f"{len(offsets)} trop-perçu(s) compensé(s) ({services.describe_amount(sum(o.amount for o in offsets))}) : "
              "le fichier de virements paie les montants nets.", "success")
        return url_for(".distribution", distribution_id=version.id)

    return _act(distribution_id, action, "")


@bp.route("/repartitions/<int:distribution_id>/payee", methods=["POST"])
@permission_required(MANAGE)
def mark_paid(distribution_id):
    return _act(distribution_id, lambda d: services.mark_paid(d, _date_field("paid_on")) and None,
                "Virements comptabilisés : la répartition est payée.")


def _task_page(task):
    return url_for("tasks.show", task_id=task.id)


@bp.route("/repartitions/<int:distribution_id>/releves", methods=["POST"])
@permission_required(MANAGE)
def start_statements(distribution_id):
    return _act(distribution_id, lambda version: _task_page(services.start_statements(version, current_user)), "")


@bp.route("/repartitions/<int:distribution_id>/tableau", methods=["POST"])
@permission_required(MANAGE)
def start_summary(distribution_id):
    return _act(distribution_id, lambda version: _task_page(services.start_summary(
        version, current_user, request.form.get("format"))), "")


@bp.route("/repartitions/<int:distribution_id>/virements", methods=["POST"])
@permission_required(MANAGE)
def start_transfer_file(distribution_id):
    def action(version):
        services.transfers(version)  # who has no IBAN is said before a mistyped date
        return _task_page(services.start_transfer_file(version, current_user, _date_field("execution_date")))

    return _act(distribution_id, action, "")


# --- the associate's own figures -----------------------------------------------------------

@bp.route("/mon-espace")
@permission_required(SELF)
def my_figures():
    party = current_user.party
    year = request.args.get("annee", type=int) or date.today().year
    associate = party is not None and services.is_associate(g.organisation, party)
    meetings = services.meetings_attended(g.organisation, party, year) if associate else []
    shares = services.shares_of(g.organisation, party) if associate else []
    from backoffice.documents import generated
    from backoffice.sisa.documents import STATEMENT_KIND

    documents = generated.current_documents(g.organisation, STATEMENT_KIND, [share for _, share in shares])
    return render_template("sisa/my_figures.html", party=party, associate=associate, year=year, meetings=meetings,
                           total_minutes=sum(m.duration_minutes for m in meetings), shares=shares,
                           documents=documents)


@bp.context_processor
def _sisa_template_values():
    from backoffice.people.professions import PROFESSIONS_BY_CODE

    def profession_label(code):
        profession = PROFESSIONS_BY_CODE.get(code)
        return profession.label if profession else (code or "")

    return {"today_year": date.today().year, "profession_label": profession_label}


# --- refunds owed by associates after a correction ------------------------------------------

def _refunds_page(year, form=None, status=200):
    return render_template("sisa/refunds.html", year=year, rows=services.refunds(g.organisation, year),
                           form=form or SettleRefundForm(formdata=None, settled_on=date.today())), status


@bp.route("/<int:year>/remboursements")
@permission_required(VIEW)
def refunds(year):
    return _refunds_page(_check_year(year))


@bp.route("/remboursements/<int:refund_id>/recu", methods=["POST"])
@permission_required(MANAGE)
def settle_refund(refund_id):
    refund = get_or_404(SisaRefund, refund_id)
    form = SettleRefundForm()
    if not form.validate_on_submit():
        return _refunds_page(refund.year, form, 422)
    try:
        with db.session.begin_nested():
            received = refund.outstanding  # what the bank brought: the refund less what was netted
            services.settle_refund(refund, form.settled_on.data)
    except ServiceError as error:
        return _refunds_page(refund.year, form, show_refusal(error))
    flash(f"Remboursement de {refund.party.display_name} enregistré et comptabilisé "
          f"({services.describe_amount(received)}).", "success")
    return redirect(url_for(".refunds", year=refund.year))
