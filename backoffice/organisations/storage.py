"""Files that belong to an organisation, under ``STORAGE_DIR/<organisation id>/``.

Writes are atomic (temporary file in the same folder, fsync, rename), so that a
reader never sees half a logo or half an uploaded spreadsheet, even if the
process dies in the middle of a write.
"""
import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


def organisation_dir(organisation_id):
    """The folder of an organisation's files (not created)."""
    return Path(current_app.config["STORAGE_DIR"]) / str(int(organisation_id))


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` so that the file is either the old one or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    return path


def file_sha256(path):
    """The SHA-256 of a file (hex), read by blocks (a large export stays out of memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
