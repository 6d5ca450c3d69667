"""Errors of the document engine. ``str(error)`` is a French message fit to show a user."""
from __future__ import annotations

from backoffice.errors import ServiceError


class DocumentError(ServiceError):
    """Base of every error raised by the document engine."""


class TemplateError(DocumentError):
    """The Word template is broken, or asked for something it may not have.

    ``reason`` says what is wrong, ``near`` quotes the tag or the text around it (as the user
    sees it in Word), ``part`` is the archive part (``word/document.xml``, ``word/header1.xml``…)
    and ``detail`` keeps Jinja's own (English) message for the logs.
    """

    def __init__(self, reason: str, *, near: str | None = None, part: str | None = None,
                 detail: str | None = None):
        self.reason = reason
        self.near = near
        self.part = part
        self.detail = detail
        super().__init__(self._message())

    def _message(self) -> str:
        where = _PART_LABELS.get(_part_kind(self.part), "")
        head = "Erreur dans le modèle" + (f" ({where})" if where else "")
        if self.near:
            return f"{head}, près de « {self.near} » : {self.reason}"
        return f"{head} : {self.reason}"


class RenderError(DocumentError):
    """A value of the context could not be rendered (e.g. an amount with three decimals)."""

    def __init__(self, reason: str, *, near: str | None = None, part: str | None = None,
                 detail: str | None = None):
        self.reason = reason
        self.near = near
        self.part = part
        self.detail = detail
        head = "Impossible de produire le document"
        super().__init__(f"{head}, près de « {near} » : {reason}" if near else f"{head} : {reason}")


class PdfConversionError(DocumentError):
    """LibreOffice could not convert a document to PDF."""


_PART_LABELS = {
    "header": "en-tête",
    "footer": "pied de page",
    "footnotes": "notes de bas de page",
    "endnotes": "notes de fin",
    "core": "propriétés du document",
}


def _part_kind(part: str | None) -> str:
    if not part:
        return ""
    base = part.rsplit("/", 1)[-1]
    for kind in ("header", "footer", "footnotes", "endnotes", "core"):
        if base.startswith(kind):
            return kind
    return ""
