"""The treasurer's workbook through the web: the preview shows what is left out and why, she
re-maps a column and chooses an ambiguous profession (remembered for her next file of the same
layout), and the import creates one person per person."""
import re

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.people.models import ImportLayout, Professional
from tests.people.helpers import rpps
from tests.people.test_import import token_of, upload
from tests.people.workbooks import workbook_csv, workbook_xlsx


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


def preview(client, token):
    response = client.get(f"/o/cpts-test/people/import/{token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_preview_shows_notes_warnings_and_columns_not_imported(client, treasurer):
    token = token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx"))
    html = preview(client, token)
    assert "en-têtes en ligne 4" in html
    assert re.search(r'id="count-create">8<', html) and re.search(r'id="count-error">0<', html)
    assert "6 lignes du fichier laissées de côté" in html
    assert "Ligne 5 : « Médecins » : intertitre, ignoré." in html
    assert "Lignes 7 et 11 : la même personne (même RPPS), réunies en une seule fiche." in html
    assert 'data-line="11" data-status="merged"' in html
    assert "Téléphone « 02 40 XX » non reconnu : gardé tel quel." in html
    assert "Commune hors du territoire : Brest (29200)" in html
    assert 'id="import-ignored">Colonnes non importées : Observations.' in html
    assert '<select class="form-select form-select-sm" id="column-9" name="column-9">' in html
    assert re.search(r'<option value="commune" selected>Commune</option>', html)
    assert 'name="profession-text-0" value="Ortho"' in html
    assert db.session.scalar(select(func.count()).select_from(Professional)) == 0  # a preview writes nothing


def _choices(**changes):
    columns = {"column-1": "civility", "column-2": "last_name", "column-3": "first_name", "column-4": "profession",
               "column-5": "rpps", "column-6": "email", "column-7": "phone", "column-8": "postcode",
               "column-9": "commune"}
    columns.update(changes)
    return columns


def test_her_choices_are_remembered_for_the_next_file_of_the_same_layout(client, treasurer, organisation):
    token = token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx"))
    response = client.post(f"/o/cpts-test/people/import/{token}/columns",
                           data=_choices(**{"column-9": "", "column-13": "address"}, **{
                               "profession-text-0": "Ortho", "profession-0": "orthophoniste"}))
    assert response.status_code == 302
    saved = db.session.scalar(select(ImportLayout).where(ImportLayout.organisation_id == organisation.id))
    assert saved.columns["9"] is None and saved.columns["13"] == "address"
    assert saved.professions == {"ortho": "orthophoniste"}

    # The same sheet saved again as CSV a week later: the same layout, her choices apply.
    later = token_of(upload(client, workbook_csv(), "adherents-2026-v2.csv"))
    html = preview(client, later)
    assert "Ville" in re.search(r'id="import-ignored">([^<]*)<', html).group(1)
    assert "ambiguë" not in html
    assert client.post(f"/o/cpts-test/people/import/{later}").status_code == 302
    zoe = db.session.scalar(select(Professional).where(Professional.rpps == rpps(3)))
    assert (zoe.profession, zoe.commune, zoe.address, zoe.phone) == ("orthophoniste", None, "membre du bureau",
                                                                     "02 40 XX")


def test_a_field_chosen_twice_is_refused_and_nothing_is_remembered(client, treasurer, organisation):
    token = token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx"))
    response = client.post(f"/o/cpts-test/people/import/{token}/columns", data=_choices(**{"column-13": "last_name"}))
    assert response.status_code == 422
    assert "« Nom » est choisie pour deux colonnes (« NOM » et « Observations »)" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportLayout)) == 0


def test_the_import_creates_one_person_per_person(client, treasurer):
    token = token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx"))
    response = client.post(f"/o/cpts-test/people/import/{token}")
    assert response.status_code == 302
    people = db.session.scalars(select(Professional).order_by(Professional.sort_name)).all()
    assert [(p.last_name, p.first_name) for p in people] == [
        ("Bléas", "Soizic"), ("Hérault", "Zoé"), ("Kerjean", "Loïc"), ("Le Goff", "Yann"), ("Martin", "Paul"),
        ("Martin", "Paul"), ("Morvan", "Claire"), ("Riou", "Anne")]
    zoe = next(p for p in people if p.last_name == "Hérault")
    assert (zoe.profession, zoe.phone, zoe.commune) == (None, "02 40 XX", "Brest")
