"""Screens of general assemblies for the board and the treasurer, under ``/o/<org>/assemblies/``.

Views are thin: load (404 for another organisation's rows), authorise, validate, call a service,
flash, redirect; the request's boundary commits.
"""
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from backoffice.assemblies import attachments, convocations, forms, services, voting
from backoffice.assemblies import minutes as minutes_module
from backoffice.assemblies.models import (Assembly, AssemblyError, AssemblyExclusion, AssemblyStatus, AssemblyVoter,
                                          Attendance, AttendanceMode, Proxy, Resolution, ResolutionDocument,
                                          ResolutionStatus)
from backoffice.auth.permissions import can, get_or_404, org_blueprint, permission_required
from backoffice.errors import act_or_refuse, attempt
from backoffice.extensions import db
from backoffice.lifecycle import history

bp = org_blueprint("assemblies", __name__, url_prefix="/assemblies")

VIEW, MANAGE = "assemblies.view", "assemblies.manage"


@bp.app_template_global()
def live_assemblies_of(organisation, party_id):
    """For the member's home page (``member_portal/_membership_card.html``)."""
    return services.live_assemblies_of(organisation, party_id)


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

    def page(status):
        return render_template("assemblies/form.html", form=form, assembly=assembly, colleges=_colleges()), status

    if form.validate_on_submit():
        return act_or_refuse(lambda: save(form.values(_weights_from_request())), success, form=form, render=page,
                             target=lambda saved: url_for(".show", assembly_id=saved.id))
    return page(422 if form.errors else 200)


@bp.route("/<int:assembly_id>")
@permission_required(VIEW)
def show(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    return render_template("assemblies/show.html", **_show_context(assembly, forms.ResolutionForm(formdata=None)))


def _show_context(assembly, resolution_form):
    after = assembly.status in (AssemblyStatus.CLOSED, AssemblyStatus.MINUTES_ISSUED)
    return dict(assembly=assembly, roll=services.roll(assembly), resolution_form=resolution_form,
                documents=attachments.by_resolution(assembly), document_form=forms.ResolutionDocumentForm(formdata=None),
                accept=attachments.ACCEPT,
                convene_form=forms.ConveneForm(), history=history(assembly),
                warning=services.notice_warning(assembly) if assembly.status is AssemblyStatus.DRAFT else None,
                quorum=voting.live_quorum(assembly) if after else None,
                minutes=minutes_module.current_minutes(assembly) if after else None,
                second=services.second_of(assembly), second_form=forms.SecondConvocationForm(formdata=None),
                export_form=forms.ExportForm(formdata=None))


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


@bp.route("/<int:assembly_id>/roll/<int:exclusion_id>/regularise", methods=["POST"])
@permission_required(MANAGE)
def regularise(assembly_id, exclusion_id):
    """A late regularisation: the member paid by the cut-off, his payment was recorded after the
    convocation; he joins the frozen roll and gets his convocation mail."""
    from backoffice.tasks.services import start_task
    from jobs.assemblies import send_convocations

    exclusion = _child(AssemblyExclusion, exclusion_id, assembly_id)
    assembly = exclusion.assembly
    if attempt(lambda: services.regularise(assembly, exclusion),
               lambda v: f"{v.party.display_name} est ajouté(e) à la liste des votants ; sa convocation part "
                         "par e-mail (imprimez à nouveau les convocations s'il la veut sur papier).")[0]:
        start_task(g.organisation, current_user, "assemblies.convocations", f"Convocations — {assembly.title}",
                   send_convocations, params={"assembly_id": assembly.id},
                   dedupe_key=f"assemblies.convocations:{assembly.id}")
    return redirect(url_for(".roll", assembly_id=assembly_id))


@bp.route("/<int:assembly_id>/resolutions", methods=["POST"])
@permission_required(MANAGE)
def add_resolution(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    form = forms.ResolutionForm()
    if form.validate_on_submit() and attempt(lambda: services.add_resolution(assembly, **form.values()),
                                             "Résolution ajoutée.")[0]:
        return redirect(url_for(".show", assembly_id=assembly.id) + "#ordre-du-jour")
    return render_template("assemblies/show.html", **_show_context(assembly, form)), 422


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit_resolution(assembly_id, resolution_id):
    resolution = _resolution(assembly_id, resolution_id)
    form = forms.ResolutionForm(obj=resolution if request.method == "GET" else None)
    if request.method == "GET":
        form.majority.data = resolution.majority.value

    def page(status):
        return render_template("assemblies/resolution_form.html", form=form, resolution=resolution), status

    if form.validate_on_submit():
        return act_or_refuse(lambda: services.update_resolution(resolution, **form.values()), "Résolution enregistrée.",
                             form=form, render=page,
                             target=url_for(".show", assembly_id=assembly_id) + "#ordre-du-jour")
    return page(422 if form.errors else 200)


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def delete_resolution(assembly_id, resolution_id):
    resolution = _resolution(assembly_id, resolution_id)
    return act_or_refuse(lambda: services.delete_resolution(resolution), "Résolution retirée de l'ordre du jour.",
                         target=url_for(".show", assembly_id=assembly_id) + "#ordre-du-jour")


def _resolution(assembly_id, resolution_id):
    return _child(Resolution, resolution_id, assembly_id)


# --- documents attached to resolutions ------------------------------------------------------------

@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/documents", methods=["POST"])
@permission_required(MANAGE)
def add_document(assembly_id, resolution_id):
    resolution = _resolution(assembly_id, resolution_id)
    form = forms.ResolutionDocumentForm()
    if not form.validate_on_submit():
        flash(" ".join(form.title.errors + form.file.errors) or "Document refusé.", "danger")
    else:
        # One byte over the limit is enough to refuse it, without reading a huge upload whole.
        data = form.file.data.read(attachments.max_bytes() + 1)
        attempt(lambda: attachments.add_document(resolution, form.title.data, form.file.data.filename, data,
                                                 user=current_user),
                lambda d: f"« {d.title} » est joint à la résolution {resolution.position}.")
    return redirect(url_for(".show", assembly_id=assembly_id) + "#ordre-du-jour")


@bp.route("/<int:assembly_id>/documents/<int:document_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def delete_document(assembly_id, document_id):
    document = _resolution_document(assembly_id, document_id)
    return act_or_refuse(lambda: attachments.remove_document(document), f"« {document.title} » est retiré.",
                         target=url_for(".show", assembly_id=assembly_id) + "#ordre-du-jour")


@bp.route("/<int:assembly_id>/documents/<int:document_id>")
@permission_required(VIEW)
def document(assembly_id, document_id):
    return _send_resolution_document(_resolution_document(assembly_id, document_id))


def _resolution_document(assembly_id, document_id):
    row = get_or_404(ResolutionDocument, document_id)
    if row.resolution.assembly_id != assembly_id:
        abort(404)
    return row


def _send_resolution_document(row):
    try:
        return attachments.send(row)
    except AssemblyError:
        abort(404)


@bp.route("/<int:assembly_id>/convene", methods=["POST"])
@permission_required(MANAGE)
def convene(assembly_id):
    from backoffice.tasks.services import start_task
    from jobs.assemblies import send_convocations

    assembly = get_or_404(Assembly, assembly_id)
    form = forms.ConveneForm()
    done, warning = attempt(lambda: services.convene(assembly, current_user, late_ok=form.late_ok.data))
    if not done:
        return redirect(url_for(".show", assembly_id=assembly.id))
    task = start_task(g.organisation, current_user, "assemblies.convocations",
                      f"Convocations — {assembly.title}", send_convocations, params={"assembly_id": assembly.id},
                      dedupe_key=f"assemblies.convocations:{assembly.id}")
    assembly.convocation_task_id = task.id
    if warning:
        flash(warning, "warning")
    flash(f"Liste des votants arrêtée ({len(assembly.voters)} votants) ; les convocations partent.", "success")
    return redirect(url_for(".show", assembly_id=assembly.id))


@bp.route("/<int:assembly_id>/convocations/documents", methods=["POST"])
@permission_required(MANAGE)
def convocation_documents(assembly_id):
    """The Word convocations of every voter, zipped for printing (a job; its page has the ZIP)."""
    from jobs.assemblies import convocation_documents as job

    return _document_task(get_or_404(Assembly, assembly_id), (AssemblyStatus.CONVENED,), ".show",
                          "Les convocations s'impriment une fois la liste des votants arrêtée, avant la séance.",
                          "assemblies.convocation_documents", "Convocations à imprimer", job)


def _document_task(assembly, statuses, back, refusal, kind, title, job):
    """Start the job ``kind`` making a document of ``assembly`` when its status is one of
    ``statuses`` (its task page has the file), else flash ``refusal`` and go back to ``back``."""
    from backoffice.tasks.services import start_task

    if assembly.status not in statuses:
        flash(refusal, "danger")
        return redirect(url_for(back, assembly_id=assembly.id))
    task = start_task(g.organisation, current_user, kind, f"{title} — {assembly.title}", job,
                      params={"assembly_id": assembly.id}, dedupe_key=f"{kind}:{assembly.id}")
    return redirect(url_for("tasks.show", task_id=task.id))


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
    return act_or_refuse(lambda: action(assembly, current_user), success,
                         target=url_for(".show", assembly_id=assembly.id))


# --- proxies, attendance, session (secretary, treasurer, board) -----------------------------------

def _voter_choices(assembly, blank_label):
    return {0: blank_label} | {v.id: f"{v.party.display_name}" + (f" — {v.college_name}" if v.college_name else "")
                               for v in assembly.voters}


def _line(assembly, voter_id):
    voter = db.session.get(AssemblyVoter, voter_id) if voter_id else None
    return voter if voter is not None and voter.assembly_id == assembly.id else None


@bp.route("/<int:assembly_id>/proxies", methods=["GET", "POST"])
@permission_required(VIEW)
def proxies(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    form = forms.ProxyForm()
    form.giver.choices = _voter_choices(assembly, "—")
    form.holder.choices = _voter_choices(assembly, "—")
    if request.method == "POST":
        if not can(MANAGE):
            abort(403)
        if form.validate_on_submit():
            giver, holder = _line(assembly, form.giver.data), _line(assembly, form.holder.data)
            if attempt(lambda: voting.give_proxy(assembly, giver, holder, blank=form.blank.data),
                       lambda p: f"Pouvoir de {p.giver} à {p.holder} enregistré.")[0]:
                return redirect(url_for(".proxies", assembly_id=assembly.id))
    q = (request.args.get("q") or "").strip()
    page = voting.proxy_page(assembly, q, request.args.get("page", 1, type=int), current_app.config["PER_PAGE"])
    return render_template("assemblies/proxies.html", assembly=assembly, form=form, page=page, q=q), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:assembly_id>/proxies/<int:proxy_id>/revoke", methods=["POST"])
@permission_required(MANAGE)
def revoke_proxy(assembly_id, proxy_id):
    proxy = _child(Proxy, proxy_id, assembly_id)
    return act_or_refuse(lambda: voting.revoke_proxy(proxy), "Pouvoir révoqué.",
                         target=url_for(".proxies", assembly_id=assembly_id))


def _child(model, ident, assembly_id):
    row = get_or_404(model, ident)
    if row.assembly_id != assembly_id:
        abort(404)
    return row


@bp.route("/<int:assembly_id>/attendance")
@permission_required(VIEW)
def attendance(assembly_id):
    from backoffice.people.models import fold_for_search

    assembly = get_or_404(Assembly, assembly_id)
    q = (request.args.get("q") or "").strip()
    voters = assembly.voters
    if q:
        folded = fold_for_search(q)
        voters = [v for v in voters if folded in fold_for_search(v.party.display_name)]
    present = {a.voter_id: a for a in db.session.scalars(select(Attendance).where(Attendance.assembly_id == assembly.id))}
    held = {}
    for proxy in voting.standing_proxies(assembly):
        held.setdefault(proxy.holder_id, []).append(proxy.giver)
    return render_template("assemblies/attendance.html", assembly=assembly, voters=voters, present=present, q=q,
                           held=held, quorum=voting.live_quorum(assembly))


@bp.route("/<int:assembly_id>/attendance/sheet", methods=["POST"])
@permission_required(VIEW)
def attendance_sheet(assembly_id):
    """The feuille d'émargement in Word, with the proxies (a job; its page has the file)."""
    from jobs.assemblies import attendance_sheet as job

    return _document_task(get_or_404(Assembly, assembly_id), voting.LIVE, ".attendance",
                          "La feuille d'émargement s'établit entre la convocation et la fin de la séance.",
                          "assemblies.attendance_sheet", "Feuille d'émargement", job)


@bp.route("/<int:assembly_id>/attendance/<int:voter_id>", methods=["POST"])
@permission_required(MANAGE)
def check_in(assembly_id, voter_id):
    voter = _child(AssemblyVoter, voter_id, assembly_id)
    return act_or_refuse(lambda: voting.check_in(voter.assembly, voter), f"{voter} émargé(e).",
                         target=url_for(".attendance", assembly_id=assembly_id, q=request.form.get("q") or None))


@bp.route("/<int:assembly_id>/attendance/<int:voter_id>/undo", methods=["POST"])
@permission_required(MANAGE)
def undo_check_in(assembly_id, voter_id):
    voter = _child(AssemblyVoter, voter_id, assembly_id)
    row = db.session.scalar(select(Attendance).where(Attendance.voter_id == voter.id))
    if row is not None:
        attempt(lambda: voting.undo_check_in(row), f"Émargement de {voter} annulé.")
    return redirect(url_for(".attendance", assembly_id=assembly_id, q=request.form.get("q") or None))


@bp.route("/<int:assembly_id>/quorum")
@permission_required(VIEW)
def quorum(assembly_id):
    """The screen projected in the room: it refreshes itself."""
    assembly = get_or_404(Assembly, assembly_id)
    open_resolutions = [r for r in assembly.resolutions if r.status is ResolutionStatus.OPEN]
    return render_template("assemblies/quorum.html", assembly=assembly, quorum=voting.live_quorum(assembly),
                           open_resolutions=open_resolutions,
                           voted={r.id: len(voting.voted_rights(r, assembly.voters)) for r in open_resolutions})


@bp.route("/<int:assembly_id>/session")
@permission_required(VIEW)
def session(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    weight = sum(v.weight for v in assembly.voters)
    tallies = {r.id: voting.tally(r, weight) for r in assembly.resolutions if r.status is not ResolutionStatus.PENDING}
    online = {r.id: voting.voted_names(r) for r in assembly.resolutions if r.status is ResolutionStatus.OPEN}
    room_voices = {r.id: voting.room_voices(r) for r in assembly.resolutions
                   if r.secret and r.status is ResolutionStatus.OPEN}
    return render_template("assemblies/session.html", assembly=assembly, tallies=tallies, online=online,
                           room_voices=room_voices,
                           quorum=voting.live_quorum(assembly), room_form=forms.RoomCountsForm(formdata=None))


def _resolution_action(assembly_id, resolution_id, action, success):
    resolution = _resolution(assembly_id, resolution_id)
    return act_or_refuse(lambda: action(resolution), success,
                         target=url_for(".session", assembly_id=assembly_id) + f"#resolution-{resolution.id}")


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/open-vote", methods=["POST"])
@permission_required(MANAGE)
def open_vote(assembly_id, resolution_id):
    return _resolution_action(assembly_id, resolution_id, lambda r: voting.open_vote(r, current_user), "Vote ouvert.")


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/close-vote", methods=["POST"])
@permission_required(MANAGE)
def close_vote(assembly_id, resolution_id):
    return _resolution_action(assembly_id, resolution_id, lambda r: voting.close_vote(r, current_user),
                              "Vote clos : le résultat est arrêté.")


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/room-counts", methods=["POST"])
@permission_required(MANAGE)
def room_counts(assembly_id, resolution_id):
    """The show of hands of an open vote, or the tellers' totals of a secret one's paper ballots."""
    form = forms.RoomCountsForm()
    if not form.validate_on_submit():
        flash("Décomptes en salle : des nombres entiers positifs ou nuls.", "danger")
        return redirect(url_for(".session", assembly_id=assembly_id)), 303
    secret = _resolution(assembly_id, resolution_id).secret
    return _resolution_action(assembly_id, resolution_id,
                              lambda r: voting.set_room_counts(r, form.room_for.data, form.room_against.data,
                                                               form.room_abstain.data),
                              "Dépouillement des bulletins papier enregistré." if secret
                              else "Décomptes de la salle enregistrés.")


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/casting-vote", methods=["POST"])
@permission_required(MANAGE)
def casting_vote(assembly_id, resolution_id):
    form = forms.CastingVoteForm()
    if not form.validate_on_submit():
        flash("Voix prépondérante : pour, contre, ou non déclarée.", "danger")
        return redirect(url_for(".session", assembly_id=assembly_id)), 303
    return _resolution_action(assembly_id, resolution_id,
                              lambda r: voting.set_casting_vote(r, form.casting_vote.data or None),
                              "Voix prépondérante du président enregistrée.")


@bp.route("/<int:assembly_id>/results")
@permission_required(VIEW)
def results(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    return render_template("assemblies/results.html", **_results_context(assembly), member_view=False)


def _results_context(assembly):
    weight = sum(v.weight for v in assembly.voters)
    closed = [r for r in assembly.resolutions if r.status is ResolutionStatus.CLOSED]
    return dict(assembly=assembly, quorum=voting.live_quorum(assembly),
                tallies={r.id: voting.tally(r, weight) for r in closed}, closed=closed,
                boards={r.id: voting.secret_board(r) for r in closed if r.secret})


# --- the member's pages (self-service, on a phone) -----------------------------------------------

SELF = "self.service"


def _my_voter(assembly):
    voter = voting.voter_of(assembly, current_user.party_id)
    if voter is None:
        abort(404)
    return voter


@bp.route("/mine")
@permission_required(SELF)
def mine():
    rows = db.session.scalars(select(Assembly).join(AssemblyVoter).where(
        Assembly.organisation_id == g.organisation.id, AssemblyVoter.party_id == current_user.party_id)
        .order_by(Assembly.held_at.desc())) if current_user.party_id else []
    return render_template("assemblies/member/index.html", assemblies=list(rows))


@bp.route("/mine/<int:assembly_id>")
@permission_required(SELF)
def member_assembly(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    me = _my_voter(assembly)
    given = voting.proxy_given_by(me)
    rights = voting.rights_of(assembly, me)
    open_resolutions = [r for r in assembly.resolutions if r.status is ResolutionStatus.OPEN]
    voted = {r.id: voting.voted_rights(r, rights) for r in open_resolutions}
    proxy_form = forms.MemberProxyForm(formdata=None)
    proxy_form.holder.choices = {0: "—"} | {v.id: v.party.display_name for v in voting.roll_with_names(assembly)
                                            if v.id != me.id}
    present = me.id in voting.present_ids(assembly)
    issued = assembly.status is AssemblyStatus.MINUTES_ISSUED
    return render_template("assemblies/member/show.html", assembly=assembly, me=me, given=given, rights=rights,
                           documents=attachments.by_resolution(assembly),
                           convocation=convocations.current_convocation(me),
                           minutes=minutes_module.current_minutes(assembly) if issued else None,
                           held=voting.proxies_held_by(me), open_resolutions=open_resolutions, voted=voted,
                           proxy_form=proxy_form, present=present)


@bp.route("/mine/<int:assembly_id>/v/<token>")
@permission_required(SELF)
def member_link(assembly_id, token):
    """The personal voting link of a printed convocation: once signed in, its voter lands on his
    page of the assembly; the link of someone else opens nothing."""
    assembly = get_or_404(Assembly, assembly_id)
    voter = _line(assembly, convocations.voter_id_from_token(assembly, token))
    if voter is None:
        abort(404)
    if voter.party_id != current_user.party_id:
        flash(f"Ce lien de vote est celui de {voter} : connectez-vous avec votre propre compte.", "danger")
        return redirect(url_for(".mine"))
    return redirect(url_for(".member_assembly", assembly_id=assembly.id))


@bp.route("/mine/<int:assembly_id>/documents/<int:document_id>")
@permission_required(SELF)
def member_document(assembly_id, document_id):
    """A document attached to a resolution, for a voter of the assembly (404 for anyone else)."""
    _my_voter(get_or_404(Assembly, assembly_id))
    return _send_resolution_document(_resolution_document(assembly_id, document_id))


@bp.route("/mine/<int:assembly_id>/proxy", methods=["POST"])
@permission_required(SELF)
def member_proxy(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    me = _my_voter(assembly)
    form = forms.MemberProxyForm()
    form.holder.choices = {}
    if form.validate_on_submit():
        holder = _line(assembly, form.holder.data)
        attempt(lambda: voting.give_proxy(assembly, me, holder, source="online"),
                lambda p: f"Vous avez donné pouvoir à {p.holder}.")
    else:
        flash("Choisissez le membre qui votera pour vous.", "danger")
    return redirect(url_for(".member_assembly", assembly_id=assembly.id))


@bp.route("/mine/<int:assembly_id>/proxy/revoke", methods=["POST"])
@permission_required(SELF)
def member_revoke_proxy(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    given = voting.proxy_given_by(_my_voter(assembly))
    if given is not None:
        attempt(lambda: voting.revoke_proxy(given), "Pouvoir révoqué : vous votez vous-même.")
    return redirect(url_for(".member_assembly", assembly_id=assembly.id))


@bp.route("/mine/<int:assembly_id>/check-in", methods=["POST"])
@permission_required(SELF)
def member_check_in(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    me = _my_voter(assembly)
    return act_or_refuse(lambda: voting.check_in(assembly, me, AttendanceMode.ONLINE),
                         "Vous êtes inscrit(e) présent(e) en ligne.",
                         target=url_for(".member_assembly", assembly_id=assembly.id))


@bp.route("/mine/<int:assembly_id>/resolutions/<int:resolution_id>/vote", methods=["POST"])
@permission_required(SELF)
def member_vote(assembly_id, resolution_id):
    resolution = _resolution(assembly_id, resolution_id)
    me = _my_voter(resolution.assembly)
    form = forms.VoteForm()
    if form.validate_on_submit():
        right = _line(resolution.assembly, form.right.data)
        label = "" if right is None or right.id == me.id else f" (pouvoir de {right})"
        attempt(lambda: voting.cast(resolution, right, me, form.choice.data),
                lambda receipt: f"Vote enregistré{label} sur la résolution {resolution.position}. "
                                f"Votre code de vérification : {receipt} — notez-le.")
    else:
        flash("Choisissez Pour, Contre ou Abstention.", "danger")
    return redirect(url_for(".member_assembly", assembly_id=assembly_id) + f"#resolution-{resolution_id}")


@bp.route("/mine/<int:assembly_id>/results")
@permission_required(SELF)
def member_results(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    _my_voter(assembly)
    context = _results_context(assembly)
    found = None
    if request.args.get("code") and request.args.get("resolution", "").isdigit():
        resolution = next((r for r in context["closed"] if r.id == int(request.args["resolution"])), None)
        found = (resolution, voting.find_receipt(resolution, request.args["code"])) if resolution else None
    return render_template("assemblies/results.html", **context, member_view=True, found=found)


# --- after the session: minutes, results, second convocation --------------------------------------

@bp.route("/<int:assembly_id>/minutes", methods=["POST"])
@permission_required(MANAGE)
def minutes(assembly_id):
    from backoffice.tasks.services import start_task
    from jobs.assemblies import assembly_minutes

    assembly = get_or_404(Assembly, assembly_id)
    if assembly.status not in (AssemblyStatus.CLOSED, AssemblyStatus.MINUTES_ISSUED):
        flash("Le procès-verbal s'établit une fois la séance close.", "danger")
        return redirect(url_for(".show", assembly_id=assembly.id))
    task = start_task(g.organisation, current_user, "assemblies.minutes", f"Procès-verbal — {assembly.title}",
                      assembly_minutes, params={"assembly_id": assembly.id},
                      dedupe_key=f"assemblies.minutes:{assembly.id}")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.route("/<int:assembly_id>/results/export", methods=["POST"])
@permission_required(VIEW)
def export_results(assembly_id):
    from backoffice.tasks.services import start_task
    from jobs.assemblies import assembly_results

    assembly = get_or_404(Assembly, assembly_id)
    form = forms.ExportForm()
    file_format = form.file_format.data if form.validate_on_submit() else "csv"
    task = start_task(g.organisation, current_user, "assemblies.results", f"Résultats — {assembly.title}",
                      assembly_results, params={"assembly_id": assembly.id, "format": file_format})
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.route("/<int:assembly_id>/second", methods=["POST"])
@permission_required(MANAGE)
def second_convocation(assembly_id):
    assembly = get_or_404(Assembly, assembly_id)
    form = forms.SecondConvocationForm()
    if not form.validate_on_submit():
        flash("Indiquez la date et l'heure de la seconde assemblée (par exemple 22/06/2026 18:30).", "danger")
        return redirect(url_for(".show", assembly_id=assembly.id))
    done, second = attempt(lambda: services.second_convocation(assembly, form.held_at.data))
    if not done:
        return redirect(url_for(".show", assembly_id=assembly.id))
    flash("Seconde convocation créée avec le même ordre du jour et ses documents : vérifiez-la, puis convoquez.",
          "success")
    for missing in second.documents_not_copied:
        flash(f"Le fichier de « {missing.title} » (résolution {missing.resolution.position}) est introuvable ou "
              "altéré : joignez-le à nouveau à la seconde convocation.", "warning")
    return redirect(url_for(".show", assembly_id=second.id))


@bp.route("/<int:assembly_id>/resolutions/<int:resolution_id>/board", methods=["POST"])
@permission_required(VIEW)
def export_board(assembly_id, resolution_id):
    from backoffice.tasks.services import start_task
    from jobs.assemblies import secret_board

    resolution = _resolution(assembly_id, resolution_id)
    if not resolution.secret or resolution.status is not ResolutionStatus.CLOSED:
        flash("Le tableau des bulletins se publie pour un vote à bulletin secret clos.", "danger")
        return redirect(url_for(".results", assembly_id=assembly_id))
    task = start_task(g.organisation, current_user, "assemblies.secret_board",
                      f"Bulletins secrets — résolution {resolution.position}", secret_board,
                      params={"resolution_id": resolution.id}, dedupe_key=f"assemblies.secret_board:{resolution.id}")
    return redirect(url_for("tasks.show", task_id=task.id))
