"""The people import through the web: upload, preview, all-or-nothing commit, re-import."""
import io
import re
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.people.models import Professional
from tests.factories import ProfessionalFactory, SiteFactory
from tests.people.helpers import HEADER, csv_bytes, rpps, xlsx_bytes


def upload(client, data, filename="annuaire.csv"):
    return client.post("/o/cpts-test/people/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def token_of(response):
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return re.search(r"/people/import/([A-Za-z0-9_-]+)$", response.headers["Location"]).group(1)


def professionals():
    return db.session.scalar(select(func.count()).select_from(Professional))


def import_file(client, data, filename="annuaire.csv"):
    token = token_of(upload(client, data, filename))
    preview = client.get(f"/o/cpts-test/people/import/{token}")
    confirm = client.post(f"/o/cpts-test/people/import/{token}")
    return token, preview, confirm


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


def test_upload_preview_commit(client, treasurer, people_rows, organisation, app):
    token = token_of(upload(client, csv_bytes(people_rows)))
    stored = Path(app.config["STORAGE_DIR"]) / str(organisation.id) / "imports" / token
    assert stored.read_bytes() == csv_bytes(people_rows)
    preview = client.get(f"/o/cpts-test/people/import/{token}")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert re.search(r'id="count-create">3<', html) and 'id="import-confirm"' in html
    assert "disabled" not in re.search(r'<button[^>]*id="import-confirm"[^>]*>', html).group(0)
    assert professionals() == 0  # nothing stored at the preview
    response = client.post(f"/o/cpts-test/people/import/{token}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/o/cpts-test/people/")
    assert professionals() == 3
    assert not stored.exists()
    claire = db.session.scalar(select(Professional).where(Professional.rpps == rpps(1)))
    assert (claire.civility, claire.profession, claire.phone, claire.commune, claire.sort_name) == (
        "Mme", "infirmier", "+33612345678", "Guérande", "morvan claire")
    html = client.get("/o/cpts-test/people/").get_data(as_text=True)
    assert "Import terminé : 3 fiche(s) créée(s), 0 mise(s) à jour, 0 inchangée(s)." in html


def test_one_bad_row_imports_nothing(client, treasurer, people_rows):
    people_rows.append(["Mme", "Faux", "Numéro", "Infirmier", "12345678901", "", "", "", ""])
    token = token_of(upload(client, csv_bytes(people_rows)))
    html = client.get(f"/o/cpts-test/people/import/{token}").get_data(as_text=True)
    assert "L'import est bloqué" in html
    assert re.search(r'<button[^>]*id="import-confirm"[^>]*disabled', html)
    assert "Le numéro RPPS est invalide (clé de contrôle incorrecte)." in html
    response = client.post(f"/o/cpts-test/people/import/{token}", follow_redirects=True)
    assert "1 ligne(s) comportent des erreurs : rien n&#39;a été importé." in response.get_data(as_text=True)
    assert professionals() == 0


def test_reimport_creates_no_duplicates_and_reports_unchanged(client, treasurer, people_rows):
    import_file(client, csv_bytes(people_rows))
    token, preview, confirm = import_file(client, csv_bytes(people_rows, encoding="cp1252", delimiter=","))
    assert re.search(r'id="count-unchanged">3<', preview.get_data(as_text=True))
    assert professionals() == 3
    html = client.get(confirm.headers["Location"]).get_data(as_text=True)
    assert "0 fiche(s) créée(s), 0 mise(s) à jour, 3 inchangée(s)" in html


def test_updates_are_applied_and_recorded(client, treasurer, people_rows):
    existing = ProfessionalFactory(first_name="Claire", last_name="Morvan", rpps=rpps(1), phone=None,
                                   email="ancienne@example.org", commune="Guérande", postcode="44350")
    token = token_of(upload(client, csv_bytes(people_rows)))
    html = client.get(f"/o/cpts-test/people/import/{token}").get_data(as_text=True)
    assert re.search(r'id="count-update">1<', html) and re.search(r'id="count-create">2<', html)
    assert "ancienne@example.org → claire.morvan@example.org" in html
    client.post(f"/o/cpts-test/people/import/{token}")
    assert (existing.email, existing.phone, existing.profession) == ("claire.morvan@example.org", "+33612345678", "infirmier")
    assert professionals() == 3
    history = client.get(f"/o/cpts-test/people/{existing.id}").get_data(as_text=True)
    assert "E-mail : ancienne@example.org → claire.morvan@example.org" in history


def test_xlsx_import_with_site(client, treasurer):
    site = SiteFactory(name="MSP de Mayenne")
    rows = [["Nom", "Prénom", "Profession", "RPPS", "Lieu d'exercice", "Code postal"],
            ["Chevalier", "Paul", "Médecin généraliste", int(rpps(4)), "msp de mayenne", 53100]]
    _, preview, _ = import_file(client, xlsx_bytes(rows), "annuaire.xlsx")
    assert "format XLSX" in preview.get_data(as_text=True)
    paul = db.session.scalar(select(Professional).where(Professional.rpps == rpps(4)))
    assert (paul.site_id, paul.postcode, paul.profession) == (site.id, "53100", "medecin_generaliste")


def test_commit_revalidates_against_the_directory(client, treasurer):
    """The directory changed between the preview and the confirmation: the commit checks again."""
    rows = [["Nom", "Prénom", "Profession", "RPPS", "ADELI"], ["Morvan", "Claire", "Infirmier", rpps(1), "441234567"],
            ["Le Goff", "Yann", "Kiné", rpps(2), ""]]
    token = token_of(upload(client, csv_bytes(rows)))
    assert re.search(r'id="count-create">2<', client.get(f"/o/cpts-test/people/import/{token}").get_data(as_text=True))
    ProfessionalFactory(first_name="Claire", last_name="Morvan", rpps=rpps(1))
    ProfessionalFactory(first_name="Jean", last_name="Adeli", adeli="441234567")
    response = client.post(f"/o/cpts-test/people/import/{token}", follow_redirects=True)
    assert "rien n&#39;a été importé" in response.get_data(as_text=True)
    assert "Le ADELI 441234567 appartient déjà à Jean ADELI" in response.get_data(as_text=True)
    assert professionals() == 2
    assert db.session.scalar(select(Professional).where(Professional.rpps == rpps(2))) is None


def test_unknown_or_foreign_token_is_404(client, login_as, people_rows, other_organisation):
    login_as("treasurer", org=other_organisation)
    token = token_of(client.post("/o/cpts-autre/people/import", data={"file": (io.BytesIO(csv_bytes(people_rows)), "a.csv")},
                                 content_type="multipart/form-data"))
    g.pop("_login_user", None)  # the test's app context outlives requests: forget the cached user
    login_as("treasurer")
    assert client.get(f"/o/cpts-test/people/import/{token}").status_code == 404
    assert client.post(f"/o/cpts-test/people/import/{token}").status_code == 404
    assert client.get("/o/cpts-test/people/import/" + "x" * 43).status_code == 404
    assert client.get("/o/cpts-test/people/import/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_size_limit_and_unreadable_file(client, treasurer, app, monkeypatch):
    monkeypatch.setitem(app.config, "PEOPLE_IMPORT_MAX_BYTES", 100)
    response = upload(client, b"Nom;Prenom\r\n" + b"x;y\r\n" * 50)
    assert response.status_code == 422
    assert "Le fichier dépasse la taille maximale" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "PEOPLE_IMPORT_MAX_BYTES", 10_000)
    token = token_of(upload(client, b"%PDF-1.4 not a spreadsheet", "annuaire.pdf"))
    preview = client.get(f"/o/cpts-test/people/import/{token}")
    assert preview.status_code == 422
    assert "Format de fichier inconnu : envoyez un fichier CSV ou XLSX." in preview.get_data(as_text=True)
    response = client.post(f"/o/cpts-test/people/import/{token}", follow_redirects=True)
    assert "Format de fichier inconnu" in response.get_data(as_text=True)


def test_template_download(client, treasurer):
    response = client.get("/o/cpts-test/people/import/modele.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.decode("utf-8-sig").startswith("Civilité;Nom;Prénom;Profession;RPPS;ADELI;E-mail")


def test_injection_looking_cells_are_stored_as_text(client, treasurer):
    rows = [HEADER, ["Mme", "=HYPERLINK(\"http://x\";\"y\")", "@Anne", "Infirmier", rpps(8), "", "+33612345678", "", "-cmd"]]
    import_file(client, csv_bytes(rows))
    person = db.session.scalar(select(Professional).where(Professional.rpps == rpps(8)))
    assert (person.last_name, person.first_name, person.commune) == ("=HYPERLINK(\"http://x\";\"y\")", "@Anne", "-cmd")


@pytest.mark.parametrize("role, status", [("admin", 200), ("treasurer", 200), ("board", 403), ("accountant", 403),
                                          ("member", 403)])
def test_who_may_import(client, login_as, role, status):
    login_as(role)
    assert client.get("/o/cpts-test/people/import").status_code == status
    assert client.get("/o/cpts-test/people/import/modele.csv").status_code == status
