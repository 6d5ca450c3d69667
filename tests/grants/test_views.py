"""Staff screens: a programme typed the French way, the lists, a decision and its refusal."""
from datetime import date
from decimal import Decimal

from flask import url_for
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.grants.models import GrantProgramme, GrantStatus
from tests.grants.factories import dermatoscope_programme, submitted


def _url(endpoint, **values):
    return url_for(endpoint, org="cpts-test", **values)


def test_treasurer_creates_a_programme(app, client, login_as, organisation):
    login_as("treasurer")
    form = {"name": "Dermatoscopes 2026", "equipment_kind": "Dermatoscope", "envelope": "6 000,00",
            "ceiling_amount": "600", "ceiling_rate": "80 %", "opens_on": "01/01/2026", "closes_on": "31/12/2026",
            "requires_membership": "y", "requires_training": "y", "training_label": "Formation mélanome (DPC)",
            "one_per": "professional", "professions": ["medecin_generaliste", "infirmier"],
            "funders-0-name": "ARS Pays de la Loire — FIR", "funders-0-amount": "5 000", "funders-0-reference": "FIR-44",
            "funders-1-name": "CPAM de Loire-Atlantique", "funders-1-amount": "1 000,00", "funders-1-reference": "",
            "funders-2-name": "", "funders-2-amount": "", "doc_quote": "submitted", "doc_training_certificate": "",
            "doc_signed_agreement": "agreement_signed", "doc_invoice": "paid"}
    response = client.post(_url("grants.new_programme"), data=form)
    assert response.status_code == 302
    programme = db.session.scalar(select(GrantProgramme).where(GrantProgramme.organisation_id == organisation.id))
    assert (programme.envelope, programme.ceiling_rate) == (Decimal("6000.00"), Decimal("80.00"))
    assert [f.amount for f in programme.funders] == [Decimal("5000.00"), Decimal("1000.00")]
    assert programme.required_documents == {"quote": "submitted", "signed_agreement": "agreement_signed",
                                            "invoice": "paid"}
    page = client.get(response.location).get_data(as_text=True)
    assert "6\u202f000,00\u00a0€" in page and "600,00\u00a0€ ou 80 % du devis" in page
    assert "Devis — pour passer à « Déposée »" in page


def test_programme_refused_comes_back_as_typed(app, client, login_as, organisation):
    login_as("treasurer")
    response = client.post(_url("grants.new_programme"), data={
        "name": "Dermatoscopes", "envelope": "six mille", "one_per": "professional",
        "doc_quote": "", "doc_training_certificate": "", "doc_signed_agreement": "", "doc_invoice": ""})
    assert response.status_code == 422
    assert 'value="six mille"' in response.get_data(as_text=True)
    assert db.session.scalar(select(GrantProgramme)) is None


def test_applications_list_filters(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation)
    first, second = submitted(organisation, programme), submitted(organisation, programme)
    from backoffice.grants import services

    services.reject(second, "Hors territoire")
    login_as("board")
    page = client.get(_url("grants.applications", status="rejected")).get_data(as_text=True)
    assert second.reference in page and first.reference not in page
    assert "1 résultat" in page


def test_board_approves_then_envelope_refusal_is_explained(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, envelope=Decimal("1000.00"))
    first, second = submitted(organisation, programme), submitted(organisation, programme)
    login_as("board")
    detail = client.get(_url("grants.application", application_id=first.id)).get_data(as_text=True)
    assert "Adhérent à jour" in detail and 'value="600,00"' in detail
    response = client.post(_url("grants.approve", application_id=first.id), data={"amount": "600,00"})
    assert response.status_code == 302
    response = client.post(_url("grants.approve", application_id=second.id), data={"amount": "600,00"})
    assert response.status_code == 422
    assert "Enveloppe dépassée : il reste 400,00\u00a0€" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (first.status, second.status) == (GrantStatus.APPROVED, GrantStatus.SUBMITTED)
    assert db.session.get(GrantProgramme, programme.id).granted_total == Decimal("600.00")


def test_staff_enters_an_application_for_a_member(app, client, login_as, organisation):
    from tests.grants.factories import paid_member

    programme = dermatoscope_programme(organisation)
    member = paid_member(organisation, first_name="Gwenaëlle", last_name="Le Bihan")
    login_as("treasurer")
    response = client.post(_url("grants.new_application"), data={
        "programme_id": programme.id, "applicant_id": member.id, "site_id": 0, "equipment_kind": "Dermatoscope",
        "quoted_price": "749,90", "amount_requested": "599,92", "training_on": "03/02/2026"})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(response.location.replace("/demandes/", "/demandes/", 1) + "/deposer")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Gwenaëlle LE BIHAN" in page and "Déposée" in page


def test_dedicated_funds_button(app, client, login_as, organisation):
    from backoffice.grants import payments

    programme = dermatoscope_programme(organisation)
    payments.record_funding(programme.funders[1], date(2026, 3, 1))
    login_as("treasurer")
    response = client.post(_url("grants.dedicated_funds", programme_id=programme.id), data={"year": "2026"},
                           follow_redirects=True)
    assert "fonds dédiés reportés 1\u202f000,00\u00a0€" in response.get_data(as_text=True)


def test_the_final_decisions_ask_before_they_are_taken(app, client, login_as, organisation):
    """Refusing, withdrawing, cancelling, closing and claiming a repayment cannot be undone: each form
    asks first (the « Annuler » button, of all words, cancelled the grant at the first click)."""
    from sqlalchemy import update

    from backoffice.grants.models import GrantApplication

    programme = dermatoscope_programme(organisation)
    pending, approved, delivered = (submitted(organisation, programme) for _ in range(3))
    for row, status in ((approved, GrantStatus.APPROVED), (delivered, GrantStatus.DELIVERED)):
        db.session.execute(update(GrantApplication).where(GrantApplication.id == row.id).values(status=status))
    db.session.expire_all()
    login_as("treasurer")

    def confirmations(row):
        page = client.get(_url("grants.application", application_id=row.id)).get_data(as_text=True)
        return [line.split('data-confirm="')[1].split('"')[0] for line in page.splitlines() if 'data-confirm="' in line]

    assert confirmations(pending) == [
        "Refuser cette demande ? Le demandeur est prévenu par e-mail ; le refus est définitif.",
        "Retirer cette demande ? C'est définitif."]
    assert confirmations(approved) == ["Annuler cette aide ? C'est définitif."]
    assert confirmations(delivered) == ["Clôturer ce dossier ? Plus rien ne pourra y être enregistré.",
                                        "Demander au bénéficiaire le remboursement de l'aide ?"]


def test_the_batch_of_conventions_is_counted_in_french(app, client, login_as, organisation):
    from backoffice.grants import services

    programme = dermatoscope_programme(organisation)
    rows = [submitted(organisation, programme) for _ in range(2)]
    services.approve(rows[0], on=date(2026, 3, 20))
    login_as("treasurer")
    page = client.get(_url("grants.programme", programme_id=programme.id)).get_data(as_text=True)
    assert "Émettre la convention de l&#39;aide accordée</button>" in page and "aide(s)" not in page
    services.approve(rows[1], on=date(2026, 3, 20))
    page = client.get(_url("grants.programme", programme_id=programme.id)).get_data(as_text=True)
    assert "Émettre les conventions des 2 aides accordées</button>" in page


def test_an_examined_application_is_not_offered_for_editing(app, client, login_as, organisation):
    """Its edit page showed the whole form, which ended in a refusal once filled in."""
    from backoffice.grants import services

    programme = dermatoscope_programme(organisation)
    pending, approved = submitted(organisation, programme), submitted(organisation, programme)
    services.approve(approved, on=date(2026, 3, 20))
    login_as("treasurer")
    assert client.get(_url("grants.edit_application", application_id=pending.id)).status_code == 200
    response = client.get(_url("grants.edit_application", application_id=approved.id), follow_redirects=True)
    assert _url("grants.application", application_id=approved.id).endswith(response.request.path)
    assert "La demande a été examinée : elle ne peut plus être modifiée." in response.get_data(as_text=True)


def test_the_applications_list_sorts_on_its_headers(app, client, login_as, organisation):
    import re

    from tests.grants.factories import paid_member

    programme = dermatoscope_programme(organisation)
    names = {"Yvonne": "Abgrall", "Bruno": "Zéphir", "Marc": "Le Du"}
    rows = [submitted(organisation, programme, applicant=paid_member(organisation, first_name=first, last_name=last),
                      quote=quote, requested=requested)
            for (first, last), (quote, requested) in zip(names.items(), [("750", "500,00"), ("750", "600,00"),
                                                                           ("750", "550,00")])]
    login_as("board")

    def references(**args):
        page = client.get(_url("grants.applications", **args)).get_data(as_text=True)
        return re.findall(r">(AIDE-\d+)</a>", page)

    assert references() == [r.reference for r in reversed(rows)]  # the latest first, as before
    assert references(sort="applicant") == [rows[0].reference, rows[2].reference, rows[1].reference]
    assert references(sort="-requested") == [rows[1].reference, rows[2].reference, rows[0].reference]
    assert references(sort="nonsense") == references()
    page = client.get(_url("grants.applications", sort="applicant")).get_data(as_text=True)
    assert 'aria-sort="ascending"' in page and '<input type="hidden" name="sort" value="applicant">' in page
