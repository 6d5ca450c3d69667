"""Grants jobs: the convention d'attribution of an application, as a durable document.

Task jobs receive their ``Task`` row (ids in ``task.params``) and let errors propagate.
"""
from backoffice.extensions import db
from backoffice.grants import agreements, reports
from backoffice.grants.models import GrantApplication
from backoffice.grants.services import GrantError
from jobs import TaskFailed, periodic_job, task_job
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
    task.report_progress(1, 1, "Convention émise")
    task.message = f"Convention n° {document.number} (version {document.version}) émise."  # after: progress writes it


@task_job(queue="bulk", timeout=1800)
def grant_agreements(task):
    """The conventions of every approved application of programme ``task.params['programme_id']``
    not issued yet, each kept as a durable document; the task's result is the ZIP of them all."""
    import zipfile

    from backoffice.grants.models import GrantProgramme

    programme = own_row(task, GrantProgramme, task.params["programme_id"])
    if not agreements.awaiting_agreement(programme):
        raise TaskFailed("Aucune aide accordée n'attend sa convention dans ce programme.")
    # Stored, not deflated: a .docx is a ZIP already, compressing it again gains nothing.
    with task.result_file(f"conventions-{reports.slug(programme.name)}.zip") as f, \
            zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
        count = agreements.issue_agreements(programme, task=task, archive=archive)
    task.message = f"{count} convention(s) émise(s)."


@task_job(queue="default", timeout=300)
def grant_transfers(task):
    """The pain.001 file paying the signed applications ``task.params['application_ids']`` on
    ``task.params['execution_date']``; they are recorded as paid on that date with the file."""
    from datetime import date

    from backoffice.grants import payments

    execution_date = date.fromisoformat(task.params["execution_date"])
    try:
        xml, paid = payments.transfer_file(task.organisation, task.params["application_ids"], execution_date)
    except GrantError as exc:
        raise TaskFailed(str(exc)) from exc
    with task.result_file(f"virements-aides-{execution_date.isoformat()}.xml") as f:
        f.write(xml)
    task.message = f"{len(paid)} virement(s) pour {sum(a.amount_paid for a in paid)} € : remettez le fichier à la banque."
    task.report_progress(1, 1, "Fichier de virements prêt")


@task_job(queue="default", timeout=600)
def grant_report(task):
    """The funder's report of programme ``task.params['programme_id']``: CSV or XLSX (one row per
    grant — commune, profession, amounts, equipment — and its quarterly activity), or Word
    (``docx``: the durable document ``grant_report``, a new version each run, linked from the
    programme page), all from ``reports.programme_report``."""
    from backoffice.grants import reports
    from backoffice.grants.models import GrantProgramme

    programme = own_row(task, GrantProgramme, task.params["programme_id"])
    fmt = task.params.get("format", "xlsx")
    if fmt == "docx":
        task.report_progress(0, 2, "Calcul des chiffres du programme")
        document = reports.issue_report(programme, task=task)
        task.report_progress(1, 2, "Rapport écrit")
        with task.result_file(document.filename) as f:
            f.write(document.abspath().read_bytes())
        task.report_progress(2, 2)
        task.message = f"Rapport au financeur (Word, version {document.version}) prêt."  # after: progress writes it
        return
    with task.result_file(f"rapport-{reports.slug(programme.name)}.{fmt}") as f:
        count = reports.write_report(programme, fmt, f)
    task.message = f"Rapport de {count} aide(s)."
    task.report_progress(1, 1, "Rapport prêt")


@periodic_job(cron="40 7 * * *")
def send_follow_up_reminders():
    """Every morning: beneficiaries whose quarterly follow-up report is late are reminded, once
    per application and quarter (``backoffice.grants.follow_up``)."""
    from backoffice.extensions import db
    from backoffice.grants import follow_up

    sent = follow_up.send_reminders()
    db.session.commit()  # a job's own boundary: the mails are handed over after it
    return [list(row) for row in sent]


@task_job(queue="default", timeout=300)
def grant_custody(task):
    """Issue the convention de mise à disposition of custody ``task.params['custody_id']`` (a
    device of an in-kind programme lent to a practice): a new version each run."""
    from backoffice.grants import custody as custodies
    from backoffice.grants.models import GrantDeviceCustody

    row = db.session.get(GrantDeviceCustody, task.params["custody_id"])
    if row is None or row.device.organisation_id != task.organisation_id:  # a child row: through its device
        raise TaskFailed("L'élément demandé n'existe plus.")
    try:
        document = custodies.issue_custody_agreement(row, task=task)
    except GrantError as exc:
        raise TaskFailed(str(exc)) from exc
    with task.result_file(document.filename) as f:
        f.write(document.abspath().read_bytes())
    task.message = f"Convention de mise à disposition n° {document.number} (version {document.version}) émise."
    task.report_progress(1, 1, "Convention émise")
