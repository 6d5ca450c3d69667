"""Build templates/documents/directory_sheet.docx (fiche annuaire) with python-docx.

Run from the repository root, then commit the .docx file::

    .venv/bin/python templates/documents/build_directory_sheet.py

Same conventions as ``build_templates.py`` (whose helpers it uses): every tag is one run.
The context is documented in ``backoffice/people/documents.py`` (``DIRECTORY_SHEET_VARIABLES``) and
built by ``directory_sheet_context``; every variable is present, ``None`` when empty.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Cm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from docx_helpers import add_para, fill_cell, letterhead  # noqa: E402


def build_directory_sheet(path: Path) -> None:
    """Fiche annuaire: one page per professional of the directory."""
    doc = letterhead("{{ organisation.name }} — annuaire des professionnels",
                     "Fiche établie le {{ generated_on|date_fr }} par {{ organisation.name }}. "
                     "Signalez toute erreur au secrétariat.")
    add_para(doc, "Fiche annuaire", style="Title")
    add_para(doc, "{{ professional.civility }} {{ professional.first_name }} {{ professional.last_name }}",
          bold=True, size=16)
    add_para(doc, "{{ professional.profession }}", size=12)

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
        fill_cell(row.cells[0], label, bold=True)
        fill_cell(row.cells[1], value)

    add_para(doc, "{{ organisation.name }}", bold=True, space_before=24)
    add_para(doc, "{{ organisation.address or '' }}")
    doc.core_properties.title = "Fiche annuaire"
    doc.save(path)


if __name__ == "__main__":
    target = HERE / "directory_sheet.docx"
    build_directory_sheet(target)
    print(f"written {target}")
