"""Build the membership Word templates of templates/documents/ with python-docx.

Run from the repository root, then commit the .docx files::

    .venv/bin/python templates/documents/build_membership_templates.py

Same conventions as ``build_templates.py`` (whose helpers are reused): every Jinja tag is one
run, so that Word never splits it. The context is built by
``backoffice.membership.deposits.deposit_context``; with the engine's strict undefined every
variable below is always present.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from docx_helpers import add_para, build_all, fill_cell, finish, letterhead  # noqa: E402


def build_cheque_deposit_slip(path: Path) -> None:
    """Bordereau de remise de chèques: the bank account, one row per cheque, the total in
    figures and in words, the depositor's signature."""
    doc = letterhead("{{ organisation.name }} — Bordereau n° {{ deposit.number }}", sender=True)
    add_para(doc, "Bordereau de remise de chèques", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "N° {{ deposit.number }} du {{ deposit.date|date_fr }}", align=WD_ALIGN_PARAGRAPH.CENTER)

    account = doc.add_table(rows=3, cols=2)
    account.style = "Table Grid"
    for row, (label, value) in zip(account.rows, [("Titulaire du compte", "{{ organisation.name }}"),
                                                   ("IBAN", "{{ account.iban }}"),
                                                   ("BIC", "{{ account.bic }}")]):
        fill_cell(row.cells[0], label, bold=True)
        fill_cell(row.cells[1], value)

    add_para(doc, "", space_before=6)
    table = doc.add_table(rows=5, cols=6)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    titles = ("N°", "N° du chèque", "Banque", "Tireur", "Reçu le", "Montant")
    for cell, text in zip(table.rows[0].cells, titles):
        fill_cell(cell, text, bold=True)
    fill_cell(table.rows[1].cells[0], "{%tr for cheque in cheques %}")
    row = table.rows[2].cells
    fill_cell(row[0], "{{ cheque.position }}")
    fill_cell(row[1], "{{ cheque.number }}")
    fill_cell(row[2], "{{ cheque.bank }}")
    fill_cell(row[3], "{{ cheque.drawer }}")
    fill_cell(row[4], "{{ cheque.date|date_short }}")
    fill_cell(row[5], "{{ cheque.amount|money }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    total = table.rows[4].cells
    fill_cell(total[0], "Total : {{ deposit.count }} chèque(s)", bold=True)
    fill_cell(total[5], "{{ deposit.total|money }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    for column, width in zip(table.columns, (Cm(1), Cm(3), Cm(3.2), Cm(4.6), Cm(2.2), Cm(2.6))):
        for cell in column.cells:
            cell.width = width

    add_para(doc, "Montant total de la remise : {{ deposit.total|money }}, soit {{ deposit.total|money_words }}.",
          space_before=10, bold=True)
    add_para(doc, "Fait à {{ place }}, le {{ deposit.date|date_fr }}.", space_before=18)
    add_para(doc, "Signature du remettant :", space_before=6)
    add_para(doc, "{{ depositor }}", align=WD_ALIGN_PARAGRAPH.RIGHT, bold=True, space_before=36)
    finish(doc, path, "Bordereau de remise de chèques")


TEMPLATES = {"cheque_deposit_slip.docx": build_cheque_deposit_slip}


def main(argv=None) -> int:
    return build_all(TEMPLATES, argv, HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
