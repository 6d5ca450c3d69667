"""An equipment grant in a real browser, from the member's phone to the budget page: Maëlys applies
for a dermatoscope with her supplier's quote (a real PDF) on a 360 × 740 screen and submits; a
board member grants it; the convention is made by the job; Maëlys signs it online from her phone
(the click, its date, her IP and the document's SHA-256 recorded); the treasurer files the invoice
and records the payment; the programme's budget page shows committed, paid and remaining as the
database has them."""
import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import empty_books, seed_organisation, seed_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

PASSWORD = "une phrase assez longue"
PHONE = {"width": 360, "height": 740}
YEAR = date.today().year


def small_pdf(*lines: str) -> bytes:
    """A one-page PDF showing ``lines`` (objects, cross-reference table and trailer all true:
    what a supplier's quoting software sends, a few hundred bytes)."""
    text = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


QUOTE = small_pdf("Medisafe - Devis n. D-2026-0412", "HEINE DELTA 30 dermatoscope", "Total TTC : 750,00 EUR")
INVOICE = small_pdf("Medisafe - Facture FAC-2026-118", "HEINE DELTA 30 dermatoscope", "Total TTC : 750,00 EUR")


@pytest.fixture(autouse=True)
def _books_emptied_before_reset(live_app):
    yield
    live_app.run(empty_books)


def _programme_and_people():
    """The dermatoscope programme (envelope 6 000 €, ceiling 600 € or 80 %, quote to submit,
    invoice to be paid), Maëlys — a physician whose membership of the year is paid, with her
    account — and another grant already decided (480 € committed), for the budget to add up."""
    from backoffice.auth.services import create_user, find_user_by_email, grant_role, set_password
    from backoffice.extensions import db
    from backoffice.grants import attachments, services
    from backoffice.organisations.models import Organisation
    from tests.factories import SiteFactory
    from tests.grants.factories import application, dermatoscope_programme, paid_member

    organisation = db.session.get(Organisation, seed_organisation())
    organisation.address, organisation.postcode, organisation.city = "12 rue de la Poste", "44350", "Guérande"
    programme = dermatoscope_programme(organisation, opens_on=date(YEAR, 1, 1), closes_on=None,
                                       required_documents={"quote": "submitted", "invoice": "paid"})
    SiteFactory(name="Cabinet médical du Croisic", commune="Le Croisic")
    maelys = paid_member(organisation, first_name="Maëlys", last_name="Le Gall", email="maelys.legall@example.org",
                         rpps="10101010108")
    # Her member account came with her membership: she has chosen her password.
    account = find_user_by_email("maelys.legall@example.org") or create_user("maelys.legall@example.org", "Maëlys Le Gall")
    account.party_id = maelys.id
    set_password(account, PASSWORD)
    grant_role(account, organisation, "member")
    seed_user("bureau@example.org", {"cpts-test": ["board"]}, password=PASSWORD, full_name="Yann Le Breton")
    seed_user("tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD, full_name="Claire Morvan")
    other = application(organisation, programme)
    attachments.add_attachment(other, "quote", "devis-pharmacie.pdf", QUOTE)
    services.submit(other, on=date(YEAR, 3, 2))
    services.approve(other, Decimal("480.00"), on=date(YEAR, 3, 10))
    return programme.id, maelys.id


def _application_of(party_id):
    """What the database holds of the party's application, its convention and its payment."""
    from sqlalchemy import select

    from backoffice.accounting.models import JournalEntry
    from backoffice.extensions import db
    from backoffice.grants import agreements
    from backoffice.grants.models import GrantApplication

    application = db.session.scalar(select(GrantApplication).where(GrantApplication.applicant_id == party_id))
    document = agreements.current_agreement(application)
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.piece_ref == "FAC-2026-118")).all()
    return {
        "id": application.id, "status": application.status.value, "granted": application.amount_granted,
        "paid": application.amount_paid, "paid_on": application.paid_on, "invoice": application.invoice_reference,
        "attachments": sorted((a.kind.value, a.content_type, a.filename) for a in application.attachments),
        "signature": (application.signature_method, application.signed_ip, application.signed_sha256,
                      application.signed_at is not None),
        "document": (document.status.value, document.sha256) if document else None,
        "payment_lines": sorted((line.account.number, line.debit, line.credit)
                                for entry in entries for line in entry.lines),
    }


def _budget(programme_id):
    """The programme's budget, from its applications, and its running total."""
    from backoffice.extensions import db
    from backoffice.grants import services
    from backoffice.grants.models import GrantProgramme

    programme = db.session.get(GrantProgramme, programme_id)
    budget = services.budget(programme)
    return budget.envelope, budget.committed, budget.paid, budget.remaining, programme.granted_total


def _money(value: Decimal) -> str:
    """``1 234,56 €`` as the pages write it (narrow no-break space, no-break space before €)."""
    units, cents = f"{value:.2f}".split(".")
    return f"{int(units):,}".replace(",", "\u202f") + f",{cents}\u00a0€"


def _figure(page, label):
    return page.locator(".card-body", has=page.get_by_text(label, exact=True)).locator(".fs-4")


def test_a_member_applies_from_her_phone_and_the_grant_is_signed_paid_and_counted(live_app, page, request):
    programme_id, maelys_id = live_app.run(_programme_and_people)

    # Maëlys, on her phone: her space lists the open programme; she applies with the quote.
    phone = page.context.browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport=PHONE,
                                             is_mobile=True, has_touch=True)
    request.addfinalizer(phone.close)
    mine = sign_in(phone.new_page(), "maelys.legall@example.org", PASSWORD, base_url=live_app.url)
    mine.set_default_timeout(15_000)
    mine.goto(live_app.url + "/o/cpts-test/aides/mon-espace/")
    expect(mine.get_by_role("heading", name="Programmes ouverts")).to_be_visible()
    mine.get_by_role("link", name="Faire une demande").click()
    expect(mine.get_by_role("heading", name="Dermatoscopes 2026")).to_be_visible()
    mine.get_by_label("Cabinet (lieu d'exercice)").select_option(label="Cabinet médical du Croisic (Le Croisic)")
    mine.get_by_label("Modèle").fill("HEINE DELTA 30")
    mine.get_by_label("Fournisseur").fill("Medisafe")
    mine.get_by_label("Prix du devis (TTC)").fill("750,00")
    mine.get_by_label("Montant demandé").fill("600")
    mine.get_by_label("Date de la formation suivie").fill(f"{YEAR}-02-03")
    mine.get_by_label(re.compile(r"^Devis")).set_input_files(
        files=[{"name": "Devis Medisafe D-2026-0412.pdf", "mimeType": "application/pdf", "buffer": QUOTE}])
    mine.get_by_role("button", name="Enregistrer ma demande").click()
    expect(mine.get_by_role("alert")).to_contain_text("Demande enregistrée")
    # Nothing wider than the phone: no sideways scrolling to reach a button.
    assert mine.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    mine.get_by_role("button", name="Déposer ma demande").click()
    expect(mine.get_by_role("alert")).to_contain_text("Demande déposée")
    state = live_app.run(_application_of, maelys_id)
    assert state["status"] == "submitted"
    assert state["attachments"] == [("quote", "application/pdf", "Devis Medisafe D-2026-0412.pdf")]
    application_url = f"/o/cpts-test/aides/demandes/{state['id']}"

    # The board member grants it, pre-filled with the ceiling (600 € ≤ 80 % of 750 €), then
    # asks for the convention: the job makes it and the task page says so.
    board = sign_in(page, "bureau@example.org", PASSWORD)
    board.goto(application_url)
    expect(board.get_by_label("Montant accordé")).to_have_value("600,00")
    board.get_by_role("button", name="Accorder l'aide").click()
    expect(board.get_by_role("alert")).to_contain_text("Aide accordée à")
    board.get_by_role("button", name="Émettre la convention").click()
    expect(board).to_have_url(re.compile(r"/tasks/\d+$"))
    expect(board.get_by_role("heading", level=1)).to_contain_text("Terminée")
    expect(board.get_by_role("link", name=re.compile(r"Télécharger convention-aide-\d{5}\.docx"))).to_be_visible()
    issued = live_app.run(_application_of, maelys_id)
    assert issued["status"] == "agreement_issued" and issued["document"][0] == "generated"

    # Maëlys signs it from her phone: refused without the box ticked, then signed.
    mine.goto(live_app.url + f"/o/cpts-test/aides/mon-espace/demandes/{state['id']}")
    expect(mine.get_by_role("heading", name=re.compile("convention", re.I)).first).to_be_visible()
    mine.get_by_role("button", name="Signer en ligne").click()
    expect(mine.get_by_role("alert")).to_contain_text("Cochez « J'ai lu la convention et je l'accepte »")
    mine.get_by_label("J'ai lu la convention et je l'accepte.").check()
    mine.get_by_role("button", name="Signer en ligne").click()
    expect(mine.get_by_role("alert")).to_contain_text("Convention signée. Merci !")
    assert mine.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    signed = live_app.run(_application_of, maelys_id)
    assert signed["status"] == "agreement_signed"
    assert signed["signature"] == ("online", "127.0.0.1", issued["document"][1], True)
    assert signed["document"] == ("signed", issued["document"][1])

    # The treasurer files the invoice, then records the payment on it.
    board.context.clear_cookies()
    treasurer = sign_in(board, "tresoriere@example.org", PASSWORD)
    treasurer.goto(application_url)
    treasurer.get_by_label("Pièce", exact=True).select_option(label="Facture")
    treasurer.get_by_label("Fichier (PDF, JPEG ou PNG)").set_input_files(
        files=[{"name": "FAC-2026-118.pdf", "mimeType": "application/pdf", "buffer": INVOICE}])
    treasurer.get_by_role("button", name="Déposer", exact=True).click()
    expect(treasurer.get_by_role("alert")).to_contain_text("Pièce enregistrée.")
    treasurer.get_by_label("Versée le").fill(f"{YEAR}-{date.today():%m-%d}")
    treasurer.get_by_label("N° de la facture").fill("FAC-2026-118")
    treasurer.get_by_label("Montant de la facture (TTC)").fill("750,00")
    treasurer.get_by_role("button", name="Enregistrer le versement (accordé : 600,00\u00a0€)").click()
    expect(treasurer.get_by_role("alert")).to_contain_text("Versement enregistré et comptabilisé.")
    paid = live_app.run(_application_of, maelys_id)
    assert (paid["status"], paid["paid"], paid["paid_on"], paid["invoice"]) == (
        "paid", Decimal("600.00"), date.today(), "FAC-2026-118")
    assert ("invoice", "application/pdf", "FAC-2026-118.pdf") in paid["attachments"]
    # D 467 (her account, settling the commitment) / C 512 (the bank).
    assert [(account[:3], debit, credit) for account, debit, credit in paid["payment_lines"]] == [
        ("467", Decimal("600.00"), Decimal("0.00")), ("512", Decimal("0.00"), Decimal("600.00"))]

    # The budget page: the other grant committed, hers paid, the rest of the envelope — as the
    # database has them, and the running total agrees.
    envelope, committed, paid_total, remaining, granted_total = live_app.run(_budget, programme_id)
    assert (envelope, committed, paid_total, remaining) == (
        Decimal("6000.00"), Decimal("480.00"), Decimal("600.00"), Decimal("4920.00"))
    assert granted_total == committed + paid_total
    treasurer.goto(f"/o/cpts-test/aides/programmes/{programme_id}")
    expect(_figure(treasurer, "Enveloppe")).to_have_text(_money(envelope))
    expect(_figure(treasurer, "Engagé (accordé, non versé)")).to_have_text(_money(committed))
    expect(_figure(treasurer, "Versé")).to_have_text(_money(paid_total))
    expect(_figure(treasurer, "Reste à engager")).to_have_text(_money(remaining))
