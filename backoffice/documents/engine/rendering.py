"""Compile a Word template once, render it many times: the Jinja environment's use, the
rendering state of images, the compiled parts, :class:`DocumentTemplate` and its checks while
compiling, and the cache of compiled templates. See the package docstring."""
from __future__ import annotations

import contextvars
import functools
import html
import io
import os
import posixpath
import re
import threading
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, Mapping
from xml.sax.saxutils import quoteattr

import jinja2
from docx.image.image import Image as _DocxImage
from docx.opc.constants import RELATIONSHIP_TYPE as _RT
from docx.oxml.shape import CT_Inline
from docxtpl import DocxTemplate, InlineImage
from jinja2 import meta
from lxml import etree

from backoffice.documents.engine.environment import make_environment
from backoffice.documents.engine.messages import (
    _BAD_QUOTES,
    _XML_TAG,
    _near,
    _render_error,
    _shorten,
    _syntax_error,
)
from backoffice.documents.errors import DocumentError, TemplateError
from backoffice.documents.ziparchive import RawEntry, ZipWriter, read_raw_entry

# --- limits for uploaded templates ---------------------------------------------------------
MAX_TEMPLATE_BYTES = 20 * 1024 * 1024  # the .docx file itself
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # all parts once inflated (zip bombs)
MAX_ENTRIES = 2000

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
_DOCPR_ID = re.compile(r'(<wp:docPr\b[^>]*?\sid=")[^"]*(")')
_TABLE_FIX_HINT = re.compile(r"{%-?\s*(?:tc\s|colspan\s|cellbg\s|hm\s*-?%}|vm\s*-?%})")
_NBSPACES = "\u00a0\u202f"


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


@functools.lru_cache(maxsize=32)
def _cached(path: str, mtime_ns: int, size: int) -> DocumentTemplate:
    return DocumentTemplate.from_path(path)


def cached_template(path: str | os.PathLike) -> DocumentTemplate:
    """Compiled template for ``path``, compiled again only when the file changes."""
    stat = os.stat(path)
    return _cached(os.fspath(path), stat.st_mtime_ns, stat.st_size)
