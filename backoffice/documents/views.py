"""Documents: generate in bulk (as tasks), and manage the organisation's Word templates."""
from flask import abort, flash, g, redirect, render_template, send_file, url_for
from flask_login import current_user

from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required, roles_of
from backoffice.documents import engine, generated, services
from backoffice.documents.forms import DirectorySheetsForm, TemplateUploadForm
from backoffice.documents.models import GeneratedDocument
from backoffice.extensions import login_manager
from backoffice.tasks.services import start_task

bp = org_blueprint("documents", __name__, url_prefix="/documents")


@bp.route("/")
@permission_required("documents.generate")
def index():
    return render_template("documents/index.html", form=DirectorySheetsForm(), pdf_available=engine.pdf_available())


@bp.route("/directory-sheets", methods=["POST"])
@permission_required("documents.generate")
def directory_sheets():
    """Start the "Fiches annuaire" task; two clicks give the same task."""
    from jobs.documents import generate_directory_sheets

    form = DirectorySheetsForm()
    if not form.validate_on_submit():
        flash("La sélection est à corriger : voir les messages sous les champs.", "danger")
        return render_template("documents/index.html", form=form, pdf_available=engine.pdf_available()), 422
    pdf = bool(form.pdf.data) and engine.pdf_available()
    params = {"commune": form.commune.data or None, "profession": form.profession.data or None, "pdf": pdf}
    parts = [p for p in (form.commune.data, dict(form.profession.choices).get(form.profession.data)
                         if form.profession.data else None) if p]
    label = "Fiches annuaire" + (f" ({', '.join(parts)})" if parts else "") + (" en PDF" if pdf else "")
    task = start_task(organisation=g.organisation, user=current_user, kind="documents.directory_sheets",
                      label=label, job=generate_directory_sheets, params=params,
                      dedupe_key=f"documents.directory_sheets:{params['commune']}:{params['profession']}:{pdf}")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.route("/templates")
@permission_required("documents.templates")
def templates():
    kinds = services.available_kinds()
    custom = {kind.key: services.custom_template(g.organisation, kind.key) for kind in kinds}
    return render_template("documents/templates.html", kinds=kinds, custom=custom, form=TemplateUploadForm())


def _kind_or_404(kind):
    definition = services.document_kinds().get(kind)
    if definition is None or not definition.available:
        abort(404)
    return definition


@bp.route("/templates/<kind>/default.docx")
@permission_required("documents.templates")
def download_default(kind):
    definition = _kind_or_404(kind)
    return send_file(definition.default_path, mimetype=services.DOCX_MIMETYPE, as_attachment=True,
                     download_name=f"{kind}-modele-par-defaut.docx", max_age=0)


@bp.route("/templates/<kind>/current.docx")
@permission_required("documents.templates")
def download_custom(kind):
    _kind_or_404(kind)
    row = services.custom_template(g.organisation, kind)
    if row is None or not row.abspath().is_file():
        abort(404)
    return send_file(row.abspath(), mimetype=services.DOCX_MIMETYPE, as_attachment=True,
                     download_name=row.filename, max_age=0)


@bp.route("/templates/<kind>", methods=["POST"])
@permission_required("documents.templates")
def upload(kind):
    definition = _kind_or_404(kind)
    form = TemplateUploadForm()
    if form.validate_on_submit():
        upload = form.template.data
        try:
            services.upload_template(g.organisation, kind, upload.filename or "", upload.read(), user=current_user)
        except services.DocumentTemplateError as exc:
            form.template.errors.extend(exc.messages)
        else:
            flash(f"Le modèle « {definition.label} » est enregistré : il sert désormais à vos documents.", "success")
            return redirect(url_for("documents.templates"))
    flash(f"Le modèle « {definition.label} » n'a pas été enregistré : voir les erreurs ci-dessous.", "danger")
    kinds = services.available_kinds()
    custom = {k.key: services.custom_template(g.organisation, k.key) for k in kinds}
    return render_template("documents/templates.html", kinds=kinds, custom=custom, form=form,
                           failed_kind=kind), 422


@bp.route("/templates/<kind>/revert", methods=["POST"])
@permission_required("documents.templates")
def revert(kind):
    definition = _kind_or_404(kind)
    if services.revert_template(g.organisation, kind):
        flash(f"« {definition.label} » utilise de nouveau le modèle par défaut.", "success")
    return redirect(url_for("documents.templates"))


@bp.route("/files/<int:document_id>")
def download_document(document_id):
    """A stored version of a generated document (a receipt, a deposit slip, a convention…).

    Anonymous visitors are sent to sign in; another organisation's document, or a user without
    a role here, gets 404; a role without the kind's download permission (nor the kind's own
    rule, e.g. the member the receipt is about) gets 403.
    """
    return _download(document_id, pdf=False)


@bp.route("/files/<int:document_id>/pdf")
def download_document_pdf(document_id):
    """The PDF rendition of a stored version (404 when its job made none), same rules."""
    return _download(document_id, pdf=True)


def _download(document_id, *, pdf):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not roles_of(current_user, g.organisation):
        abort(404)
    document = get_or_404(GeneratedDocument, document_id)
    if not document.is_stored or (pdf and not document.has_pdf):
        abort(404)
    if not generated.may_download(document, current_user):
        abort(403)
    try:
        return generated.send_document(document, pdf=pdf)
    except services.DocumentError:
        abort(404)
