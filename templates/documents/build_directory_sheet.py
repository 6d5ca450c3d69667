"""Build templates/documents/directory_sheet.docx (fiche annuaire) with python-docx.

Run from the repository root, then commit the .docx file::

    .venv/bin/python templates/documents/build_directory_sheet.py

Same conventions as ``build_templates.py`` (whose helpers it uses): every tag is one run.
The context is documented in ``backoffice/documents/services.py`` (``DIRECTORY_SHEET``) and
built by ``directory_sheet_context``; every variable is present, ``None`` when empty.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build_templates import _TAG, _cell, _new_document, _para  # noqa: E402


def build_directory_sheet(path: Path) -> None:
    """Fiche annuaire: one page per professional of the directory."""
    doc = _new_document()
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.add_run("{{ organisation.name }} — annuaire des professionnels")
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer = section.footer.paragraphs[0]
    for piece in _TAG.split("Fiche établie le {{ generated_on|date_fr }} par {{ organisation.name }}. "
                            "Signalez toute erreur au secrétariat."):
        if piece:
            footer.add_run(piece).font.size = Pt(8)
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER

    _para(doc, "{%p if logo %}")
    _para(doc, "{{ logo }}")
    _para(doc, "{%p endif %}")
    _para(doc, "Fiche annuaire", style="Title")
    _para(doc, "{{ professional.civility }} {{ professional.first_name }} {{ professional.last_name }}",
          bold=True, size=16)
    _para(doc, "{{ professional.profession }}", size=12)

    rows = [
        ("RPPS", "{{ professional.rpps or '—' }}"),
        ("ADELI", "{{ professional.adeli or '—' }}"),
        ("Lieu d'exercice", "{{ professional.site or '—' }}"),
        ("Adresse", "{{ professional.address or '—' }}"),
        ("Commune", "{{ professional.postcode or '' }} {{ professional.commune or '—' }}"),
        ("Téléphone", "{{ professional.phone or '—' }}"),
        ("Courriel", "{{ professional.email or '—' }}"),
    ]
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, value) in zip(table.rows, rows):
        row.cells[0].width, row.cells[1].width = Cm(5), Cm(11.5)
        _cell(row.cells[0], label, bold=True)
        _cell(row.cells[1], value)

    _para(doc, "{{ organisation.name }}", bold=True, space_before=24)
    _para(doc, "{{ organisation.address or '' }}")
    doc.core_properties.title = "Fiche annuaire"
    doc.save(path)


if __name__ == "__main__":
    target = HERE / "directory_sheet.docx"
    build_directory_sheet(target)
    print(f"written {target}")
