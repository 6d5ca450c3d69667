"""French messages for template errors: what Jinja, the sandbox or a filter said, turned into
« bloc « if » jamais fermé », « variable inconnue « x » »… with the text near the fault."""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import jinja2
from jinja2.sandbox import SecurityError

from backoffice.documents.engine.environment import FILTERS
from backoffice.documents.errors import DocumentError, RenderError, TemplateError

if TYPE_CHECKING:
    from backoffice.documents.engine.rendering import _CompiledPart

_TAG_TEXT = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_XML_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(r"{%-?\s*(\w+)")
_BLOCK_OPENERS = {"for", "if", "macro", "call", "filter", "with", "block", "autoescape", "raw"}
_BAD_QUOTES = "«»‹›„"


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
