"""Word (.docx) rendering engine: compile a template once, render it many times.

docxtpl's ``DocxTemplate.render()`` re-reads the .docx with python-docx, re-runs its regex
pre-processing, re-compiles the Jinja template and re-serialises every part for each document.
:class:`DocumentTemplate` does the docxtpl pre-processing (its own ``patch_xml``, reused, not
rewritten) and the Jinja compilation once, then each :meth:`DocumentTemplate.render` only runs
the compiled templates and writes a new archive in which untouched parts (styles, theme, fonts,
media…) are copied as stored bytes. The document text is the same as docxtpl's
``DocxTemplate(path).render(context, autoescape=True)`` gives; tests and the benchmark compare
both.

What a template may use: docxtpl's ``{%tr %}``, ``{%tc %}``, ``{%p %}``, ``{%r %}`` tags,
``{{r rich }}`` with :class:`docxtpl.RichText`, :class:`docxtpl.Listing`, text with ``\\n``
(becomes a line break), images with :class:`DocumentImage` (or docxtpl's ``InlineImage`` built
with the :class:`DocumentTemplate` as its ``tpl``), and the French filters ``money``,
``money_plain``, ``money_words``, ``date_fr``, ``date_short``
(:mod:`backoffice.formatting`). Parts rendered: the main document, headers, footers, footnotes,
endnotes and the core properties (title, subject…).

Usage::

    template = cached_template(path)            # or DocumentTemplate.from_path / from_bytes
    data = template.render(context)             # bytes of a .docx
    template.render_to(context, "recu.docx")    # or a binary file object
    render_zip(template, contexts, "lot.zip", lambda ctx, i: f"recu-{i}", progress=cb)
    report = validate(uploaded_bytes, expected_variables=..., sample_context=...)
    convert_to_pdf(["recu.docx"], outdir)       # needs LibreOffice; pdf_available()

Not supported: docxtpl ``Subdoc``, ``RichText(url_id=...)`` (needs docxtpl's own relationship
bookkeeping), ``replace_pic``/``replace_media``. Use ``DocxTemplate`` directly for those.

Decisions:

* Jinja runs in a :class:`~jinja2.sandbox.SandboxedEnvironment` with ``autoescape=True``:
  organisations upload their own templates, and without autoescape a value such as
  ``Dupont & Fils <SCM>`` silently truncates the document. Unsafe attribute access
  (``''.__class__``), unsafe ``str.format`` and huge repetitions (``'x' * 10**9``) raise a
  :class:`TemplateError` saying the template tried a forbidden operation.
* Undefined variables are strict: printing, testing (``{% if x %}``), iterating or reading an
  attribute of a missing variable raises a :class:`TemplateError` naming it. Only ``is defined``
  is allowed. Our contexts therefore always carry every documented key, ``None`` when empty.
  Loose undefined would print an empty string in a receipt for a typo in an uploaded template.
* A rendered part must be well-formed XML: a template whose tags cut the Word structure in a
  way that produces broken XML raises :class:`TemplateError` instead of a file Word cannot open
  (docxtpl parses with ``recover=True`` and silently drops content).

Thread safety: a :class:`DocumentTemplate` is immutable once compiled; renders keep their
state in a :class:`contextvars.ContextVar`, so one compiled template can serve several threads.
"""
from backoffice.documents.engine.archives import render_zip
from backoffice.documents.engine.environment import FILTERS, MAX_EXPONENT, MAX_REPEAT, make_environment
from backoffice.documents.engine.pdf import convert_to_pdf, pdf_available
from backoffice.documents.engine.rendering import (
    MAX_ENTRIES,
    MAX_TEMPLATE_BYTES,
    MAX_UNCOMPRESSED_BYTES,
    DocumentImage,
    DocumentTemplate,
    cached_template,
)
from backoffice.documents.engine.validation import ValidationReport, validate
from backoffice.documents.errors import DocumentError, PdfConversionError, RenderError, TemplateError

__all__ = [
    "DocumentError",
    "TemplateError",
    "RenderError",
    "PdfConversionError",
    "DocumentTemplate",
    "DocumentImage",
    "ValidationReport",
    "validate",
    "render_zip",
    "convert_to_pdf",
    "pdf_available",
    "cached_template",
    "make_environment",
    "FILTERS",
    "MAX_TEMPLATE_BYTES",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_ENTRIES",
    "MAX_REPEAT",
    "MAX_EXPONENT",
]
