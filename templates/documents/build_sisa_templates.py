"""Build the SISA Word template of templates/documents/ with python-docx.

Run from the repository root, then commit the .docx file::

    .venv/bin/python templates/documents/build_sisa_templates.py

Same conventions as ``build_templates.py``: every Jinja tag is one run. The context is built by
``backoffice.sisa.documents.statement_context`` (variables in ``STATEMENT_VARIABLES``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from docx_helpers import add_para, build_all, fill_cell, letterhead  # noqa: E402


def build_sisa_statement(path: Path) -> None:
    """Relevé individuel de répartition: the associate, his presence, one row per key, the total."""
    doc = letterhead("{{ organisation.name }} — Répartition {{ distribution.year }}", sender=True)
    add_para(doc, "Relevé individuel de répartition de la rémunération d'équipe {{ distribution.year }}",
             style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "{{ associate.name }} — {{ associate.profession }}", bold=True)
    add_para(doc, "Version {{ distribution.version }} validée le {{ distribution.frozen_on|date_fr }} "
                  "(clés : {{ distribution.scenario }}){%if distribution.supersedes %}, qui remplace la version "
                  "{{ distribution.supersedes }}{% endif %}.")
    add_para(doc, "Montant réparti entre les associés : {{ distribution.distributable|money }}.")
    add_para(doc, "Votre présence : {{ presence.days }} jours d'associé dans l'année, {{ presence.hours }} heures "
                  "de coordination, {{ presence.points }} points de missions.", space_before=6)
    table = doc.add_table(rows=4, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Clé", "%", "Base", "Montant de la clé", "Votre part")):
        fill_cell(cell, text, bold=True)
    fill_cell(table.rows[1].cells[0], "{%tr for key in keys %}")
    row = table.rows[2].cells
    fill_cell(row[0], "{{ key.label }}")
    fill_cell(row[1], "{{ key.percentage }} %")
    fill_cell(row[2], "{{ key.basis }}")
    fill_cell(row[3], "{{ key.amount|money }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(row[4], "{{ key.share|money }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    add_para(doc, "Total de votre part : {{ total|money }}, soit {{ total|money_words }}.", bold=True, space_before=10)
    add_para(doc, "Comment ce montant est calculé", bold=True, space_before=10)
    add_para(doc, "{{ method }}")
    add_para(doc, "Fait à {{ place }}, le {{ issued_on|date_fr }}.", space_before=18)
    doc.core_properties.title = "Relevé individuel de répartition"
    doc.save(path)


def build_sisa_certificate(path: Path) -> None:
    """Attestation annuelle: what the associate received in the calendar year, for his accountant."""
    doc = letterhead("{{ organisation.name }} — Attestation {{ year }}", sender=True)
    add_para(doc, "SIREN {{ organisation.siren }}")
    add_para(doc, "Attestation des sommes versées en {{ year }}", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "La société atteste avoir versé en {{ year }} à {{ associate.name }} ({{ associate.profession }}"
                  "{%if associate.rpps %}, RPPS {{ associate.rpps }}{% endif %}), son associé, au titre de la "
                  "répartition de la rémunération d'équipe (ACI) entre les associés, les sommes suivantes :")
    table = doc.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Répartition", "Versée le", "Montant")):
        fill_cell(cell, text, bold=True)
    fill_cell(table.rows[1].cells[0], "{%tr for payment in payments %}")
    row = table.rows[2].cells
    fill_cell(row[0], "ACI {{ payment.year }}, version {{ payment.version }}")
    fill_cell(row[1], "{{ payment.paid_on|date_fr }}")
    fill_cell(row[2], "{{ payment.amount|money }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    add_para(doc, "Total versé en {{ year }} : {{ total|money }}, soit {{ total|money_words }}.", bold=True,
             space_before=10)
    add_para(doc, "Attestation établie pour servir et valoir ce que de droit, notamment auprès de son expert-comptable "
                  "pour la déclaration de ses revenus professionnels.", space_before=6)
    add_para(doc, "Fait à {{ place }}, le {{ issued_on|date_fr }}.", space_before=18)
    add_para(doc, "Pour la société, le gérant")
    doc.core_properties.title = "Attestation des sommes versées"
    doc.save(path)


TEMPLATES = {"sisa_statement.docx": build_sisa_statement, "sisa_certificate.docx": build_sisa_certificate}


def main(argv=None) -> int:
    return build_all(TEMPLATES, argv, HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
