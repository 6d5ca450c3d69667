"""Membership in a real browser: a member renews from a sign-in link and gets the transfer
instructions; the treasurer imports the bank statement that carries the reference, confirms
the match, and the member downloads the receipt (the document job runs inline on the server)."""
import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from tests.browser.conftest import empty_books, seed_organisation, seed_user

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

YEAR = date.today().year
PASSWORD = "une phrase assez longue"
ANNE = "anne.lefloch@example.org"


@pytest.fixture(autouse=True)
def _books_emptied_before_reset(live_app):
    yield
    live_app.run(empty_books)


def seed_world():
    """The CPTS with its bank details, the grids of last year and this year, and Anne, a
    physician who paid last year (her member account comes with her membership)."""
    from backoffice.membership import services
    from backoffice.organisations.models import Organisation
    from backoffice.people.models import Professional
    from tests.member_portal.conftest import make_grid

    organisation = db.session.get(Organisation, seed_organisation())
    organisation.iban, organisation.bic = "FR7630004000031234567890143", "BNPAFRPPXXX"
    organisation.address, organisation.postcode, organisation.city = "12 rue de la Poste", "44350", "Guérande"
    last, _ = make_grid(organisation, YEAR - 1), make_grid(organisation, YEAR)
    anne = Professional(civility="Dr", first_name="Anne", last_name="Le Floch", profession="medecin_generaliste",
                        email=ANNE)
    db.session.add(anne)
    db.session.flush()
    previous = services.create_membership(organisation, anne, last, joined_on=last.starts_on)
    services.record_payment(previous, previous.amount_due, "transfer", last.starts_on)
    return anne.id


def renew_for_anne(anne_id):
    from backoffice.membership import services
    from backoffice.organisations.models import Organisation
    from backoffice.people.models import Party

    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-test"))
    membership = services.create_membership(organisation, db.session.get(Party, anne_id),
                                            services.period_for_year(organisation, YEAR), source="self_service")
    return membership.payment_reference


def membership_state(reference):
    from backoffice.member_portal.models import MembershipReceipt
    from backoffice.membership.models import Membership

    membership = db.session.scalar(select(Membership).where(Membership.payment_reference == reference))
    receipt = db.session.scalar(select(MembershipReceipt).where(MembershipReceipt.membership_id == membership.id))
    return membership.status.value, membership.amount_due, receipt.status.value if receipt else None


def sign_in_with_link(page, email):
    page.goto("/auth/link")
    page.get_by_label("Adresse e-mail", exact=True).fill(email)
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_role("alert")).to_contain_text("un e-mail vient de lui être envoyé")
    page.goto("/dev/outbox/")
    page.get_by_role("link", name="Votre lien de connexion à Maillage").first.click()
    page.locator("a[href*='/auth/link/']").click()
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/espace-adherent/$"))


def test_member_renews_from_a_link_and_sees_the_transfer_instructions(live_app, page):
    live_app.run(seed_world)
    sign_in_with_link(page, ANNE)
    expect(page.get_by_role("heading", name="Mon espace adhérent")).to_be_visible()
    expect(page.get_by_role("heading", name="CPTS de Test")).to_be_visible()

    page.get_by_role("button", name=f"Renouveler mon adhésion {YEAR}").click()
    expect(page).to_have_url(re.compile(r"/espace-adherent/adhesions/\d+/paiement$"))
    expect(page.get_by_role("alert")).to_contain_text(f"Votre adhésion {YEAR} est enregistrée")
    reference = page.locator("#payment-reference").inner_text()
    assert re.fullmatch(rf"ADH{YEAR % 100:02d}-[A-Z0-9]{{5}}", reference)
    expect(page.locator("#iban")).to_have_text("FR76 3000 4000 0312 3456 7890 143")
    expect(page.get_by_role("heading", name="Par virement")).to_be_visible()
    expect(page.get_by_text("Montant à régler")).to_contain_text("50,00")
    assert live_app.run(membership_state, reference) == ("awaiting_payment", Decimal("50.00"), None)

    # On a phone the IBAN and the reference go to the banking app by copy and paste.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("[data-copy='#iban']").click()
    expect(page.locator("[data-copy='#iban']")).to_have_text("Copié")
    assert page.evaluate("navigator.clipboard.readText()") == "FR7630004000031234567890143"
    page.locator("[data-copy='#payment-reference']").click()
    expect(page.locator("[data-copy='#payment-reference']")).to_have_text("Copié")
    assert page.evaluate("navigator.clipboard.readText()") == reference

    # Back on the portal, the renewal is no longer offered: the payment is.
    page.goto("/espace-adherent/")
    expect(page.get_by_role("button", name=f"Renouveler mon adhésion {YEAR}")).to_have_count(0)
    expect(page.get_by_role("link", name=f"Régler l'adhésion {YEAR}")).to_be_visible()


def test_treasurer_matches_the_transfer_and_the_member_downloads_the_receipt(live_app, page, signed_in_page):
    anne_id = live_app.run(seed_world)
    reference = live_app.run(renew_for_anne, anne_id)
    live_app.run(seed_user, "tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD,
                 full_name="Claire Morvan")
    statement = (f"Date;Libellé;Montant\n"
                 f"02/02/{YEAR};VIR SEPA DR LE FLOCH ANNE {reference.replace('-', ' ')};50,00\n"
                 f"03/02/{YEAR};PRLV ORANGE FACTURE;-39,99\n").encode("cp1252")

    signed_in_page("tresoriere@example.org", PASSWORD)
    page.goto("/o/cpts-test/membership/statements")
    page.get_by_label("Relevé (CSV de votre banque ou CAMT.053)").set_input_files(
        files=[{"name": "releve.csv", "mimeType": "text/csv", "buffer": statement}])
    page.get_by_role("button", name="Importer").click()
    # First statement of this bank: the columns are chosen once (guessed from the header).
    expect(page.get_by_role("heading", name="Colonnes de l'export de votre banque")).to_be_visible()
    page.get_by_role("button", name="Enregistrer et importer").click()
    expect(page.get_by_role("heading", name="Rapprocher les virements reçus")).to_be_visible()
    line = page.get_by_role("row").filter(has_text="LE FLOCH")
    expect(line.get_by_text("par référence")).to_be_visible()
    expect(line.get_by_role("checkbox")).to_be_checked()
    # One shared list of the open memberships; each line's field holds the suggested reference.
    expect(page.locator("datalist#open-memberships option")).to_have_count(1)
    field = page.get_by_label(f"Adhésion payée par l'opération du 02/02/{YEAR}")
    expect(field).to_have_value(reference)
    expect(field).to_have_attribute("list", "open-memberships")
    # A reference nobody has is refused, naming the line, and nothing is recorded.
    field.fill("ADH00-ZZZZZ")
    page.get_by_role("button", name="Enregistrer les paiements cochés").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"aucune adhésion n'a la référence « ADH00-ZZZZZ » (l'opération du 02/02/{YEAR}")
    assert live_app.run(membership_state, reference) == ("awaiting_payment", Decimal("50.00"), None)
    # Typed the way a treasurer reads it off a transfer: lower case, a space for the dash.
    field.fill(f" {reference.lower().replace('-', ' ')} ")
    page.get_by_role("button", name="Enregistrer les paiements cochés").click()
    expect(page.get_by_role("alert")).to_contain_text("1 paiement(s) enregistré(s) par virement")
    assert live_app.run(membership_state, reference) == ("paid", Decimal("50.00"), "ready")

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Se déconnecter").click()
    sign_in_with_link(page, ANNE)
    card = page.get_by_role("region", name="CPTS de Test")
    expect(card.get_by_text("Payée").first).to_be_visible()
    with page.expect_download() as info:
        card.get_by_role("link", name="Télécharger l'attestation").first.click()
    download = info.value
    assert download.suggested_filename == f"attestation-adhesion-{YEAR}-0001.docx"
    with open(download.path(), "rb") as handle:
        assert handle.read(2) == b"PK"
    page.goto("/dev/outbox/")
    expect(page.get_by_role("link", name=f"Votre attestation d'adhésion {YEAR} — CPTS de Test")).to_be_visible()


def seed_cheques(anne_id, amounts):
    """Cheque payments of Anne's membership this year, waiting for a deposit slip."""
    from backoffice.membership import services
    from backoffice.organisations.models import Organisation
    from backoffice.people.models import Party

    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-test"))
    membership = services.create_membership(organisation, db.session.get(Party, anne_id),
                                            services.period_for_year(organisation, YEAR))
    for number, amount in enumerate(amounts, 1):
        services.record_payment(membership, Decimal(amount), "cheque", date.today(), reference=f"10{number}",
                                cheque_bank="CIC")


def test_the_deposit_slip_total_follows_the_selected_cheques(live_app, page, signed_in_page):
    anne_id = live_app.run(seed_world)
    live_app.run(seed_cheques, anne_id, ["20.00", "12.50", "1500.00"])
    live_app.run(seed_user, "tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD,
                 full_name="Trésorière")
    signed_in_page("tresoriere@example.org", PASSWORD)
    page.goto("/o/cpts-test/membership/cheques")
    count, total = page.locator("[data-selection-count]"), page.locator("[data-selection-sum]")
    expect(count).to_have_text("3 chèques")
    expect(total).to_have_text(re.compile(r"1\s532,50\s€"))
    page.locator("input[data-amount='1500.00']").uncheck()
    expect(count).to_have_text("2 chèques")
    expect(total).to_have_text(re.compile(r"32,50\s€"))
    page.locator("input[data-amount='20.00']").uncheck()
    expect(count).to_have_text("1 chèque")
    expect(total).to_have_text(re.compile(r"12,50\s€"))


def receipt_ready_last_year(anne_id):
    """Anne's receipt of last year, made (as the document job would)."""
    from backoffice.membership import receipts, services
    from backoffice.organisations.models import Organisation
    from backoffice.people.models import Party

    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-test"))
    membership = services.membership_of(organisation, db.session.get(Party, anne_id),
                                        services.period_for_year(organisation, YEAR - 1))
    receipts.generate(receipts.ensure_receipt(membership, mail_wanted=False))


def test_on_a_phone_the_history_keeps_the_receipt_link_on_screen(live_app, page):
    anne_id = live_app.run(seed_world)
    live_app.run(receipt_ready_last_year, anne_id)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in_with_link(page, ANNE)
    link = page.get_by_role("region", name="CPTS de Test").get_by_role("link", name="Télécharger l'attestation")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320  # on screen, no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
