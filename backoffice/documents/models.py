"""Tables of the documents feature.

* ``document_templates``: an organisation's own Word template for a kind (replaces the default).
* ``generated_documents``: every version of every document kept for years (receipts, deposit
  slips, conventions, minutes, statements), numbered, fingerprinted, never overwritten.
* ``document_sequences``: the counter of document numbers per organisation, kind and year.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from flask import current_app
from sqlalchemy import (BigInteger, CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.lifecycle import Lifecycle
from backoffice.models import TimestampMixin, utcnow


class DocumentTemplate(TimestampMixin, db.Model):
    """The uploaded .docx an organisation uses for ``kind`` instead of the default template.

    The file lives in ``STORAGE_DIR/<organisation id>/templates/``; ``path`` is relative to
    ``STORAGE_DIR``. One row per organisation and kind: uploading again replaces it, reverting
    to the default deletes it.
    """

    __tablename__ = "document_templates"
    __audited__ = True  # who changed the model of a receipt, and when
    __table_args__ = (UniqueConstraint("organisation_id", "kind", name="uq_document_templates_organisation_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(200))  # as uploaded, for the user
    path: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    organisation = relationship("Organisation")
    uploaded_by = relationship("User")

    def abspath(self) -> Path:
        return Path(current_app.config["STORAGE_DIR"]) / self.path

    def __str__(self):
        return f"Modèle « {self.kind} » ({self.filename})"


class DocumentStatus(StrEnum):
    PENDING = "pending"          # asked for; the job has not stored its file yet
    GENERATED = "generated"      # the file is stored: the current version
    SIGNED = "signed"            # the current version, signed (e.g. a convention)
    SUPERSEDED = "superseded"    # a later version replaced it; kept, still downloadable
    FAILED = "failed"            # its job failed (``message`` says why); asking again retries it

    @property
    def label(self):
        return DOCUMENT_STATUS_LABELS[self]


DOCUMENT_STATUS_LABELS = {
    DocumentStatus.PENDING: "En préparation",
    DocumentStatus.GENERATED: "Émis",
    DocumentStatus.SIGNED: "Signé",
    DocumentStatus.SUPERSEDED: "Remplacé",
    DocumentStatus.FAILED: "Échec",
}
# The statuses of a version whose file is stored, and of the current version of a subject.
STORED_STATUSES = frozenset({DocumentStatus.GENERATED, DocumentStatus.SIGNED, DocumentStatus.SUPERSEDED})
CURRENT_STATUSES = frozenset({DocumentStatus.GENERATED, DocumentStatus.SIGNED})
OPEN_STATUSES = frozenset({DocumentStatus.PENDING, DocumentStatus.FAILED})

_P, _G, _S, _X, _F = (DocumentStatus.PENDING, DocumentStatus.GENERATED, DocumentStatus.SIGNED,
                      DocumentStatus.SUPERSEDED, DocumentStatus.FAILED)
DOCUMENT_LIFECYCLE = Lifecycle("generated_document", {
    _P: {_G,   # its file is stored
         _F},  # its job failed
    _F: {_P},  # asked for again
    _G: {_S,   # signed (a convention, minutes)
         _X},  # a new version replaced it
    _S: {_X},  # a new version replaced it (a corrected convention, signed again)
    _X: set(),
}, noun="le document")


def _status_enum():
    return Enum(DocumentStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


@DOCUMENT_LIFECYCLE.bind
class GeneratedDocument(db.Model):
    """One version of a document about a subject (a membership, a deposit slip, an assembly…).

    The *lineage* is (organisation, ``kind``, ``subject_type``, ``subject_id``): versions 1, 2,
    3… of the same document. Issuing again adds a version and marks the previous one superseded
    — a file is never overwritten. All versions share the lineage's ``number`` (``2026-0042``).
    The file lives under ``STORAGE_DIR/<organisation id>/documents/`` (``path`` relative to
    ``STORAGE_DIR``), outside the task results that expire; ``sha256`` is its fingerprint.
    ``subject_type`` is the subject's table name. A version may also carry the PDF rendition of its
    Word file (``pdf_path``…), made by the same job, for the members it is handed to. Services: ``backoffice.documents.generated``.
    """

    __tablename__ = "generated_documents"
    __table_args__ = (
        UniqueConstraint("organisation_id", "kind", "subject_type", "subject_id", "version",
                         name="uq_generated_documents_lineage_version"),
        UniqueConstraint("organisation_id", "kind", "number", "version", name="uq_generated_documents_number"),
        # At most one current version per lineage, whatever two jobs do at the same time.
        Index("uq_generated_documents_current", "organisation_id", "kind", "subject_type", "subject_id",
              unique=True, postgresql_where=text("status IN ('generated', 'signed')"),
              sqlite_where=text("status IN ('generated', 'signed')")),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status IN ('pending', 'failed') OR (path IS NOT NULL AND sha256 IS NOT NULL)",
                        name="stored_has_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    number: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[DocumentStatus] = mapped_column(_status_enum(), default=DocumentStatus.PENDING)
    message: Mapped[str | None] = mapped_column(Text)  # French: why it failed
    filename: Mapped[str | None] = mapped_column(String(200))  # what the user downloads
    mimetype: Mapped[str | None] = mapped_column(String(120))
    path: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # The PDF the job made from the Word file (LibreOffice), for members; None when none was made.
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("generated_documents.id", ondelete="SET NULL"))

    organisation = relationship("Organisation")
    task = relationship("Task")
    created_by = relationship("User", foreign_keys=[created_by_id])
    signed_by = relationship("User", foreign_keys=[signed_by_id])
    superseded_by = relationship("GeneratedDocument", remote_side=[id])

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES

    @property
    def is_stored(self) -> bool:
        return self.status in STORED_STATUSES and bool(self.path)

    def abspath(self) -> Path | None:
        if not self.path:
            return None
        return Path(current_app.config["STORAGE_DIR"]) / self.path

    @property
    def has_pdf(self) -> bool:
        return self.is_stored and bool(self.pdf_path)

    @property
    def pdf_filename(self) -> str | None:
        return f"{Path(self.filename).stem}.pdf" if self.filename and self.pdf_path else None

    def pdf_abspath(self) -> Path | None:
        if not self.pdf_path:
            return None
        return Path(current_app.config["STORAGE_DIR"]) / self.pdf_path

    def __str__(self):
        number = f" n° {self.number}" if self.number else ""
        return f"Document « {self.kind} »{number} (version {self.version})"


class DocumentSequence(db.Model):
    """The last number given to a kind of document in an organisation (row locked to allocate).

    ``year`` is 0 for kinds numbered without a yearly restart.
    """

    __tablename__ = "document_sequences"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
