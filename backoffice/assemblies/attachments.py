"""Documents attached to the resolutions of an assembly (the accounts to approve, the budget, the
moral and financial reports): uploaded by the board, checked by their content
(``backoffice.uploads``: PDF, JPEG or PNG, at most ``ASSEMBLY_DOCUMENT_MAX_BYTES``), kept under
``STORAGE_DIR/<organisation id>/assemblies/`` with their SHA-256, listed in the convocations (mail
and Word) and read by the assembly's voters from their page.

Attached until the session opens; removed only while the assembly is in preparation: once the
convocations are out, what the voters were sent stays.

A second convocation carries its first's documents (:func:`copy_documents`): each copy is a file
of its own, written anew under its own random name, never a second row pointing at the first's
file. Withdrawing the copy from the second convocation in preparation (which deletes its file) so
leaves the first's documents — what its voters were sent, kept with its minutes — untouched, and
no reference count has to be kept right. The cost is the bytes twice (a few PDFs of a few
megabytes, once a year at most).
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


def copy_documents(source, target) -> list[ResolutionDocument]:
    """Attach to ``target`` (a resolution) a copy of each document of ``source``, each in a new
    file of its own (same title, name, type, fingerprint, uploader and date). A document whose
    file is missing or no longer matches its fingerprint is not copied: returned, for the board
    to attach it again to ``target`` while it is in preparation. Flushes."""
    skipped = []
    for document in source.documents:
        data = readable(document)
        if data is None:
            skipped.append(document)
            continue
        stored = uploads.store_upload(_folder(target.assembly.organisation_id), f"resolution-{target.id}",
                                      document.filename, data, limit=max(max_bytes(), len(data)), error=AssemblyError,
                                      default="document")
        db.session.add(ResolutionDocument(resolution=target, title=document.title,
                                          uploaded_by_id=document.uploaded_by_id, uploaded_at=document.uploaded_at,
                                          **stored))
    db.session.flush()
    return skipped


def readable(document) -> bytes | None:
    """The bytes of ``document``'s file, or None when it is missing or altered (its SHA-256 is not
    the one recorded at the upload)."""
    import hashlib

    try:
        data = path_of(document).read_bytes()
    except FileNotFoundError:
        return None
    return data if hashlib.sha256(data).hexdigest() == document.sha256 else None


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
