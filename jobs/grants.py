"""Grants jobs: the convention d'attribution of an application, as a durable document.

Task jobs receive their ``Task`` row (ids in ``task.params``) and let errors propagate.
"""
from backoffice.grants import agreements
from backoffice.grants.models import GrantApplication
from backoffice.grants.services import GrantError
from jobs import TaskFailed, task_job
from jobs.membership import own_row


@task_job(queue="default", timeout=300)
def grant_agreement(task):
    """Issue the convention of application ``task.params['application_id']`` (a new version each
    run: a retry after a failure issues the one that failed)."""
    application = own_row(task, GrantApplication, task.params["application_id"])
    try:
        document = agreements.issue_agreement(application, task=task)
    except GrantError as exc:
        raise TaskFailed(str(exc)) from exc
    with task.result_file(document.filename) as f:
        f.write(document.abspath().read_bytes())
    task.message = f"Convention n° {document.number} (version {document.version}) émise."
    task.report_progress(1, 1, "Convention émise")
