"""Accounting jobs: the exports for accountants (FEC, CSV, XLSX), the annual accounts for the
AG (``annual_accounts_file``: XLSX, Word, PDF), and the closing of a fiscal year
(``close_fiscal_year``: a year of 200,000 lines takes seconds, more than a web request may).

The export itself is ``backoffice.accounting.exporting.export_to_path`` (also used by
``flask accounting export``): it streams the lines from the database into the writers, keeps
the file in the export history (kept as long as the books: a FEC is a legal record); a FEC is
definitive for a closed fiscal year and provisional for an open one, and an export never
validates an entry (the closing does). The job then copies that file as the task's result, the
download offered on the task page (task results expire; the history does not).
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


ANNUAL_FORMATS = ("xlsx", "docx", "pdf")


@task_job(queue="default", timeout=900)
def annual_accounts_file(task):
    """Params: ``year``, ``format`` (xlsx|docx|pdf). Result: the annual accounts of the year —
    the workbook (compte de résultat, bilan actif and passif, budget against actual), or the
    Word document ``annual_accounts`` (the statements, the budget and the rapport financier to
    complete), converted to PDF by LibreOffice when asked."""
    from backoffice.accounting import annual_files
    from backoffice.accounting.documents import ANNUAL_ACCOUNTS_KIND
    from backoffice.documents.errors import DocumentError
    from backoffice.documents.services import render_document

    year, fmt = int(task.params["year"]), task.params["format"]
    if fmt not in ANNUAL_FORMATS:
        raise TaskFailed(f"Format inconnu : {fmt}.")
    filename = f"comptes-annuels-{task.organisation.slug}-{year}.{fmt}"
    if fmt == "xlsx":
        with task.result_file(filename) as target:
            annual_files.write_workbook(task.organisation, year, target)
    else:
        context = annual_files.document_context(task.organisation, year)
        try:
            data = render_document(task.organisation, ANNUAL_ACCOUNTS_KIND, context, pdf=fmt == "pdf")
        except DocumentError as error:  # a broken uploaded template, LibreOffice missing: say so
            raise TaskFailed(str(error)) from None
        with task.result_file(filename) as target:
            target.write(data)
    task.report_progress(1, 1, "Comptes annuels prêts")
    task.message = f"Comptes annuels {year} prêts : {filename}."


@task_job(queue="default", timeout=1800)
def close_fiscal_year(task):
    """Params: ``year``. Closes the fiscal year (``accounting.closing.close_fiscal_year``: every
    entry validated and definitively numbered, the FEC's fingerprint kept, the year frozen, the
    definitive AN of the next year posted), with a progress bar per step; no result file. In
    the runner's one transaction: a refusal (a draft entered since the confirmation, the year
    already closed, an AN that does not balance) fails the task with the service's French
    message and nothing is written; run again, it closes or refuses the same way."""
    from backoffice.accounting.closing import close_fiscal_year as close
    from backoffice.accounting.opening import current_opening

    year = int(task.params["year"])
    try:
        period = close(task.organisation, year, user=task.requested_by, progress=task.report_progress)
    except AccountingError as error:
        raise TaskFailed(str(error)) from None
    opening = current_opening(task.organisation, year + 1)
    task.log.info("closed fiscal year %s (%d entries, FEC sha256 %s)", year, period.entry_count, period.fec_sha256)
    task.message = (f"{period} : clôture définitive enregistrée ({period.entry_count} écritures validées et "
                    "numérotées). Son FEC est désormais définitif"
                    + (f" ; à-nouveaux {opening.fiscal_year} définitifs ({opening.reference})." if opening else "."))
