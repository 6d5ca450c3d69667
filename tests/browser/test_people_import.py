"""The treasurer's first step, in a real browser: import the spreadsheet of professionals."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import seed_user
from tests.people.helpers import csv_bytes, rpps

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

PASSWORD = "une phrase assez longue"
HEADER = ["Civilité", "Nom", "Prénom", "Profession", "RPPS", "Courriel", "Commune"]
ROWS = [
    ["Mme", "Morvan", "Claire", "Infirmière", rpps(1), "claire.morvan@example.org", "Guérande"],
    ["M.", "Le Goff", "Yann", "Kiné", rpps(2), "yann.legoff@example.org", "La Baule-Escoublac"],
    ["Mme", "Hérault", "Zoé", "Sage-femme", rpps(3), "zoe.herault@example.org", "Le Croisic"],
]


def test_treasurer_imports_the_spreadsheet_after_fixing_it(live_app, signed_in_page, tmp_path):
    live_app.run(seed_user, "tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD)
    page = signed_in_page("tresoriere@example.org", PASSWORD)

    page.get_by_role("link", name="Annuaire").first.click()
    expect(page.get_by_text("L'annuaire est vide.")).to_be_visible()
    page.get_by_role("link", name="Importer le tableur des professionnels").click()

    # A first file with a wrong RPPS key (Windows-1252, as Excel saves it): nothing can be imported.
    wrong = tmp_path / "annuaire.csv"
    wrong.write_bytes(csv_bytes([HEADER, *ROWS, ["M.", "Faux", "Numéro", "Infirmier", "12345678901", "", "Batz-sur-Mer"]],
                                encoding="cp1252"))
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(wrong)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification de l'import")
    expect(page.locator("#import-blocked")).to_contain_text("L'import est bloqué")
    expect(page.locator("tr[data-line='5']")).to_contain_text("Le numéro RPPS est invalide (clé de contrôle incorrecte).")
    expect(page.locator("tr[data-line='2']")).to_contain_text("Création")
    expect(page.locator("#import-confirm")).to_be_disabled()

    # The corrected file: three rows to create, then confirmed.
    fixed = tmp_path / "annuaire-corrige.csv"
    fixed.write_bytes(csv_bytes([HEADER, *ROWS], encoding="cp1252"))
    page.get_by_role("link", name="Envoyer un autre fichier").first.click()
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(fixed)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator("#count-create")).to_have_text("3")
    page.get_by_role("button", name="Importer 3 fiches").click()
    expect(page.get_by_role("alert")).to_contain_text("Import terminé : 3 fiche(s) créée(s), 0 mise(s) à jour, 0 inchangée(s).")
    expect(page).to_have_url(re.compile(r"/o/cpts-test/people/$"))

    # Accent-insensitive search finds the imported people.
    page.get_by_role("searchbox", name="Rechercher").fill("herault")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("link", name="HÉRAULT Zoé")).to_be_visible()
    page.get_by_role("link", name="HÉRAULT Zoé").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mme Zoé HÉRAULT")
    expect(page.get_by_text("Sage-femme · Le Croisic")).to_be_visible()

    # Importing the same file again changes nothing.
    page.goto("/o/cpts-test/people/import")
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(fixed)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator("#count-unchanged")).to_have_text("3")
    expect(page.locator("#count-create")).to_have_text("0")
