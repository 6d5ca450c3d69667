"""Jobs of general assemblies: the convocations (mails queued through the mail queue)."""
from backoffice.assemblies import services
from backoffice.extensions import db
from backoffice.assemblies.models import Assembly
from backoffice.mail.services import external_url
from jobs import task_job
from jobs.membership import own_row


@task_job(queue="bulk", timeout=1800)
def send_convocations(task):
    """Queue the convocation mail of every voter of assembly ``task.params['assembly_id']`` not
    convoked yet (a second run sends nothing twice: ``convoked_at`` commits with the mails)."""
    assembly = own_row(task, Assembly, task.params["assembly_id"])
    link = external_url("self_service.member.home", org=task.organisation.slug)
    queued, missing = services.send_convocations(assembly, link)
    message = f"{queued} convocation(s) envoyée(s) par e-mail."
    if missing:
        names = ", ".join(v.party.display_name for v in missing[:10]) + ("…" if len(missing) > 10 else "")
        message += f" {len(missing)} votant(s) sans adresse e-mail, à convoquer par courrier : {names}."
    task.report_progress(1, 1, "Convocations envoyées")
    task.message = message


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
