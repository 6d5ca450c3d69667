"""The kinds of documents, declared by the features that build them and found like blueprints.

Each feature package that produces documents has a ``documents.py`` module with a
``DOCUMENT_KINDS`` list of :class:`DocumentKind` (e.g. ``backoffice/membership/documents.py``:
the receipt and the cheque deposit slip). :func:`document_kinds` collects them once, on first
use, with ``backoffice.feature_modules("documents")``; nothing is registered as a side effect
of importing a module, so a kind exists whether or not the code that renders it was imported.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from backoffice.documents import samples
from backoffice.documents.errors import DocumentError

TEMPLATES_DIR = samples.TEMPLATES_DIR


@dataclass(frozen=True)
class Numbering:
    """How the documents of a kind are numbered in an organisation: 1, 2, 3… with no gap, or
    again from 1 every year (``per_year``: ``2026-0042``)."""

    per_year: bool = False
    digits: int = 4

    def label(self, year: int | None, value: int) -> str:
        number = f"{value:0{self.digits}d}"
        return f"{year}-{number}" if self.per_year else number


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document: its default template, the variables it may use, a sample context.

    ``sample_context()`` must give every variable (strict undefined): it is rendered once when
    an organisation uploads its own template, to catch errors only a render shows.

    For the documents kept as :class:`~backoffice.documents.models.GeneratedDocument`:
    ``numbering`` (None: not numbered), ``download_permission`` (who may download any document
    of the kind in its organisation) and ``may_download(user, document)`` (who else may, e.g.
    the member the document is about; None: nobody else).
    """

    key: str
    label: str
    description: str
    variables: frozenset[str]
    sample_context: Callable[[], dict]
    numbering: Numbering | None = None
    download_permission: str = "documents.generate"
    may_download: Callable | None = None

    @property
    def default_path(self) -> Path:
        return TEMPLATES_DIR / f"{self.key}.docx"

    @property
    def available(self) -> bool:
        return self.default_path.is_file()


_found: dict[str, DocumentKind] | None = None
_finding = threading.Lock()


def collect_document_kinds(modules) -> dict[str, DocumentKind]:
    """``{key: kind}`` from the ``DOCUMENT_KINDS`` of ``modules``; two features may not share a key."""
    kinds: dict[str, DocumentKind] = {}
    for module in modules:
        for kind in getattr(module, "DOCUMENT_KINDS", ()):
            if kind.key in kinds:
                raise RuntimeError(f"document kind {kind.key!r} is declared twice ({module.__name__})")
            kinds[kind.key] = kind
    return kinds


def document_kinds() -> dict[str, DocumentKind]:
    """Every declared kind, by key (found on first use, then kept)."""
    global _found
    if _found is None:
        with _finding:
            if _found is None:
                from backoffice import feature_modules

                _found = collect_document_kinds(feature_modules("documents"))
    return _found


def document_kind(key: str) -> DocumentKind:
    try:
        return document_kinds()[key]
    except KeyError:
        raise DocumentError(f"Type de document inconnu : {key}") from None


def available_kinds() -> list[DocumentKind]:
    """The kinds that have a default template, by label (the templates page)."""
    return sorted((k for k in document_kinds().values() if k.available), key=lambda k: k.label)
