"""Task pages: list, progress, result download, retry, cancel; and the platform's job monitor."""
import secrets

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from backoffice.auth.models import Role
from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required, roles_of
from backoffice.extensions import db, login_manager
from backoffice.features import may_download
from backoffice.mail.services import mail_overview
from backoffice.sqlite import reads_first
from backoffice.tasks import monitor, services
from backoffice.tasks.forms import CancelForm, RetryForm
from backoffice.tasks.models import STATUS_LABELS, Task, TaskStatus

bp = org_blueprint("tasks", __name__, url_prefix="/tasks")
monitor_bp = Blueprint("jobs_admin", __name__, url_prefix="/admin/jobs")


@bp.record_once
def _on_register(state):
    from jobs import register_periodic_jobs

    state.app.register_blueprint(monitor_bp)
    register_periodic_jobs(state.app)


@bp.route("/")
@permission_required("tasks.view")
def index():
    status = request.args.get("status") or None
    if status not in {s.value for s in TaskStatus}:
        status = None
    page = services.tasks_page(g.organisation, request.args.get("page", 1, type=int),
                               current_app.config["PER_PAGE"], status=status)
    return render_template("tasks/index.html", page=page, status=status, statuses=STATUS_LABELS,
                           may_download=lambda task: may_download(task, current_user))


@bp.route("/<int:task_id>")
@permission_required("tasks.view")
def show(task_id):
    task = get_or_404(Task, task_id)
    return render_template("tasks/show.html", task=task, progress=services.progress_of(task),
                           retry_form=RetryForm(), may_retry=_may_retry(task),
                           cancel_form=CancelForm(), may_cancel=_may_cancel(task),
                           may_download=may_download(task, current_user))


@bp.route("/<int:task_id>/progress")
@permission_required("tasks.view")
def progress(task_id):
    task = get_or_404(Task, task_id)
    data = services.progress_of(task)
    if task.has_result and may_download(task, current_user):
        data["download_url"] = url_for("tasks.download", task_id=task.id, token=task.download_token)
        data["filename"] = task.result_filename
    return jsonify(data)


@bp.route("/<int:task_id>/retry", methods=["POST"])
@permission_required("tasks.view")
def retry(task_id):
    task = get_or_404(Task, task_id)
    if not _may_retry(task):
        abort(403)
    if not RetryForm().validate_on_submit():
        abort(400)
    try:
        task = services.retry_task(task)
    except services.TaskError as exc:
        flash(str(exc), "warning")
    else:
        flash("La tâche est relancée.", "success")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.route("/<int:task_id>/cancel", methods=["POST"])
@reads_first  # SQLite: the work-horse being cancelled holds the write lock until it is stopped
@permission_required("tasks.view")
def cancel(task_id):
    task = get_or_404(Task, task_id)
    if not services.may_manage(task, current_user):
        abort(403)
    if not CancelForm().validate_on_submit():
        abort(400)
    try:
        services.cancel_task(task, current_user)
    except services.TaskForbidden:
        abort(403)
    except services.TaskError as exc:
        flash(str(exc), "warning")
    else:
        flash("La tâche est annulée.", "success")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.route("/<int:task_id>/download/<token>")
def download(task_id, token):
    """The result file, for whoever its task kind lets download it (``Feature.task_kinds``:
    a permission, or e.g. the member who asked for his receipt); 403 for the organisation's
    other roles, 404 for anyone else.

    Anonymous visitors are sent to sign in first (nothing about the task is checked or shown).
    """
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    task = db.session.get(Task, task_id)
    if (task is None or task.organisation_id != g.organisation.id or not task.has_result
            or not secrets.compare_digest(task.download_token, token)
            or not roles_of(current_user, g.organisation)):
        abort(404)
    if not may_download(task, current_user):
        abort(403)
    path = task.result_abspath()
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype=task.result_mimetype, as_attachment=True,
                     download_name=task.result_filename, max_age=0)


def _may_retry(task):
    """Failed or cancelled; for the one who asked for it, or an administrator / treasurer."""
    return task.status in (TaskStatus.FAILED, TaskStatus.CANCELLED) and services.may_manage(task, current_user)


def _may_cancel(task):
    """Queued or running; same people as "Réessayer"."""
    return task.is_active and services.may_manage(task, current_user)


# --- platform monitor --------------------------------------------------------------------

@monitor_bp.route("/")
@login_required
def monitor_index():
    """Queues, workers and failed jobs, for users who administer at least one organisation.

    Queue-level numbers only: a failed job's error is shown only when its task belongs to an
    organisation the viewer administers; so are failed mails (about an account of one of them).
    """
    admin_of = {a.organisation_id for a in current_user.roles if a.role == Role.ADMIN}
    if not admin_of:
        abort(403)
    return render_template("tasks/monitor.html", overview=monitor.overview(admin_of),
                           mails=mail_overview(admin_of))



@bp.app_template_filter("filesize")
def filesize(size):
    """``1 234 567`` → ``1,2 Mo`` (French units)."""
    if size is None:
        return ""
    for unit, factor in (("Go", 1024 ** 3), ("Mo", 1024 ** 2), ("ko", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}".replace(".", ",")
    return f"{size} octets"
