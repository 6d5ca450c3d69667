"""Build the grants Word templates of templates/documents/ with python-docx.

Run from the repository root, then commit the .docx files::

    .venv/bin/python templates/documents/build_grant_templates.py

Same conventions as ``build_templates.py``: every Jinja tag is one run. The contexts are built by
``backoffice.grants.agreements.agreement_context`` and ``backoffice.grants.reports.report_context``
(variables: ``backoffice.grants.documents``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from docx_helpers import add_para, build_all, fill_cell, finish, letterhead, loop_table  # noqa: E402


def _parties(doc, role, owner=False):
    """« Entre » the organisation (SIREN, represented by its president; ``owner``: of the
    device) « et » the beneficiary (his identifiers, his address), ``role`` being what the
    convention calls him."""
    add_para(doc, "Entre", bold=True, space_before=12)
    add_para(doc, "{{ organisation.name }}, {{ organisation.address }}{%- if organisation.siren %}, SIREN "
                  "{{ organisation.siren }}{%- endif %}, représentée par {{ president }}, "
                  + ("propriétaire du matériel, " if owner else "") + "ci-après « l'organisation »,")
    add_para(doc, "Et", bold=True)
    add_para(doc, "{{ beneficiary.name }}, {{ beneficiary.profession }}{%- if beneficiary.rpps %}, RPPS "
                  "{{ beneficiary.rpps }}{%- endif %}{%- if beneficiary.adeli %}, ADELI {{ beneficiary.adeli }}"
                  "{%- endif %}{%- if beneficiary.siret %}, SIRET {{ beneficiary.siret }}{%- endif %}"
                  "{%- if beneficiary.address %}, {{ beneficiary.address }}{%- endif %}, ci-après « " + role + " ».")


def _details(doc, rows):
    """The equipment or device: a two-column grid of (label in bold, value)."""
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for row, (label, value) in zip(table.rows, rows):
        fill_cell(row.cells[0], label, bold=True)
        fill_cell(row.cells[1], value)


def _signatures(doc, beneficiary_title):
    """Place and date, then the two signatures: the organisation's president and the beneficiary."""
    add_para(doc, "Fait à {{ place }}, le {{ today|date_fr }}, en deux exemplaires.", space_before=18)
    signatures = doc.add_table(rows=2, cols=2)
    fill_cell(signatures.rows[0].cells[0], "Pour l'organisation", bold=True)
    fill_cell(signatures.rows[0].cells[1], beneficiary_title, bold=True)
    fill_cell(signatures.rows[1].cells[0], "{{ president }}")
    fill_cell(signatures.rows[1].cells[1], "{{ beneficiary.name }}")


def build_grant_agreement(path: Path) -> None:
    """Convention d'attribution: both parties with their identifiers, the programme, the
    equipment, the amount in figures and in words, the conditions, two signatures."""
    doc = letterhead("{{ organisation.name }} — Convention n° {{ grant.number }}",
                     "Convention d'attribution {{ grant.number }} — {{ grant.reference }}")
    add_para(doc, "Convention d'attribution d'une aide à l'équipement", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "Programme « {{ programme.name }} » — convention n° {{ grant.number }}", align=WD_ALIGN_PARAGRAPH.CENTER)

    _parties(doc, "le bénéficiaire")

    add_para(doc, "Article 1 — Objet", style="Heading 2")
    add_para(doc, "{{ programme.description }}")
    add_para(doc, "L'organisation accorde au bénéficiaire une aide pour l'acquisition du matériel suivant, "
                  "destiné {%- if practice %} au cabinet {{ practice.name }} ({{ practice.commune }}){%- else %} à son exercice{%- endif %} :")
    _details(doc, [("Matériel", "{{ equipment.kind }}"), ("Modèle", "{{ equipment.model }}"),
                   ("Fournisseur", "{{ equipment.supplier }}"), ("Prix du devis", "{{ equipment.quoted_price|money }}")])

    add_para(doc, "Article 2 — Montant", style="Heading 2")
    add_para(doc, "Le montant de l'aide est de {{ grant.amount|money }}, soit {{ grant.amount|money_words }}, "
                  "accordé le {{ grant.decided_on|date_fr }} (demande {{ grant.reference }}).", bold=True)
    add_para(doc, "Financeurs du programme : {{ programme.funders }}.")

    add_para(doc, "Article 3 — Engagements du bénéficiaire", style="Heading 2")
    add_para(doc, "{%p for condition in conditions %}")
    add_para(doc, "{{ condition }}", style="List Bullet")
    add_para(doc, "{%p endfor %}")
    add_para(doc, "{%p if programme.training %}")
    add_para(doc, "Le bénéficiaire a suivi la formation exigée : {{ programme.training }}.")
    add_para(doc, "{%p endif %}")

    _signatures(doc, "Le bénéficiaire")
    finish(doc, path, "Convention d'attribution")


def build_grant_report(path: Path) -> None:
    """Rapport au financeur: the programme's figures (``reports.programme_report``)."""
    doc = letterhead("{{ organisation.name }} — Rapport au financeur — {{ programme.name }}",
                     "{{ organisation.name }} — programme « {{ programme.name }} » — rapport du {{ today|date_fr }}",
                     sender=True)
    add_para(doc, "Rapport au financeur", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "Programme « {{ programme.name }} »{%- if programme.opens_on %}, demandes du "
                  "{{ programme.opens_on|date_fr }}{%- endif %}{%- if programme.closes_on %} au "
                  "{{ programme.closes_on|date_fr }}{%- endif %}", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "{{ programme.description }}")

    add_para(doc, "Enveloppe et montants", style="Heading 1")
    add_para(doc, "{{ budget.count }} aide(s) accordée(s) pour {{ budget.granted|money }} sur une enveloppe de "
                  "{{ budget.envelope|money }} : {{ budget.paid|money }} versés, {{ budget.committed|money }} engagés "
                  "et non encore versés, {{ budget.remaining|money }} restant à engager.")
    add_para(doc, "Par financeur", style="Heading 2")
    loop_table(doc, ("Financeur", "Décision", "Montant engagé", "Reçu le", "Aides engagées", "Aides versées", "Reste"),
               "funders", ("{{ r.name }}", "{{ r.reference }}", "{{ r.amount|money }}", "{{ r.received_on|date_short }}",
                           "{{ r.committed|money }}", "{{ r.paid|money }}", "{{ r.remaining|money }}"),
               right=(2, 3, 4, 5, 6))
    add_para(doc, "Les aides sont réparties entre les financeurs au prorata des montants qu'ils ont engagés.", size=9)

    add_para(doc, "Aides par commune", style="Heading 1")
    loop_table(doc, ("Commune", "Aides", "Engagé", "Versé", "Total"), "communes",
               ("{{ r.name }}", "{{ r.count }}", "{{ r.committed|money }}", "{{ r.paid|money }}",
                "{{ r.granted|money }}"), right=(1, 2, 3, 4))
    add_para(doc, "Aides par profession", style="Heading 1")
    loop_table(doc, ("Profession", "Aides", "Engagé", "Versé", "Total"), "professions",
               ("{{ r.name }}", "{{ r.count }}", "{{ r.committed|money }}", "{{ r.paid|money }}",
                "{{ r.granted|money }}"), right=(1, 2, 3, 4))

    add_para(doc, "Matériel", style="Heading 1")
    add_para(doc, "{%p if equipment %}")
    loop_table(doc, ("Matériel", "Modèle", "N° de série", "Cabinet", "Commune", "Bénéficiaire"), "equipment",
               ("{{ r.kind }}", "{{ r.model }}", "{{ r.serial }}", "{{ r.practice }}", "{{ r.commune }}",
                "{{ r.beneficiary }}"))
    add_para(doc, "{%p else %}")
    add_para(doc, "Aucun matériel livré pour le moment.")
    add_para(doc, "{%p endif %}")

    add_para(doc, "Activité par trimestre", style="Heading 1")
    add_para(doc, "{%p if quarters %}")
    loop_table(doc, ("Trimestre", "Dépistages", "Orientations vers un dermatologue", "Bénéficiaires ayant déclaré"),
               "quarters", ("{{ r.label }}", "{{ r.screenings }}", "{{ r.referrals }}", "{{ r.reports }}"), right=(1, 2, 3))
    add_para(doc, "Au total : {{ activity.screenings }} dépistage(s) et {{ activity.referrals }} orientation(s) "
                  "vers un dermatologue.")
    add_para(doc, "{%p else %}")
    add_para(doc, "Aucun suivi d'activité déclaré pour le moment.")
    add_para(doc, "{%p endif %}")

    add_para(doc, "Fait à {{ place }}, le {{ today|date_fr }}.", space_before=18)
    finish(doc, path, "Rapport au financeur")


def build_grant_custody(path: Path) -> None:
    """Convention de mise à disposition: the organisation lends a device it owns to a practice;
    the device with its serial number and value, the holder's obligations, two signatures."""
    doc = letterhead("{{ organisation.name }} — Mise à disposition n° {{ custody.number }}",
                     "Convention de mise à disposition {{ custody.number }} — {{ device.serial_number }}")
    add_para(doc, "Convention de mise à disposition de matériel", style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    add_para(doc, "Programme « {{ programme.name }} » — convention n° {{ custody.number }}", align=WD_ALIGN_PARAGRAPH.CENTER)

    _parties(doc, "le dépositaire", owner=True)

    add_para(doc, "Article 1 — Objet", style="Heading 2")
    add_para(doc, "{{ programme.description }}")
    add_para(doc, "L'organisation met à la disposition du dépositaire, à compter du {{ custody.started_on|date_fr }}, "
                  "le matériel suivant, destiné {%- if practice %} au cabinet {{ practice.name }} ({{ practice.commune }}){%- else %} à son exercice{%- endif %} :")
    _details(doc, [("Matériel", "{{ device.kind }}"), ("Modèle", "{{ device.model }}"),
                   ("Numéro de série", "{{ device.serial_number }}"), ("Acheté le", "{{ device.purchased_on|date_fr }}"),
                   ("Valeur d'achat", "{{ device.value|money }}")])
    add_para(doc, "{%p if custody.previous %}")
    add_para(doc, "Le matériel était jusqu'ici confié à {{ custody.previous }} ; la présente convention remplace la précédente.")
    add_para(doc, "{%p endif %}")
    add_para(doc, "Demande d'aide de référence : {{ custody.reference }}. Financeurs du programme : {{ programme.funders }}.")

    add_para(doc, "Article 2 — Engagements du dépositaire", style="Heading 2")
    add_para(doc, "{%p for condition in conditions %}")
    add_para(doc, "{{ condition }}", style="List Bullet")
    add_para(doc, "{%p endfor %}")

    _signatures(doc, "Le dépositaire")
    finish(doc, path, "Convention de mise à disposition")


TEMPLATES = {"grant_agreement.docx": build_grant_agreement, "grant_report.docx": build_grant_report,
             "grant_custody.docx": build_grant_custody}


def main(argv=None) -> int:
    return build_all(TEMPLATES, argv, HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
