"""A refused cell corrected in the preview: the treasurer types the right e-mail or RPPS in place,
the row is checked again, her column and profession choices stay, and the import goes on —
without sending the file again. The file stays as uploaded; the corrections are kept beside it,
by line and column, and read in place of its cells. The commit is still all or nothing."""
import re

from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.people import services
from backoffice.people.importer import plan_import, read_table
from backoffice.people.models import Professional
from tests.people.helpers import rpps
from tests.people.test_import import token_of, upload
from tests.people.test_workbook_import import _choices
from tests.people.workbooks import workbook_rows, workbook_xlsx

WRONG_RPPS = rpps(1)[:-1] + str((int(rpps(1)[-1]) + 1) % 10)   # a wrong key


def refused_workbook():
    """Her workbook with Claire Morvan's RPPS mistyped (line 7) and Anne Riou's e-mail cut
    short (line 13)."""
    rows = workbook_rows()
    rows[6][5] = WRONG_RPPS
    rows[12][6] = "anne.riou@example"
    return workbook_xlsx(rows)


def by_line(data, corrections=None):
    return {row.line: row for row in plan_import(read_table(data, "adherents.xlsx", None, corrections), []).rows}


# --------------------------------------------------------------------------------------------
# Without HTTP
# --------------------------------------------------------------------------------------------

def test_a_correction_is_read_in_place_of_the_cell_and_the_row_checked_again():
    data = refused_workbook()
    rows = by_line(data)
    assert rows[13].errors == ["L'adresse e-mail est invalide."] and rows[13].refused == {"email": 6}
    assert rows[7].refused == {"rpps": 5}
    fixed = by_line(data, {"13": {"6": "anne.riou@example.fr"}, "7": {"5": rpps(1)}})
    assert fixed[13].errors == [] and fixed[13].status == "create"
    assert fixed[13].values["email"] == "anne.riou@example.fr"
    assert fixed[13].corrections == [("Courriel", "anne.riou@example", "anne.riou@example.fr")]
    assert fixed[7].values["rpps"] == rpps(1)
    assert fixed[11].status == "merged" and fixed[11].merged_into == 7  # the same person again, once right
    assert fixed[6].corrections == [] and fixed[6].errors == []


def test_a_correction_outside_the_data_changes_nothing():
    data = refused_workbook()
    # Line 4 is the header; line 99 does not exist: neither is read as data.
    rows = by_line(data, {"4": {"2": "Prénom"}, "99": {"6": "x@example.fr"}})
    assert rows[13].errors == ["L'adresse e-mail est invalide."]


def test_the_service_keeps_the_file_and_stores_the_correction_beside_it(organisation):
    data = refused_workbook()
    token = services.store_import(organisation, data, "adherents.xlsx")
    stored = services.load_import(organisation, token)
    assert services.correct_import_cell(organisation, stored, 13, 6, "  anne.riou@example.fr ") == "Courriel"
    again = services.load_import(organisation, token)
    assert again.data == data                                  # the file as she sent it
    assert again.corrections == {"13": {"6": "anne.riou@example.fr"}}
    plan = services.plan_people_import(again.data, again.filename, organisation, corrections=again.corrections)
    assert {row.line for row in plan.rows if row.errors} == {7}
    for line, message in [(4, "La ligne 4 n'est pas une ligne de données du fichier"), (99, "La ligne 99 n'est pas")]:
        try:
            services.correct_import_cell(organisation, again, line, 6, "x@example.fr")
        except services.ImportRejected as exc:
            assert str(exc).startswith(message)
        else:
            raise AssertionError("a cell outside the data was corrected")
    services.discard_import(organisation, token)
    assert services.load_import(organisation, token) is None


# --------------------------------------------------------------------------------------------
# Through the preview
# --------------------------------------------------------------------------------------------

def preview(client, token):
    response = client.get(f"/o/cpts-test/people/import/{token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def correct(client, token, line, column, value):
    response = client.post(f"/o/cpts-test/people/import/{token}/cell",
                           data={"line": line, "column": column, "value": value})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#line-{line}")
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_treasurer_fixes_two_cells_in_the_preview_and_imports(client, login_as, organisation):
    login_as("treasurer")
    sent = refused_workbook()
    token = token_of(upload(client, sent, "adherents-2026.xlsx"))
    # Her choices first: « Observations » becomes the address, « Ortho » is a speech therapist.
    client.post(f"/o/cpts-test/people/import/{token}/columns", data=_choices(**{"column-13": "address"}, **{
        "profession-text-0": "Ortho", "profession-0": "orthophoniste"}))
    html = preview(client, token)
    assert re.search(r'id="count-error">2<', html)
    assert 'disabled aria-describedby="import-blocked"' in html
    # Each refused cell has its field, labelled, in the row: usable from the keyboard alone.
    assert '<label class="small mb-0" for="fix-13-6">E-mail (« Courriel ») :</label>' in html
    assert 'id="fix-13-6" name="value" value="anne.riou@example"' in html
    assert 'for="fix-7-5"' in html

    html = correct(client, token, 13, 6, "anne.riou@example.fr")
    assert "Ligne 13 : « Courriel » corrigé." in html
    assert "« Courriel » corrigé ici : « anne.riou@example » → « anne.riou@example.fr »" in html
    assert re.search(r'id="count-error">1<', html) and 'for="fix-13-6"' not in html
    html = correct(client, token, 7, 5, rpps(1))
    assert re.search(r'id="count-error">0<', html) and "import-blocked" not in html
    assert "ambiguë" not in html            # her profession choice still holds
    assert services.load_import(organisation, token).data == sent   # the file as she sent it

    response = client.post(f"/o/cpts-test/people/import/{token}")
    assert response.status_code == 302
    anne = db.session.scalar(select(Professional).where(Professional.rpps == rpps(4)))
    claire = db.session.scalar(select(Professional).where(Professional.rpps == rpps(1)))
    zoe = db.session.scalar(select(Professional).where(Professional.rpps == rpps(3)))
    assert anne.email == "anne.riou@example.fr" and claire.last_name == "Morvan"
    assert (zoe.profession, zoe.address) == ("orthophoniste", "membre du bureau")
    assert db.session.scalar(select(func.count()).select_from(Professional)) == 8


def test_a_correction_still_wrong_keeps_the_import_blocked_and_imports_nothing(client, login_as, organisation):
    login_as("treasurer")
    token = token_of(upload(client, refused_workbook(), "adherents-2026.xlsx"))
    html = correct(client, token, 13, 6, "anne.riou@")
    assert "L&#39;adresse e-mail est invalide." in html and 'value="anne.riou@"' in html
    response = client.post(f"/o/cpts-test/people/import/{token}", follow_redirects=True)
    assert "Corrigez-les dans l&#39;aperçu" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Professional)) == 0


def test_a_cell_of_the_header_cannot_be_corrected(client, login_as, organisation):
    login_as("treasurer")
    token = token_of(upload(client, refused_workbook(), "adherents-2026.xlsx"))
    response = client.post(f"/o/cpts-test/people/import/{token}/cell", data={"line": 4, "column": 2, "value": "X"},
                           follow_redirects=True)
    assert "La ligne 4 n&#39;est pas une ligne de données du fichier : rien n&#39;a été corrigé." in \
        response.get_data(as_text=True)
    assert services.load_import(organisation, token).corrections == {}
