"""A treasurer's member workbook as she keeps it (title rows, sub-headings, a total, numbers typed
as numbers or as text, Excel dates and text dates, everyday spellings, a person twice, homonyms),
saved as XLSX or as the CSV her spreadsheet software writes."""
from datetime import datetime

from tests.people.helpers import csv_bytes, rpps, xlsx_bytes

HEADER = ["N° adhérent", "Civ.", "NOM", "Prénom", "Profession", "N° RPPS", "Courriel", "Tél.", "CP", "Ville",
          "Cotisation", "Date de règlement", "Mode de règlement", "Observations"]


def workbook_rows():
    """The sheet, row by row, as the cells hold them (file line = index + 1)."""
    return [
        ["Adhérents 2026 — CPTS de la Presqu'île"],                                       # 1 title
        ["Tableau tenu par la trésorière, mis à jour le 20/01/2026"],                      # 2 title
        [],                                                                               # 3 blank
        HEADER,                                                                           # 4 header
        ["Médecins"],                                                                     # 5 sub-heading
        ["A-001", "M.", "Le Goff", "Yann", "Médecin généraliste", int(rpps(2)), "yann.legoff@example.fr",
         "02 40 23 45 67", 44500, "La Baule-Escoublac", 50, datetime(2026, 1, 15), "Chèque", "chèque n° 1234567"],  # 6
        ["A-002", "Mme", "Morvan", "Claire", "IDE", rpps(1), "claire.morvan@example.fr", "06 12 34 56 78",
         "44350", "Guérande", "30,00 €", "15/01/2026", "Virement", ""],                  # 7
        ["A-003", "M.", "Martin", "Paul", "MK", rpps(10), "paul.martin@kine-presquile.fr", "", "44350",
         "Guérande", "30 €", "", "", "relance faite"],                                    # 8 homonym 1
        ["A-004", "M.", "Martin", "Paul", "Masseur-kinésithérapeute libéral", rpps(11), "p.martin@example.fr",
         "", "44600", "Saint-Nazaire", 30, "", "Espèces", ""],                            # 9 homonym 2
        ["Infirmiers et sages-femmes"],                                                   # 10 sub-heading
        ["A-002", "Mme", "MORVAN", "Claire", "Infirmière libérale", rpps(1), "", "", "44350", "Guérande",
         "30,00 €", "15/01/2026", "Virement", "en double"],                               # 11 the same as 7
        ["A-005", "Mme", "Hérault", "Zoé", "Ortho", rpps(3), "zoe.herault@example.fr", "02 40 XX",
         "29200", "Brest", "Exonéré", "", "", "membre du bureau"],                        # 12 warnings
        ["A-006", "Mme", "Riou", "Anne", "Chir. dentiste", rpps(4), "anne.riou@example.fr", "0612345679",
         "44350", "Guérande", 30, "3/2/26", "HelloAsso", ""],                             # 13
        ["A-007", "Mme", "Bléas", "Soizic", "SF", rpps(5), "soizic.bleas@example.fr", "", "44740", "Batz-sur-Mer",
         "30", datetime(2026, 2, 2), "Carte", ""],                                        # 14
        ["A-008", "M.", "Kerjean", "Loïc", "Maïeuticien", rpps(6), "loic.kerjean@example.fr", "", "44350",
         "Guérande", "30,00", "", "Chèque", "chèque annoncé"],                            # 15
        [],                                                                               # 16 blank
        ["", "", "TOTAL", "", "", "", "", "", "", "", 200],                                # 17 total
    ]


def workbook_xlsx(rows=None):
    rows = workbook_rows() if rows is None else rows
    # The RPPS of line 7 and the amount of line 14 typed as text, as a pasted cell would be.
    return xlsx_bytes(rows, as_text={(7, 6), (14, 11)})


def workbook_csv(rows=None, encoding="cp1252", delimiter=";", bom=False):
    """The CSV that spreadsheet software saves: dates and numbers as displayed."""
    rows = workbook_rows() if rows is None else rows
    shown = [[_displayed(cell) for cell in row] for row in rows]
    return csv_bytes(shown, delimiter=delimiter, encoding=encoding, bom=bom)


def _displayed(cell):
    if isinstance(cell, datetime):
        return cell.strftime("%d/%m/%Y")
    if isinstance(cell, int) and cell < 100000:
        return f"{cell},00 €" if cell in (30, 50, 200) else str(cell)
    return "" if cell is None else str(cell)
