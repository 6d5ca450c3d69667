"""Membership jobs of the treasurer: cheque deposit slip, pain.008 file, member list export,
renewal of last period's members.

Each job receives its ``Task`` row (ids in ``task.params``), writes one result file and lets
errors propagate (the runner fails the task with the French message).
"""
from backoffice.extensions import db
from backoffice.membership import deposits, sepa, stats
from backoffice.membership import renewals
from backoffice.membership.models import ChequeDeposit, DirectDebitRun, MembershipPeriod
from jobs import TaskFailed, task_job


def own_row(task, model, ident):
    """Row ``ident`` of ``model`` if it belongs to the task's organisation, else the task fails."""
    row = db.session.get(model, ident)
    if row is None or row.organisation_id != task.organisation_id:
        raise TaskFailed("L'élément demandé n'existe plus.")
    return row


@task_job(queue="default", timeout=300)
def cheque_deposit_slip(task):
    """The Word slip of deposit ``task.params['deposit_id']`` (template ``cheque_deposit_slip``), kept
    as a durable document; the task's result is a copy, for its page's download link."""
    deposit = own_row(task, ChequeDeposit, task.params["deposit_id"])
    document = deposits.issue_slip(task.organisation, deposit, task=task)
    with task.result_file(document.filename) as f:
        f.write(document.abspath().read_bytes())
    task.report_progress(1, 1, "Bordereau produit")


@task_job(queue="default", timeout=300)
def direct_debit_file(task):
    """The pain.008 XML of collection run ``task.params['run_id']`` (validated against the XSD)."""
    run = own_row(task, DirectDebitRun, task.params["run_id"])
    if run.xml is None:
        sepa.generate_file(run)
    run.task_id = task.id
    with task.result_file(f"prelevement-sepa-{run.collection_date:%Y%m%d}-{run.id}.xml") as f:
        f.write(run.xml)
    task.report_progress(1, 1, "Fichier de prélèvement produit")


@task_job(queue="default", timeout=600)
def export_members(task):
    """The member list of the filters ``task.params['filters']`` as CSV (French) or XLSX."""
    from backoffice.spreadsheets import write_table

    filters = stats.MemberFilters(**task.params["filters"])
    file_format = "xlsx" if task.params.get("format") == "xlsx" else "csv"
    rows = deposits.export_rows(stats.member_rows(task.organisation, filters))
    name = f"adherents-{task.organisation.slug}"
    with task.result_file(f"{name}.{file_format}") as f:
        write_table(file_format, deposits.EXPORT_HEADER, rows, f, title="Adhérents")
    task.report_progress(1, 1, "Export terminé")


@task_job(queue="default", timeout=1800)
def renew_memberships(task):
    """The memberships of period ``task.params['period_id']`` for the members ``party_ids`` of the
    previous period, all or none (a refusal fails the task and creates nothing)."""
    period = own_row(task, MembershipPeriod, task.params["period_id"])
    created = renewals.renew_memberships(period, task.params["party_ids"],
                                         progress=lambda done, total: task.report_progress(done, total))
    task.report_progress(len(created), len(created), "Adhésions créées")
    task.message = f"{len(created)} adhésion(s) {period.label} créée(s), cotisations appelées."
