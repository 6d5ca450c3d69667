"""The SISA treasurer's year in a real browser: open the year, import the meetings, simulate two
scenarios side by side, prepare and validate one, produce the statements; then an associate signs
in and downloads his own statement, and cannot reach another's."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import empty_books, seed_organisation, seed_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

PASSWORD = "une phrase assez longue"
MEETINGS_CSV = """Temps de coordination 2025;;;;
Date;Durée;Thème;Type;Participant
04/03/2025;1h30;RCP patients diabétiques;RCP;Hélène Brochard
;;;;Paul Chevalier
Total;3 h;;;
17/06/2025;2h;Protocole plaies chroniques;Protocole;Hélène Brochard
"""


def _empty_sisa_books():
    """The SISA's rows that point at journal entries go first, then the entries (``empty_books``)."""
    from sqlalchemy import text

    from backoffice.extensions import db

    for table in ("sisa_refunds", "sisa_distribution_shares", "sisa_distributions", "sisa_deductions", "sisa_income"):
        db.session.execute(text(f"DELETE FROM {table}"))
    empty_books()


@pytest.fixture(autouse=True)
def _books_emptied_before_reset(live_app):
    yield
    live_app.run(_empty_sisa_books)


def _sisa_year():
    """A SISA with three associates, the 2025 ACI advance and two scenarios of keys."""
    from datetime import date
    from decimal import Decimal

    from backoffice.extensions import db
    from backoffice.organisations.affiliations import Role, affiliate
    from backoffice.organisations.models import Organisation
    from backoffice.sisa import services
    from backoffice.sisa.services import KeyRow
    from tests.factories import ProfessionalFactory

    organisation = db.session.get(Organisation, seed_organisation("sisa-test", "SISA du Bocage", kind="sisa"))
    seed_user("tresorier@example.org", {"sisa-test": ["treasurer"]}, password=PASSWORD)
    people = [ProfessionalFactory(first_name="Hélène", last_name="Brochard", profession="medecin_generaliste"),
              ProfessionalFactory(first_name="Paul", last_name="Chevalier", profession="medecin_generaliste"),
              ProfessionalFactory(first_name="Soizic", last_name="Le Goff", profession="infirmier")]
    for party in people:
        affiliate(party, organisation, Role.ASSOCIATE, date(2020, 1, 1))
    services.record_income(organisation, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), Decimal("9000.00"))
    rules = services.create_scenario(organisation, 2025, "Règlement intérieur")
    services.set_keys(rules, [KeyRow("Part égale", "40", "equal"), KeyRow("Temps de coordination", "60", "hours")])
    equal = services.create_scenario(organisation, 2025, "Tout à parts égales")
    services.set_keys(equal, [KeyRow("Part égale", "100", "equal")])
    user_id = seed_user("helene@example.org", {"sisa-test": ["member"]}, password=PASSWORD)
    from backoffice.auth.models import User

    db.session.get(User, user_id).party_id = people[0].id
    return [p.id for p in people]


def _statements():
    """{party id: statement document id} of the validated version."""
    from backoffice.documents.models import GeneratedDocument
    from backoffice.extensions import db
    from backoffice.sisa.models import SisaDistributionShare

    return {share.party_id: document.id for document, share in db.session.query(GeneratedDocument, SisaDistributionShare)
            .filter(GeneratedDocument.kind == "sisa_statement", GeneratedDocument.subject_id == SisaDistributionShare.id)}


def test_the_treasurer_distributes_the_year_and_an_associate_gets_his_statement(live_app, signed_in_page, tmp_path,
                                                                               request):
    helene, paul, soizic = live_app.run(_sisa_year)
    page = signed_in_page("tresorier@example.org", PASSWORD)

    # Open the year: the income of the latest year with income, nothing deducted.
    page.goto("/o/sisa-test/sisa/")
    expect(page).to_have_url(re.compile(r"/sisa/2025/$"))
    expect(page.locator("[data-figure=distributable]")).to_have_text("9\u202f000,00\u00a0€")

    # The meetings from the treasurer's sheet (title row, a total line, blank cells repeating the meeting).
    page.get_by_role("link", name="Réunions").click()
    page.get_by_role("link", name="Importer un tableur").click()
    sheet = tmp_path / "presences-2025.csv"
    sheet.write_bytes(MEETINGS_CSV.encode("cp1252"))
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(sheet)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator("#count-meetings")).to_have_text("2")
    expect(page.locator("#count-attendances")).to_have_text("3")
    page.get_by_role("button", name="Importer 2 réunions").click()
    expect(page.get_by_role("alert")).to_contain_text("Import terminé : 2 réunion(s), 3 présence(s).")

    # Two scenarios side by side: the time key gives Hélène (3h30) more than equal parts.
    page.get_by_role("link", name="Simulation").click()
    page.get_by_label("Scénario").select_option(label="Règlement intérieur")
    page.get_by_label("Comparer avec").select_option(label="Tout à parts égales")
    page.get_by_role("button", name="Simuler").click()
    table = page.locator("#simulation")
    expect(table.locator("thead")).to_contain_text("Tout à parts égales")
    # 40 % equal: 1 200,00 each; 60 % by hours 3,5 / 1,5 / 0 of 5 400,00: 3 780,00 / 1 620,00 / 0.
    expect(table.locator("tr", has_text="Hélène BROCHARD")).to_contain_text("4\u202f980,00\u00a0€")
    expect(table.locator("tr", has_text="Hélène BROCHARD")).to_contain_text("3\u202f000,00\u00a0€")
    expect(table.locator("tr", has_text="Soizic LE GOFF")).to_contain_text("1\u202f200,00\u00a0€")
    expect(page.locator("[data-figure=total]")).to_have_text("9\u202f000,00\u00a0€")

    # Prepare the version of the chosen scenario, then validate it (the page asks first).
    page.get_by_role("link", name="Versions validées").click()
    page.get_by_label("Scénario de clés").select_option(label="Règlement intérieur")
    page.get_by_role("button", name="Préparer une version").click()
    expect(page.locator("#status")).to_have_text("Brouillon")
    expect(page.locator("#recomputed")).to_contain_text("mêmes montants, au centime près")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Valider et comptabiliser").click()
    expect(page.get_by_role("alert")).to_contain_text("Répartition validée et comptabilisée")
    expect(page.locator("#status")).to_have_text("Validée")
    version_url = page.url

    # The statements, made by the job; each share links to its statement.
    page.get_by_role("button", name="Produire les relevés individuels").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    expect(page.get_by_text("3 relevé(s) produit(s).")).to_be_visible()
    page.goto(version_url)
    expect(page.locator("#shares tbody tr", has_text="Hélène BROCHARD")).to_contain_text(re.compile(r"n° 2025-\d+"))

    # Hélène signs in: her own figures and statement; Paul's statement is out of her reach.
    statements = live_app.run(_statements)
    associate = page.context.browser.new_context(locale="fr-FR")
    request.addfinalizer(associate.close)
    mine = sign_in(associate.new_page(), "helene@example.org", PASSWORD, base_url=live_app.url)
    mine.goto(live_app.url + "/o/sisa-test/sisa/mon-espace?annee=2025")
    expect(mine.get_by_text("3 h 30")).to_be_visible()
    with mine.expect_download() as download:
        mine.get_by_role("link", name="mon relevé").click()
    assert download.value.url.endswith(f"/documents/files/{statements[helene]}")
    assert download.value.suggested_filename == "releve-2025-v1-brochard-helene.docx"
    other = mine.request.get(f"{live_app.url}/o/sisa-test/documents/files/{statements[paul]}")
    assert other.status in (403, 404)
    assert mine.request.get(f"{live_app.url}/o/sisa-test/sisa/2025/repartitions").status == 403
