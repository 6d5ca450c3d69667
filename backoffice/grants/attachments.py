"""Documents uploaded with an application (quote, training certificate, signed convention,
invoice): PDF, JPEG or PNG recognised by their first bytes (``backoffice.uploads``), at most
``GRANTS_MAX_UPLOAD_BYTES``, stored under ``STORAGE_DIR/<organisation id>/grants/``, served
only to the applicant and to the organisation's staff who may see grants."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from backoffice import uploads
from backoffice.extensions import db
from backoffice.grants.models import ENDED_WITHOUT_GRANT, AttachmentKind, GrantAttachment, GrantStatus
from backoffice.grants.services import GrantError, _actor_id
from backoffice.organisations.storage import organisation_dir

DEFAULT_MAX_BYTES = 8 * 1024 * 1024


def max_bytes() -> int:
    return int(current_app.config.get("GRANTS_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


def add_attachment(application, kind, filename: str, data: bytes, *, user=None, field="file") -> GrantAttachment:
    """Keep an uploaded document of ``application``; refused once the application is over."""
    kind = AttachmentKind(kind)
    if application.status in ENDED_WITHOUT_GRANT + (GrantStatus.CLOSED,):
        raise GrantError("La demande est terminée : plus de pièce à déposer.", field="file")
    stored = uploads.store_upload(_folder(application.organisation_id), f"{application.id}-{kind.value}", filename,
                                  data, limit=max_bytes(), error=GrantError, field=field)
    attachment = GrantAttachment(application=application, kind=kind, uploaded_by_id=_actor_id(user), **stored)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def folder(organisation_id) -> Path:
    """Where the grants' uploaded files of an organisation are kept (devices' invoices too)."""
    return organisation_dir(organisation_id) / "grants"


_folder = folder


def path_of(attachment) -> Path:
    return _folder(attachment.application.organisation_id) / attachment.stored_name


def may_view(user, attachment) -> bool:
    """The applicant himself, or staff who may see the grants of the application's organisation."""
    from backoffice.auth.permissions import can

    application = attachment.application
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.party_id is not None and user.party_id == application.applicant_id:
        return True
    return can("grants.view", organisation=application.programme.organisation, user=user)
