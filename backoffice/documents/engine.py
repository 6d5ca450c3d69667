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
from __future__ import annotations

import contextvars
import functools
import html
import io
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from xml.sax.saxutils import quoteattr

import jinja2
from docx.image.image import Image as _DocxImage
from docx.opc.constants import RELATIONSHIP_TYPE as _RT
from docx.oxml.shape import CT_Inline
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined, meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from lxml import etree

from backoffice import formatting
from backoffice.documents.errors import (
    DocumentError,
    PdfConversionError,
    RenderError,
    TemplateError,
)
from backoffice.documents.ziparchive import RawEntry, ZipWriter, read_raw_entry

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
]

# --- limits for uploaded templates ---------------------------------------------------------
MAX_TEMPLATE_BYTES = 20 * 1024 * 1024  # the .docx file itself
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # all parts once inflated (zip bombs)
MAX_ENTRIES = 2000
MAX_REPEAT = 100_000  # longest string/list a template may build with "*"
MAX_EXPONENT = 100

_CT_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
}
_CT_STORIES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml",
}
_CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
_CONTENT_TYPES = "[Content_Types].xml"
_NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W_BODY, _W_P, _W_T = f"{{{_NS_W}}}body", f"{{{_NS_W}}}p", f"{{{_NS_W}}}t"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_EMPTY_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Relationships '
               'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
               '</Relationships>')
_BODY_MARK = "MAILLAGE-BODY-7f3a"

# The same parser settings as python-docx (what docxtpl reads templates with), plus no network.
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
_THREAD = threading.local()


def _strict_parser() -> etree.XMLParser:
    # One parser per thread: a shared lxml parser serialises the threads that use it.
    parser = getattr(_THREAD, "parser", None)
    if parser is None:
        parser = _THREAD.parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return parser


# docxtpl's helpers do not use the instance state we rely on (patch_xml, resolve_listing,
# fix_tables): one bare instance serves them all.
_DOCXTPL = DocxTemplate(None)

_TAG_IN_XML = re.compile(r"\{[{%#]|\{_[{%]|[}%]_\}")
_TAG_TEXT = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_XML_TAG = re.compile(r"<[^>]*>")
_DOCPR_ID = re.compile(r'(<wp:docPr\b[^>]*?\sid=")[^"]*(")')
_BLOCK_TAG = re.compile(r"{%-?\s*(\w+)")
_BLOCK_OPENERS = {"for", "if", "macro", "call", "filter", "with", "block", "autoescape", "raw"}
_TABLE_FIX_HINT = re.compile(r"{%-?\s*(?:tc\s|colspan\s|cellbg\s|hm\s*-?%}|vm\s*-?%})")
_BAD_QUOTES = "«»‹›„"
_NBSPACES = "\u00a0\u202f"


# --- Jinja environment ---------------------------------------------------------------------

FILTERS: dict[str, Callable] = {
    "money": formatting.format_money,
    "money_plain": formatting.format_money_plain,
    "money_words": formatting.money_in_words,
    "date_fr": formatting.format_date_fr,
    "date_short": formatting.format_date_short,
}


class _DocumentEnvironment(SandboxedEnvironment):
    """Sandbox that also refuses to build huge strings or numbers (``'x' * 10**9``)."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError("exponent too large")
        elif operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    if len(seq) * count > MAX_REPEAT:
                        raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def make_environment() -> jinja2.Environment:
    """The Jinja environment documents are compiled in (sandboxed, autoescaped, strict)."""
    env = _DocumentEnvironment(autoescape=True, undefined=StrictUndefined)
    env.filters.update(FILTERS)
    return env


_ENV = make_environment()


# --- rendering state: where InlineImage/DocumentImage add their media -------------------------

_ACTIVE_RENDER: contextvars.ContextVar[_RenderSession | None] = contextvars.ContextVar(
    "maillage_document_render", default=None)


def _active_session() -> _RenderSession:
    session = _ACTIVE_RENDER.get()
    if session is None:
        raise DocumentError("Une image de document ne peut être produite que pendant le rendu.")
    return session


class _ActiveRenderTpl:
    """Stands for docxtpl's ``tpl`` in :class:`DocumentImage`: the render in progress."""

    @property
    def current_rendering_part(self):
        return _active_session().current_rendering_part


_ACTIVE_TPL = _ActiveRenderTpl()


class DocumentImage(InlineImage):
    """An inline image (e.g. the organisation's logo) for a context value: ``{{ logo }}``.

    ``source`` is a path, bytes or a binary file object; ``width``/``height`` are python-docx
    lengths (``docx.shared.Mm(30)``); give one to keep the aspect ratio. The image is read once
    here, so one DocumentImage can go into thousands of contexts.
    """

    def __init__(self, source, width=None, height=None, anchor=None):
        if isinstance(source, (bytes, bytearray)):
            blob = bytes(source)
        elif hasattr(source, "read"):
            blob = source.read()
        else:
            with open(source, "rb") as fh:
                blob = fh.read()
        try:
            self.image = _DocxImage.from_blob(blob)
        except Exception as exc:  # python-docx raises several types for unknown formats
            raise DocumentError(f"Image illisible ou format non pris en charge : {exc}") from exc
        super().__init__(_ACTIVE_TPL, self.image, width=width, height=height, anchor=anchor)


class _PartRelations:
    """New relationships (images, hyperlinks) added to one part during one render."""

    def __init__(self, session: _RenderSession, partname: str):
        self.session = session
        self.partname = partname
        self.rels_name = _rels_name(partname)
        self.used_ids = set(session.template._rel_ids.get(self.rels_name, ()))
        self.new: list[str] = []
        self.by_target: dict[tuple[str, str], str] = {}

    def relate_to(self, target: str, reltype: str, is_external: bool = False) -> str:
        """Same contract as python-docx ``Part.relate_to`` (used by docxtpl's InlineImage)."""
        key = (target, reltype)
        if key in self.by_target:
            return self.by_target[key]
        number = 1
        while f"rId{number}" in self.used_ids:
            number += 1
        rid = f"rId{number}"
        self.used_ids.add(rid)
        mode = ' TargetMode="External"' if is_external else ""
        self.new.append(f'<Relationship Id="{rid}" Type={quoteattr(reltype)} '
                        f'Target={quoteattr(target)}{mode}/>')
        self.by_target[key] = rid
        self.session.touched_rels[self.rels_name] = self
        return rid

    def new_pic_inline(self, image_descriptor, width=None, height=None):
        """Same contract as python-docx ``StoryPart.new_pic_inline``."""
        image, media_name = self.session.add_image(image_descriptor)
        target = posixpath.relpath(media_name, posixpath.dirname(self.partname))
        rid = self.relate_to(target, _RT.IMAGE)
        cx, cy = image.scaled_dimensions(width, height)
        # The id is renumbered with the other drawings of the part after rendering.
        return CT_Inline.new_pic_inline(1, rid, image.filename, cx, cy)


class _RenderSession:
    def __init__(self, template: DocumentTemplate):
        self.template = template
        self.current_rendering_part: _PartRelations | None = None
        self.touched_rels: dict[str, _PartRelations] = {}
        self.media_by_hash: dict[str, tuple[_DocxImage, str]] = {}
        self.new_media: list[tuple[str, bytes]] = []
        self.new_media_numbers: set[int] = set()
        self.new_defaults: dict[str, str] = {}
        self.next_docpr_id = 1000  # docxtpl numbers the body's drawings from 1001

    def add_image(self, descriptor) -> tuple[_DocxImage, str]:
        if isinstance(descriptor, _DocxImage):
            image = descriptor
        elif isinstance(descriptor, (bytes, bytearray)):
            image = _DocxImage.from_blob(bytes(descriptor))
        else:
            image = _DocxImage.from_file(descriptor)
        if image.sha1 in self.media_by_hash:
            return self.media_by_hash[image.sha1]
        ext = image.ext.lower()
        number = 1
        while number in self.template._media_numbers or number in self.new_media_numbers:
            number += 1
        self.new_media_numbers.add(number)
        name = f"word/media/image{number}.{ext}"
        self.new_media.append((name, image.blob))
        if ext not in self.template._default_exts:
            self.new_defaults[ext] = image.content_type
        self.media_by_hash[image.sha1] = (image, name)
        return image, name

    def renumber_drawings(self, xml: str) -> str:
        def next_id(m):
            self.next_docpr_id += 1
            return f"{m.group(1)}{self.next_docpr_id}{m.group(2)}"
        return _DOCPR_ID.sub(next_id, xml)


# --- compiled parts ------------------------------------------------------------------------

@dataclass
class _CompiledPart:
    name: str
    template: jinja2.Template
    ast: jinja2.nodes.Template
    source: str
    prefix: str = ""  # for the main document: everything around <w:body>…</w:body>
    suffix: str = ""
    fix_tables: bool = False
    is_body: bool = False

    def render(self, context: Mapping[str, Any], session: _RenderSession) -> bytes:
        try:
            xml = self.template.render(context)
        except DocumentError:
            raise
        except Exception as exc:
            raise _render_error(exc, self) from exc
        # docxtpl's render_xml_part post-processing, in the same order.
        xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
        if "_" in xml:
            xml = (xml.replace("{_{", "{{").replace("}_}", "}}")
                   .replace("{_%", "{%").replace("%_}", "%}"))
        if "\n" in xml or "\t" in xml or "\a" in xml or "\f" in xml:
            xml = _resolve_listing(xml)
        if self.fix_tables:
            tree = _DOCXTPL.fix_tables(xml)
            xml = etree.tostring(tree, encoding="unicode")
        if "<wp:docPr" in xml:
            xml = session.renumber_drawings(xml)
        data = (_XML_DECL + self.prefix + xml + self.suffix).encode("utf-8")
        try:
            etree.fromstring(data, _strict_parser())
        except etree.XMLSyntaxError as exc:
            raise TemplateError(
                "les balises coupent la structure du document (par exemple une balise {%p %} "
                "ou {%tr %} qui n'est pas seule dans son paragraphe ou sa ligne, ou un bloc "
                "ouvert dans un tableau et fermé dehors)", part=self.name, detail=str(exc)
            ) from None
        return data


_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)  # docxtpl's own pattern
_LISTING_CHARS = re.compile(r"[\n\t\a\f]")


def _resolve_listing(xml: str) -> str:
    """docxtpl's ``resolve_listing`` (tabs, line and page breaks from values), applied only
    to the paragraphs that need it: same result, without running its nested regexes over every
    paragraph of the document."""
    def paragraph(m):
        text = m.group(0)
        return _DOCXTPL.resolve_listing(text) if _LISTING_CHARS.search(text) else text
    return _PARAGRAPH.sub(paragraph, xml)


class DocumentTemplate:
    """A .docx template compiled once; :meth:`render` produces a .docx per context.

    Build it with :meth:`from_path` or :meth:`from_bytes`; broken templates raise
    :class:`TemplateError` at construction, with a French message quoting the faulty tag.
    """

    def __init__(self, data: bytes, name: str | None = None, *, _errors: list | None = None):
        self.name = name
        self._entries: list[RawEntry] = []
        self._parts: dict[str, _CompiledPart] = {}
        self._texts: dict[str, str] = {}  # inflated XML kept for parts a render may change
        self._rel_ids: dict[str, set[str]] = {}
        self._media_numbers: set[int] = set()
        self._default_exts: set[str] = set()
        self._load(data, _errors)

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> DocumentTemplate:
        with open(path, "rb") as fh:
            return cls(fh.read(), name=os.fspath(path))

    @classmethod
    def from_bytes(cls, data: bytes, name: str | None = None) -> DocumentTemplate:
        return cls(bytes(data), name=name)

    # -- loading --
    def _load(self, data: bytes, errors: list | None) -> None:
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateError("le fichier est trop volumineux pour un modèle de document")
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise TemplateError("le fichier n'est pas un document Word (.docx) valide") from None
        with archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
                raise TemplateError("le fichier est trop volumineux pour un modèle de document")
            if any(i.flag_bits & 0x1 for i in infos):
                raise TemplateError("le document est protégé par un mot de passe")
            names = {i.filename for i in infos}
            if _CONTENT_TYPES not in names:
                raise TemplateError("le fichier n'est pas un document Word (.docx) valide")
            contents = {}
            try:
                for info in infos:
                    contents[info.filename] = archive.read(info)  # checks every CRC once
                    self._entries.append(read_raw_entry(data, info))
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as exc:
                raise TemplateError("le fichier .docx est endommagé", detail=str(exc)) from None

        types, defaults = _content_types(contents[_CONTENT_TYPES])
        self._default_exts = set(defaults)
        self._texts[_CONTENT_TYPES] = contents[_CONTENT_TYPES].decode("utf-8")
        self._media_numbers = {
            int(m.group(1)) for n in names
            if (m := re.fullmatch(r"word/media/image(\d+)\.\w+", n))}
        main_found = False
        for info in infos:
            partname = info.filename
            ctype = types.get(partname) or defaults.get(partname.rsplit(".", 1)[-1].lower())
            if ctype in _CT_MAIN:
                main_found = True
            if ctype in _CT_MAIN or ctype in _CT_STORIES:
                rels = _rels_name(partname)
                if rels in contents:
                    text = contents[rels].decode("utf-8")
                    self._texts[rels] = text
                    self._rel_ids[rels] = set(re.findall(r"\bId=[\"']([^\"']+)[\"']", text))
            if ctype in _CT_MAIN or ctype in _CT_STORIES or ctype == _CT_CORE:
                try:
                    part = _compile_part(partname, contents[partname], is_main=ctype in _CT_MAIN)
                except TemplateError as exc:
                    if errors is None:
                        raise
                    errors.append(exc)
                    continue
                if part is not None:
                    self._parts[partname] = part
        if not main_found:
            raise TemplateError("le fichier n'est pas un document Word (.docx) valide")

    # -- introspection --
    def undeclared_variables(self) -> set[str]:
        """Names the template reads from the context (loop variables excluded)."""
        names: set[str] = set()
        for part in self._parts.values():
            names |= meta.find_undeclared_variables(part.ast)
        return names - set(_ENV.globals)

    @property
    def current_rendering_part(self):
        """Lets docxtpl's ``InlineImage(document_template, path)`` work during a render."""
        return _active_session().current_rendering_part

    # -- rendering --
    def render(self, context: Mapping[str, Any]) -> bytes:
        """Render ``context`` and return the .docx file as bytes."""
        buffer = io.BytesIO()
        self.render_to(context, buffer)
        return buffer.getvalue()

    def render_to(self, context: Mapping[str, Any], target) -> None:
        """Render ``context`` into ``target``: a path or a binary file object (written
        sequentially, never sought: a member of an outer ZIP is fine)."""
        rendered, session = self._render_parts(context)
        if isinstance(target, (str, os.PathLike)):
            with open(target, "wb") as fh:
                self._write(fh, rendered, session)
        else:
            self._write(target, rendered, session)

    def _render_parts(self, context):
        if not isinstance(context, Mapping):
            raise TypeError("context must be a mapping")
        session = _RenderSession(self)
        token = _ACTIVE_RENDER.set(session)
        try:
            rendered = {}
            for name, part in self._parts.items():
                session.current_rendering_part = _PartRelations(session, name)
                rendered[name] = part.render(context, session)
        finally:
            _ACTIVE_RENDER.reset(token)
        return rendered, session

    def _write(self, fp, rendered: dict[str, bytes], session: _RenderSession) -> None:
        writer = ZipWriter(fp)
        pending_rels = dict(session.touched_rels)
        for entry in self._entries:
            name = entry.name
            if name in rendered:
                writer.add(name, rendered[name])
            elif name == _CONTENT_TYPES and session.new_defaults:
                writer.add(name, _add_defaults(self._texts[name], session.new_defaults))
            elif name in pending_rels:
                writer.add(name, _add_relations(self._texts[name], pending_rels.pop(name).new))
            else:
                writer.add_raw(entry)
        for name, relations in pending_rels.items():  # parts that had no relationships yet
            writer.add(name, _add_relations(_EMPTY_RELS, relations.new))
        for name, blob in session.new_media:
            writer.add(name, blob, compress=False)  # images are compressed already
        writer.close()


# --- compile helpers -----------------------------------------------------------------------

def _content_types(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    root = etree.fromstring(data, _PARSER)
    overrides, defaults = {}, {}
    for el in root:
        if el.tag == f"{{{_NS_CT}}}Override":
            overrides[el.get("PartName", "").lstrip("/")] = el.get("ContentType")
        elif el.tag == f"{{{_NS_CT}}}Default":
            defaults[el.get("Extension", "").lower()] = el.get("ContentType")
    return overrides, defaults


def _rels_name(partname: str) -> str:
    folder, base = posixpath.split(partname)
    return posixpath.join(folder, "_rels", base + ".rels")


def _add_relations(rels_xml: str, new: list[str]) -> bytes:
    end = rels_xml.rindex("</Relationships>")
    return (rels_xml[:end] + "".join(new) + rels_xml[end:]).encode("utf-8")


def _add_defaults(types_xml: str, new: dict[str, str]) -> bytes:
    start = types_xml.index(">", types_xml.index("<Types")) + 1
    added = "".join(f'<Default Extension={quoteattr(ext)} ContentType={quoteattr(ctype)}/>'
                    for ext, ctype in sorted(new.items()))
    return (types_xml[:start] + added + types_xml[start:]).encode("utf-8")


def _compile_part(partname: str, data: bytes, *, is_main: bool) -> _CompiledPart | None:
    """Pre-process one XML part like docxtpl and compile it; None when it has no tag."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise TemplateError("le fichier .docx est endommagé (XML illisible)", part=partname,
                            detail=str(exc)) from None
    prefix = suffix = ""
    if is_main:
        body = root.find(_W_BODY)
        if body is None:
            raise TemplateError("le document Word n'a pas de corps", part=partname)
        xml = etree.tostring(body, encoding="unicode")  # what docxtpl's get_xml() gives
        fix_tables = bool(_TABLE_FIX_HINT.search(_paragraph_text_all(xml)))
        if body.nsmap == root.nsmap and not fix_tables:
            # Serialised alone, <w:body> repeats the namespaces of <w:document>; spliced back
            # into the document they are redundant.
            first_end = xml.index(">")
            xml = re.sub(r'\s+xmlns(?::[\w.-]+)?="[^"]*"', "", xml[:first_end]) + xml[first_end:]
        if not _TAG_IN_XML.search(xml):
            return None
        _lint_paragraphs(body, partname)
        for child in list(body):
            body.remove(child)
        body.text = _BODY_MARK
        wrapper = etree.tostring(root, encoding="unicode")
        mark = wrapper.index(_BODY_MARK)
        prefix = wrapper[:wrapper.rindex("<", 0, mark)]
        suffix = wrapper[wrapper.index(">", mark) + 1:]
    else:
        xml = etree.tostring(root, encoding="unicode")
        if not _TAG_IN_XML.search(xml):
            return None
        _lint_paragraphs(root, partname)
        fix_tables = False
    xml = _DOCXTPL.patch_xml(xml)
    source = re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)  # as docxtpl, for line numbers
    try:
        ast = _ENV.parse(source, filename=partname)
        _refuse_loader_tags(ast, source, partname)
        code = _ENV.compile(ast, name=partname, filename=partname)
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc, source, partname) from None
    template = _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None), None)
    return _CompiledPart(partname, template, ast, source, prefix, suffix, fix_tables, is_main)


def _refuse_loader_tags(ast, source: str, partname: str) -> None:
    """A document template stands alone: no include/extends/import (there is no loader, and
    Jinja would fail at render time with an obscure TypeError)."""
    for node in ast.find_all((jinja2.nodes.Include, jinja2.nodes.Extends, jinja2.nodes.Import,
                              jinja2.nodes.FromImport)):
        keyword = {"Include": "include", "Extends": "extends", "Import": "import",
                   "FromImport": "from"}[type(node).__name__]
        raise TemplateError(f"la balise « {keyword} » n'est pas permise dans un document",
                            near=_near(source, node.lineno, keyword), part=partname)


def _paragraph_text_all(xml: str) -> str:
    return html.unescape(_XML_TAG.sub("", xml))


def _lint_paragraphs(root, partname: str) -> None:
    """Check each paragraph's text for unclosed tags and French quotes inside tags.

    Done on the text as the user sees it in Word, before docxtpl's regexes: an unclosed
    ``{{`` would otherwise swallow everything up to the next ``}}`` of the document and Jinja
    would report an unrelated error far away.
    """
    texts: dict[Any, list[str]] = {}
    for t in root.iter(_W_T):
        paragraph = next((a for a in t.iterancestors(_W_P)), None)
        texts.setdefault(paragraph, []).append(t.text or "")
    for pieces in texts.values():
        text = "".join(pieces)
        if not _TAG_IN_XML.search(text):
            continue
        _lint_text(text, partname)


_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}


def _lint_text(text: str, partname: str) -> None:
    pos = 0
    while True:
        m = re.compile(r"\{[{%#]").search(text, pos)
        if not m:
            return
        opener = m.group(0)
        closer = _CLOSERS[opener]
        end = text.find(closer, m.end())
        next_open = re.compile(r"\{[{%#]").search(text, m.end())
        if end < 0 or (next_open and next_open.start() < end):
            stop = next_open.start() if next_open else len(text)
            near = text[m.start():stop].rstrip()
            raise TemplateError(f"balise non fermée (il manque « {closer} »)",
                                near=_shorten(near), part=partname)
        tag = text[m.start():end + 2]
        if any(q in tag for q in _BAD_QUOTES):
            raise TemplateError(
                "guillemets typographiques dans une balise : remplacez « » par des "
                "guillemets droits \" (désactivez la correction automatique de Word)",
                near=_shorten(tag), part=partname)
        if any(s in tag for s in _NBSPACES):
            raise TemplateError(
                "espace insécable dans une balise : retapez-la avec des espaces ordinaires",
                near=_shorten(tag), part=partname)
        pos = end + 2


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- error translation ---------------------------------------------------------------------

def _line_text(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    lines = source.split("\n")
    if not 1 <= lineno <= len(lines):
        return ""
    return html.unescape(_XML_TAG.sub("", lines[lineno - 1]))


def _near(source: str, lineno: int | None, hint: str | None = None) -> str | None:
    text = _line_text(source, lineno)
    tags = _TAG_TEXT.findall(text)
    if hint:
        for tag in tags:
            if hint in tag:
                return _shorten(tag)
    if tags:
        return _shorten(tags[0])
    return _shorten(text) or None


def _unclosed_block(source: str, keyword: str | None) -> str | None:
    stack: list[tuple[str, str]] = []
    for m in re.finditer(r"{%.*?%}", source, re.DOTALL):
        word = _BLOCK_TAG.match(m.group(0))
        if not word:
            continue
        kw = word.group(1)
        if kw in _BLOCK_OPENERS:
            stack.append((kw, m.group(0)))
        elif kw.startswith("end") and stack and stack[-1][0] == kw[3:]:
            stack.pop()
    for kw, tag in reversed(stack):
        if keyword is None or kw == keyword:
            return _shorten(html.unescape(tag))
    return None


def _syntax_error(exc: jinja2.TemplateSyntaxError, source: str, partname: str) -> TemplateError:
    msg = exc.message or ""
    low = msg.lower()
    near = _near(source, exc.lineno)
    if "unexpected end of template" in low:
        m = re.search(r"innermost block that needs to be closed is '(\w+)'", msg)
        if m:
            kw = m.group(1)
            return TemplateError(f"bloc « {kw} » jamais fermé : il manque {{% end{kw} %}}",
                                 near=_unclosed_block(source, kw), part=partname, detail=msg)
        return TemplateError("balise non fermée", near=near, part=partname, detail=msg)
    if m := re.match(r"no filter named '([^']+)'", msg, re.I):
        known = ", ".join(sorted(FILTERS))
        return TemplateError(f"filtre inconnu « {m.group(1)} » (filtres du modèle : {known})",
                             near=_near(source, exc.lineno, m.group(1)), part=partname,
                             detail=msg)
    if m := re.match(r"no test named '([^']+)'", msg, re.I):
        return TemplateError(f"test inconnu « {m.group(1)} »", near=near, part=partname,
                             detail=msg)
    if m := re.match(r"encountered unknown tag '(\w+)'", msg, re.I):
        tag = m.group(1)
        if tag in ("tr", "tc", "p", "r"):
            reason = (f"la balise {{%{tag} … %}} doit être seule dans "
                      + {"tr": "sa ligne de tableau", "tc": "sa cellule de tableau",
                         "p": "son paragraphe", "r": "son paragraphe"}[tag])
        elif tag.startswith("end") or tag in ("else", "elif"):
            reason = f"balise « {tag} » sans bloc ouvert correspondant"
        else:
            reason = f"balise inconnue « {tag} »"
        return TemplateError(reason, near=_near(source, exc.lineno, tag), part=partname,
                             detail=msg)
    if "unexpected char" in low and any(q in msg for q in _BAD_QUOTES + "‘’“”"):
        return TemplateError("guillemets typographiques dans une balise : utilisez des "
                             "guillemets droits \"", near=near, part=partname, detail=msg)
    return TemplateError("syntaxe incorrecte dans la balise", near=near, part=partname,
                         detail=msg)


def _template_lineno(exc: BaseException, filename: str) -> int | None:
    tb, lineno = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def _render_error(exc: Exception, part: _CompiledPart) -> DocumentError:
    lineno = _template_lineno(exc, part.name)
    msg = str(exc)
    if isinstance(exc, SecurityError) or (isinstance(exc, OverflowError) and "sandbox" in msg):
        return TemplateError("le modèle a tenté une opération interdite",
                             near=_near(part.source, lineno, "__"), part=part.name, detail=msg)
    if isinstance(exc, jinja2.UndefinedError):
        if m := re.match(r"'([^']+)' is undefined", msg):
            name = m.group(1)
            reason = f"variable inconnue « {name} »"
        elif m := re.match(r"'.+?' has no attribute '([^']+)'", msg):
            name = m.group(1)
            near = _near(part.source, lineno, name)
            path = re.search(r"([\w.]+)\." + re.escape(name) + r"\b", near or "")
            if path:
                reason = f"« {path.group(1)}.{name} » n'existe pas"
            else:
                reason = f"« {name} » n'existe pas pour cette variable"
            return TemplateError(reason, near=near, part=part.name, detail=msg)
        elif m := re.match(r"'?.+?'? has no element '?([^']+)'?$", msg):
            name = m.group(1)
            reason = f"l'élément « {name} » n'existe pas"
        else:
            name, reason = None, "valeur manquante"
        return TemplateError(reason, near=_near(part.source, lineno, name), part=part.name,
                             detail=msg)
    if isinstance(exc, jinja2.TemplateError):
        return TemplateError("instruction impossible à exécuter", near=_near(part.source, lineno),
                             part=part.name, detail=msg)
    # Our filters raise French messages (formatting.py); Python's own are English: say what
    # kind of problem it is and keep the detail for the logs.
    reason = msg if isinstance(exc, ValueError) and msg else "valeur invalide"
    return RenderError(reason, near=_near(part.source, lineno), part=part.name,
                       detail=f"{type(exc).__name__}: {msg}")


# --- validation ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate` found. ``ok`` is true when ``errors`` is empty."""

    errors: tuple[DocumentError, ...] = ()
    variables: frozenset[str] = frozenset()
    unexpected_variables: frozenset[str] = frozenset()
    template: DocumentTemplate | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def messages(self) -> list[str]:
        return [str(e) for e in self.errors]


def validate(template_bytes: bytes, expected_variables: Iterable[str] | None = None,
             sample_context: Mapping[str, Any] | None = None) -> ValidationReport:
    """Check an uploaded template without producing a document for anyone.

    Compiles every part (collecting one error per part), then, when ``expected_variables`` is
    given, reports each variable the template uses that is not among them (a typo in Word), and
    when ``sample_context`` is given, renders it once to catch errors only a render shows
    (``{{ member.nme }}``). Never raises for a bad template: everything is in the report.
    """
    errors: list[DocumentError] = []
    try:
        template = DocumentTemplate(bytes(template_bytes), _errors=errors)
    except TemplateError as exc:
        return ValidationReport(errors=tuple(errors) + (exc,))
    variables = frozenset(template.undeclared_variables())
    unexpected: frozenset[str] = frozenset()
    if expected_variables is not None:
        expected = set(expected_variables)
        unexpected = frozenset(variables - expected)
        known = ", ".join(sorted(expected))
        for name in sorted(unexpected):
            errors.append(TemplateError(
                f"variable inconnue « {name} » (variables disponibles : {known})"))
    if sample_context is not None and not errors:
        try:
            template.render(sample_context)
        except DocumentError as exc:
            errors.append(exc)
    return ValidationReport(tuple(errors), variables, unexpected, template)


@functools.lru_cache(maxsize=32)
def _cached(path: str, mtime_ns: int, size: int) -> DocumentTemplate:
    return DocumentTemplate.from_path(path)


def cached_template(path: str | os.PathLike) -> DocumentTemplate:
    """Compiled template for ``path``, compiled again only when the file changes."""
    stat = os.stat(path)
    return _cached(os.fspath(path), stat.st_mtime_ns, stat.st_size)


# --- bulk ----------------------------------------------------------------------------------

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


# --- PDF -----------------------------------------------------------------------------------

def pdf_available() -> bool:
    """Whether LibreOffice's ``soffice`` is on the PATH."""
    return shutil.which("soffice") is not None


def convert_to_pdf(docx_paths: Iterable[str | os.PathLike], outdir: str | os.PathLike,
                   *, timeout: float = 600, batch_size: int = 200) -> list[Path]:
    """Convert .docx files to PDF with LibreOffice and return the PDF paths, in order.

    Files are converted in batches (one ``soffice`` start-up, about 1.4 s, per batch), each
    call with its own throw-away profile: two conversions sharing a profile can produce no PDF
    and still exit 0. Every expected PDF is checked; a missing one raises
    :class:`PdfConversionError`.
    """
    paths = [Path(p) for p in docx_paths]
    if not paths:
        return []
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ValueError("two input files have the same name: their PDF would overwrite")
    missing_inputs = [p for p in paths if not p.is_file()]
    if missing_inputs:
        raise PdfConversionError(
            "Fichier introuvable pour la conversion en PDF : "
            + ", ".join(p.name for p in missing_inputs))
    soffice = shutil.which("soffice")
    if soffice is None:
        raise PdfConversionError("La conversion en PDF demande LibreOffice, qui n'est pas "
                                 "installé sur ce serveur.")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for start in range(0, len(paths), batch_size):
        batch = paths[start:start + batch_size]
        expected = [out / f"{p.stem}.pdf" for p in batch]
        for pdf in expected:  # an old PDF must not pass for a new one
            pdf.unlink(missing_ok=True)
        profile = Path(tempfile.gettempdir()) / f"lo_{uuid.uuid4().hex}"
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir", str(out),
               *[str(p) for p in batch]]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfConversionError(
                f"La conversion en PDF a dépassé {int(timeout)} secondes.") from None
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        failed = [p for p, pdf in zip(batch, expected)
                  if not pdf.is_file() or pdf.stat().st_size == 0]
        if failed:
            tail = (proc.stderr or b"").decode("utf-8", "replace").strip()[-500:]
            raise PdfConversionError(
                "LibreOffice n'a pas produit de PDF pour : " + ", ".join(p.name for p in failed)
                + f" (code {proc.returncode}{' : ' + tail if tail else ''})")
        results.extend(expected)
    return results

