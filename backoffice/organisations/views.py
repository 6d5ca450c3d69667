from flask import abort, flash, g, redirect, render_template, send_file, url_for
from flask_login import current_user

from backoffice.auth.permissions import org_blueprint, permission_required
from backoffice.errors import show_refusal
from backoffice.organisations import affiliations, services
from backoffice.organisations.forms import LogoForm, NewOrganisationForm, OrganisationSettingsForm
from backoffice.validation import format_phone

bp = org_blueprint("organisations", __name__, url_prefix="/settings")


def _settings_form():
    """The settings form filled from the organisation (never from another form's POST)."""
    form = OrganisationSettingsForm(formdata=None, obj=g.organisation)
    form.phone.data = format_phone(g.organisation.phone)  # as people write it; stored in E.164
    form.fill_offices(g.organisation)
    return form


def _render(form, logo_form=None, status=200):
    return render_template(
        "organisations/settings.html",
        form=form,
        logo_form=logo_form or LogoForm(),
        new_form=NewOrganisationForm(),
        logo=services.organisation_logo_path(g.organisation),
        roles=affiliations.holders_of_roles(g.organisation),
    ), status


@bp.route("/", methods=["GET", "POST"])
@permission_required("organisation.edit")
def settings():
    form = OrganisationSettingsForm()
    if form.is_submitted():
        if form.validate():
            try:
                services.update_settings(g.organisation, **form.values())
            except services.SettingsError as exc:
                show_refusal(exc, form)
            else:
                flash("Les informations de l'organisation sont enregistrées.", "success")
                return redirect(url_for("organisations.settings"))
        flash("Certaines informations sont à corriger : voir les messages sous les champs.", "danger")
        return _render(form, status=422)
    return _render(_settings_form())


@bp.route("/logo", methods=["POST"])
@permission_required("organisation.edit")
def upload_logo():
    logo_form = LogoForm()
    if logo_form.validate_on_submit():
        try:
            services.save_logo(g.organisation, logo_form.logo.data.read())
        except services.LogoError as exc:
            show_refusal(exc, logo_form, default="logo")
        else:
            flash("Le logo est enregistré.", "success")
            return redirect(url_for("organisations.settings"))
    return _render(_settings_form(), logo_form=logo_form, status=422)


@bp.route("/logo/delete", methods=["POST"])
@permission_required("organisation.edit")
def delete_logo():
    if services.remove_logo(g.organisation):
        flash("Le logo est supprimé.", "success")
    return redirect(url_for("organisations.settings"))


@bp.route("/logo/<name>")
@permission_required("organisation.logo")
def logo(name):
    """The organisation's logo (``logo.png`` or ``logo.jpg``), for anyone with a role in it, members included."""
    path = services.organisation_logo_path(g.organisation)
    if path is None or path.name != name:
        abort(404)
    return send_file(path, mimetype=services.logo_mimetype(path), max_age=0)


@bp.route("/new-organisation", methods=["GET", "POST"])
@permission_required("organisation.edit")
def create():
    """Any administrator of an organisation may create another one and becomes its administrator."""
    form = NewOrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.found_organisation(current_user, form.name.data, form.kind.data)
        except services.SettingsError as exc:
            show_refusal(exc, form, default="name")
        else:
            flash(f"L'organisation « {organisation.name} » est créée : complétez ses informations légales.", "success")
            return redirect(url_for("organisations.settings", org=organisation.slug))
    return render_template("organisations/create.html", form=form), 422 if form.is_submitted() else 200
