"""Files that users upload to be kept (a grant application's quote or invoice, the accounts or the
reports attached to an assembly's resolution): PDF, JPEG or PNG recognised by their first bytes,
never by the file's name, refused empty or too large, with a French message under their field.

:func:`store_upload` checks one and writes it under the feature's own folder of
``STORAGE_DIR/<organisation id>/``; the feature keeps the columns it returns (name, type, size,
SHA-256, stored name) on its own row and serves the file to whom it decides. The file is written
at once (the row that names it is flushed in the same transaction) and removed again if that
transaction — or the savepoint it was written in — rolls back: a refused request leaves no
orphan file behind.
"""
from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from backoffice.errors import ServiceError

# The signatures of the accepted formats, and the extension we store them under.
MAGIC = ((b"%PDF-", "application/pdf", ".pdf"),
         (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
         (b"\xff\xd8\xff", "image/jpeg", ".jpg"))
ACCEPT = "application/pdf,image/jpeg,image/png"


def sniff(data: bytes) -> tuple[str, str] | None:
    """``(content type, extension)`` of ``data`` by its first bytes, or None."""
    for magic, content_type, extension in MAGIC:
        if data.startswith(magic):
            return content_type, extension
    return None


def check_upload(filename: str, data: bytes, *, limit: int, error=ServiceError, field="file") -> tuple[str, str]:
    """``(content type, extension)`` of an upload; raises ``error`` (French, under ``field``) for
    an empty file, one over ``limit`` bytes, or one that is no PDF, JPEG or PNG."""
    if not data:
        raise error("Le fichier est vide.", field=field)
    if len(data) > limit:
        size = f"{len(data) / 1048576:.1f}".replace(".", ",")  # the number only: the sentence keeps its period
        raise error(f"Fichier trop volumineux ({size} Mo) : {limit // 1048576} Mo au plus.", field=field)
    found = sniff(data)
    if found is None:
        raise error(f"« {filename or 'fichier'} » n'est ni un PDF, ni une image JPEG ou PNG.", field=field)
    return found


def display_name(filename: str, extension: str, default: str = "piece") -> str:
    """The name shown and downloaded: the uploaded file's own (without folders, 150 characters at
    most), ending with the extension its content says."""
    name = Path((filename or "").replace("\\", "/")).name.strip()[:150] or default
    return name if name.lower().endswith(extension) or extension == ".jpg" and name.lower().endswith(".jpeg") \
        else f"{name}{extension}"


def store_upload(folder: Path, prefix: str, filename: str, data: bytes, *, limit: int, error=ServiceError,
                 field="file", default="piece") -> dict:
    """Check an upload (:func:`check_upload`), write it atomically as
    ``folder/<prefix>-<random><extension>`` and return what its row keeps: ``filename`` (as shown,
    :func:`display_name`), ``content_type``, ``size``, ``sha256`` and ``stored_name``."""
    from backoffice.organisations.storage import atomic_write
    from backoffice.transactions import on_rollback

    content_type, extension = check_upload(filename, data, limit=limit, error=error, field=field)
    stored_name = f"{prefix}-{secrets.token_hex(8)}{extension}"
    path = folder / stored_name
    atomic_write(path, data)
    on_rollback(lambda: path.unlink(missing_ok=True))
    return {"filename": display_name(filename, extension, default), "content_type": content_type,
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "stored_name": stored_name}
