"""Documents of an organisation: which Word template to use, rendering, bulk ZIPs, PDF.

``render_document(organisation, kind, context)`` is what other features call; inside a job,
``render_documents_zip(...)`` streams many documents into the task's result file. The
template is the organisation's uploaded one for that kind if any, else the default
``templates/documents/<kind>.docx``; the organisation's logo is added to the context as
``logo`` (``None`` when it has none). The rendering itself is ``backoffice.documents.engine``
(sandboxed, autoescaped, strict about undefined variables).
"""
from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from docx.shared import Mm
from flask import current_app
from sqlalchemy import select

from backoffice.documents import engine
from backoffice.documents.errors import DocumentError, TemplateError
from backoffice.documents.kinds import DocumentKind, available_kinds, document_kind, document_kinds
from backoffice.documents.models import DocumentTemplate
from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.models import utcnow

LOGO_WIDTH = Mm(35)
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class DocumentTemplateError(ServiceError, ValueError):
    """An uploaded template is refused. ``messages``: one French sentence per problem."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__(" ".join(self.messages))


# --- which template -------------------------------------------------------------------------

def custom_template(organisation, kind: str) -> DocumentTemplate | None:
    return db.session.scalar(select(DocumentTemplate).where(
        DocumentTemplate.organisation_id == organisation.id, DocumentTemplate.kind == kind))


def template_path(organisation, kind: str) -> Path:
    """The .docx used for ``kind`` by ``organisation``: its own if uploaded, else the default."""
    definition = document_kind(kind)
    custom = custom_template(organisation, kind)
    if custom is not None and custom.abspath().is_file():
        return custom.abspath()
    if not definition.available:
        raise DocumentError(f"Aucun modèle par défaut pour « {definition.label} ».")
    return definition.default_path


def compiled_template(organisation, kind: str) -> engine.DocumentTemplate:
    return engine.cached_template(template_path(organisation, kind))


# --- context helpers ------------------------------------------------------------------------

def organisation_logo(organisation) -> engine.DocumentImage | None:
    """The organisation's logo as an image for ``{{ logo }}``, or None."""
    path = _logo_path(organisation)
    if path is None:
        return None
    try:
        return engine.DocumentImage(path, width=LOGO_WIDTH)
    except Exception:  # noqa: BLE001 - a broken logo must not stop receipts; the page says so
        current_app.logger.warning("organisation %s: unreadable logo %s", organisation.id, path, exc_info=True)
        return None


def _logo_path(organisation) -> Path | None:
    try:
        from backoffice.organisations.services import organisation_logo_path
    except ImportError:  # the organisations feature without logos
        folder = Path(current_app.config["STORAGE_DIR"]) / str(organisation.id)
        return next((p for p in (folder / "logo.png", folder / "logo.jpg") if p.is_file()), None)
    return organisation_logo_path(organisation)


def organisation_context(organisation) -> dict:
    """``organisation`` as our templates use it (name, address lines, city, siren)."""
    lines = [organisation.address, " ".join(filter(None, [organisation.postcode, organisation.city]))]
    siren = organisation.siren
    return {
        "name": organisation.name,
        "address": "\n".join(line for line in lines if line) or None,
        "city": organisation.city,
        "siren": f"{siren[:3]} {siren[3:6]} {siren[6:]}" if siren and len(siren) == 9 else siren,
    }


def _with_logo(context: Mapping[str, Any], logo) -> dict:
    context = dict(context)
    context.setdefault("logo", logo)
    return context


# --- rendering ------------------------------------------------------------------------------

def render_document(organisation, kind: str, context: Mapping[str, Any], *, pdf: bool = False) -> bytes:
    """One document of ``kind`` for ``organisation``: .docx bytes (or PDF with ``pdf=True``).

    Raises :class:`DocumentError` (French message) for a broken template or context, and
    :class:`~backoffice.documents.errors.PdfConversionError` when LibreOffice is missing.
    """
    template = compiled_template(organisation, kind)
    # A batch puts the logo in its shared context once: not one look-up per document.
    data = template.render(context if "logo" in context else _with_logo(context, organisation_logo(organisation)))
    if not pdf:
        return data
    (result,) = docx_to_pdf([data])
    return result


def pdf_renditions_enabled() -> bool:
    """Whether jobs keep a PDF beside the Word documents they issue (``DOCUMENTS_PDF`` on and
    LibreOffice installed). Without LibreOffice the Word file is all there is, and members get it."""
    return bool(current_app.config.get("DOCUMENTS_PDF", True)) and engine.pdf_available()


def docx_to_pdf(documents: Sequence[bytes]) -> list[bytes]:
    """The PDF of each .docx given as bytes, in order (one LibreOffice start-up per batch).

    Only inside a job: a conversion takes seconds. Raises
    :class:`~backoffice.documents.errors.PdfConversionError` (French) when LibreOffice fails.
    """
    if not documents:
        return []
    with _scratch_dir() as folder:
        sources = []
        for index, data in enumerate(documents):
            source = folder / f"{index:06d}.docx"
            source.write_bytes(data)
            sources.append(source)
        return [pdf.read_bytes() for pdf in engine.convert_to_pdf(sources, folder / "pdf")]


def pdf_renditions(documents: Sequence[bytes]) -> list[bytes | None]:
    """:func:`docx_to_pdf` when renditions are enabled, else ``None`` for each document."""
    if not pdf_renditions_enabled():
        return [None] * len(documents)
    return docx_to_pdf(documents)


def render_documents_zip(organisation, kind: str, items: Iterable[tuple[str, Mapping[str, Any]]], target,
                         *, progress: Callable | None = None, total: int | None = None,
                         pdf: bool = False) -> int:
    """Render ``(filename, context)`` items into one ZIP written to ``target``; returns the count.

    ``target`` is a path or a binary file (e.g. ``task.result_file(...)``). Documents are
    rendered one at a time into the archive: memory does not grow with their number.
    ``progress(done, total, message)`` is called as documents are written (``total`` defaults
    to ``len(items)`` when it has one). With ``pdf=True`` (LibreOffice), the archive holds PDFs,
    converted in batches with a throw-away LibreOffice profile per batch.
    """
    template = compiled_template(organisation, kind)
    logo = organisation_logo(organisation)
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    label = document_kind(kind).label

    def report(done, _total=None):
        if progress is not None:
            progress(done, total, f"{label} : {done} document{'s' if done > 1 else ''} produit{'s' if done > 1 else ''}")

    if pdf:
        return _render_pdf_zip(template, items, logo, target, report)
    current = {}

    def contexts():
        for name, context in items:
            current["name"] = name
            yield _with_logo(context, logo)

    return engine.render_zip(template, contexts(), target, lambda context, index: current["name"],
                             progress=report, progress_every=10)


def _render_pdf_zip(template, items, logo, target, report, batch_size=100) -> int:
    done = 0
    used: set[str] = set()
    with _scratch_dir() as folder, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        batch: list[tuple[Path, str]] = []

        def flush():
            nonlocal done
            pdfs = engine.convert_to_pdf([path for path, _ in batch], folder / "pdf")
            for pdf_path, (docx_path, name) in zip(pdfs, batch):
                archive.write(pdf_path, name)
                pdf_path.unlink()
                docx_path.unlink()
            done += len(batch)
            batch.clear()
            report(done)

        for index, (name, context) in enumerate(items):
            docx_path = folder / f"{index:06d}.docx"
            template.render_to(_with_logo(context, logo), docx_path)
            batch.append((docx_path, _unique_pdf_name(name, used)))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    return done


def _unique_pdf_name(name: str, used: set[str]) -> str:
    stem = Path(str(name)).stem.replace("/", "_").replace("\\", "_")[:150] or "document"
    candidate, n = f"{stem}.pdf", 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem} ({n}).pdf"
    used.add(candidate.lower())
    return candidate


class _scratch_dir:
    """A private temporary folder, removed on exit (LibreOffice writes next to its inputs)."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="maillage-doc-"))
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


# --- uploaded templates ---------------------------------------------------------------------

def check_template(kind: str, data: bytes) -> engine.ValidationReport:
    """Validate an uploaded template for ``kind``: compiles, known variables, sample render."""
    definition = document_kind(kind)
    return engine.validate(data, expected_variables=definition.variables,
                           sample_context=definition.sample_context())


def upload_template(organisation, kind: str, filename: str, data: bytes, user=None) -> DocumentTemplate:
    """Store ``data`` as the organisation's template for ``kind`` after validating it.

    Raises :class:`DocumentTemplateError` (French messages, nothing stored) when the engine
    refuses it: broken tag (named, with its surroundings), forbidden operation (sandbox),
    unknown variable, or a render of the sample context that fails. Flushes; the view commits.
    """
    definition = document_kind(kind)
    if not (filename or "").lower().endswith(".docx"):
        raise DocumentTemplateError(["Le modèle doit être un document Word au format .docx."])
    if len(data) > engine.MAX_TEMPLATE_BYTES:
        raise DocumentTemplateError(["Le fichier est trop volumineux pour un modèle de document."])
    report = check_template(definition.key, data)
    if not report.ok:
        raise DocumentTemplateError(report.messages)
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(current_app.config["STORAGE_DIR"]) / str(organisation.id) / "templates"
    target = folder / f"{definition.key}-{digest[:12]}-{secrets.token_hex(4)}.docx"
    _atomic_write(target, data)
    row = custom_template(organisation, kind)
    old = row.abspath() if row is not None else None
    if row is None:
        row = DocumentTemplate(organisation_id=organisation.id, kind=kind)
        db.session.add(row)
    row.filename = Path(filename).name[:200]
    row.path = target.relative_to(Path(current_app.config["STORAGE_DIR"])).as_posix()
    row.size = len(data)
    row.sha256 = digest
    row.uploaded_by_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    row.uploaded_at = utcnow()
    db.session.flush()
    if old is not None and old != target:
        # The old file goes only once the new row is flushed; a failed commit leaves an
        # unused new file rather than a row pointing at nothing.
        old.unlink(missing_ok=True)
    return row


def revert_template(organisation, kind: str) -> bool:
    """Go back to the default template for ``kind``. Flushes; the view commits."""
    row = custom_template(organisation, kind)
    if row is None:
        return False
    path = row.abspath()
    db.session.delete(row)
    db.session.flush()
    path.unlink(missing_ok=True)
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    try:
        from backoffice.organisations.storage import atomic_write
    except ImportError:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".tmp-{secrets.token_hex(6)}")
        temporary.write_bytes(data)
        temporary.replace(path)
        return
    atomic_write(path, data)


__all__ = [
    "DOCX_MIMETYPE", "DocumentKind", "DocumentTemplateError", "available_kinds", "check_template",
    "compiled_template", "custom_template", "docx_to_pdf", "document_kind", "document_kinds", "organisation_context",
    "pdf_renditions", "pdf_renditions_enabled",
    "organisation_logo", "render_document", "render_documents_zip", "revert_template", "template_path",
    "upload_template", "TemplateError",
]
