"""Screens of general assemblies for the board and the treasurer, under ``/o/<org>/assemblies/``.

Views are thin: load (404 for another organisation's rows), authorise, validate, call a service,
flash, redirect; the request's boundary commits.
"""
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice.assemblies import forms, services
from backoffice.assemblies.models import Assembly, AssemblyError, AssemblyStatus, Resolution
from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.errors import show_refusal
from backoffice.extensions import db
from backoffice.lifecycle import history

bp = org_blueprint("assemblies", __name__, url_prefix="/assemblies")

VIEW, MANAGE = "assemblies.view", "assemblies.manage"


def _colleges():
    from backoffice.membership.services import colleges

    return colleges(g.organisation)


def _assembly_form(assembly=None):
    form = forms.AssemblyForm()
    form.college_id.choices = {0: "Tous les membres à jour"} | {c.id: f"Collège « {c.name} »" for c in _colleges()}
    if assembly is not None and request.method == "GET":
        form.fill(assembly)
    return form


def _weights_from_request():
    """``{"<college id>": weight}`` from the ``weight_<id>`` inputs (blank or 1 everywhere: none)."""
    weights = {}
    for college in _colleges():
        raw = (request.form.get(f"weight_{college.id}") or "").strip()
        if raw:
            try:
                weights[str(college.id)] = int(raw)
            except ValueError:
                raise AssemblyError(f"Poids du collège « {college.name} » : nombre entier attendu.",
                                    field="college_weights") from None
    return weights if any(w != 1 for w in weights.values()) else None


def _refuse(error, template, **context):
    status = show_refusal(error, context.get("form"))  # before rendering: the message goes under its field
    return render_template(template, **context), status


@bp.route("/")
@permission_required(VIEW)
def index():
    return render_template("assemblies/index.html", assemblies=services.assemblies(g.organisation))


@bp.route("/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def create():
    return _settings_page(None, lambda values: services.create_assembly(g.organisation, **values),
                          "Assemblée créée : ajoutez les résolutions de l'ordre du jour.")


def _settings_page(assembly, save, success):
    """The settings form of a new (``assembly`` None) or existing assembly; ``save(values)``
    returns the assembly saved."""
    form = _assembly_form(assembly)
    context = dict(form=form, assembly=assembly, colleges=_colleges())
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                saved = save(form.values(_weights_from_request()))
        except AssemblyError as error:
            return _refuse(error, "assemblies/form.html", **context)
        flash(success, "success")
        return redirect(url_for(".show", assembly_id=saved.id))
    return render_template("assemblies/form.html", **context), 422 if form.errors else 200


@bp.route("/<int:assembly_id>")
@permission_required(VIEW)
def show(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    return render_template("assemblies/show.html", assembly=assembly, roll=services.roll(assembly),
                           resolution_form=forms.ResolutionForm(formdata=None), convene_form=forms.ConveneForm(),
                           warning=services.notice_warning(assembly) if assembly.status is AssemblyStatus.DRAFT
                           else None, history=history(assembly))


@bp.route("/<int:assembly_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    return _settings_page(assembly, lambda values: services.update_assembly(assembly, **values),
                          "Réglages enregistrés.")


@bp.route("/<int:assembly_id>/roll")
@permission_required(VIEW)
def roll(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    return render_template("assemblies/roll.html", assembly=assembly, roll=services.roll(assembly))


@bp.route("/<int:assembly_id>/resolutions", methods=["POST"])
@permission_required(MANAGE)
def add_resolution(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    form = forms.ResolutionForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.add_resolution(assembly, **form.values())
        except AssemblyError as error:
            show_refusal(error)
        else:
            flash("Résolution ajoutée.", "success")
            return redirect(url_for(".show", assembly_id=assembly.id) + "#ordre-du-jour")
    return render_template("assemblies/show.html", assembly=assembly, roll=services.roll(assembly),
                           resolution_form=form, convene_form=forms.ConveneForm(), warning=None,
                           history=history(assembly)), 422


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_resolution(assembly_id, resolution_id):
    resolution = _resolution(assembly_id, resolution_id)
    form = forms.ResolutionForm(obj=resolution if request.method == "GET" else None)
    if request.method == "GET":
        form.majority.data = resolution.majority.value
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.update_resolution(resolution, **form.values())
        except AssemblyError as error:
            return _refuse(error, "assemblies/resolution_form.html", form=form, resolution=resolution)
        flash("Résolution enregistrée.", "success")
        return redirect(url_for(".show", assembly_id=assembly_id) + "#ordre-du-jour")
    return (render_template("assemblies/resolution_form.html", form=form, resolution=resolution),
            422 if form.errors else 200)


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def delete_resolution(assembly_id, resolution_id):
    resolution = _resolution(assembly_id, resolution_id)
    try:
        with db.session.begin_nested():
            services.delete_resolution(resolution)
    except AssemblyError as error:
        show_refusal(error)
    else:
        flash("Résolution retirée de l'ordre du jour.", "success")
    return redirect(url_for(".show", assembly_id=assembly_id) + "#ordre-du-jour")


def _resolution(assembly_id, resolution_id):
    resolution = get_or_404(Resolution, resolution_id)
    if resolution.assembly_id != assembly_id:
        from flask import abort

        abort(404)
    return resolution


@bp.route("/<int:assembly_id>/convene", methods=["POST"])
@permission_required(MANAGE)
def convene(assembly_id):
    from backoffice.tasks.services import start_task
    from jobs.assemblies import send_convocations

    assembly = get_or_404(Assembly, assembly_id)
    form = forms.ConveneForm()
    try:
        with db.session.begin_nested():
            warning = services.convene(assembly, current_user, late_ok=form.late_ok.data)
    except AssemblyError as error:
        show_refusal(error)
        return redirect(url_for(".show", assembly_id=assembly.id))
    task = start_task(g.organisation, current_user, "assemblies.convocations",
                      f"Convocations — {assembly.title}", send_convocations, params={"assembly_id": assembly.id},
                      dedupe_key=f"assemblies.convocations:{assembly.id}")
    assembly.convocation_task_id = task.id
    if warning:
        flash(warning, "warning")
    flash(f"Liste des votants arrêtée ({len(assembly.voters)} votants) ; les convocations partent.", "success")
    return redirect(url_for(".show", assembly_id=assembly.id))


@bp.route("/<int:assembly_id>/open", methods=["POST"])
@permission_required(MANAGE)
def open_session(assembly_id):
    return _session_move(assembly_id, services.open_session, "Séance ouverte.")


@bp.route("/<int:assembly_id>/close", methods=["POST"])
@permission_required(MANAGE)
def close_session(assembly_id):
    return _session_move(assembly_id, services.close_session, "Séance close.")


def _session_move(assembly_id, action, success):
    assembly = get_or_404(Assembly, assembly_id)
    try:
        with db.session.begin_nested():
            action(assembly, current_user)
    except AssemblyError as error:
        show_refusal(error)
    else:
        flash(success, "success")
    return redirect(url_for(".show", assembly_id=assembly.id))
