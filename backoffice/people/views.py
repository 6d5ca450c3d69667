from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice.audit import labels
from backoffice.auth.permissions import org_blueprint, permission_required
from backoffice.errors import show_refusal
from backoffice.extensions import db
from backoffice.features import party_panels
from backoffice.organisations.affiliations import add_contact
from backoffice.people import importer, services
from backoffice.people.forms import ImportForm, ProfessionalForm, SiteForm, StructureForm
from backoffice.people.models import Party, PartyKind, Professional, Site
from backoffice.people.professions import PROFESSIONS

bp = org_blueprint("people", __name__, url_prefix="/people")

FILTERS = ("q", "kind", "profession", "commune", "site")
KIND_CHOICES = [(PartyKind.PROFESSIONAL.value, "Professionnels"), (PartyKind.STRUCTURE.value, "Structures")]


@bp.route("/")
@permission_required("people.view")
def index():
    args = request.args
    site_id = args.get("site", type=int)
    sort = args.get("sort", "name")
    # The organisation's own directory by default; « partagé »: the whole shared table, where the
    # contact details of people with no relation to the organisation stay hidden.
    shared = args.get("annuaire") == "partage"
    query = services.directory_query(
        q=args.get("q", "").strip() or None, kind=args.get("kind") or None, profession=args.get("profession") or None,
        commune=args.get("commune") or None, site_id=site_id, sort=sort,
        organisation=None if shared else g.organisation, viewer=g.organisation if shared else None,
    )
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    related = (services.related_among(g.organisation, [p.id for p in page.items]) if shared
               else {p.id for p in page.items})
    return render_template(
        "people/index.html", page=page, sort=sort, professions=PROFESSIONS, communes=services.communes(),
        sites=services.all_sites(), kinds=KIND_CHOICES, filtered=any(args.get(name) for name in FILTERS),
        shared=shared, related=related,
    )


def _party_or_404(party_id):
    # Parties are shared by every organisation: no organisation check, only existence.
    party = db.session.get(Party, party_id)
    if party is None:
        abort(404)
    return party


@bp.route("/<int:party_id>")
@permission_required("people.view")
def detail(party_id):
    """Anyone of the shared table by name; contact details and history (which holds them) only
    for the people related to the organisation."""
    party = _party_or_404(party_id)
    related = services.related_to(g.organisation, party)
    entries = services.history("parties", party.id) if related else []
    return render_template("people/detail.html", party=party, related=related,
                           history=[(e, labels.describe(e)) for e in entries],
                           panels=party_panels(g.organisation, current_user, party) if related else [])


@bp.route("/<int:party_id>/add-to-directory", methods=["POST"])
@permission_required("people.edit")
def add_to_directory(party_id):
    party = _party_or_404(party_id)
    if add_contact(g.organisation, party):
        flash(f"{party.display_name} est ajouté(e) à l'annuaire de {g.organisation.name}.", "success")
    return redirect(url_for("people.detail", party_id=party.id))


def _save_form(form, save, obj, template, **context):
    """Validate ``form``, call ``save``; field errors (uniqueness included) go next to the fields."""
    if form.validate_on_submit():
        try:
            saved = save(obj, **form.values())
        except services.PeopleError as exc:
            show_refusal(exc, form)
        else:
            if isinstance(saved, Party):
                add_contact(g.organisation, saved)  # a new entry is the organisation's contact
            flash("Fiche enregistrée." if obj is not None else "Fiche créée.", "success")
            return redirect(url_for("people.detail", party_id=saved.id) if isinstance(saved, Party)
                            else url_for("people.sites"))
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, obj=obj, **context), status


@bp.route("/new/professional", methods=["GET", "POST"])
@permission_required("people.edit")
def create_professional():
    return _save_form(ProfessionalForm(), services.save_professional, None, "people/form_professional.html")


@bp.route("/new/structure", methods=["GET", "POST"])
@permission_required("people.edit")
def create_structure():
    return _save_form(StructureForm(), services.save_structure, None, "people/form_structure.html")


@bp.route("/<int:party_id>/edit", methods=["GET", "POST"])
@permission_required("people.edit")
def edit(party_id):
    party = _party_or_404(party_id)
    if not services.related_to(g.organisation, party):
        abort(404)  # the form would show another organisation's member's contact details
    if isinstance(party, Professional):
        return _save_form(ProfessionalForm(obj=party), services.save_professional, party, "people/form_professional.html")
    return _save_form(StructureForm(obj=party), services.save_structure, party, "people/form_structure.html")


# ---------------------------------------------------------------- sites

@bp.route("/sites")
@permission_required("people.view")
def sites():
    return render_template("people/sites.html", sites=services.all_sites(), counts=services.site_counts())


@bp.route("/sites/new", methods=["GET", "POST"])
@permission_required("people.edit")
def create_site():
    return _save_form(SiteForm(), services.save_site, None, "people/form_site.html")


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@permission_required("people.edit")
def edit_site(site_id):
    site = db.session.get(Site, site_id) or abort(404)
    return _save_form(SiteForm(obj=site), services.save_site, site, "people/form_site.html")


# ---------------------------------------------------------------- import

@bp.route("/import", methods=["GET", "POST"])
@permission_required("people.import")
def import_upload():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(services.import_max_bytes() + 1)
        try:
            token = services.store_import(g.organisation, data, upload.filename or "")
        except importer.ImportFileError as exc:
            form.file.errors.append(str(exc))
        else:
            return redirect(url_for("people.import_preview", token=token))
    status = 422 if form.is_submitted() else 200
    return render_template("people/import_upload.html", form=form, fields=importer.FIELDS,
                           max_kb=services.import_max_bytes() // 1024), status


def _stored_or_404(token):
    stored = services.load_import(g.organisation, token)
    if stored is None:
        abort(404)
    return stored


def _periods():
    """The organisation's membership periods (latest first) and the one chosen (``?period=``,
    else the current one): read only, a GET creates no period."""
    from backoffice.membership import services as membership

    periods = membership.periods(g.organisation)
    wanted = request.values.get("period", type=int)
    chosen = next((p for p in periods if p.id == wanted), None) if wanted else None
    if chosen is None and not wanted:
        current = membership.current_period(g.organisation, create=False)
        chosen = current or (periods[0] if periods else None)
    return periods, chosen


@bp.route("/import/<token>", methods=["GET"])
@permission_required("people.import")
def import_preview(token):
    stored = _stored_or_404(token)
    periods, period = _periods()
    try:
        plan = services.plan_people_import(stored.data, stored.filename, g.organisation, period, stored.corrections)
    except importer.ImportFileError as exc:
        return render_template("people/import_preview.html", stored=stored, plan=None, file_error=str(exc)), 422
    return _preview(stored, plan, periods, period)


@bp.route("/import/<token>/cell", methods=["POST"])
@permission_required("people.import")
def import_cell(token):
    """A refused cell corrected in the preview: kept beside the file (which stays as sent), the
    row checked again on the preview, the column and profession choices unchanged."""
    stored = _stored_or_404(token)
    line = request.form.get("line", type=int)
    try:
        header = services.correct_import_cell(g.organisation, stored, line, request.form.get("column"),
                                              request.form.get("value"))
    except services.ImportRejected as exc:
        flash(str(exc), "danger")
    else:
        flash(f"Ligne {line} : « {header} » corrigé. La ligne est vérifiée de nouveau ci-dessous ; "
              "le fichier envoyé reste tel quel.", "success")
    return redirect(url_for("people.import_preview", token=token, period=request.form.get("period", type=int),
                            _anchor=f"line-{line}" if line else None))


def _preview(stored, plan, periods=(), period=None):
    return render_template("people/import_preview.html", stored=stored, plan=plan, file_error=None,
                           field_label=labels.field_label, format_value=labels.format_value,
                           importable=importer.IMPORTABLE_FIELDS, ambiguous=_ambiguous_professions(plan),
                           periods=periods, period=period)


def _plan_without_choices(stored):
    """The file read with the recognised names only (when a remembered choice no longer fits)."""
    try:
        return services.plan_people_import(stored.data, stored.filename, corrections=stored.corrections)
    except importer.ImportFileError:
        return None


def _ambiguous_professions(plan):
    """``[(text as written, candidates)]`` of the ambiguous professions of the file, once each."""
    seen = {}
    for row in plan.rows:
        if row.profession_choices:
            seen.setdefault(importer.fold(row.raw.get("profession")), (row.raw.get("profession"), row.profession_choices))
    return list(seen.values())


@bp.route("/import/<token>/columns", methods=["POST"])
@permission_required("people.import")
def import_columns(token):
    """The treasurer's choices in the preview (which column is which field, what an ambiguous
    profession means), remembered for her organisation and this file layout."""
    stored = _stored_or_404(token)
    try:
        plan = services.plan_people_import(stored.data, stored.filename, g.organisation, corrections=stored.corrections)
    except importer.ImportFileError:
        plan = None
    if plan is None or request.form.get("reset"):
        plan = _plan_without_choices(stored)
    if plan is None:
        return redirect(url_for("people.import_preview", token=token))
    columns = {index: request.form.get(f"column-{index}") or None for index in range(len(plan.headers))}
    professions = {request.form.get(f"profession-text-{n}", ""): request.form.get(f"profession-{n}")
                   for n in range(len(_ambiguous_professions(plan)))}
    try:
        with db.session.begin_nested():
            services.save_import_choices(g.organisation, plan.headers, columns, professions)
    except services.ImportRejected as exc:
        status = show_refusal(exc)  # flashed before the page is drawn
        return _preview(stored, plan), status
    flash("Choix enregistrés : ils serviront aussi aux prochains fichiers de la même forme.", "success")
    return redirect(url_for("people.import_preview", token=token))


@bp.route("/import/<token>", methods=["POST"])
@permission_required("people.import")
def import_confirm(token):
    stored = _stored_or_404(token)
    _, period = _periods()
    try:
        plan = services.apply_people_import(stored.data, stored.filename, organisation=g.organisation,
                                            period=period, send_receipts=bool(request.form.get("send_receipts")),
                                            user=current_user, corrections=stored.corrections)
    except services.ImportRejected as exc:  # its savepoint undid whatever had been written
        flash(str(exc), "danger")
        return redirect(url_for("people.import_preview", token=token, period=getattr(period, "id", None)))
    services.discard_import(g.organisation, token)
    counts = plan.counts
    done = plan.membership_done
    changed = f", {done['changed']} modifiée(s)" if done and done.get("changed") else ""
    memberships = (f" Adhésions {period.label} : {done['created']} créée(s), {done['payments']} paiement(s) "
                   f"enregistré(s){changed}." if done else "")
    flash(f"Import terminé : {counts['create']} fiche(s) créée(s), {counts['update']} mise(s) à jour, "
          f"{counts['unchanged']} inchangée(s).{memberships}", "success")
    return redirect(url_for("people.index"))


@bp.route("/import/modele.csv")
@permission_required("people.import")
def import_template():
    return Response(importer.template_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="modele-import-annuaire.csv"'})
