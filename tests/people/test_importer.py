"""The spreadsheet reader and checker, without HTTP and without the database."""
import pytest

from backoffice.people import importer
from backoffice.people.importer import Existing, ImportFileError, SiteIndex, plan_import, read_table
from tests.people.helpers import HEADER, csv_bytes, rpps, xlsx_bytes


def plan(data, existing=(), sites=None):
    return plan_import(read_table(data), list(existing), sites)


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_separator_is_sniffed(people_rows, delimiter):
    result = plan(csv_bytes(people_rows, delimiter=delimiter))
    assert [row.status for row in result.rows] == ["create"] * 3
    assert result.rows[1].values["commune"] == "La Baule-Escoublac"
    assert result.format == "csv"


def test_csv_with_quoted_commas_in_cells():
    data = csv_bytes([HEADER, ["Mme", "Dupont, épouse Martin", "Anne", "Sage-femme", rpps(9), "a@example.org", "", "44350", "Guérande"]],
                     delimiter=",")
    row = plan(data).rows[0]
    assert row.values["last_name"] == "Dupont, épouse Martin"
    assert row.values["profession"] == "sage_femme"


def test_windows_1252_with_accents(people_rows):
    result = plan(csv_bytes(people_rows, encoding="cp1252"))
    assert [r.values["first_name"] for r in result.rows] == ["Claire", "Yann", "Zoé"]
    assert result.rows[0].values["commune"] == "Guérande"
    assert result.rows[2].values["last_name"] == "Hérault"


def test_utf8_with_bom_keeps_the_first_header(people_rows):
    result = plan(csv_bytes(people_rows, bom=True))
    assert result.columns["civility"] == "Civilité"  # not "\ufeffCivilité"
    assert result.rows[0].values["civility"] == "Mme"


def test_xlsx_with_numbers_as_cells(people_rows):
    rows = [list(r) for r in people_rows]
    rows[1][4] = int(rows[1][4])  # RPPS typed as a number
    rows[1][7] = 44350  # postcode as a number
    rows[2][7] = 1000.0  # a postcode whose leading zero Excel dropped
    result = plan(xlsx_bytes(rows))
    assert result.format == "xlsx"
    assert result.rows[0].values["rpps"] == rpps(1)
    assert result.rows[0].values["postcode"] == "44350"
    assert result.rows[1].values["postcode"] == "01000"
    assert not result.has_errors


def test_french_header_aliases():
    data = csv_bytes([["NOM", "prénom", "Métier", "N° RPPS", "Courriel", "Tél", "CP", "Ville"],
                      ["Martin", "Luc", "IDE", rpps(5), "luc@example.org", "0612345678", "44350", "Guérande"]])
    result = plan(data)
    row = result.rows[0]
    assert row.values == {"last_name": "Martin", "first_name": "Luc", "profession": "infirmier", "rpps": rpps(5),
                          "email": "luc@example.org", "phone": "+33612345678", "postcode": "44350", "commune": "Guérande"}


def test_every_bad_row_has_its_own_error():
    data = csv_bytes([
        HEADER,
        ["Mme", "Bon", "Alice", "Infirmier", rpps(1), "alice@example.org", "", "", ""],
        ["Mme", "Cle", "Berthe", "Infirmier", rpps(2)[:-1] + str((int(rpps(2)[-1]) + 1) % 10), "", "", "", ""],
        ["Mme", "Mail", "Carole", "Infirmier", "", "pas-un-email", "", "", ""],
        ["Mme", "Bon", "Alice", "Infirmier", rpps(1), "", "", "", ""],
        ["M.", "Prof", "Denis", "Infirmier libre", rpps(4), "", "", "", ""],
        ["M.", "", "Sans nom", "Infirmier", rpps(6), "", "", "", ""],
        ["M.", "Sans", "Identifiant", "Infirmier", "", "", "", "", ""],
    ])
    result = plan(data)
    errors = {row.line: row.errors for row in result.rows}
    assert errors[2] == []
    assert errors[3] == ["Le numéro RPPS est invalide (clé de contrôle incorrecte)."]
    assert errors[4] == ["L'adresse e-mail est invalide."]
    assert errors[5] == []  # the same person as line 2: merged (tests/people/test_workbook.py)
    assert result.rows[3].status == "merged" and result.rows[3].merged_into == 2
    assert errors[6][0].startswith("Profession inconnue « Infirmier libre ».")
    assert "Vouliez-vous dire « Infirmier » ?" in errors[6][0]
    assert errors[7] == ["Nom manquant."]
    assert "Indiquez au moins le RPPS" in errors[8][0]
    assert result.has_errors and result.count("error") == 5 and result.count("create") == 1


def test_duplicate_by_email_and_name_inside_the_file():
    data = csv_bytes([HEADER,
                      ["Mme", "Léger", "Anne", "Infirmier", "", "anne@example.org", "", "", ""],
                      ["Mme", "LEGER", "anne", "Infirmier", "", "ANNE@example.org", "", "", ""]])
    rows = plan(data).rows
    assert rows[1].errors == [] and (rows[0].status, rows[1].status) == ("create", "merged")
    assert rows[0].warnings == ["Lignes 2 et 3 : la même personne (même e-mail et même nom), réunies en une seule fiche."]


def test_matching_existing_people_by_rpps_then_adeli_then_email_and_name():
    existing = [
        Existing(1, "Claire MORVAN", {"rpps": rpps(1), "last_name": "Morvan", "first_name": "Claire", "profession": "infirmier",
                                      "email": "claire.morvan@example.org", "civility": "Mme"}),
        Existing(2, "Jean ADELI", {"adeli": "441234567", "last_name": "Adeli", "first_name": "Jean", "profession": "dieteticien"}),
        Existing(3, "Zoé HÉRAULT", {"email": "zoe@example.org", "last_name": "Hérault", "first_name": "Zoé",
                                    "profession": "masseur_kinesitherapeute"}),
    ]
    data = csv_bytes([
        ["Civilité", "Nom", "Prénom", "Profession", "RPPS", "ADELI", "E-mail"],
        ["Mme", "Morvan", "Claire", "Infirmière", rpps(1), "", "Claire.Morvan@example.org"],
        ["M.", "Adeli", "Jean", "Diététicien", "", "44 123 456 7", "jean@example.org"],
        ["", "Herault", "Zoe", "Kiné", "", "", "zoe@example.org"],
        ["", "Nouveau", "Paul", "Kiné", rpps(7), "", ""],
    ])
    rows = plan(data, existing).rows
    assert [(r.status, r.existing_id) for r in rows] == [("unchanged", 1), ("update", 2), ("update", 3), ("create", None)]
    assert rows[1].changes == {"civility": (None, "M."), "email": (None, "jean@example.org")}
    assert rows[2].changes == {"last_name": ("Hérault", "Herault"), "first_name": ("Zoé", "Zoe")}


def test_an_identifier_of_someone_else_is_an_error():
    existing = [
        Existing(1, "Claire MORVAN", {"rpps": rpps(1), "last_name": "Morvan", "first_name": "Claire"}),
        Existing(2, "Jean ADELI", {"adeli": "441234567", "last_name": "Adeli", "first_name": "Jean"}),
    ]
    data = csv_bytes([["Nom", "Prénom", "Profession", "RPPS", "ADELI"],
                      ["Morvan", "Claire", "Infirmier", rpps(1), "441234567"]])
    row = plan(data, existing).rows[0]
    assert row.status == "error"
    assert row.errors == ["Le ADELI 441234567 appartient déjà à Jean ADELI, alors que la ligne correspond à Claire MORVAN."]


def test_two_rows_for_the_same_existing_person():
    existing = [Existing(1, "Claire MORVAN", {"rpps": rpps(1), "email": "c@example.org", "last_name": "Morvan", "first_name": "Claire"})]
    data = csv_bytes([["Nom", "Prénom", "Profession", "RPPS", "E-mail"],
                      ["Morvan", "Claire", "Infirmier", rpps(1), ""],
                      ["Morvan", "Claire", "Infirmier", "", "c@example.org"]])
    rows = plan(data, existing).rows
    assert rows[1].errors == ["Cette ligne et la ligne 2 désignent la même personne (Claire MORVAN)."]


def test_sites_are_matched_by_name_with_a_suggestion():
    sites = SiteIndex([(10, "MSP de Lassay-les-Châteaux"), (11, "MSP de Mayenne")])
    data = csv_bytes([["Nom", "Prénom", "Profession", "RPPS", "Lieu d'exercice"],
                      ["A", "B", "Infirmier", rpps(1), "msp de lassay les chateaux"],
                      ["C", "D", "Infirmier", rpps(2), "MSP de Mayene"]])
    rows = plan(data, sites=sites).rows
    assert rows[0].values["site_id"] == 10
    assert rows[1].errors == ["Lieu d'exercice inconnu « MSP de Mayene » : créez-le d'abord dans l'annuaire. "
                              "Vouliez-vous dire « MSP de Mayenne » ?"]


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\";\"clic\")", "+33 cmd", "-2+3", "@SUM(A1)"])
def test_formula_looking_cells_are_kept_as_text(cell):
    data = csv_bytes([["Nom", "Prénom", "Profession", "RPPS", "Adresse"],
                      [cell, "Eve", "Infirmier", rpps(1), cell]])
    row = plan(data).rows[0]
    assert row.values["last_name"] == cell
    assert row.values["address"] == cell


def test_formula_looking_text_in_xlsx_is_kept_as_text():
    rows = [["Nom", "Prénom", "Profession", "RPPS"], ["=1+1", "Eve", "Infirmier", rpps(1)]]
    row = plan(xlsx_bytes(rows, as_text={(2, 1)})).rows[0]
    assert row.values["last_name"] == "=1+1"


@pytest.mark.parametrize("data, message", [
    (b"", "Le fichier est vide."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97-2003"),
    (b"%PDF-1.4 blah", "Format de fichier inconnu"),
    (b"PK\x03\x04 not really a zip", "Le classeur XLSX est illisible"),
    (b"\x00\x01\x02binary", "illisible"),
    (b"Prenom;Profession\r\nAnne;IDE\r\n", "Aucune ligne d.en-têtes reconnue"),
    (b"\r\n;;\r\n", "aucune ligne"),
])
def test_unreadable_files_have_a_clear_message(data, message):
    with pytest.raises(ImportFileError, match=message):
        plan(data)


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    data = csv_bytes([HEADER] + [["Mme", f"N{i}", "P", "Infirmier", rpps(i), "", "", "", ""] for i in range(3)])
    with pytest.raises(ImportFileError, match="plus de 2 lignes"):
        plan(data)


def test_template_has_every_header_and_is_read_back_by_the_importer():
    data = importer.template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_table(data + "Mme;Morvan;Claire;Infirmière;{};;c@example.org;;;44350;Guérande;\r\n".format(rpps(1)).encode())
    columns, ignored = importer.map_columns(table.headers)
    assert set(columns) == {key for key, _ in importer.FIELDS} and ignored == []
    assert plan_import(table, []).rows[0].status == "create"


def test_the_commit_reads_the_file_its_preview_has_just_read_once(people_rows, monkeypatch):
    # An XLSX of thousands of rows takes a while to parse: the commit reuses the preview's cells,
    # by the file's content; another file (a cell corrected in the sheet) is read anew.
    importer._read_rows_remembered.cache_clear()
    reads = []
    real = importer.read_rows
    monkeypatch.setattr(importer, "read_rows", lambda data, *args: reads.append(len(data)) or real(data, *args))
    data = xlsx_bytes(people_rows)
    first = read_table(data)
    first.rows[0][1][0] = "changed by the first reader"  # each reader gets lists of its own
    second = read_table(bytes(data))
    assert len(reads) == 1
    assert second.rows[0][1][0] != "changed by the first reader"
    corrected = [list(r) for r in people_rows]
    corrected[1][1] = "Corrigé"
    read_table(xlsx_bytes(corrected))
    assert len(reads) == 2
