"""Build the banking Word template of templates/documents/ with python-docx.

Run from the repository root, then commit the .docx file::

    .venv/bin/python templates/documents/build_banking_templates.py

Same conventions as ``build_templates.py``: every Jinja tag is one run. The context is built by
``backoffice.banking.documents.document_context`` (variables in ``VARIABLES``); amounts arrive
as text already written the French way.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from docx_helpers import add_para, build_all, finish, letterhead, loop_table  # noqa: E402

def build_bank_reconciliation(path: Path) -> None:
    """État de rapprochement bancaire: the summary, then the items that explain the difference."""
    doc = letterhead("{{ organisation.name }} — État de rapprochement au {{ as_of|date_fr }}",
                     "{{ organisation.name }} — {{ account.name }} — établi le {{ today|date_fr }}")
    add_para(doc, "{{ organisation.name }}", bold=True, size=13)
    add_para(doc, "État de rapprochement bancaire", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "Compte {{ account.name }} ({{ account.iban }}), compte comptable {{ account.ledger_account }}, "
                  "journal {{ account.journal_code }}, au {{ as_of|date_fr }}.")
    loop_table(doc, ("Rubrique", "Montant"), "summary", ("{{ r.label }}", "{{ r.amount }}"), right=(1,))
    add_para(doc, "{{ message }}", space_before=8)
    add_para(doc, "Écritures comptabilisées non passées en banque", style="Heading 1")
    loop_table(doc, ("Date", "Écriture", "Pièce", "Libellé", "Débit", "Crédit"), "ledger_lines",
           ("{{ r.date }}", "{{ r.reference }}", "{{ r.piece }}", "{{ r.label }}", "{{ r.debit }}", "{{ r.credit }}"),
           right=(4, 5))
    add_para(doc, "Opérations du relevé non comptabilisées", style="Heading 1")
    loop_table(doc, ("Date", "Libellé", "Crédit", "Débit"), "bank_lines",
           ("{{ r.date }}", "{{ r.label }}", "{{ r.credit }}", "{{ r.debit }}"), right=(2, 3))
    finish(doc, path, "État de rapprochement bancaire")


TEMPLATES = {"bank_reconciliation.docx": build_bank_reconciliation}


def main(argv=None) -> int:
    return build_all(TEMPLATES, argv, HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
