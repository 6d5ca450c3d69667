"""Many documents in one ZIP archive, rendered one at a time (memory does not grow)."""
from __future__ import annotations

import os
import re
import time
import zipfile
from typing import Any, Callable, Iterable, Mapping

from backoffice.documents.engine.rendering import DocumentTemplate
from backoffice.documents.errors import DocumentError

_UNSAFE_NAME = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def _member_name(raw: str, used: set[str]) -> str:
    name = _UNSAFE_NAME.sub("_", str(raw)).strip(" .") or "document"
    stem, ext = (name[:-5], ".docx") if name.lower().endswith(".docx") else (name, ".docx")
    stem = stem[:150]
    candidate, n = stem + ext, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem} ({n}){ext}"
    used.add(candidate.lower())
    return candidate


def render_zip(template: DocumentTemplate | str | os.PathLike | bytes,
               contexts: Iterable, zip_target,
               name_fn: Callable[[Mapping[str, Any], int], str] | None = None,
               progress: Callable[[int, int | None], None] | None = None,
               *, total: int | None = None, progress_every: int = 25) -> int:
    """Render every context into one ZIP archive and return the number of documents.

    Documents are written one at a time straight into the archive (``contexts`` may be a
    generator reading the database in batches), so memory does not grow with their number.
    ``name_fn(context, index)`` names each file; without ``name_fn``, ``contexts`` yields
    ``(name, context)`` pairs. Unsafe characters in names are replaced, ``.docx`` is added and
    duplicates get `` (2)``. ``progress(done, total)`` is called every ``progress_every``
    documents and once at the end; ``total`` is the ``total`` argument, else
    ``len(contexts)``, else ``None`` (a generator). The .docx are stored, not deflated again
    (they are compressed already). On error the exception (a :class:`DocumentError`) says which
    document failed; a partially written archive at a path ``zip_target`` is removed (a file
    object is left as it is: the caller owns it).
    """
    if not isinstance(template, DocumentTemplate):
        template = (DocumentTemplate.from_bytes(template) if isinstance(template, bytes)
                    else DocumentTemplate.from_path(template))
    if total is None and hasattr(contexts, "__len__"):
        total = len(contexts)
    used: set[str] = set()
    done = 0
    is_path = isinstance(zip_target, (str, os.PathLike))
    stamp = time.localtime()[:6]  # what the user sees when unzipping
    try:
        with zipfile.ZipFile(zip_target, "w", compression=zipfile.ZIP_STORED,
                             allowZip64=True) as archive:
            for index, item in enumerate(contexts):
                if name_fn is None:
                    raw_name, context = item
                else:
                    context = item
                    raw_name = name_fn(context, index)
                name = _member_name(raw_name, used)
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_STORED
                try:
                    with archive.open(info, "w") as member:
                        template.render_to(context, member)
                except DocumentError as exc:
                    exc.document_index = index
                    exc.document_name = name
                    exc.message = f"Document n° {index + 1} ({name}) : {exc}"
                    exc.args = (exc.message,)
                    raise
                done += 1
                if progress is not None and done % progress_every == 0:
                    progress(done, total)
    except BaseException:
        if is_path:
            try:
                os.remove(zip_target)
            except OSError:
                pass
        raise
    if progress is not None and (done == 0 or done % progress_every != 0):
        progress(done, total)
    return done
