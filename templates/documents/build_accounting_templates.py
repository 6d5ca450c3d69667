"""Build the accounting Word template of templates/documents/ with python-docx.

Run from the repository root, then commit the .docx file::

    .venv/bin/python templates/documents/build_accounting_templates.py

Same conventions as ``build_templates.py``: every Jinja tag is one run. The context is built by
``backoffice.accounting.annual_files.document_context`` (variables in ``VARIABLES``); amounts
arrive as text already written the French way.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from docx_helpers import add_para, build_all, fill_cell, finish, letterhead  # noqa: E402

RIGHT = WD_ALIGN_PARAGRAPH.RIGHT


def _table(doc, headers, loop, cells):
    """A table: a header row, then one row per item of ``loop`` (``{%tr for … %}`` rows)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        fill_cell(cell, text, bold=True)
    fill_cell(table.rows[1].cells[0], f"{{%tr for r in {loop} %}}")
    for index, (cell, text) in enumerate(zip(table.rows[2].cells, cells)):
        fill_cell(cell, text, align=RIGHT if index and "label" not in text and "prefix" not in text else None)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    return table


def build_annual_accounts(path: Path) -> None:
    """Comptes annuels (compte de résultat, bilan, budget) and the rapport financier skeleton."""
    doc = letterhead("{{ organisation.name }} — Comptes annuels {{ year }}",
                     "{{ organisation.name }} — SIREN {{ organisation.siren }} — comptes de l'exercice du "
                     "{{ start|date_fr }} au {{ end|date_fr }}", sender=True)
    add_para(doc, "Comptes annuels de l'exercice {{ year }}", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "Exercice du {{ start|date_fr }} au {{ end|date_fr }}, présenté selon le règlement ANC n° 2018-06 "
                  "relatif aux comptes annuels des personnes morales de droit privé à but non lucratif, avec "
                  "l'exercice {{ previous_year }} en regard.")
    add_para(doc, "{%p if opening_missing %}")
    add_para(doc, "Attention : les à-nouveaux de l'exercice ne sont pas passés ; le bilan ne reprend que les "
                  "mouvements de l'exercice.", bold=True)
    add_para(doc, "{%p endif %}")

    add_para(doc, "Compte de résultat", style="Heading 1")
    _table(doc, ("Poste", "Exercice {{ year }}", "Exercice {{ previous_year }}"), "income_statement",
           ("{{ r.label }}", "{{ r.current }}", "{{ r.previous }}"))

    add_para(doc, "Bilan au {{ end|date_fr }}", style="Heading 1")
    add_para(doc, "Actif", style="Heading 2")
    _table(doc, ("Poste", "Brut", "Amort. et dépréc.", "Net {{ year }}", "Net {{ previous_year }}"), "assets",
           ("{{ r.label }}", "{{ r.gross }}", "{{ r.depreciation }}", "{{ r.current }}", "{{ r.previous }}"))
    add_para(doc, "Passif", style="Heading 2")
    _table(doc, ("Poste", "Exercice {{ year }}", "Exercice {{ previous_year }}"), "liabilities",
           ("{{ r.label }}", "{{ r.current }}", "{{ r.previous }}"))
    add_para(doc, "Les comptes de tiers et de trésorerie figurent à l'actif ou au passif selon le sens de leur solde. "
                  "Tant que l'exercice n'est pas clos, son résultat figure au passif (« Excédent ou déficit de "
                  "l'exercice »).", size=9)

    add_para(doc, "Budget prévisionnel {{ year }} et réalisé", style="Heading 1")
    _table(doc, ("Compte", "Libellé", "Budget", "Réalisé", "Écart", "Écart %"), "budget",
           ("{{ r.prefix }}", "{{ r.label }}", "{{ r.budget }}", "{{ r.actual }}", "{{ r.gap }}", "{{ r.percent }}"))

    page_break = add_para(doc, "")
    page_break.add_run().add_break(WD_BREAK.PAGE)
    add_para(doc, "Rapport financier de l'exercice {{ year }}", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "Présenté par {{ treasurer }}, trésorier(ère), à l'assemblée générale ordinaire.")
    add_para(doc, "{{ text.introduction }}")

    add_para(doc, "1. Le compte de résultat", style="Heading 1")
    add_para(doc, "Les produits de l'exercice s'élèvent à {{ figures.total_income }}, {{ figures.total_income_change }}. "
                  "Les charges s'élèvent à {{ figures.total_expense }}, {{ figures.total_expense_change }}. "
                  "L'exercice se solde par un {{ figures.result_word }} de {{ figures.result }} "
                  "(un {{ figures.previous_result_word }} de {{ figures.previous_result }} en {{ previous_year }}).")
    add_para(doc, "Principaux produits :", bold=True)
    add_para(doc, "{%p for l in figures.main_income %}")
    add_para(doc, "• {{ l.label }} : {{ l.amount }} ({{ l.share }} des produits), {{ l.change }} ;")
    add_para(doc, "{%p endfor %}")
    add_para(doc, "Les cotisations représentent {{ figures.fees }} ({{ figures.fees_change }}) ; les subventions "
                  "d'exploitation {{ figures.subsidies }}, soit {{ figures.subsidies_share }} des produits.")
    add_para(doc, "{{ text.income_comment }}")
    add_para(doc, "Principales charges :", bold=True)
    add_para(doc, "{%p for l in figures.main_expense %}")
    add_para(doc, "• {{ l.label }} : {{ l.amount }} ({{ l.share }} des charges), {{ l.change }} ;")
    add_para(doc, "{%p endfor %}")
    add_para(doc, "Les salaires et charges sociales s'élèvent à {{ figures.payroll }}, soit {{ figures.payroll_share }} "
                  "des charges.")
    add_para(doc, "{{ text.expense_comment }}")

    add_para(doc, "2. Les fonds dédiés", style="Heading 1")
    add_para(doc, "Les fonds dédiés (financements affectés non encore utilisés) s'élèvent à {{ figures.dedicated_funds }} "
                  "au {{ end|date_fr }} ({{ figures.dedicated_funds_previous }} un an plus tôt) : "
                  "{{ figures.dedicated_funds_set_aside }} reportés sur l'exercice, {{ figures.dedicated_funds_used }} "
                  "utilisés.")
    add_para(doc, "{{ text.dedicated_funds_comment }}")

    add_para(doc, "3. Le bilan", style="Heading 1")
    add_para(doc, "Le total du bilan est de {{ figures.total_balance_sheet }}. Les fonds propres s'élèvent à "
                  "{{ figures.own_funds }} ({{ figures.own_funds_previous }} un an plus tôt). La trésorerie nette est de "
                  "{{ figures.treasury }} ({{ figures.treasury_previous }} un an plus tôt) ; les créances s'élèvent à "
                  "{{ figures.receivables }} et les dettes à {{ figures.debts }}.")
    add_para(doc, "{{ text.balance_sheet_comment }}")

    add_para(doc, "4. Le budget", style="Heading 1")
    add_para(doc, "Le budget prévisionnel {{ year }} prévoyait {{ figures.budget_income }} de produits et "
                  "{{ figures.budget_expense }} de charges (résultat prévu : {{ figures.budget_result }}). Les produits "
                  "sont réalisés à {{ figures.budget_income_done }}, les charges à {{ figures.budget_expense_done }}.")
    add_para(doc, "{{ text.budget_comment }}")
    add_para(doc, "{{ text.next_budget }}")

    add_para(doc, "5. Proposition d'affectation du résultat", style="Heading 1")
    add_para(doc, "Il est proposé à l'assemblée d'affecter {{ figures.result_the }} de {{ figures.result }} : "
                  "{{ text.allocation }}.")
    add_para(doc, "{{ text.conclusion }}")
    add_para(doc, "Fait à {{ place }}, le {{ today|date_fr }}.", space_before=18)
    add_para(doc, "Le trésorier / la trésorière : {{ treasurer }}")
    finish(doc, path, "Comptes annuels et rapport financier")


TEMPLATES = {"annual_accounts.docx": build_annual_accounts}


def main(argv=None) -> int:
    return build_all(TEMPLATES, argv, HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
