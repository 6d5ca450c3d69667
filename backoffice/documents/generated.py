"""Durable documents: numbered, fingerprinted versions of what the product issues, kept for years.

A :class:`~backoffice.documents.models.GeneratedDocument` is one version of the document of a
*kind* (``membership_receipt``…) about a *subject* (any row: a membership, a deposit slip, an
assembly…). Inside a job::

    from backoffice.documents import generated

    document = generated.issue_document(task.organisation, "membership_receipt", membership,
                                        data, filename="attestation-2026-0042.docx", task=task)

stores the bytes under ``STORAGE_DIR/<organisation id>/documents/`` (never in the task results,
which expire), records their SHA-256, gives the lineage its number (first version only; later
versions keep it) and supersedes the previous version, which stays downloadable. When the
document is asked for before a job makes it, ``request_document`` creates the *pending* version
(with its number) and ``store_document`` fills it. Everything flushes; the job's runner (or the
request) commits. A failed job leaves no file behind (the runner deletes files written by a
run it discards).

Statuses (``models.DOCUMENT_LIFECYCLE``, moved with ``backoffice.lifecycle.move``, each move
recorded in ``status_changes``): pending → generated → (signed) → superseded, pending → failed
→ pending.
"""
from __future__ import annotations

import hashlib
import io
import mimetypes
import secrets
from datetime import date
from pathlib import Path
from typing import NamedTuple

from flask import current_app, send_file
from sqlalchemy import select, text, update

from backoffice.documents.errors import DocumentError
from backoffice.documents.kinds import document_kind
from backoffice.documents.models import (CURRENT_STATUSES, OPEN_STATUSES, DocumentSequence, DocumentStatus,
                                         GeneratedDocument)
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.models import insert_unless_present, utcnow

P, G, S, X, F = (DocumentStatus.PENDING, DocumentStatus.GENERATED, DocumentStatus.SIGNED,
                 DocumentStatus.SUPERSEDED, DocumentStatus.FAILED)


class DocumentNumber(NamedTuple):
    """A number given by a kind's sequence: ``value`` 42 of ``year`` 2026, shown ``label``."""

    year: int | None
    value: int
    label: str

    def __str__(self):
        return self.label


# --- subjects -------------------------------------------------------------------------------

def subject_key(subject) -> tuple[str, int]:
    """``(subject_type, subject_id)`` of a row (its table name and id) or of such a pair."""
    if isinstance(subject, tuple):
        subject_type, subject_id = subject
        return str(subject_type), int(subject_id)
    if getattr(subject, "id", None) is None:
        raise ValueError(f"{subject!r} has no id yet: flush it before issuing its document")
    return subject.__tablename__, int(subject.id)


def _lineage(organisation, kind, subject):
    subject_type, subject_id = subject_key(subject)
    return (GeneratedDocument.organisation_id == organisation.id, GeneratedDocument.kind == kind,
            GeneratedDocument.subject_type == subject_type, GeneratedDocument.subject_id == subject_id)


def versions(organisation, kind: str, subject) -> list[GeneratedDocument]:
    """Every version of the document of ``kind`` about ``subject``, latest first."""
    return list(db.session.scalars(select(GeneratedDocument).where(*_lineage(organisation, kind, subject))
                                   .order_by(GeneratedDocument.version.desc())))


def current_document(organisation, kind: str, subject) -> GeneratedDocument | None:
    """The version in force (generated or signed) of ``kind`` about ``subject``, or None."""
    return db.session.scalar(select(GeneratedDocument).where(
        *_lineage(organisation, kind, subject), GeneratedDocument.status.in_(CURRENT_STATUSES)))


def current_documents(organisation, kind: str, subjects) -> dict[int, GeneratedDocument]:
    """``{subject id: version in force}`` for many subjects of one type (one query, for lists)."""
    keys = [subject_key(subject) for subject in subjects]
    if not keys:
        return {}
    subject_types = {subject_type for subject_type, _ in keys}
    if len(subject_types) != 1:
        raise ValueError("current_documents() wants subjects of one type")
    rows = db.session.scalars(select(GeneratedDocument).where(
        GeneratedDocument.organisation_id == organisation.id, GeneratedDocument.kind == kind,
        GeneratedDocument.subject_type == subject_types.pop(),
        GeneratedDocument.subject_id.in_([subject_id for _, subject_id in keys]),
        GeneratedDocument.status.in_(CURRENT_STATUSES)))
    return {row.subject_id: row for row in rows}


def subjects_with_versions(organisation, kind: str, subjects) -> set[int]:
    """The ids of ``subjects`` (of one type) that have a version of ``kind`` already, whatever
    its state (their lineage's number is theirs: a batch numbers only the others). One query."""
    keys = [subject_key(subject) for subject in subjects]
    if not keys:
        return set()
    (subject_type,) = {subject_type for subject_type, _ in keys}
    return set(db.session.scalars(select(GeneratedDocument.subject_id).distinct().where(
        GeneratedDocument.organisation_id == organisation.id, GeneratedDocument.kind == kind,
        GeneratedDocument.subject_type == subject_type,
        GeneratedDocument.subject_id.in_([subject_id for _, subject_id in keys]))))


def _latest(organisation, kind, subject):
    return db.session.scalar(select(GeneratedDocument).where(*_lineage(organisation, kind, subject))
                             .order_by(GeneratedDocument.version.desc()).limit(1))


# --- numbers --------------------------------------------------------------------------------

def allocate_number(organisation, kind: str, *, year: int | None = None) -> DocumentNumber:
    """The next number of ``kind`` in ``organisation`` (and ``year``, default this year, for
    kinds numbered per year), with no gap.

    The counter row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises
    writers, and the ``INSERT … ON CONFLICT DO NOTHING`` creating the row takes the write lock)
    until the transaction ends: a rollback gives the number back, concurrent allocations wait.
    """
    return allocate_numbers(organisation, kind, 1, year=year)[0]


def allocate_numbers(organisation, kind: str, count: int, *, year: int | None = None) -> list[DocumentNumber]:
    """The next ``count`` numbers of ``kind`` at once (see :func:`allocate_number`), for a batch
    that issues that many new documents: one lock and one update of the counter, not one each.
    Give each to :func:`request_document` as ``number``."""
    numbering = document_kind(kind).numbering
    if numbering is None:
        raise DocumentError(f"Les documents « {document_kind(kind).label} » ne sont pas numérotés.")
    if count <= 0:
        return []
    year = (year or date.today().year) if numbering.per_year else None
    key = dict(organisation_id=organisation.id, kind=kind, year=year or 0)
    insert_unless_present(DocumentSequence, **key, last_number=0)
    where = [getattr(DocumentSequence, column) == value for column, value in key.items()]
    last = db.session.execute(select(DocumentSequence.last_number).where(*where).with_for_update()).scalar_one()
    db.session.execute(update(DocumentSequence).where(*where).values(last_number=last + count))
    return [DocumentNumber(year, value, numbering.label(year, value)) for value in range(last + 1, last + count + 1)]


# --- issuing --------------------------------------------------------------------------------

def request_document(organisation, kind: str, subject, *, user=None, task=None, number=None,
                     year: int | None = None) -> GeneratedDocument:
    """The pending version of ``kind`` about ``subject``: the one already waiting (or failed,
    asked again), else a new version (previous + 1).

    Its number is the lineage's (every version keeps the first one's), else ``number`` when
    the subject already carries one (a deposit slip is numbered when it is made), else the next
    of the kind's sequence (``year``: see :func:`allocate_number`); None for unnumbered kinds.
    Concurrent requests for the same subject wait for each other (the lineage is locked until
    the transaction ends): two jobs re-issuing it make two versions, never two current ones.
    Flushes.
    """
    definition = document_kind(kind)
    subject_type, subject_id = subject_key(subject)
    _lock_lineage(organisation.id, kind, subject_type, subject_id)
    latest = _latest(organisation, kind, subject)
    if latest is not None and latest.status in OPEN_STATUSES:
        if latest.status is F:
            move(latest, P, by=user)
            latest.message = None
        _stamp(latest, user, task)
        db.session.flush()
        return latest
    if latest is not None:
        lineage_number = latest.number
    elif number is not None:
        lineage_number = str(number)
    elif definition.numbering is not None:
        lineage_number = allocate_number(organisation, kind, year=year).label
    else:
        lineage_number = None
    document = GeneratedDocument(
        organisation_id=organisation.id, kind=kind, subject_type=subject_type, subject_id=subject_id,
        version=(latest.version + 1) if latest is not None else 1, number=lineage_number, status=P)
    _stamp(document, user, task)
    db.session.add(document)
    db.session.flush()
    return document


def _lock_lineage(organisation_id, kind, subject_type, subject_id):
    """Serialise, until the transaction ends, whoever adds or stores a version of this document
    (a PostgreSQL advisory lock keyed by the lineage; SQLite serialises writers anyway)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    lineage = f"{organisation_id}:{kind}:{subject_type}:{subject_id}".encode()
    key = int.from_bytes(hashlib.blake2b(lineage, digest_size=8).digest(), "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _stamp(document, user, task):
    if task is not None:
        document.task_id = task.id
    user_id = getattr(user, "id", None) if user is not None else getattr(task, "requested_by_id", None)
    if user_id is not None:  # who asked for it: the user, else the one who started the task
        document.created_by_id = user_id


def store_document(document: GeneratedDocument, data: bytes, *, filename: str, mimetype: str | None = None,
                   task=None, user=None, pdf: bytes | None = None) -> GeneratedDocument:
    """Store ``data`` as the file of the pending ``document``: written atomically under
    ``STORAGE_DIR/<organisation id>/documents/<kind>/``, its SHA-256 recorded; the version in
    force (if any) becomes superseded by it. ``pdf``: the PDF rendition of ``data``, stored and
    fingerprinted beside it (what members download). Flushes."""

    _lock_lineage(document.organisation_id, document.kind, document.subject_type, document.subject_id)
    db.session.flush()
    db.session.refresh(document)  # as another job may have left it, now that we hold the lineage
    if document.status is not P:
        raise DocumentError(f"{document} n'est pas en préparation : il ne peut pas être remplacé.")
    _stamp(document, user, task)
    previous = db.session.scalar(select(GeneratedDocument).where(
        GeneratedDocument.organisation_id == document.organisation_id, GeneratedDocument.kind == document.kind,
        GeneratedDocument.subject_type == document.subject_type, GeneratedDocument.subject_id == document.subject_id,
        GeneratedDocument.status.in_(CURRENT_STATUSES)))
    if previous is not None:
        supersede(previous, by=document)
        db.session.flush()  # out of the way of the one-current-version index first
    _write_file(document, data, filename, mimetype, pdf)
    move(document, G, by=user)
    db.session.flush()
    return document


def _write_file(document, data, filename, mimetype, pdf):
    """Write ``data`` (and its PDF rendition) as the file of ``document`` and record where, its
    size and fingerprint."""
    from backoffice.organisations.storage import atomic_write, organisation_dir

    suffix = Path(filename).suffix.lower()[:10]
    folder = organisation_dir(document.organisation_id) / "documents" / document.kind
    target = folder / f"{document.subject_type}-{document.subject_id}-v{document.version}-{secrets.token_hex(8)}{suffix}"
    atomic_write(target, data)
    _forget_if_discarded(target)
    if pdf is not None:
        pdf_target = target.with_suffix(".pdf") if suffix != ".pdf" else target.with_name(f"{target.stem}-rendition.pdf")
        atomic_write(pdf_target, pdf)
        _forget_if_discarded(pdf_target)
    document.path = target.relative_to(Path(current_app.config["STORAGE_DIR"])).as_posix()
    document.filename = Path(filename).name[:200]
    document.mimetype = mimetype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    document.size = len(data)
    document.sha256 = hashlib.sha256(data).hexdigest()
    if pdf is not None:
        document.pdf_path = pdf_target.relative_to(Path(current_app.config["STORAGE_DIR"])).as_posix()
        document.pdf_size, document.pdf_sha256 = len(pdf), hashlib.sha256(pdf).hexdigest()
    document.generated_at = utcnow()


def issue_first_documents(organisation, kind: str, items, *, mimetype: str | None = None, task=None,
                          user=None) -> list[GeneratedDocument]:
    """The first version of ``kind`` about each of many subjects that have none yet (inside a
    job; see :func:`subjects_with_versions`): ``items`` are ``(subject, data, filename, number)``
    (``number``: from :func:`allocate_numbers`, None for unnumbered kinds). The same rows, files
    and history as :func:`issue_document` one by one, added together and flushed twice for the
    lot. A subject that has a version after all (another job) breaks the unique version
    constraint: the job fails and nothing is kept."""
    documents = []
    for subject, data, filename, number in items:
        subject_type, subject_id = subject_key(subject)
        _lock_lineage(organisation.id, kind, subject_type, subject_id)
        document = GeneratedDocument(organisation_id=organisation.id, kind=kind, subject_type=subject_type,
                                     subject_id=subject_id, version=1, number=None if number is None else str(number),
                                     status=P)
        _stamp(document, user, task)
        _write_file(document, data, filename, mimetype, None)
        documents.append(document)
    db.session.add_all(documents)
    db.session.flush()  # their ids, for the history of their move
    for document in documents:
        move(document, G, by=user)
    db.session.flush()
    return documents


def _forget_if_discarded(path: Path) -> None:
    """Inside a job, the runner deletes ``path`` if it discards the run (the row rolls back)."""
    from jobs._runtime import current_runtime

    runtime = current_runtime()
    if runtime is not None:
        runtime.written_files.append(path)


def issue_document(organisation, kind: str, subject, data: bytes, *, filename: str, mimetype: str | None = None,
                   task=None, user=None, number=None, year: int | None = None,
                   pdf: bytes | None = None) -> GeneratedDocument:
    """Request and store in one go (inside a job): the new version of ``kind`` about ``subject``
    (``pdf``: its PDF rendition, see :func:`store_document`)."""
    document = request_document(organisation, kind, subject, user=user, task=task, number=number, year=year)
    return store_document(document, data, filename=filename, mimetype=mimetype, task=task, user=user, pdf=pdf)


def fail_document(document: GeneratedDocument, message: str) -> None:
    """The pending ``document`` could not be made (``message``: French, for the user)."""
    move(document, F, reason=message)
    document.message = message
    db.session.flush()


def supersede(document: GeneratedDocument, *, by: GeneratedDocument | None = None) -> None:
    """Take ``document`` out of force (replaced ``by`` a later version, or withdrawn)."""
    move(document, X)
    document.superseded_at = utcnow()
    document.superseded_by = by
    db.session.flush()


def mark_signed(document: GeneratedDocument, *, by=None, at=None) -> None:
    """Record that the version in force was signed (who recorded it, when)."""
    move(document, S, by=by)
    document.signed_at = at or utcnow()
    document.signed_by_id = getattr(by, "id", None)
    db.session.flush()


# --- reading --------------------------------------------------------------------------------

def verify(document: GeneratedDocument) -> bool:
    """True when the stored file (and its PDF rendition, if any) is there and still has the
    fingerprint recorded at issue."""
    from backoffice.organisations.storage import file_sha256

    files = [(document.abspath(), document.sha256)]
    if document.pdf_path:
        files.append((document.pdf_abspath(), document.pdf_sha256))
    return document.is_stored and all(
        path is not None and path.is_file() and secrets.compare_digest(file_sha256(path), digest or "")
        for path, digest in files)


def may_download(document: GeneratedDocument, user) -> bool:
    """The kind's download permission in the document's organisation, or its own rule."""
    from backoffice.auth.permissions import can

    if not document.is_stored or user is None or not getattr(user, "is_authenticated", False):
        return False
    definition = document_kind(document.kind)
    if can(definition.download_permission, organisation=document.organisation, user=user):
        return True
    return definition.may_download is not None and bool(definition.may_download(user, document))


def send_document(document: GeneratedDocument, *, pdf: bool = False):
    """The file (``pdf``: its PDF rendition) as a download response (read at once: a document is
    small, and no file stays open after the response). Raises DocumentError when it is missing."""
    path = document.pdf_abspath() if pdf else document.abspath()
    if path is None or not path.is_file():
        raise DocumentError(f"Le fichier {'PDF ' if pdf else ''}de {document} est introuvable.")
    return send_file(io.BytesIO(path.read_bytes()), mimetype="application/pdf" if pdf else document.mimetype,
                     as_attachment=True, download_name=document.pdf_filename if pdf else document.filename, max_age=0)


def send_for_member(document: GeneratedDocument):
    """What a member downloads: the PDF rendition when there is one, else the Word file."""
    return send_document(document, pdf=document.has_pdf)

