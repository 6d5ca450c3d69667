"""SISA remuneration jobs: the statements of a distribution version, its summary table and its
transfer file.

Each receives its ``Task`` row (the distribution id in ``task.params``), writes one result
file and lets errors propagate (the runner fails the task with the French message).
"""
import zipfile
from datetime import date

from backoffice.extensions import db
from backoffice.sisa import services
from backoffice.sisa.models import SisaDistribution
from jobs import TaskFailed, task_job


def _distribution(task):
    distribution = db.session.get(SisaDistribution, task.params["distribution_id"])
    if distribution is None or distribution.organisation_id != task.organisation_id:
        raise TaskFailed("La répartition demandée n'existe plus.")
    if distribution.status == "draft":
        raise TaskFailed("Validez la répartition avant d'en produire les documents.")
    return distribution


@task_job(queue="bulk", timeout=1800)
def statements(task):
    """One statement per associate (Word, ``sisa_statement``), each kept as a durable document
    about his share; the task's result is the ZIP of them all."""
    from backoffice.documents import generated
    from backoffice.documents.services import DOCX_MIMETYPE, render_document
    from backoffice.sisa.documents import STATEMENT_KIND, statement_context

    distribution = _distribution(task)
    organisation = task.organisation
    parties = services.parties_by_id(s.party_id for s in distribution.shares)
    shares = sorted(distribution.shares, key=lambda s: (parties[s.party_id].sort_name, s.party_id))
    name = f"releves-repartition-{distribution.year}-v{distribution.version}.zip"
    with task.result_file(name) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, share in enumerate(shares, 1):
            party = parties[share.party_id]
            data = render_document(organisation, STATEMENT_KIND, statement_context(organisation, distribution, share,
                                                                                  party))
            filename = f"releve-{distribution.year}-v{distribution.version}-{party.sort_name.replace(' ', '-')}.docx"
            generated.issue_document(organisation, STATEMENT_KIND, share, data, filename=filename,
                                     mimetype=DOCX_MIMETYPE, task=task, year=distribution.year)
            archive.writestr(filename, data)
            task.report_progress(done, len(shares), "Relevés produits")
    task.message = f"{len(shares)} relevé(s) produit(s)."


@task_job(queue="default", timeout=300)
def transfer_file(task):
    """The pain.001 paying every associate of the version what is due to him (schema-valid)."""
    distribution = _distribution(task)
    xml = services.transfer_file(distribution, date.fromisoformat(task.params["execution_date"]))
    with task.result_file(f"virements-repartition-{distribution.year}-v{distribution.version}.xml") as f:
        f.write(xml)
    task.report_progress(1, 1, "Fichier de virements produit")


@task_job(queue="default", timeout=300)
def summary(task):
    """The summary table of the version (CSV in French conventions, or XLSX)."""
    from backoffice.spreadsheets import write_table

    distribution = _distribution(task)
    header, rows = services.summary_table(distribution)
    file_format = "xlsx" if task.params.get("format") == "xlsx" else "csv"
    with task.result_file(f"repartition-{distribution.year}-v{distribution.version}.{file_format}") as f:
        write_table(file_format, header, rows, f, title=f"Répartition {distribution.year}")
    task.report_progress(1, 1, "Tableau produit")


@task_job(queue="bulk", timeout=1800)
def certificates(task):
    """Each associate's certificate of what he was paid in calendar ``task.params['year']`` (Word,
    ``sisa_certificate``), kept as a durable document about him; the task's result is their ZIP."""
    from backoffice.documents import generated
    from backoffice.documents.services import DOCX_MIMETYPE, render_document
    from backoffice.sisa.documents import CERTIFICATE_KIND, certificate_context

    year, organisation = int(task.params["year"]), task.organisation
    paid = services.paid_in(organisation, year)
    if not paid:
        raise TaskFailed(f"Aucun versement aux associés en {year} : aucune attestation à produire.")
    parties = services.parties_by_id(paid)
    ordered = sorted(paid, key=lambda pid: (parties[pid].sort_name, pid))
    with task.result_file(f"attestations-associes-{year}.zip") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, party_id in enumerate(ordered, 1):
            party = parties[party_id]
            data = render_document(organisation, CERTIFICATE_KIND, certificate_context(organisation, party, year,
                                                                                       paid[party_id]))
            filename = f"attestation-{year}-{party.sort_name.replace(' ', '-')}.docx"
            generated.issue_document(organisation, CERTIFICATE_KIND, party, data, filename=filename,
                                     mimetype=DOCX_MIMETYPE, task=task, year=year)
            archive.writestr(filename, data)
            task.report_progress(done, len(ordered), "Attestations produites")
    task.message = f"{len(ordered)} attestation(s) {year} produite(s)."
