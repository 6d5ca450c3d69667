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
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_templates import _TAG, _cell, _new_document, _para  # noqa: E402


def build_cheque_deposit_slip(path: Path) -> None:
    """Bordereau de remise de chèques: the bank account, one row per cheque, the total in
    figures and in words, the depositor's signature."""
    doc = _new_document()
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    for piece in _TAG.split("{{ organisation.name }} — Bordereau n° {{ deposit.number }}"):
        if piece:
            header.add_run(piece)
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    _para(doc, "{%p if logo %}")
    _para(doc, "{{ logo }}")
    _para(doc, "{%p endif %}")
    _para(doc, "{{ organisation.name }}", bold=True, size=13)
    _para(doc, "{{ organisation.address }}")
    _para(doc, "Bordereau de remise de chèques", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "N° {{ deposit.number }} du {{ deposit.date|date_fr }}", align=WD_ALIGN_PARAGRAPH.CENTER)

    account = doc.add_table(rows=3, cols=2)
    account.style = "Table Grid"
    for row, (label, value) in zip(account.rows, [("Titulaire du compte", "{{ organisation.name }}"),
                                                   ("IBAN", "{{ account.iban }}"),
                                                   ("BIC", "{{ account.bic }}")]):
        _cell(row.cells[0], label, bold=True)
        _cell(row.cells[1], value)

    _para(doc, "", space_before=6)
    table = doc.add_table(rows=5, cols=6)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    titles = ("N°", "N° du chèque", "Banque", "Tireur", "Reçu le", "Montant")
    for cell, text in zip(table.rows[0].cells, titles):
        _cell(cell, text, bold=True)
    _cell(table.rows[1].cells[0], "{%tr for cheque in cheques %}")
    row = table.rows[2].cells
    _cell(row[0], "{{ cheque.position }}")
    _cell(row[1], "{{ cheque.number }}")
    _cell(row[2], "{{ cheque.bank }}")
    _cell(row[3], "{{ cheque.drawer }}")
    _cell(row[4], "{{ cheque.date|date_short }}")
    _cell(row[5], "{{ cheque.amount|money }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _cell(table.rows[3].cells[0], "{%tr endfor %}")
    total = table.rows[4].cells
    _cell(total[0], "Total : {{ deposit.count }} chèque(s)", bold=True)
    _cell(total[5], "{{ deposit.total|money }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    for column, width in zip(table.columns, (Cm(1), Cm(3), Cm(3.2), Cm(4.6), Cm(2.2), Cm(2.6))):
        for cell in column.cells:
            cell.width = width

    _para(doc, "Montant total de la remise : {{ deposit.total|money }}, soit {{ deposit.total|money_words }}.",
          space_before=10, bold=True)
    _para(doc, "Fait à {{ place }}, le {{ deposit.date|date_fr }}.", space_before=18)
    _para(doc, "Signature du remettant :", space_before=6)
    _para(doc, "{{ depositor }}", align=WD_ALIGN_PARAGRAPH.RIGHT, bold=True, space_before=36)
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            if run.font.size is None:
                run.font.size = Pt(10.5)
    doc.core_properties.title = "Bordereau de remise de chèques"
    doc.save(path)


TEMPLATES = {"cheque_deposit_slip.docx": build_cheque_deposit_slip}


def main(argv=None) -> int:
    outdir = Path(argv[0]) if argv else HERE
    outdir.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        build(outdir / name)
        print(outdir / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
