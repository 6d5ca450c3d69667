"""Build the assembly templates with python-docx: templates/documents/assembly_minutes.docx
(procès-verbal d'assemblée générale) and assembly_convocation.docx (a voter's convocation with its
proxy form).

Run from the repository root, then commit the .docx file::

    .venv/bin/python templates/documents/build_assembly_minutes.py

Same conventions as ``build_templates.py``: every tag is one run. The context is documented in
``backoffice/assemblies/documents.py`` (``MINUTES_VARIABLES``, ``CONVOCATION_VARIABLES``), built by
``backoffice.assemblies.minutes.minutes_context`` and ``backoffice.assemblies.convocations.convocation_context``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from docx_helpers import add_para, build_all, fill_cell, letterhead  # noqa: E402


def _letterhead(what):
    """A new document with the header, footer and logo both assembly documents share."""
    return letterhead("{{ organisation.name }} — " + what, "{{ organisation.name }} — {{ assembly.title }}")


def _loop_table(doc, headers, loop, cells):
    """A grid with a header row and one row per item of the docxtpl ``loop`` (« p in present »)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, headers):
        fill_cell(cell, label, bold=True)
    fill_cell(table.rows[1].cells[0], "{%tr for " + loop + " %}")
    for cell, value in zip(table.rows[2].cells, cells):
        fill_cell(cell, value)
    fill_cell(table.rows[3].cells[0], "{%tr endfor %}")
    return table


def build_assembly_minutes(path: Path) -> None:
    doc = _letterhead("procès-verbal")
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
    _loop_table(doc, ("Membre", "Collège", "Présence", "Pouvoirs portés"), "p in present",
                ("{{ p.name }}", "{{ p.college }}", "{{ p.mode }}", "{{ p.proxies }}"))
    add_para(doc, "Fait à {{ organisation.city }}, le {{ issued_on|date_fr }}.", space_before=24)
    signatures = doc.add_table(rows=2, cols=2)
    fill_cell(signatures.rows[0].cells[0], "Le président", bold=True)
    fill_cell(signatures.rows[0].cells[1], "Le secrétaire", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    fill_cell(signatures.rows[1].cells[0], "{{ president }}")
    fill_cell(signatures.rows[1].cells[1], "{{ secretary }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.core_properties.title = "Procès-verbal d'assemblée générale"
    doc.save(path)


def build_assembly_convocation(path: Path) -> None:
    doc = _letterhead("convocation")
    add_para(doc, "{{ organisation.name }}", bold=True)
    add_para(doc, "{{ organisation.address }}")
    add_para(doc, "{{ voter.name }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT, space_before=12)
    add_para(doc, "{{ voter.address }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    add_para(doc, "{{ organisation.city }}, le {{ issued_on|date_fr }}", align=WD_ALIGN_PARAGRAPH.RIGHT,
             space_before=12)
    add_para(doc, "Convocation à l'{{ assembly.kind|lower }}", style="Title")
    add_para(doc, "{{ assembly.title }} ({{ assembly.convocation }} convocation)", bold=True)
    add_para(doc, "{{ voter.salutation }},", space_before=8)
    add_para(doc, "Vous êtes convoqué(e) à l'{{ assembly.kind|lower }} de {{ organisation.name }}, "
                  "le {{ assembly.date|date_fr }} à {{ assembly.time }}"
                  "{% if assembly.place %}, {{ assembly.place }}{% endif %}.")
    add_para(doc, "{%p if assembly.video_link %}")
    add_para(doc, "L'assemblée se tient aussi en visioconférence : {{ assembly.video_link }}")
    add_para(doc, "{%p endif %}")
    add_para(doc, "Vous y votez comme membre à jour de sa cotisation au {{ assembly.cut_off|date_fr }}"
                  "{% if voter.college %} (collège « {{ voter.college }} »){% endif %}. {{ assembly.quorum }}")
    add_para(doc, "Ordre du jour", style="Heading 1")
    add_para(doc, "{%p for r in agenda %}")
    add_para(doc, "{{ r.position }}. {{ r.title }}", bold=True, space_before=6)
    add_para(doc, "{{ r.text }}")
    add_para(doc, "Vote {{ r.ballot }} ; {{ r.majority|lower }}.")
    add_para(doc, "{%p if r.documents %}")
    add_para(doc, "Documents joints : {{ r.documents }} — à lire dans votre espace adhérent, à votre lien personnel.",
             size=9)
    add_para(doc, "{%p endif %}")
    add_para(doc, "{%p endfor %}")
    add_para(doc, "Voter en ligne", style="Heading 1")
    add_para(doc, "Pendant la séance, vous votez depuis votre téléphone ou votre ordinateur, pour vous et pour les "
                  "pouvoirs que vous portez, à votre lien personnel :")
    add_para(doc, "{{ voting_link }}", bold=True)
    add_para(doc, "Connectez-vous avec votre adresse e-mail ({{ voter.email }}) : un lien de connexion vous y est "
                  "envoyé. Chaque vote vous donne un code de vérification à conserver.")
    add_para(doc, "{{ signatory.role }}, {{ signatory.name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, space_before=18)
    doc.add_page_break()
    add_para(doc, "Pouvoir", style="Title")
    add_para(doc, "{{ assembly.title }} du {{ assembly.date|date_fr }}", bold=True)
    add_para(doc, "Je soussigné(e) {{ voter.name }}, membre de {{ organisation.name }}, donne pouvoir à "
                  "M. / Mme ………………………………………………………………, membre à jour de sa cotisation, de me représenter à "
                  "l'{{ assembly.kind|lower }} du {{ assembly.date|date_fr }}, de signer la feuille de présence "
                  "et de voter en mon nom sur les résolutions de l'ordre du jour.", space_before=12)
    add_para(doc, "Un membre porte au plus {{ proxy.max_proxies }} pouvoir(s) ; un pouvoir sans nom de mandataire "
                  "(« en blanc ») est donné {{ proxy.blank_holder }}. Un membre qui a lui-même donné pouvoir ne peut "
                  "pas en recevoir. Vous pouvez aussi donner pouvoir en ligne, à votre lien personnel.")
    add_para(doc, "Fait à ………………………………, le ………………………………", space_before=18)
    add_para(doc, "Signature, précédée de la mention manuscrite « Bon pour pouvoir » :", space_before=12)
    add_para(doc, "")
    add_para(doc, "")
    add_para(doc, "À remettre au secrétariat avant l'ouverture de la séance, ou à confier à votre mandataire.",
             size=9, space_before=36)
    doc.core_properties.title = "Convocation à l'assemblée générale"
    doc.save(path)


def build_assembly_attendance_sheet(path: Path) -> None:
    doc = _letterhead("feuille d'émargement")
    add_para(doc, "Feuille d'émargement", style="Title")
    add_para(doc, "{{ assembly.title }} ({{ assembly.convocation }} convocation) — {{ assembly.date|date_fr }} à "
                  "{{ assembly.time }}{% if assembly.place %}, {{ assembly.place }}{% endif %}", bold=True)
    add_para(doc, "{{ totals.voters }} votants inscrits (à jour de cotisation au {{ assembly.cut_off|date_fr }}), "
                  "{{ totals.proxies }} pouvoir(s) enregistré(s). Chaque membre présent signe pour lui et pour les "
                  "pouvoirs qu'il porte.")
    _loop_table(doc, ("Membre", "Collège", "Voix", "Pouvoirs portés", "Présence", "Signature"), "v in voters",
                ("{{ v.name }}", "{{ v.college }}", "{{ v.weight }}", "{{ v.proxies }}", "{{ v.present }}", ""))
    add_para(doc, "Pouvoirs donnés", style="Heading 1")
    _loop_table(doc, ("Mandant", "Mandataire", "Pouvoir"), "p in proxies",
                ("{{ p.giver }}", "{{ p.holder }}", "{{ p.how }}"))
    add_para(doc, "Arrêtée le {{ issued_on|date_fr }}.", space_before=12)
    doc.core_properties.title = "Feuille d'émargement"
    doc.save(path)


TEMPLATES = {"assembly_minutes.docx": build_assembly_minutes,
             "assembly_convocation.docx": build_assembly_convocation,
             "assembly_attendance_sheet.docx": build_assembly_attendance_sheet}


if __name__ == "__main__":
    sys.exit(build_all(TEMPLATES, sys.argv[1:], HERE))
