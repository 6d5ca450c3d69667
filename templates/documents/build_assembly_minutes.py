"""Build templates/documents/assembly_minutes.docx (procès-verbal d'assemblée générale) with python-docx.

Run from the repository root, then commit the .docx file::

    .venv/bin/python templates/documents/build_assembly_minutes.py

Same conventions as ``build_templates.py``: every tag is one run. The context is documented in
``backoffice/assemblies/documents.py`` (``MINUTES_VARIABLES``), built by
``backoffice.assemblies.minutes.minutes_context``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from docx_helpers import add_para, fill_cell, new_document, set_footer, set_header  # noqa: E402


def build_assembly_minutes(path: Path) -> None:
    doc = new_document()
    set_header(doc, "{{ organisation.name }} — procès-verbal")
    set_footer(doc, "{{ organisation.name }} — {{ assembly.title }}")
    add_para(doc, "{%p if logo %}")
    add_para(doc, "{{ logo }}")
    add_para(doc, "{%p endif %}")
    add_para(doc, "Procès-verbal de l'{{ assembly.kind|lower }}", style="Title")
    add_para(doc, "{{ assembly.title }} ({{ assembly.convocation }} convocation)", bold=True)
    add_para(doc, "Le {{ assembly.date|date_fr }} à {{ assembly.time }}, les membres de {{ organisation.name }} se "
                  "sont réunis{% if assembly.place %} à {{ assembly.place }}{% endif %}"
                  "{% if assembly.video_link %}, et en visioconférence{% endif %}, sur convocation.")
    add_para(doc, "Présences et quorum", style="Heading 1")
    add_para(doc, "Votants inscrits (à jour de cotisation au {{ assembly.cut_off|date_fr }}) : {{ attendance.voters }}"
                  "{% if attendance.weight_note %} ({{ attendance.weight_note }}){% endif %}.")
    add_para(doc, "Présents : {{ attendance.present }} ; représentés : {{ attendance.represented }} ; "
                  "total : {{ attendance.counted }}.")
    add_para(doc, "Règle de quorum : {{ quorum.rule }}. {{ quorum.sentence }}")
    add_para(doc, "Résolutions", style="Heading 1")
    add_para(doc, "{%p for r in resolutions %}")
    add_para(doc, "Résolution {{ r.position }} : {{ r.title }}", bold=True, space_before=8)
    add_para(doc, "{{ r.text }}")
    add_para(doc, "Vote {{ r.ballot }} ; règle : {{ r.majority }}.")
    add_para(doc, "Pour : {{ r.votes_for }} — Contre : {{ r.votes_against }} — Abstentions : {{ r.abstentions }}.")
    add_para(doc, "Résolution {{ r.result|lower }}.", bold=True)
    add_para(doc, "{%p endfor %}")
    add_para(doc, "Feuille de présence", style="Heading 1")
    table = doc.add_table(rows=4, cols=4)
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, ("Membre", "Collège", "Présence", "Pouvoirs portés")):
        fill_cell(cell, label, bold=True)
    fill_cell(table.rows[1].cells[0], "{%tr for p in present %}")
    for cell, value in zip(table.rows[2].cells, ("{{ p.name }}", "{{ p.college }}", "{{ p.mode }}", "{{ p.proxies }}")):
        fill_cell(cell, value)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    add_para(doc, "Fait à {{ organisation.city }}, le {{ issued_on|date_fr }}.", space_before=24)
    signatures = doc.add_table(rows=2, cols=2)
    fill_cell(signatures.rows[0].cells[0], "Le président", bold=True)
    fill_cell(signatures.rows[0].cells[1], "Le secrétaire", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(signatures.rows[1].cells[0], "{{ president }}")
    fill_cell(signatures.rows[1].cells[1], "{{ secretary }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.core_properties.title = "Procès-verbal d'assemblée générale"
    doc.save(path)


if __name__ == "__main__":
    target = HERE / "assembly_minutes.docx"
    build_assembly_minutes(target)
    print(f"written {target}")
