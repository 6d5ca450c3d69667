"""Member self-service: accounts, several organisations, renewal, payment instructions, receipts,
contact details and the confirmed e-mail change."""
import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.auth.models import Role, User
from backoffice.extensions import db as _db
from backoffice.member_portal import services as portal
from backoffice.membership import services
from backoffice.membership.models import Membership, MembershipStatus
from tests.member_portal.conftest import form_key, make_grid


def text(response):
    return html.unescape(response.get_data(as_text=True))


def memberships_of(party, period):
    return _db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.party_id == party.id, Membership.period_id == period.id))


# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------

def test_creating_a_membership_gives_the_member_an_account(organisation, anne, last_period):
    services.create_membership(organisation, anne, last_period)
    user = _db.session.scalar(select(User).where(User.party_id == anne.id))
    assert user.email == "anne.lefloch@example.org"
    assert user.roles_in(organisation) == {Role.MEMBER}
    assert user.password_hash is None


def test_no_account_without_email_and_never_someone_elses(organisation, last_period):
    from tests.factories import ProfessionalFactory, UserFactory

    nobody = ProfessionalFactory(email=None)
    services.create_membership(organisation, nobody, last_period)
    assert _db.session.scalar(select(User).where(User.party_id == nobody.id)) is None

    owner = ProfessionalFactory(email="shared@example.org")
    UserFactory(email="shared@example.org", party=owner)
    other = ProfessionalFactory(email="shared@example.org")
    services.create_membership(organisation, other, last_period)
    account = _db.session.scalar(select(User).where(User.email == "shared@example.org"))
    assert account.party_id == owner.id and Role.MEMBER not in account.roles_in(organisation)


def test_existing_staff_account_is_linked_and_gets_the_member_role(organisation, anne, last_period):
    from tests.factories import UserFactory

    staff = UserFactory(email="ANNE.lefloch@example.org")
    services.create_membership(organisation, anne, last_period)
    assert staff.party_id == anne.id and Role.MEMBER in staff.roles_in(organisation)


def test_a_member_signs_in_with_a_link_and_lands_on_the_portal(client, organisation, anne_user, outbox):
    client.post("/auth/link", data={"email": anne_user.email})
    mail = next(m for m in outbox(anne_user.email) if "connexion" in m.subject)
    link = re.search(r"https?://\S+", mail.body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    response = client.post(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/espace-adherent/")


# --------------------------------------------------------------------------------------------
# What a member sees
# --------------------------------------------------------------------------------------------

def test_home_shows_every_organisation_of_the_member(client, organisation, other_organisation, anne, anne_last_year,
                                                     as_anne, this_year):
    period = make_grid(other_organisation, this_year)
    services.create_membership(other_organisation, anne, period)
    page = text(client.get("/espace-adherent/"))
    assert "CPTS de Test" in page and "CPTS Autre" in page
    assert "En attente de paiement" in page and "Payée" in page


def test_access_rules(client, organisation, anne_user, login_as):
    assert client.get("/o/cpts-test/espace-adherent/").status_code == 302  # anonymous: to the login page
    login_as("treasurer")
    assert client.get("/o/cpts-test/espace-adherent/").status_code == 403
    login_as("member", user=anne_user)
    assert client.get("/o/cpts-test/espace-adherent/").status_code == 200
    assert client.get("/o/cpts-autre-inconnue/espace-adherent/").status_code == 404


# --------------------------------------------------------------------------------------------
# Renewal
# --------------------------------------------------------------------------------------------

def test_renewal_in_a_few_clicks_then_transfer_instructions(client, organisation, anne, as_anne, current_period):
    page = client.get("/o/cpts-test/espace-adherent/").get_data(as_text=True)
    assert f"Renouveler mon adhésion {current_period.label}" in page
    assert "50,00" in page  # the physician rate: Anne was a member last year, no first-year rate
    response = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}",
                           data={"form_key": form_key(page)}, follow_redirects=True)
    page = text(response)
    membership = services.membership_of(organisation, anne, current_period)
    assert membership.amount_due == Decimal("50.00") and membership.source == "self_service"
    assert membership.category.label == "Médecin"
    assert membership.status is MembershipStatus.AWAITING_PAYMENT
    assert membership.payment_reference in page
    assert "FR76 3000 4000 0312 3456 7890 143" in page  # the organisation's IBAN, grouped
    assert "BNPAFRPPXXX" in page and "À l'ordre de" in page
    assert "Le paiement en ligne n'est pas proposé" in page  # HelloAsso not connected


def test_second_renewal_for_the_same_period_is_refused_in_french(client, organisation, anne, as_anne,
                                                                 current_period):
    client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}", data={"form_key": "a"})
    response = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}", data={"form_key": "b"},
                           follow_redirects=True)
    assert f"a déjà une adhésion pour {current_period.label}" in text(response)
    assert memberships_of(anne, current_period) == 1


def test_double_submitted_renewal_is_recorded_once_without_error(client, organisation, anne, as_anne,
                                                                 current_period):
    first = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}", data={"form_key": "same"})
    second = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}", data={"form_key": "same"},
                         follow_redirects=True)
    assert first.headers["Location"].endswith("/paiement")
    assert "a déjà une adhésion" not in text(second) and "Référence à indiquer" in text(second)
    assert memberships_of(anne, current_period) == 1


@pytest.mark.parametrize("overpaid, paid, status, message", [
    ("30.00", "30.00", MembershipStatus.PARTIALLY_PAID,
     "votre avoir de 30,00\u00a0€ en règle une partie. Choisissez comment régler les 20,00\u00a0€ restants."),
    ("65.00", "50.00", MembershipStatus.PAID, "est enregistrée et réglée par votre avoir de 50,00\u00a0€."),
])
def test_renewal_uses_the_credit_of_an_overpayment(client, organisation, anne, anne_last_year, as_anne,
                                                   current_period, overpaid, paid, status, message):
    services.record_payment(anne_last_year, Decimal(overpaid), "transfer", anne_last_year.period.starts_on)
    page = client.get("/o/cpts-test/espace-adherent/").get_data(as_text=True)
    response = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}",
                           data={"form_key": form_key(page)}, follow_redirects=True)
    assert message in text(response)
    membership = services.membership_of(organisation, anne, current_period)
    assert (membership.amount_due, membership.amount_paid, membership.status) == (Decimal("50.00"), Decimal(paid), status)
    assert anne_last_year.credit == Decimal(overpaid) - Decimal(paid)
    if status is MembershipStatus.PARTIALLY_PAID:
        assert "20,00" in text(response)  # what is left to transfer


def test_credit_of_several_years_is_used_oldest_first(organisation, anne, anne_last_year, last_period,
                                                      current_period):
    older = services.create_membership(organisation, anne, make_grid(organisation, last_period.year - 1))
    services.record_payment(older, older.amount_due + Decimal("10.00"), "transfer", older.period.starts_on)
    services.record_payment(anne_last_year, Decimal("25.00"), "transfer", last_period.starts_on)
    new = services.create_membership(organisation, anne, current_period)
    assert services.apply_available_credit(new) == Decimal("35.00")
    assert (older.credit, anne_last_year.credit, new.balance) == (0, 0, Decimal("15.00"))
    assert services.apply_available_credit(new) == 0  # nothing left to use


def test_member_renews_again_after_a_cancellation(client, organisation, anne, as_anne, current_period):
    """A cancelled membership does not close the period: renewing reopens that very membership."""
    cancelled = services.create_membership(organisation, anne, current_period, amount_due=Decimal("42.00"))
    services.cancel_membership(cancelled, "Ne souhaitait plus adhérer")
    _db.session.commit()
    page = client.get("/o/cpts-test/espace-adherent/").get_data(as_text=True)
    assert f"Renouveler mon adhésion {current_period.label}" in page
    response = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}",
                           data={"form_key": form_key(page)}, follow_redirects=True)
    assert "Votre adhésion" in text(response) and cancelled.payment_reference in text(response)
    assert memberships_of(anne, current_period) == 1
    assert cancelled.status is MembershipStatus.AWAITING_PAYMENT and cancelled.source == "self_service"
    assert cancelled.amount_due == Decimal("50.00") and cancelled.category.label == "Médecin"  # the grid's rate
    assert cancelled.cancelled_on is None and cancelled.cancellation_reason is None
    page = client.get("/o/cpts-test/espace-adherent/").get_data(as_text=True)
    assert "Renouveler mon adhésion" not in page
    again = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}", data={"form_key": "other"},
                        follow_redirects=True)
    assert f"a déjà une adhésion pour {current_period.label}" in text(again)
    assert memberships_of(anne, current_period) == 1


def test_renewal_of_a_closed_or_foreign_period_is_refused(client, organisation, other_organisation, anne, as_anne,
                                                          current_period, this_year):
    current_period.renewal_open = False
    foreign = make_grid(other_organisation, this_year)
    _db.session.commit()  # a refused request rolls back to here
    response = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}", data={"form_key": "x"},
                           follow_redirects=True)
    assert "n'est pas ouvert" in text(response) and memberships_of(anne, current_period) == 0
    assert client.post(f"/o/cpts-test/espace-adherent/renouveler/{foreign.id}").status_code == 404


def test_payment_page_of_someone_else_is_404(client, organisation, as_anne, current_period):
    from tests.factories import ProfessionalFactory

    someone = services.create_membership(organisation, ProfessionalFactory(), current_period)
    assert client.get(f"/o/cpts-test/espace-adherent/adhesions/{someone.id}/paiement").status_code == 404


# --------------------------------------------------------------------------------------------
# Receipts
# --------------------------------------------------------------------------------------------

def test_member_downloads_own_receipt_and_nobody_elses(client, organisation, anne_last_year, as_anne, last_period):
    from backoffice.membership import receipts
    from tests.factories import ProfessionalFactory

    receipt = receipts.ensure_receipt(anne_last_year)
    receipts.generate(receipt)
    response = client.get(f"/o/cpts-test/espace-adherent/adhesions/{anne_last_year.id}/attestation")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data[:2] == b"PK"

    other = services.create_membership(organisation, ProfessionalFactory(), last_period)
    services.record_payment(other, other.amount_due, "cheque", reference="123")
    receipts.generate(receipts.ensure_receipt(other))
    assert client.get(f"/o/cpts-test/espace-adherent/adhesions/{other.id}/attestation").status_code == 404
    assert client.get("/o/cpts-test/espace-adherent/adhesions/999999/attestation").status_code == 404


def test_the_member_is_handed_the_receipt_as_pdf_and_staff_keep_the_word(client, organisation, anne_last_year,
                                                                         anne_user, login_as, outbox, pdf_renditions):
    """The receipt job converts the Word receipt with the real LibreOffice: the member's mail,
    his history card and his download are the PDF; the treasurer's download stays the Word file."""
    from backoffice.documents import generated
    from backoffice.membership import receipts
    from backoffice.tasks.models import TaskStatus
    from tests.conftest import pdf_text

    receipt = receipts.receipt_of(anne_last_year)  # paid outside a request: pending, no task yet
    task = receipts.start_receipt_task(receipt)
    _db.session.commit()  # the job runs once committed
    assert task.status is TaskStatus.DONE, task.message
    document = receipt.document
    assert document.has_pdf and document.pdf_filename == f"attestation-adhesion-{receipt.number}.pdf"
    assert generated.verify(document)
    [mail] = outbox(anne_user.email)
    assert f"[pièce jointe : attestation-adhesion-{receipt.number}.pdf]" in mail.body

    login_as("member", user=anne_user)
    home = text(client.get("/espace-adherent/"))
    assert "Télécharger l'attestation (PDF)" in home
    response = client.get(f"/o/cpts-test/espace-adherent/adhesions/{anne_last_year.id}/attestation")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename={document.pdf_filename}' in response.headers["Content-Disposition"]
    words = pdf_text(response.data)
    amount = f"{anne_last_year.amount_due:.2f}".replace(".", ",")
    assert f"Reçu n° {receipt.number}" in words and "Dr Anne Le Floch" in words and f"Montant de la cotisation {amount}" in words

    login_as("treasurer")
    staff = client.get(f"/o/cpts-test/membership/members/{anne_last_year.id}/attestation")
    assert staff.data[:2] == b"PK" and staff.headers["Content-Disposition"].endswith(".docx")
    page = text(client.get(f"/o/cpts-test/membership/members/{anne_last_year.id}"))
    assert f"/documents/files/{document.id}/pdf" in page
    assert client.get(f"/o/cpts-test/documents/files/{document.id}/pdf").data.startswith(b"%PDF")

    document.pdf_abspath().write_bytes(b"%PDF-1.7 altered")  # the fingerprint covers the PDF too
    assert not generated.verify(document)


def test_without_pdf_renditions_the_member_gets_the_word_receipt(client, organisation, anne_last_year, as_anne):
    from backoffice.membership import receipts

    receipts.generate(receipts.receipt_of(anne_last_year))
    assert not receipts.receipt_of(anne_last_year).document.has_pdf
    assert "Télécharger l'attestation (Word)" in text(client.get("/espace-adherent/"))
    response = client.get(f"/o/cpts-test/espace-adherent/adhesions/{anne_last_year.id}/attestation")
    assert response.data[:2] == b"PK"


def test_member_asks_for_the_receipt_of_a_membership_paid_without_one(client, organisation, anne, anne_user,
                                                                       as_anne, last_period):
    """Memberships paid before receipts existed (the demo's, imported ones) have none: the member
    asks for it, the document job makes it, the download link replaces the button."""
    from backoffice.member_portal.models import MembershipReceipt
    from backoffice.membership import receipts
    from tests.member_portal.conftest import make_grid

    older = services.create_membership(organisation, anne, make_grid(organisation, last_period.year - 1),
                                       source="demo")
    services.record_payment(older, older.amount_due, "transfer", older.period.starts_on)
    assert receipts.receipt_of(older) is None
    url = f"/o/cpts-test/espace-adherent/adhesions/{older.id}/attestation"
    page = text(client.get("/o/cpts-test/espace-adherent/"))
    assert f'action="{url}"' in page and "Obtenir l'attestation" in page

    response = client.post(url, data={}, follow_redirects=True)
    assert f"Votre attestation {older.period.label} est en préparation" in text(response)
    assert _db.session.scalar(select(MembershipReceipt.status).where(MembershipReceipt.membership_id == older.id)) \
        .value == "ready"  # the job ran inline (JOBS_INLINE in tests)
    assert f'href="{url}">Télécharger' in text(client.get("/o/cpts-test/espace-adherent/"))
    assert client.get(url).data[:2] == b"PK"


def test_member_cannot_ask_for_someone_elses_or_an_unpaid_receipt(client, organisation, anne, as_anne,
                                                                   last_period, current_period):
    from tests.factories import ProfessionalFactory

    someone = services.create_membership(organisation, ProfessionalFactory(), last_period, source="demo")
    services.record_payment(someone, someone.amount_due, "transfer", last_period.starts_on)
    assert client.post(f"/o/cpts-test/espace-adherent/adhesions/{someone.id}/attestation").status_code == 404
    unpaid = services.create_membership(organisation, anne, current_period)
    response = client.post(f"/o/cpts-test/espace-adherent/adhesions/{unpaid.id}/attestation", follow_redirects=True)
    assert "Une attestation n'est délivrée que pour une adhésion payée." in text(response)


def test_no_receipt_download_once_the_payment_is_reversed(client, organisation, anne_last_year, as_anne):
    from backoffice.membership import receipts

    receipts.generate(receipts.ensure_receipt(anne_last_year))
    services.reverse_payment(anne_last_year.payments[0], reason="chèque rejeté")
    assert client.get(f"/o/cpts-test/espace-adherent/adhesions/{anne_last_year.id}/attestation").status_code == 404


# --------------------------------------------------------------------------------------------
# Contact details and e-mail
# --------------------------------------------------------------------------------------------

def test_update_contact_details(client, anne, as_anne):
    response = client.post("/espace-adherent/coordonnees", data={
        "phone": "06 12 34 56 78", "address": "3 rue des Lilas", "postcode": "44350", "commune": "Guérande"},
        follow_redirects=True)
    assert "Vos coordonnées sont enregistrées" in text(response)
    assert (anne.phone, anne.address, anne.postcode, anne.commune) == ("+33612345678", "3 rue des Lilas", "44350",
                                                                       "Guérande")


def test_bad_contact_details_are_refused_next_to_the_field(client, anne, as_anne):
    response = client.post("/espace-adherent/coordonnees", data={"phone": "12", "postcode": "4435"})
    page = text(response)
    assert "Le numéro de téléphone est invalide." in page and "Le code postal doit comporter 5 chiffres." in page
    assert anne.phone is None and anne.postcode == "44350"


def test_new_email_is_confirmed_by_a_link_sent_to_the_new_address(client, anne, anne_user, as_anne, outbox):
    response = client.post("/espace-adherent/adresse-email", data={"email-email": "anne@cabinet.example"},
                           follow_redirects=True)
    assert "Un lien de confirmation vient d'être envoyé à anne@cabinet.example" in text(response)
    assert anne_user.email == "anne.lefloch@example.org" and anne.email == "anne.lefloch@example.org"
    mail = outbox("anne@cabinet.example")[-1]
    path = re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S+", mail.body).group(0))
    assert "Confirmer" in text(client.get(path))
    assert anne_user.email == "anne.lefloch@example.org"  # opening the link changes nothing
    nonce = anne_user.login_nonce
    client.post(path)
    assert anne_user.email == "anne@cabinet.example" and anne.email == "anne@cabinet.example"
    assert anne_user.login_nonce != nonce  # sign-in links sent to the old address no longer work
    again = client.post(path)
    assert again.status_code == 400 and "déjà servi" in text(again)


def test_email_already_used_by_another_account_is_refused(client, anne_user, as_anne):
    from tests.factories import UserFactory

    UserFactory(email="taken@example.org")
    response = client.post("/espace-adherent/adresse-email", data={"email-email": "taken@example.org"})
    assert response.status_code == 400 and "déjà utilisée par un autre compte" in text(response)


def test_forged_email_link_is_refused(client):
    response = client.get("/espace-adherent/adresse-email/not-a-token")
    assert response.status_code == 400 and "n'est pas valable" in text(response)


def test_overview_service_lists_renewable_periods(organisation, anne_user, current_period):
    summary = portal.overview(anne_user, organisation)
    assert [(p.id, c.label) for p, c in summary.renewable] == [(current_period.id, "Médecin")]
    assert summary.current.period.year == current_period.year - 1


@pytest.mark.parametrize("iban, expected", [("FR7630004000031234567890143", "FR76 3000 4000 0312 3456 7890 143"),
                                            (None, None)])
def test_iban_grouping(iban, expected):
    assert portal._group(iban) == expected


def test_contact_pages_are_for_members_only(client, organisation, login_as):
    login_as("treasurer")
    assert client.get("/espace-adherent/coordonnees").status_code == 403
    assert client.post("/espace-adherent/adresse-email").status_code == 403


def test_member_menu_entry(client, organisation, as_anne):
    page = client.get("/o/cpts-test/espace-adherent/").get_data(as_text=True)
    assert 'href="/o/cpts-test/espace-adherent/">Mon adhésion</a>' in page


def test_a_member_who_still_owes_last_year_is_told_so_when_he_renews(client, organisation, anne, anne_last_year,
                                                                     as_anne, current_period):
    services.refund(anne_last_year, Decimal("20.00"), "transfer", anne_last_year.period.starts_on)
    owed = f"Il vous reste 20,00\u00a0€ à régler sur votre adhésion {anne_last_year.period.label}."
    page = text(client.get("/o/cpts-test/espace-adherent/"))
    assert owed in page
    response = client.post(f"/o/cpts-test/espace-adherent/renouveler/{current_period.id}",
                           data={"form_key": "owed"}, follow_redirects=True)
    assert owed in text(response)
    assert memberships_of(anne, current_period) == 1


def test_a_member_who_owes_nothing_is_told_nothing(client, anne_last_year, as_anne, current_period):
    assert "Il vous reste" not in text(client.get("/o/cpts-test/espace-adherent/"))


def test_what_is_owed_on_several_years_is_said_in_one_sentence(organisation, anne, anne_last_year, last_period):
    from backoffice.member_portal.services import owed_sentence

    older = services.create_membership(organisation, anne, make_grid(organisation, last_period.year - 1))
    services.refund(anne_last_year, Decimal("20.00"), "transfer", last_period.starts_on)
    assert owed_sentence([anne_last_year, older]) == (
        f"Il vous reste 20,00\u00a0€ à régler sur votre adhésion {last_period.label} et "
        f"{older.amount_due:.2f}\u00a0€ sur votre adhésion {older.period.label}.".replace(".00\u00a0", ",00\u00a0"))
