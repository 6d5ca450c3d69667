"""Build the Word templates of templates/documents/ with python-docx.

Run from the repository root, then commit the .docx files::

    .venv/bin/python templates/documents/build_templates.py

Every Jinja tag is written as one whole run (``add_run("{{ member.last_name }}")``) so that Word
never splits it across runs; an organisation that edits these files in Word should retype a tag
in one go, or use « Coller en texte seul », for the same reason.

The contexts these templates expect are documented (and built for tests) in
``backoffice/documents/samples.py``. With the engine's strict undefined, every variable named
below must be present in the context, ``None`` when it has no value (``logo``,
``payment.reference``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from docx_helpers import add_para, build_all, fill_cell, letterhead, new_document, set_footer, set_header  # noqa: E402



def build_membership_receipt(path: Path) -> None:
    """Attestation d'adhésion (membership receipt), one per paid membership fee."""
    doc = letterhead("{{ organisation.name }}", "{{ organisation.name }} — SIREN {{ organisation.siren }} — "
                     "Attestation délivrée pour servir et valoir ce que de droit.", sender=True)
    add_para(doc, "SIREN : {{ organisation.siren }}")

    add_para(doc, "Attestation d'adhésion", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "Reçu n° {{ receipt.number }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(
        doc,
        "Je soussigné(e), {{ treasurer.name }}, trésorier(ère) de {{ organisation.name }}, "
        "atteste que {{ member.civility }} {{ member.first_name }} {{ member.last_name }} "
        "est à jour de sa cotisation et adhérent(e) de l'association pour la période du "
        "{{ period.start|date_fr }} au {{ period.end|date_fr }}, au titre de la catégorie "
        "« {{ category }} ».",
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )

    table = doc.add_table(rows=4, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = [
        ("Montant de la cotisation", "{{ amount|money }}"),
        ("Montant en toutes lettres", "{{ amount|money_words }}"),
        ("Date du règlement", "{{ payment.date|date_fr }}"),
        ("Mode de règlement", "{{ payment.method }}"),
    ]
    for row, (label, value) in zip(table.rows, rows):
        fill_cell(row.cells[0], label, bold=True)
        fill_cell(row.cells[1], value)

    add_para(doc, "{%p if payment.reference %}")
    add_para(doc, "Référence du règlement : {{ payment.reference }}", space_before=8)
    add_para(doc, "{%p endif %}")
    add_para(doc, "Fait à {{ place }}, le {{ issued_on|date_fr }}.", space_before=24)
    add_para(doc, "{{ treasurer.name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, bold=True)
    add_para(doc, "Trésorier(ère)", align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.core_properties.title = "Attestation d'adhésion"
    doc.save(path)


# The 30 paragraphs of the benchmark statement: each has a few variables, like a real letter.
_BENCH_PARAGRAPHS = [
    "Madame, Monsieur {{ member.last_name }}, nous vous adressons le relevé n° "
    "{{ statement.number }} établi le {{ statement.date|date_fr }}.",
    "Ce relevé reprend les opérations enregistrées par {{ organisation.name }} à votre nom "
    "entre le {{ statement.period_start|date_short }} et le {{ statement.period_end|date_short }}.",
    "Le total des sommes dues s'élève à {{ total|money }}, soit {{ total|money_words }}.",
    "Votre numéro d'adhérent est le {{ member.number }} ; rappelez-le dans toute correspondance.",
    "Le règlement est attendu avant le {{ statement.due_date|date_fr }} par virement sur le "
    "compte {{ organisation.iban }}.",
    "Pour toute question, {{ contact.name }} se tient à votre disposition au "
    "{{ contact.phone }}.",
    "Les cotisations versées à {{ organisation.name }} ouvrent droit à un reçu fiscal "
    "délivré en fin d'exercice.",
    "Votre catégorie d'adhésion actuelle est « {{ member.category }} » depuis le "
    "{{ member.since|date_fr }}.",
    "Le conseil d'administration s'est réuni le {{ board.meeting_date|date_fr }} à "
    "{{ board.place }}.",
    "{{ member.civility }} {{ member.last_name }}, votre dossier a été mis à jour par "
    "{{ contact.name }}.",
    "Les montants figurant au tableau ci-dessus sont exprimés en euros, toutes taxes comprises.",
    "Le nombre de lignes de ce relevé est de {{ lines|length }} pour un total de {{ total|money }}.",
    "L'assemblée générale de {{ organisation.name }} se tiendra le {{ board.assembly_date|date_fr }}.",
    "Vous pouvez consulter vos relevés en ligne avec votre adresse {{ member.email }}.",
    "En cas de désaccord, adressez une réclamation écrite à {{ organisation.address_line }}.",
    "Ce document est établi pour {{ member.first_name }} {{ member.last_name }}, "
    "{{ member.city }}.",
    "Les informations vous concernant sont traitées par {{ organisation.name }} conformément "
    "au règlement général sur la protection des données.",
    "Le délégué à la protection des données peut être joint à {{ organisation.dpo_email }}.",
    "Votre dernier règlement, d'un montant de {{ last_payment.amount|money }}, a été reçu le "
    "{{ last_payment.date|date_fr }}.",
    "Le solde antérieur au présent relevé était de {{ previous_balance|money }}.",
    "Nous remercions {{ member.civility }} {{ member.last_name }} de sa fidélité envers "
    "{{ organisation.name }}.",
    "Le relevé suivant sera établi le {{ statement.next_date|date_fr }}.",
    "La commission {{ board.commission }} a examiné les dossiers du trimestre.",
    "Les pièces justificatives sont conservées au siège, {{ organisation.city }}.",
    "Tout retard de paiement au-delà du {{ statement.due_date|date_short }} pourra entraîner "
    "une relance.",
    "Le montant moyen d'une ligne de ce relevé est de {{ average|money }}.",
    "{{ organisation.name }} est immatriculée sous le numéro SIREN {{ organisation.siren }}.",
    "Votre référent au sein de la structure est {{ contact.name }} ({{ contact.role }}).",
    "Le présent relevé comporte une page et a été généré automatiquement le "
    "{{ statement.date|date_short }}.",
    "Veuillez agréer, {{ member.civility }} {{ member.last_name }}, l'expression de nos "
    "salutations distinguées.",
]


def build_bench_statement(path: Path) -> None:
    """A realistic statement (relevé): header, a table of lines, totals, 30 paragraphs."""
    assert len(_BENCH_PARAGRAPHS) == 30
    doc = new_document()
    set_header(doc, "{{ organisation.name }} — Relevé n° {{ statement.number }}", align=None)
    set_footer(doc, "{{ organisation.name }} — SIREN {{ organisation.siren }}", align=None)

    add_para(doc, "{{ organisation.name }}", bold=True, size=13)
    add_para(doc, "{{ organisation.address }}")
    add_para(doc, "Relevé de compte", style="Title")
    add_para(doc, "{{ member.civility }} {{ member.first_name }} {{ member.last_name }}", bold=True)
    add_para(doc, "{{ member.address }}")
    add_para(doc, "Date : {{ statement.date|date_fr }}")

    table = doc.add_table(rows=5, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Libellé", "Quantité", "Montant")):
        fill_cell(cell, text, bold=True)
    fill_cell(table.rows[1].cells[0], "{%tr for line in lines %}")
    fill_cell(table.rows[2].cells[0], "{{ line.label }}")
    fill_cell(table.rows[2].cells[1], "{{ line.quantity }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(table.rows[2].cells[2], "{{ line.amount|money }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    fill_cell(table.rows[4].cells[0], "Total", bold=True)
    fill_cell(table.rows[4].cells[2], "{{ total|money }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)

    add_para(doc, "Soit {{ total|money_words }}.", space_before=8)
    for text in _BENCH_PARAGRAPHS:
        add_para(doc, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    add_para(doc, "{{ contact.name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, bold=True)
    doc.core_properties.title = "Relevé de compte"
    doc.save(path)


TEMPLATES = {
    "membership_receipt.docx": build_membership_receipt,
    "bench_statement.docx": build_bench_statement,
}


def main(argv=None) -> int:
    return build_all(TEMPLATES, argv, HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
