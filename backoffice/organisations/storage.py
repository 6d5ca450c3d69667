"""Files that belong to an organisation, under ``STORAGE_DIR/<organisation id>/``.

Writes are atomic (temporary file in the same folder, fsync, rename), so that a
reader never sees half a logo or half an uploaded spreadsheet, even if the
process dies in the middle of a write.
"""
import contextvars
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from flask import current_app


def organisation_dir(organisation_id):
    """The folder of an organisation's files (not created)."""
    return Path(current_app.config["STORAGE_DIR"]) / str(int(organisation_id))


# Inside ``synced_at_end()``: the files written, whose fsync waits for the end of the block.
_deferred = contextvars.ContextVar("storage_deferred_fsync", default=None)


@contextmanager
def synced_at_end():
    """Files written by ``atomic_write`` inside the block are flushed to disk when it ends, all
    together, instead of one fsync each: a job writing a thousand documents waits for the disk
    once (the first fsync commits the journal for all of them; the rest find nothing to write),
    not a thousand times. The block must end before the rows naming the files commit."""
    paths = []
    token = _deferred.set(paths)
    try:
        yield
    finally:
        _deferred.reset(token)
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for folder in {path.parent for path in paths}:  # the renames themselves
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` so that the file is either the old one or the new one
    (flushed to disk before it returns, or at the end of ``synced_at_end()``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    deferred = _deferred.get()
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if deferred is None:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
        if deferred is not None:
            deferred.append(path)
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
