"""Documents attached to the resolutions of an assembly (the accounts to approve, the budget, the
moral and financial reports): uploaded by the board, checked by their content
(``backoffice.uploads``: PDF, JPEG or PNG, at most ``ASSEMBLY_DOCUMENT_MAX_BYTES``), kept under
``STORAGE_DIR/<organisation id>/assemblies/`` with their SHA-256, listed in the convocations (mail
and Word) and read by the assembly's voters from their page.

Attached until the session opens; removed only while the assembly is in preparation: once the
convocations are out, what the voters were sent stays.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from backoffice import uploads
from backoffice.assemblies.models import AssemblyError, AssemblyStatus, Resolution, ResolutionDocument
from backoffice.extensions import db
from backoffice.organisations.storage import organisation_dir

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
ACCEPT = uploads.ACCEPT


def max_bytes() -> int:
    return int(current_app.config.get("ASSEMBLY_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def add_document(resolution, title: str, filename: str, data: bytes, *, user=None) -> ResolutionDocument:
    """Keep an uploaded document of ``resolution`` (refused once the session is open). Flushes."""
    if resolution.assembly.status not in (AssemblyStatus.DRAFT, AssemblyStatus.CONVENED):
        raise AssemblyError("Les documents se joignent aux résolutions avant l'ouverture de la séance.", field="file")
    title = (title or "").strip()
    if not title:
        raise AssemblyError("Donnez un titre au document (par exemple « Comptes annuels 2025 »).", field="title")
    stored = uploads.store_upload(_folder(resolution.assembly.organisation_id), f"resolution-{resolution.id}",
                                  filename, data, limit=max_bytes(), error=AssemblyError, default="document")
    document = ResolutionDocument(resolution=resolution, title=title[:200], uploaded_by_id=_user_id(user), **stored)
    db.session.add(document)
    db.session.flush()
    return document


def remove_document(document) -> None:
    """Withdraw a document while the assembly is in preparation (then its file goes). Flushes."""
    if document.resolution.assembly.status is not AssemblyStatus.DRAFT:
        raise AssemblyError("L'assemblée est convoquée : les documents envoyés aux votants restent joints.")
    path = path_of(document)
    document.resolution.documents.remove(document)
    db.session.flush()
    path.unlink(missing_ok=True)  # after the flush: a refused delete leaves the file


def path_of(document) -> Path:
    return _folder(document.resolution.assembly.organisation_id) / document.stored_name


def by_resolution(assembly) -> dict[int, list[ResolutionDocument]]:
    """``{resolution id: [documents]}`` of ``assembly`` (one query, for pages and convocations)."""
    found: dict[int, list[ResolutionDocument]] = {r.id: [] for r in assembly.resolutions}
    rows = db.session.scalars(select(ResolutionDocument).join(Resolution).where(Resolution.assembly_id == assembly.id)
                              .order_by(ResolutionDocument.id))
    for row in rows:
        found.setdefault(row.resolution_id, []).append(row)
    return found


def send(document):
    """The file as a download response (read at once, as the other documents are)."""
    import io

    from flask import send_file

    path = path_of(document)
    if not path.is_file():
        raise AssemblyError(f"Le fichier de « {document.title} » est introuvable.")
    return send_file(io.BytesIO(path.read_bytes()), mimetype=document.content_type, as_attachment=True,
                     download_name=document.filename, max_age=0)


def _folder(organisation_id) -> Path:
    return organisation_dir(organisation_id) / "assemblies"


def _user_id(user):
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
