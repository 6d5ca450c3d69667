"""Bank statements: import, column mapping, review of the suggested matches."""
import secrets
from pathlib import Path

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.membership import forms, statements
from backoffice.banking.models import LineStatus as StatementLineStatus
from backoffice.errors import ServiceError, attempt, show_refusal
from backoffice.banking import services as banking
from backoffice.banking.models import BankAccount
from backoffice.membership.views.common import MANAGE, bp


# --------------------------------------------------------------------------------------------
# Bank statements
# --------------------------------------------------------------------------------------------

def _pending_dir():
    return Path(current_app.config["STORAGE_DIR"]) / str(g.organisation.id) / "membership" / "pending-statements"


def _keep_upload(content):
    folder = _pending_dir()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(16)
    (folder / f"{token}.bin").write_bytes(content)
    return token


def _pending_upload(token):
    if not token or not all(ch.isalnum() or ch in "-_" for ch in token):
        return None
    path = _pending_dir() / f"{token}.bin"
    return path if path.is_file() else None


def _after_import(outcome):
    """``outcome``: the import recorded, or ``statements.AlreadyImported`` (nothing recorded)."""
    if isinstance(outcome, statements.AlreadyImported):
        flash(str(outcome), "info")
    else:
        skipped = len(outcome.notes or [])
        flash(f"Relevé « {outcome.filename} » importé dans le compte « {outcome.bank_account.name} » : "
              f"{outcome.new_line_count} opération(s) nouvelle(s) sur {outcome.line_count} importée(s)."
              + (f" {skipped} remarque(s) sur le fichier (lignes de solde, de total… non importées) : voir "
                 "« Derniers imports »." if skipped else ""), "success")
    return redirect(url_for(".review_statement"))


def _chosen_account(value):
    """The bank account picked in a form (None: let the file say)."""
    if not str(value or "").isdigit():
        return None
    return get_or_404(BankAccount, int(value))


def _mapping_redirect(exc, content, filename):
    flash(str(exc), "info")
    account_id = exc.account.id if exc.account is not None else None
    return redirect(url_for(".statement_mapping", token=_keep_upload(content), account_id=account_id,
                            filename=filename))


def _refused(form, exc):
    """A file refused: its message, and each unreadable row on its own line under the field."""
    if isinstance(exc, statements.StatementLinesError):
        form.statement.errors = [exc.summary, *exc.problems]
    else:
        show_refusal(exc)
        form.statement.errors = [str(exc)]


def _remap(content, filename, account):
    """The mapping screen for a CSV file whose columns the treasurer wants to choose again
    (None for a file that has no columns to choose: it is imported as usual)."""
    try:
        if statements.detect_format(content) != "csv":
            return None
        account = account or statements.guess_account(g.organisation, content)
    except ServiceError:
        return None  # the import says what is wrong with the file
    return redirect(url_for(".statement_mapping", token=_keep_upload(content),
                            account_id=account.id if account else None, filename=filename))


@bp.route("/statements", methods=["GET", "POST"])
@permission_required(MANAGE)
def statements_index():
    form = forms.StatementUploadForm()
    form.set_accounts(banking.accounts(g.organisation, active_only=True))
    if form.validate_on_submit():
        upload = form.statement.data
        content = upload.read()
        if form.remap.data:
            remapped = _remap(content, upload.filename, _chosen_account(form.account.data))
            if remapped is not None:
                return remapped

        def refused(exc):  # a file to map, or one already imported, has its own page; else the form again
            if isinstance(exc, statements.MappingNeeded):
                return _mapping_redirect(exc, content, upload.filename)
            if isinstance(exc, statements.AlreadyImported):
                return _after_import(exc)
            return _refused(form, exc)

        done, outcome = attempt(lambda: statements.import_statement(
            g.organisation, upload.filename, content, user=current_user, account=_chosen_account(form.account.data)),
            on_error=refused)
        if done:
            return _after_import(outcome)
        if outcome is not None:
            return outcome
    imports = statements.recent_statements(g.organisation)
    return render_template("membership/statements.html", form=form, imports=imports,
                           waiting=len(statements.lines_to_review(g.organisation))), 422 if form.errors else 200


@bp.route("/statements/mapping", methods=["GET", "POST"])
@permission_required(MANAGE)
def statement_mapping():
    token = request.values.get("token", "")
    path = _pending_upload(token)
    if path is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "warning")
        return redirect(url_for(".statements_index"))
    account = _chosen_account(request.values.get("account_id"))
    filename = request.values.get("filename") or "relevé.csv"
    content = path.read_bytes()
    try:
        columns = statements.csv_columns(content)
    except ServiceError as exc:
        path.unlink(missing_ok=True)
        flash(str(exc), "danger")
        return redirect(url_for(".statements_index"))
    form = forms.MappingForm(token=token, account_id=account.id if account else "", filename=filename)
    form.set_columns(columns)
    if request.method == "GET":
        proposal = statements.mapping_proposal(g.organisation, columns, account)
        for key in statements.MAPPING_FIELDS:
            getattr(form, key).data = proposal.get(key) or ""
    if form.validate_on_submit():
        mapping = {key: getattr(form, key).data for key in statements.MAPPING_FIELDS}

        def save_and_import():
            statements.save_csv_mapping(g.organisation, mapping, columns, account)
            try:
                return statements.import_statement(g.organisation, filename, content, user=current_user,
                                                   account=account)
            except statements.AlreadyImported as exc:
                return exc  # the columns chosen are kept all the same

        ok, statement = attempt(save_and_import)
        if ok:
            path.unlink(missing_ok=True)
            return _after_import(statement)
    preview = statements.preview_rows(content)
    return render_template("membership/statement_mapping.html", form=form, preview=preview, account=account,
                           filename=filename), 422 if form.is_submitted() else 200


@bp.route("/statements/review", methods=["GET", "POST"])
@permission_required(MANAGE)
def review_statement():
    if request.method == "POST":
        ticked = [int(line_id) for line_id in request.form.getlist("confirm") if line_id.isdigit()]
        slips = {line_id: request.form.get(f"deposit_{line_id}") for line_id in ticked
                 if request.form.get(f"deposit_{line_id}")}
        typed = {line_id: request.form.get(f"membership_reference_{line_id}", "") for line_id in ticked
                 if line_id not in slips}
        if not ticked:
            flash("Cochez au moins une opération à rapprocher.", "warning")
            return redirect(url_for(".review_statement"))

        def confirm():
            done = statements.confirm_deposits(g.organisation, slips, user=current_user)
            return done, statements.confirm_lines(
                g.organisation, statements.resolve_typed_memberships(g.organisation, typed), user=current_user)

        ok, _ = attempt(confirm, lambda result: f"{len(result[1])} paiement(s) enregistré(s) par virement"
                        + (f", {len(result[0])} remise(s) de chèques rapprochée(s)." if result[0] else "."))
        if ok:
            return redirect(url_for(".review_statement"))
        # Refused: the same screen with what the treasurer ticked and typed, to correct one line.
        entered = {int(name.rsplit("_", 1)[1]): value for name, value in request.form.items()
                   if name.startswith("membership_reference_") and name.rsplit("_", 1)[1].isdigit()}
        return _review_page(entered=entered, ticked=set(ticked)), 422
    return _review_page()


def _review_page(entered=None, ticked=None):
    lines = statements.lines_to_review(g.organisation)
    return render_template("membership/statement_review.html", lines=lines,
                           open_members=statements.open_membership_choices(g.organisation),
                           named=statements.named_memberships(g.organisation, lines),
                           others=statements.other_lines(lines), flag_labels=statements.FLAG_LABELS,
                           kind_labels=statements.KIND_LABELS, split_id=request.args.get("split", type=int),
                           Status=StatementLineStatus, entered=entered or {}, ticked=ticked)


@bp.route("/statements/lines/<int:line_id>/ignore", methods=["POST"])
@permission_required(MANAGE)
def ignore_line(line_id):
    line = get_or_404(statements.BankStatementLine, line_id)
    attempt(lambda: statements.ignore_line(line), "Opération ignorée.")
    return redirect(url_for(".review_statement"))


@bp.route("/statements/lines/ignore", methods=["POST"])
@permission_required(MANAGE)
def ignore_lines():
    ids = [line_id for line_id in request.form.getlist("line") if line_id.isdigit()]
    if not ids:
        flash("Cochez au moins une opération à ignorer.", "warning")
    else:
        attempt(lambda: statements.ignore_lines(g.organisation, ids), lambda n: f"{n} opération(s) ignorée(s).")
    return redirect(url_for(".review_statement"))


@bp.route("/statements/lines/<int:line_id>/split", methods=["POST"])
@permission_required(MANAGE)
def split_line(line_id):
    parts = []
    for n in range(1, statements.SPLIT_PARTS + 1):
        typed = request.form.get(f"part_reference_{n}", "")
        amount = request.form.get(f"part_amount_{n}", "")
        if typed.strip() or amount.strip():
            parts.append((typed, amount))

    def split():
        return statements.confirm_split(g.organisation, line_id, statements.resolve_parts(g.organisation, parts),
                                        user=current_user)

    attempt(split, lambda payments: f"Virement réparti : {len(payments)} paiement(s) enregistré(s).")
    return redirect(url_for(".review_statement"))
