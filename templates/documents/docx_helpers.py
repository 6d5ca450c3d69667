"""python-docx helpers shared by the ``build_*.py`` scripts that write the Word templates.

Every Jinja tag is written as one whole run (``add_run("{{ member.last_name }}")``) so that Word
never splits it across runs.
"""
from __future__ import annotations

import re
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

# A tag is one run; text between tags is its own run.
TAG = re.compile(r"({{.*?}}|{%.*?%})")


def new_document():
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    # python-docx's default core properties say "python-docx": ours say what the file is.
    doc.core_properties.author = "Maillage"
    doc.core_properties.comments = ""
    return doc


def _add_runs(paragraph, text, *, bold=None, size=None):
    """One run per tag and per text between tags (``bold=None``: no run properties written)."""
    for piece in TAG.split(text):
        if not piece:
            continue
        run = paragraph.add_run(piece)
        if bold is not None:
            run.bold = bold or None
        if size:
            run.font.size = Pt(size)


def add_para(container, text="", *, style=None, bold=False, align=None, size=None,
             space_before=None):
    """Add a paragraph whose tags are each a single run."""
    paragraph = container.add_paragraph(style=style)
    if space_before is not None:
        paragraph.paragraph_format.space_before = Pt(space_before)
    _add_runs(paragraph, text, bold=bold, size=size)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def fill_cell(cell, text, *, bold=False, align=None):
    paragraph = cell.paragraphs[0]
    _add_runs(paragraph, text, bold=bold)
    if align is not None:
        paragraph.alignment = align


def loop_table(doc, headers, loop, cells, right=()):
    """A table of a header row, then one row per item ``r`` of ``loop`` (``{%tr for … %}`` rows
    around the row of ``cells``); the columns whose index is in ``right`` aligned right."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        fill_cell(cell, text, bold=True)
    fill_cell(table.rows[1].cells[0], f"{{%tr for r in {loop} %}}")
    for index, (cell, text) in enumerate(zip(table.rows[2].cells, cells)):
        fill_cell(cell, text, align=WD_ALIGN_PARAGRAPH.RIGHT if index in right else None)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    return table


def set_header(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT):
    """The page header: ``text`` (aligned right unless told)."""
    header = doc.sections[0].header.paragraphs[0]
    _add_runs(header, text)
    if align is not None:
        header.alignment = align


def set_footer(doc, text, align=WD_ALIGN_PARAGRAPH.CENTER):
    """The page footer: ``text`` in small type (centred unless told)."""
    footer = doc.sections[0].footer.paragraphs[0]
    _add_runs(footer, text, size=8)
    if align is not None:
        footer.alignment = align


def letterhead(header, footer=None, *, sender=False):
    """A new document with its page header (and footer), then the organisation's logo when it has
    one (the context's ``logo``: an image, or None) and, with ``sender``, its name and address."""
    doc = new_document()
    set_header(doc, header)
    if footer is not None:
        set_footer(doc, footer)
    add_para(doc, "{%p if logo %}")
    add_para(doc, "{{ logo }}")
    add_para(doc, "{%p endif %}")
    if sender:
        add_para(doc, "{{ organisation.name }}", bold=True, size=13)
        add_para(doc, "{{ organisation.address }}")
    return doc


def build_all(templates, argv, default_dir: Path) -> int:
    """Write each ``{file name: build function}`` into ``argv[0]`` (or ``default_dir``)."""
    outdir = Path(argv[0]) if argv else default_dir
    outdir.mkdir(parents=True, exist_ok=True)
    for name, build in templates.items():
        build(outdir / name)
        print(outdir / name)
    return 0


def finish(doc, path: Path, title: str, size: float = 10.5) -> None:
    """Give every run without its own size ``size`` points, set the title, save to ``path``."""
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            if run.font.size is None:
                run.font.size = Pt(size)
    doc.core_properties.title = title
    doc.save(path)
