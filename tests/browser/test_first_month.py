"""A treasurer's first month, in a real browser: her member workbook (people, memberships and
payments) in, after fixing two rows in the preview; then her bank's statement, whose pre-ticked
lines she confirms and whose shared transfer she splits over two memberships; the member list
then says who has paid. What she sees is asserted, and checked against the database."""
import re
from datetime import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from tests.browser.conftest import seed_organisation, seed_user
from tests.browser.test_membership_journeys import _books_emptied_before_reset  # noqa: F401  (autouse fixture)
from tests.people.helpers import rpps, xlsx_bytes
from tests.people.workbooks import HEADER

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

YEAR = datetime.now().year
PASSWORD = "une phrase assez longue"
TREASURER = "tresoriere@example.org"
SCHEME = "COT{year}/{number:05}"


def seed_world():
    """The CPTS with its bank account, this year's fee grid and its own reference scheme built from the member
    number, and its treasurer."""
    from backoffice.membership import services
    from backoffice.organisations.models import Organisation
    from tests.member_portal.conftest import make_grid

    organisation = db.session.get(Organisation, seed_organisation())
    organisation.iban, organisation.bic = "FR7630004000031234567890143", "BNPAFRPPXXX"
    make_grid(organisation, YEAR)
    services.set_reference_scheme(organisation, SCHEME)
    seed_user(TREASURER, {"cpts-test": ["treasurer"]}, password=PASSWORD, full_name="Claire Morvan")


def workbook(email_of_anne):
    """The sheet as she keeps it: two title rows, a sub-heading, amounts as numbers and as text
    (« 30,00 € »), a payment date as a real date and one as text, a method without a date
    (announced, not paid), an ambiguous « Ortho », and a total row."""
    return xlsx_bytes([
        [f"Adhérents {YEAR} — CPTS de la Presqu'île"],                                         # 1 title
        ["Tableau tenu par la trésorière"],                                                    # 2 title
        [],                                                                                    # 3
        HEADER,                                                                                # 4 header
        ["Médecins"],                                                                          # 5 sub-heading
        ["1", "M.", "Le Goff", "Yann", "Médecin généraliste", rpps(2), "yann.legoff@example.fr", "02 40 23 45 67",
         "44500", "La Baule-Escoublac", 50, datetime(YEAR, 1, 15), "Chèque", "chèque n° 1234567"],      # 6
        ["Paramédicaux"],                                                                      # 7 sub-heading
        ["2", "Mme", "Morvan", "Claire", "IDE", rpps(1), "claire.morvan@example.fr", "", "44350", "Guérande",
         "30,00 €", f"15/01/{YEAR}", "Virement", ""],                                          # 8
        ["5", "Mme", "Hérault", "Zoé", "Ortho", rpps(3), "zoe.herault@example.fr", "", "44350", "Guérande",
         "30,00 €", "", "", ""],                                                               # 9
        ["6", "Mme", "Riou", "Anne", "Chir. dentiste", rpps(4), email_of_anne, "", "44350", "Guérande",
         "30,00 €", "", "Virement", "cabinet du port"],                                        # 10
        ["7", "Mme", "Bléas", "Soizic", "SF", rpps(5), "soizic.bleas@example.fr", "", "44740", "Batz-sur-Mer",
         "30 €", "", "", "cabinet du port"],                                                   # 11
        ["8", "M.", "Kerjean", "Loïc", "Maïeuticien", rpps(6), "loic.kerjean@example.fr", "", "44350", "Guérande",
         "30,00", "", "Chèque", "chèque annoncé"],                                             # 12
        [],                                                                                    # 13
        ["", "", "TOTAL", "", "", "", "", "", "", "", "200,00 €"],                              # 14 total
    ], as_text={(8, 6), (9, 11)})


def statement():
    """February as the bank exports it (Crédit Agricole's shape): a preamble with the account and
    a « Solde au » line, debit and credit columns, multi-line labels, totals after the operations."""
    return f"""Téléchargement du 02/03/{YEAR};;;;
CPTS DE LA PRESQU'ILE;;;;
Compte de Dépôt carte n° 12345678901;;;;
Solde au 28/02/{YEAR} 7 465,10 €;;;;
;;;;
Liste des opérations du compte entre le 01/02/{YEAR} et le 28/02/{YEAR};;;;
;;;;
Date;Libellé;Débit euros;Crédit euros;
03/02/{YEAR};"VIR SEPA RECU /DE MME HERAULT ZOE 
/MOTIF COT{YEAR}/00005";;30,00;
05/02/{YEAR};"PRELEVEMENT 
MAIF ASSURANCE ASSOCIATION";154,20;;
10/02/{YEAR};"VIR SEPA RECU /DE SCM CABINET DU PORT 
/MOTIF COTISATIONS RIOU BLEAS";;60,00;
20/02/{YEAR};"VIR SEPA RECU /DE ARS PAYS DE LA LOIRE 
/MOTIF SUBVENTION FIR {YEAR}";;5 000,00;
27/02/{YEAR};FRAIS TENUE DE COMPTE;4,90;;
;;;;
Total des opérations;159,10;5 090,00;
Solde au 28/02/{YEAR};;7 465,10;
""".replace("\n", "\r\n").encode("cp1252")


def memberships():
    """{last name: (status, due, paid, payment dates and methods)} of this year's memberships."""
    from backoffice.membership.models import Membership, MembershipPayment

    result = {}
    for membership in db.session.scalars(select(Membership)):
        payments = db.session.scalars(select(MembershipPayment).where(MembershipPayment.membership_id == membership.id)
                                      .order_by(MembershipPayment.id))
        result[membership.party.last_name] = (
            membership.status.value, membership.amount_due, membership.amount_paid,
            [(p.paid_on.isoformat(), p.method.value, p.amount) for p in payments])
    return result


def references():
    from backoffice.membership.models import Membership

    return {m.party.last_name: m.payment_reference for m in db.session.scalars(select(Membership))}


def member_numbers():
    from backoffice.membership.models import Membership

    return {m.party.last_name: m.member_number for m in db.session.scalars(select(Membership))}


def split_the_shared_transfer(page, parts):
    """The review screen's split form of the practice's transfer, filled with ``parts``
    ([(membership reference, amount as typed)]) and sent."""
    page.get_by_role("row").filter(has_text="SCM CABINET DU PORT").get_by_role(
        "link", name="Répartir sur plusieurs adhésions…").click()
    split = page.locator("form[id^='split-']")
    expect(split).to_contain_text("60,00")
    for n, (reference, amount) in enumerate(parts, 1):
        split.get_by_label(f"Part {n} : adhésion").fill(reference)
        split.get_by_label(f"Part {n} : montant").fill(amount)
    split.get_by_role("button", name="Répartir").click()


def test_the_treasurers_first_month(live_app, signed_in_page, tmp_path):
    live_app.run(seed_world)
    page = signed_in_page(TREASURER, PASSWORD)

    # ---- her workbook, with a mistyped e-mail and an ambiguous profession
    page.goto("/o/cpts-test/people/import")
    first = tmp_path / f"adherents-{YEAR}.xlsx"
    first.write_bytes(workbook("anne.riou@@example.fr"))
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(first)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification de l'import")
    expect(page.get_by_text("en-têtes en ligne 4")).to_be_visible()
    expect(page.locator("#import-blocked")).to_contain_text("1 ligne comporte une erreur")
    expect(page.locator("#import-confirm")).to_be_disabled()
    expect(page.locator("tr[data-line='10']")).to_have_attribute("data-status", "error")
    expect(page.locator("tr[data-line='10']")).to_contain_text("anne.riou@@example.fr")
    expect(page.locator("tr[data-line='10'] .text-danger")).to_contain_text("e-mail")
    expect(page.locator("tr[data-line='10'] .text-danger")).to_contain_text("e-mail")
    expect(page.locator("tr[data-line='9'] .import-warnings")).to_contain_text("Profession « Ortho » ambiguë")
    page.locator("#import-notes summary").click()
    notes = page.locator("#import-notes")
    for line in (5, 7, 14):
        expect(notes.locator(f"[data-note-line='{line}']")).to_be_visible()

    # She says what « Ortho » means; the choice is kept for her next file of this layout.
    page.get_by_label("Profession « Ortho » :").select_option(label="Orthophoniste")
    page.get_by_role("button", name="Appliquer ces choix").click()
    expect(page.get_by_role("alert").filter(has_text="Choix enregistrés")).to_be_visible()
    expect(page.locator("tr[data-line='9']")).not_to_contain_text("ambiguë")
    expect(page.locator("#import-confirm")).to_be_disabled()  # the e-mail still blocks everything

    # She corrects the e-mail in her spreadsheet and sends it again.
    fixed = tmp_path / f"adherents-{YEAR}-corrige.xlsx"
    fixed.write_bytes(workbook("anne.riou@example.fr"))
    page.get_by_role("link", name="Envoyer un autre fichier").first.click()
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(fixed)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator("#count-create")).to_have_text("6")
    expect(page.locator("#count-error")).to_have_text("0")
    expect(page.locator("#import-blocked")).to_have_count(0)
    expect(page.locator("tr[data-line='9']")).not_to_contain_text("ambiguë")
    expect(page.locator("#membership-counts")).to_contain_text("6 adhésion(s) à créer, 2 paiement(s) à enregistrer")
    # A new member's payment is part of the membership to create, dated as the sheet says.
    expect(page.locator("tr[data-line='8'] .import-membership")).to_contain_text(f"Adhésion {YEAR} à créer")
    expect(page.locator("tr[data-line='8'] .import-membership")).to_contain_text(f"15/01/{YEAR}")
    expect(page.locator("#send-receipts")).not_to_be_checked()
    page.get_by_role("button", name="Importer 6 fiches").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Import terminé : 6 fiche(s) créée(s), 0 mise(s) à jour, 0 inchangée(s). Adhésions {YEAR} : "
        "6 créée(s), 2 paiement(s) enregistré(s).")

    imported = live_app.run(memberships)
    assert imported == {
        "Le Goff": ("paid", Decimal("50.00"), Decimal("50.00"), [(f"{YEAR}-01-15", "cheque", Decimal("50.00"))]),
        "Morvan": ("paid", Decimal("30.00"), Decimal("30.00"), [(f"{YEAR}-01-15", "transfer", Decimal("30.00"))]),
        "Hérault": ("awaiting_payment", Decimal("30.00"), Decimal("0.00"), []),
        "Riou": ("awaiting_payment", Decimal("30.00"), Decimal("0.00"), []),
        "Bléas": ("awaiting_payment", Decimal("30.00"), Decimal("0.00"), []),
        "Kerjean": ("awaiting_payment", Decimal("30.00"), Decimal("0.00"), []),
    }
    refs = live_app.run(references)
    # The member number is kept: the association's references (« COT{year}/{number:05} ») are built on it.
    assert live_app.run(member_numbers) == {"Le Goff": "1", "Morvan": "2", "Hérault": "5", "Riou": "6",
                                            "Bléas": "7", "Kerjean": "8"}

    # ---- February's statement, as the bank exports it
    page.goto("/o/cpts-test/membership/statements")
    page.get_by_label("Relevé (CSV de votre banque ou CAMT.053)").set_input_files(
        files=[{"name": f"releve-fevrier-{YEAR}.csv", "mimeType": "text/csv", "buffer": statement()}])
    page.get_by_role("button", name="Importer").click()
    mapping = page.get_by_role("heading", name="Colonnes de l'export de votre banque")
    review = page.get_by_role("heading", name="Rapprocher les virements reçus")
    # The first file of this bank: the columns are confirmed once.
    expect(mapping).to_be_visible()
    page.get_by_role("button", name="Enregistrer et importer").click()
    expect(review).to_be_visible()

    zoe = page.get_by_role("row").filter(has_text="HERAULT ZOE")
    expect(zoe.get_by_text("par référence")).to_be_visible()
    expect(zoe.get_by_role("checkbox")).to_be_checked()
    expect(page.get_by_label(f"Adhésion payée par l'opération du 03/02/{YEAR}")).to_have_value(refs["Hérault"])
    shared = page.get_by_role("row").filter(has_text="SCM CABINET DU PORT")
    expect(shared.get_by_role("checkbox")).not_to_be_checked()
    expect(page.get_by_role("row").filter(has_text="MAIF")).to_have_count(0)  # debits are not fees
    # The subsidy is recognised as no membership fee, offered to be ignored, never pre-ticked.
    expect(page.get_by_role("row").filter(has_text="SUBVENTION").get_by_role("checkbox")).not_to_be_checked()
    others = page.get_by_role("heading", name="Opérations qui ne sont pas des cotisations").locator(
        "xpath=following-sibling::form[1]")
    expect(others.get_by_role("checkbox")).to_have_count(1)
    expect(others.get_by_role("checkbox", name=re.compile("SUBVENTION FIR"))).to_be_checked()

    # The pre-ticked line, confirmed as proposed.
    page.get_by_role("button", name="Enregistrer les paiements cochés").click()
    expect(page.get_by_role("alert").filter(has_text="1 paiement(s) enregistré(s) par virement")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="HERAULT ZOE")).to_have_count(0)

    # One transfer from the practice pays two memberships: she splits it.
    split_the_shared_transfer(page, [(refs["Riou"], "30,00"), (refs["Bléas"], "25,00")])
    # The parts must make the credit exactly: refused, nothing recorded.
    expect(page.get_by_role("alert").filter(has_text="il manque 5,00")).to_be_visible()
    assert live_app.run(memberships)["Riou"][3] == []
    split_the_shared_transfer(page, [(refs["Riou"], "30,00"), (refs["Bléas"], "30,00")])
    expect(page.get_by_role("alert").filter(has_text="Virement réparti : 2 paiement(s) enregistré(s).")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="SCM CABINET DU PORT")).to_have_count(0)

    # ---- the member list says who has paid
    page.goto("/o/cpts-test/membership/")
    for name, status in [("Yann LE GOFF", "Payée"), ("Claire MORVAN", "Payée"), ("Zoé HÉRAULT", "Payée"),
                         ("Anne RIOU", "Payée"), ("Soizic BLÉAS", "Payée"), ("Loïc KERJEAN", "En attente de paiement")]:
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name))
        expect(row, name).to_have_count(1)
        expect(row.locator("td").nth(3), name).to_have_text(status)
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name="Zoé HÉRAULT"))).to_contain_text(
        f"03/02/{YEAR}")

    final = live_app.run(memberships)
    # Recorded by transfer on the bank's booking date.
    thirty = Decimal("30.00")
    assert final["Hérault"] == ("paid", thirty, thirty, [(f"{YEAR}-02-03", "transfer", thirty)])
    assert final["Riou"] == ("paid", thirty, thirty, [(f"{YEAR}-02-10", "transfer", thirty)])
    assert final["Bléas"] == ("paid", thirty, thirty, [(f"{YEAR}-02-10", "transfer", thirty)])
    assert final["Kerjean"] == ("awaiting_payment", Decimal("30.00"), Decimal("0.00"), [])
    assert final["Le Goff"] == imported["Le Goff"] and final["Morvan"] == imported["Morvan"]
    assert live_app.run(profession_of, rpps(3)) == "orthophoniste"


def profession_of(number):
    from backoffice.people.models import Professional

    return db.session.scalar(select(Professional.profession).where(Professional.rpps == number))
