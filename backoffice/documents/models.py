"""An organisation's own Word template for a kind of document (replaces the default one)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import BigInteger, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models import TimestampMixin


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
