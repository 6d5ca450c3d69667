"""Jobs of general assemblies: the convocations (mails queued through the mail queue, and Word
documents zipped for printing), the minutes, the results and the secret ballots' board."""
from backoffice.assemblies import services
from backoffice.extensions import db
from backoffice.assemblies.models import Assembly
from jobs import periodic_job, plain_job, task_job
from jobs.membership import own_row


@task_job(queue="bulk", timeout=1800)
def send_convocations(task):
    """Queue the convocation mail of every voter of assembly ``task.params['assembly_id']`` not
    convoked yet (a second run sends nothing twice: ``convoked_at`` commits with the mails)."""
    from backoffice.assemblies.convocations import voting_link

    assembly = own_row(task, Assembly, task.params["assembly_id"])
    queued, missing = services.send_convocations(assembly, voting_link)
    message = f"{queued} convocation(s) envoyée(s) par e-mail."
    if missing:
        names = ", ".join(v.party.display_name for v in missing[:10]) + ("…" if len(missing) > 10 else "")
        message += f" {len(missing)} votant(s) sans adresse e-mail, à convoquer par courrier : {names}."
    task.report_progress(1, 1, "Convocations envoyées")
    task.message = message


@task_job(queue="bulk", timeout=1800)
def convocation_documents(task):
    """One Word convocation per voter of assembly ``task.params['assembly_id']`` (with his
    personal voting link and the proxy form), each kept as a durable document about his roll
    line; the task's result is the ZIP of them all, for printing."""
    import zipfile

    from backoffice.assemblies import convocations

    assembly = own_row(task, Assembly, task.params["assembly_id"])
    with task.result_file(convocations.archive_name(assembly)) as f, \
            zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        count = convocations.issue_convocations(assembly, archive, task=task)
    task.message = f"{count} convocation(s) Word à imprimer, avec le pouvoir de chacun."
    warning = convocations.late_notice(assembly)
    if warning:
        task.message += f" Attention : {warning}"


@task_job(queue="default", timeout=600)
def attendance_sheet(task):
    """The feuille d'émargement of assembly ``task.params['assembly_id']`` (Word, with the
    proxies), kept as a durable document; the task's result is a copy."""
    from backoffice.assemblies.convocations import issue_attendance_sheet

    assembly = own_row(task, Assembly, task.params["assembly_id"])
    document = issue_attendance_sheet(assembly, task=task)
    with task.result_file(document.filename) as f:
        f.write(document.abspath().read_bytes())
    task.report_progress(1, 1, "Feuille d'émargement établie")


@task_job(queue="default", timeout=600)
def assembly_minutes(task):
    """The procès-verbal of assembly ``task.params['assembly_id']``, kept as a durable document; the
    task's result is a copy, for its page's download link."""
    from backoffice.assemblies.minutes import issue_minutes

    assembly = own_row(task, Assembly, task.params["assembly_id"])
    document = issue_minutes(assembly, task=task)
    with task.result_file(document.filename) as f:
        f.write(document.abspath().read_bytes())
    task.report_progress(1, 1, "Procès-verbal établi")


@task_job(queue="default", timeout=300)
def assembly_results(task):
    """The results of assembly ``task.params['assembly_id']`` as CSV (French) or XLSX."""
    from backoffice.assemblies.minutes import RESULTS_HEADER, results_rows
    from backoffice.spreadsheets import write_table

    assembly = own_row(task, Assembly, task.params["assembly_id"])
    file_format = "xlsx" if task.params.get("format") == "xlsx" else "csv"
    with task.result_file(f"resultats-ag-{assembly.held_at:%Y-%m-%d}.{file_format}") as f:
        write_table(file_format, RESULTS_HEADER, results_rows(assembly), f, title="Résultats")
    task.report_progress(1, 1, "Résultats exportés")


@task_job(queue="default", timeout=300)
def secret_board(task):
    """The published board of the secret ballot ``task.params['resolution_id']`` as CSV, final hash last."""
    from backoffice.assemblies.minutes import BOARD_HEADER, board_rows
    from backoffice.assemblies.models import Resolution
    from backoffice.spreadsheets import write_table
    from jobs import TaskFailed

    resolution = db.session.get(Resolution, task.params["resolution_id"])
    if resolution is None or resolution.assembly.organisation_id != task.organisation_id:
        raise TaskFailed("L'élément demandé n'existe plus.")
    with task.result_file(f"bulletins-secrets-resolution-{resolution.position}.csv") as f:
        write_table("csv", BOARD_HEADER, board_rows(resolution), f)
    task.report_progress(1, 1, "Tableau des bulletins publié")


@plain_job(queue="default")
def scrub_sealed_inbox(resolution_id):
    """Rewrite the sealed inbox once the close of secret vote ``resolution_id`` has committed, so
    that the seals it deleted leave the disk (``assemblies.voting.scrub_sealed_inbox``; retried
    when the lock was not had at once, or a transaction older than the close was still open)."""
    from backoffice.assemblies.voting import scrub_sealed_inbox as scrub

    scrub(resolution_id)


@periodic_job(cron="43 3 * * *")
def scrub_sealed_inbox_nightly():
    """The same every night: a close whose job was lost (Redis down), or whose deleted rows an
    older transaction could still see then."""
    from backoffice.assemblies.voting import scrub_sealed_inbox as scrub

    scrub()
