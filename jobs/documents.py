"""Bulk documents: the "Fiches annuaire" (one Word document per professional, in a ZIP)."""
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from backoffice.documents import services
from backoffice.extensions import db
from backoffice.people import documents as directory
from backoffice.people.models import Professional
from jobs import TaskFailed, task_job

BATCH = 200


@task_job(queue="bulk", timeout=3600)
def generate_directory_sheets(task):
    """One "fiche annuaire" per professional of the directory (filters in ``task.params``:
    ``commune``, ``profession``; ``pdf`` for PDFs), in a ZIP: the task's result file."""
    organisation = task.organisation
    params = task.params or {}
    query = directory.directory_professionals(params.get("commune"), params.get("profession"))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if not total:
        raise TaskFailed("Aucun professionnel dans l'annuaire pour cette sélection : aucune fiche à produire.")
    task.report_progress(0, total, "Préparation des fiches")
    organisation_ctx = services.organisation_context(organisation)
    today = dt.date.today()

    def items():
        # Streamed by batches: memory stays flat for a large directory.
        for professional in db.session.scalars(
                query.options(selectinload(Professional.site)).execution_options(yield_per=BATCH)):
            yield (directory.directory_sheet_filename(professional),
                   directory.directory_sheet_context(organisation, professional, organisation_ctx, today))

    suffix = "pdf" if params.get("pdf") else "docx"
    with task.result_file(f"fiches-annuaire-{today.isoformat()}-{suffix}.zip") as archive:
        count = services.render_documents_zip(organisation, "directory_sheet", items(), archive,
                                              progress=task.report_progress, total=total,
                                              pdf=bool(params.get("pdf")))
    task.message = f"{count} fiche{'s' if count > 1 else ''} annuaire générée{'s' if count > 1 else ''}."

