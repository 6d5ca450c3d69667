"""A treasurer's own workbook read as she saved it: where the header is, which rows are people,
what each column and each profession means, who is who (tests/people/workbooks.py)."""
from datetime import date

import pytest

from backoffice.people.importer import ImportFileError, plan_import, read_payment_date, read_table
from tests.people.helpers import csv_bytes, rpps
from tests.people.workbooks import HEADER, workbook_csv, workbook_rows, workbook_xlsx

TERRITORY = {"44"}


def plan(data, existing=(), **kwargs):
    overrides = kwargs.pop("overrides", None)
    return plan_import(read_table(data, "adherents.xlsx", overrides), list(existing), territory=TERRITORY,
                       overrides=overrides, **kwargs)


def by_line(result):
    return {row.line: row for row in result.rows}


WORKBOOKS = {
    "xlsx": workbook_xlsx,
    "csv cp1252 ;": lambda: workbook_csv(),
    "csv utf-8 BOM ,": lambda: workbook_csv(encoding="utf-8", delimiter=",", bom=True),
}


@pytest.fixture(params=list(WORKBOOKS))
def workbook(request):
    return WORKBOOKS[request.param]()


def test_the_header_is_found_below_the_titles_and_the_other_rows_are_noted(workbook):
    result = plan(workbook)
    assert result.header_line == 4 and result.headers[:3] == ["N° adhérent", "Civ.", "NOM"]
    notes = dict(result.notes)
    assert notes[1] == "« Adhérents 2026 — CPTS de la Presqu'île » : titre au-dessus des en-têtes, ignoré."
    assert notes[2].endswith(": titre au-dessus des en-têtes, ignoré.")
    assert notes[5] == "« Médecins » : intertitre, ignoré."
    assert notes[10] == "« Infirmiers et sages-femmes » : intertitre, ignoré."
    assert notes[16] == "ligne vide, ignorée."
    assert notes[17].endswith(": ligne de total, ignorée.") and "TOTAL" in notes[17]
    assert sorted(notes) == [1, 2, 5, 10, 16, 17]
    assert [row.line for row in result.rows] == [6, 7, 8, 9, 11, 12, 13, 14, 15]
    assert not result.has_errors


def test_each_row_as_expected(workbook):
    rows = by_line(plan(workbook))
    assert {line: (row.status, row.values.get("profession")) for line, row in rows.items()} == {
        6: ("create", "medecin_generaliste"), 7: ("create", "infirmier"),
        8: ("create", "masseur_kinesitherapeute"), 9: ("create", "masseur_kinesitherapeute"),
        11: ("merged", "infirmier"), 12: ("create", None), 13: ("create", "chirurgien_dentiste"),
        14: ("create", "sage_femme"), 15: ("create", "sage_femme"),
    }
    yann = rows[6].values
    assert (yann["civility"], yann["last_name"], yann["rpps"], yann["phone"], yann["postcode"], yann["commune"]) == (
        "M.", "Le Goff", rpps(2), "+33240234567", "44500", "La Baule-Escoublac")
    assert rows[7].values["rpps"] == rpps(1) and rows[7].values["phone"] == "+33612345678"
    assert all(not row.errors for row in rows.values())
    assert [line for line, row in rows.items() if row.warnings] == [7, 11, 12]


def test_the_same_person_twice_is_one_with_a_warning_naming_both_rows(workbook):
    rows = by_line(plan(workbook))
    message = "Lignes 7 et 11 : la même personne (même RPPS), réunies en une seule fiche."
    assert rows[7].warnings == [message] and rows[11].warnings == [message]
    assert rows[11].merged_into == 7
    # Homonyms with different identifiers stay two people.
    assert (rows[8].values["rpps"], rows[9].values["rpps"]) == (rpps(10), rpps(11))
    assert rows[8].status == rows[9].status == "create" and not rows[8].warnings and not rows[9].warnings


def test_warnings_do_not_block_the_row(workbook):
    zoe = by_line(plan(workbook))[12]
    assert zoe.status == "create" and zoe.errors == []
    assert zoe.warnings == [
        "Profession « Ortho » ambiguë : Orthophoniste ou Orthoptiste ? Choisissez-la ci-dessous ; sans choix, "
        "elle reste vide.",
        "Téléphone « 02 40 XX » non reconnu : gardé tel quel.",
        "Commune hors du territoire : Brest (29200) n'est pas dans le département 44 ; la ligne est importée "
        "quand même.",
    ]
    assert zoe.values["phone"] == "02 40 XX" and "profession" not in zoe.values
    assert [p.code for p in zoe.profession_choices] == ["orthophoniste", "orthoptiste"]


def test_an_ambiguous_profession_chosen_once_applies_to_every_row(workbook):
    zoe = by_line(plan(workbook, profession_choices={"ortho": "orthoptiste"}))[12]
    assert zoe.values["profession"] == "orthoptiste" and zoe.profession_choices == ()
    assert not any("ambiguë" in w for w in zoe.warnings)


def test_columns_not_imported_are_listed():
    result = plan(workbook_xlsx())
    assert result.columns == {"civility": "Civ.", "last_name": "NOM", "first_name": "Prénom",
                              "profession": "Profession", "rpps": "N° RPPS", "email": "Courriel", "phone": "Tél.",
                              "postcode": "CP", "commune": "Ville", "member_number": "N° adhérent",
                              "amount": "Cotisation", "paid_on": "Date de règlement", "method": "Mode de règlement"}
    assert result.ignored_headers == ["Observations"]


def test_a_column_remapped_by_the_treasurer(workbook):
    """She says that « Ville » is not to be imported and « Observations » is the address."""
    layout = plan(workbook).layout
    result = plan(workbook, overrides={layout: {"9": None, "13": "address", **{str(i): k for i, k in {
        0: "member_number", 1: "civility", 2: "last_name", 3: "first_name", 4: "profession", 5: "rpps", 6: "email",
        7: "phone", 8: "postcode", 10: "amount", 11: "paid_on", 12: "method"}.items()}}})
    rows = by_line(result)
    assert "commune" not in rows[6].values and rows[8].values["address"] == "relance faite"
    assert "Ville" in result.ignored_headers and result.mapping[13] == "address"


def test_a_field_chosen_for_two_columns_is_refused():
    data = workbook_xlsx()
    layout = plan(data).layout
    with pytest.raises(ImportFileError, match="« Nom » est choisie pour deux colonnes"):
        plan(data, overrides={layout: {"2": "last_name", "13": "last_name"}})


@pytest.mark.parametrize("written, code", [
    ("MK", "masseur_kinesitherapeute"), ("Kiné", "masseur_kinesitherapeute"), ("IDE", "infirmier"),
    ("IDEL", "infirmier"), ("Infirmière", "infirmier"), ("infirmiers libéraux", "infirmier"),
    ("SF", "sage_femme"), ("Sage-femme libérale", "sage_femme"), ("Maïeuticien", "sage_femme"),
    ("Maïeuticienne", "sage_femme"), ("Chir. dentiste", "chirurgien_dentiste"),
    ("Chirurgien-dentiste titulaire", "chirurgien_dentiste"), ("Pharmacien titulaire", "pharmacien"),
    ("Pharmacienne adjointe", "pharmacien"), ("Médecin généraliste libéral(e)", "medecin_generaliste"),
    ("MG", "medecin_generaliste"), ("Diététicienne", "dieteticien"), ("Psychomotricienne", "psychomotricien"),
    ("Orthophoniste libérale", "orthophoniste"), ("Pédicure-podologue", "pedicure_podologue"),
    ("Opticienne", "opticien_lunetier"),
])
def test_professions_as_people_write_them(written, code):
    data = csv_bytes([["Nom", "Prénom", "Profession", "RPPS"], ["Le Bihan", "Gwen", written, rpps(20)]])
    row = plan(data).rows[0]
    assert (row.values.get("profession"), row.errors, row.warnings) == (code, [], [])


def test_an_unknown_profession_stays_an_error_with_a_suggestion():
    data = csv_bytes([["Nom", "Prénom", "Profession", "RPPS"], ["Le Bihan", "Gwen", "Infirmiere liberal xx", rpps(20)]])
    assert plan(data).rows[0].errors[0].startswith("Profession inconnue « Infirmiere liberal xx ».")


def test_invalid_rpps_and_email_stay_errors():
    rows = workbook_rows()
    rows[6][5] = rpps(1)[:-1] + str((int(rpps(1)[-1]) + 1) % 10)  # line 7: a wrong key
    rows[12][6] = "anne.riou@example"                            # line 13: no domain
    result = by_line(plan(workbook_xlsx(rows)))
    assert result[7].errors == ["Le numéro RPPS est invalide (clé de contrôle incorrecte)."]
    assert result[13].errors == ["L'adresse e-mail est invalide."]
    assert result[11].status == "error" or result[11].status == "create"  # no longer merged with a bad row


def test_a_workbook_without_a_recognisable_header_is_refused_in_french():
    data = csv_bytes([["Liste 2026"], ["Qui", "Quoi"], ["Anne", "IDE"]])
    with pytest.raises(ImportFileError, match="Aucune ligne d'en-têtes reconnue dans les 30 premières lignes"):
        plan(data)


def test_the_same_name_without_a_shared_identifier_stays_two_people():
    data = csv_bytes([HEADER[1:7],
                      ["M.", "Martin", "Paul", "MK", rpps(10), "paul@example.fr"],
                      ["M.", "Martin", "Paul", "MK", "", "paul.martin@example.fr"]])
    rows = plan(data).rows
    assert [r.status for r in rows] == ["create", "create"] and not rows[1].warnings


def test_the_membership_columns_of_each_row(workbook):
    """A payment only with a date; a method without a date is announced; « Exonéré » is exempt;
    amounts as numbers or as text; Excel dates and text dates."""
    from decimal import Decimal

    rows = by_line(plan(workbook))
    cells = {line: row.membership for line, row in rows.items()}
    assert (cells[6].member_number, cells[6].amount, cells[6].paid_on, cells[6].method) == (
        "A-001", Decimal("50.00"), date(2026, 1, 15), "cheque")
    assert (cells[7].amount, cells[7].paid_on, cells[7].method, cells[7].paid) == (
        Decimal("30.00"), date(2026, 1, 15), "transfer", True)
    assert (cells[8].amount, cells[8].paid, cells[8].announced) == (Decimal("30.00"), False, False)
    assert (cells[9].method, cells[9].paid, cells[9].announced) == ("cash", False, True)
    assert cells[12].exempt and not cells[12].paid
    assert (cells[13].paid_on, cells[13].method) == (date(2026, 2, 3), "helloasso")     # « 3/2/26 », HelloAsso
    assert (cells[14].amount, cells[14].paid_on, cells[14].method) == (Decimal("30.00"), date(2026, 2, 2), "card")
    assert (cells[15].announced, cells[15].method) == (True, "cheque")
    assert cells[9].describe().replace("\xa0", " ") == "30,00 € dû, espèces annoncé (pas encore payé)"
    assert cells[6].describe().replace("\xa0", " ") == "payée 50,00 € le 15/01/2026 (chèque)"


@pytest.mark.parametrize("column, text, message", [
    (10, "trente euros", "La cotisation est invalide : « trente euros »"),
    (11, "mi-janvier", "Date de paiement illisible « mi-janvier » (jj/mm/aaaa)."),
    (11, "31/02/2026", "Date de paiement impossible « 31/02/2026 »."),
    (12, "bitcoin", "Mode de paiement inconnu « bitcoin »"),
])
def test_an_unreadable_membership_cell_is_an_error_of_its_row(column, text, message):
    rows = workbook_rows()
    rows[12][column] = text  # line 13
    row = by_line(plan(workbook_xlsx(rows)))[13]
    assert row.status == "error" and row.errors[0].startswith(message)
    assert row.refused == {{10: "amount", 11: "paid_on", 12: "method"}[column]: column}  # correctable in the preview


@pytest.mark.parametrize("text, paid_on", [
    ("15/01/2026", date(2026, 1, 15)), ("3/2/26", date(2026, 2, 3)), ("2026-01-15", date(2026, 1, 15)),
    ("46037", date(2026, 1, 15)), ("jeudi 15 janvier 2026", date(2026, 1, 15)), ("1er février 2026", date(2026, 2, 1)),
])
def test_a_payment_date_is_read_as_the_sheets_of_the_other_imports_are(text, paid_on):
    assert read_payment_date(text) == paid_on
