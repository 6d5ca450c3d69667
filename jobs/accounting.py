"""Accounting jobs: the exports for accountants (FEC, CSV, XLSX).

The export itself is ``backoffice.accounting.exporting.export_to_path`` (also used by
``flask accounting export``): it streams the lines from the database into the writers, keeps
the file in the export history (kept as long as the books: a FEC is a legal record) and, for a
FEC, validates the fiscal year's entries. The job then copies that file as the task's result,
the download offered on the task page (task results expire; the history does not).
"""
import shutil

from backoffice.accounting.errors import AccountingError
from backoffice.accounting.exporting import absolute, export_to_path
from jobs import TaskFailed, task_job


@task_job(queue="default", timeout=1800)
def export_accounting(task):
    """Params: ``year``, ``format`` (fec|csv|xlsx), optional ``report``, ``encoding``,
    ``start``/``end`` (ISO dates, CSV/XLSX only). Result: the exported file."""
    from datetime import date

    params = task.params
    start = date.fromisoformat(params["start"]) if params.get("start") else None
    end = date.fromisoformat(params["end"]) if params.get("end") else None
    try:
        record = export_to_path(
            task.organisation, int(params["year"]), params["format"], None, report=params.get("report"),
            encoding=params.get("encoding"), user=task.requested_by, start=start, end=end, origin="web",
            task_id=task.id, progress=task.report_progress,
        )
    except AccountingError as error:
        raise TaskFailed(str(error)) from None
    with open(absolute(record.stored_path), "rb") as source, task.result_file(record.filename) as target:
        shutil.copyfileobj(source, target, 1 << 20)
    task.log.info("exported %s (%d lines, sha256 %s)", record.filename, record.line_count, record.sha256)
    task.message = f"Export terminé : {record.filename} ({record.line_count} lignes)."
