"""An invoice lower than the quote: the programme pays what it covers for that invoice, the rest
of the commitment is released (posted the other way round, nothing deleted) and goes back to the
envelope; the books and the budget page keep agreeing."""
from datetime import date
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import select

from backoffice.accounting import reporting
from backoffice.accounting.models import JournalEntry
from backoffice.extensions import db
from backoffice.grants import agreements, payments, services
from backoffice.grants.models import GrantApplication, GrantStatus
from backoffice.grants.services import GrantError
from tests.factories import UserFactory
from tests.grants.factories import submitted

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def _signed(organisation, programme, amount=None, **kwargs):
    application = submitted(organisation, programme, **kwargs)
    services.approve(application, amount, on=date(2026, 4, 7))
    agreements.issue_agreement(application)
    agreements.sign_online(application, UserFactory(party_id=application.applicant_id), "203.0.113.7")
    return application


def _entries(application):
    prefix = f"grant_applications:{application.id}:"
    return {e.source.removeprefix(prefix): e for e in db.session.scalars(
        select(JournalEntry).where(JournalEntry.source.startswith(prefix)))}


@pytest.mark.parametrize("invoice, paid", [
    ("690,00", "552.00"),    # 80 % of the invoice: lower than the 600 € granted
    ("1 050,00 €", "600.00"),  # dearer than the quote: the amount granted, never more
    ("750", "600.00"),       # the quote itself
    ("520", "416.00"),       # 80 % of 520
])
def test_the_programme_pays_what_it_covers_of_the_invoice(organisation, programme, invoice, paid):
    application = _signed(organisation, programme)          # quote 750 €, granted 600 €
    assert payments.covered_amount(application, Decimal(invoice.replace(" ", "").replace("€", "")
                                                        .replace(",", "."))) == Decimal(paid)


def test_a_ceiling_without_a_share_never_pays_more_than_the_invoice(organisation):
    from tests.grants.factories import dermatoscope_programme

    programme = dermatoscope_programme(organisation, ceiling_rate=None)
    application = _signed(organisation, programme)
    assert payments.covered_amount(application, Decimal("480.00")) == Decimal("480.00")


def test_a_lower_invoice_releases_the_rest_of_the_commitment_and_the_books_agree(organisation, programme):
    application = _signed(organisation, programme)           # 600 € committed
    waiting = _signed(organisation, programme, Decimal("450.00"))
    assert services.budget(programme).remaining == Decimal("4950.00")
    payments.record_payment(application, paid_on=date(2026, 5, 12), invoice_reference="FAC-2026-118",
                            invoice_amount="690,00")
    assert application.status is GrantStatus.PAID
    assert (application.amount_granted, application.amount_paid) == (Decimal("600.00"), Decimal("552.00"))
    budget = services.budget(programme)
    assert (budget.committed, budget.paid, budget.remaining) == (Decimal("450.00"), Decimal("552.00"),
                                                                  Decimal("4998.00"))
    assert budget.granted == programme.granted_total == Decimal("1002.00")
    assert sum(paid for _, _, _, paid in budget.by_funder) == budget.paid
    entries = _entries(application)
    assert entries["commitment"].total == Decimal("600.00")   # the commitment itself is kept
    assert entries["payment"].total == Decimal("552.00")
    release = entries["release"]
    assert release.total == Decimal("48.00") and release.entry_date == date(2026, 5, 12)
    assert {(line.account.number, line.debit, line.credit) for line in release.lines} == {
        ("467", Decimal("48.00"), Decimal("0.00")), ("6571", Decimal("0.00"), Decimal("48.00"))}
    trial = reporting.trial_balance(organisation, *YEAR)
    assert trial.is_balanced
    accounts = trial.by_account()
    assert accounts["6571"].balance == budget.committed + budget.paid == Decimal("1002.00")
    assert -accounts["467"].balance == budget.committed == waiting.amount_granted
    unlettered = {aux.party_id for aux, lines, balance in reporting.unlettered_by_auxiliary(organisation)}
    assert application.applicant_id not in unlettered      # 600 committed = 552 paid + 48 released


def test_a_released_amount_can_be_granted_again(organisation):
    from tests.grants.factories import dermatoscope_programme

    programme = dermatoscope_programme(organisation, envelope=Decimal("1000.00"))
    first = _signed(organisation, programme)                  # 600 € of 1 000 €
    later = submitted(organisation, programme)
    with pytest.raises(GrantError, match="Enveloppe dépassée : il reste 400,00"):
        with db.session.begin_nested():
            services.approve(later, Decimal("440.00"))
    payments.record_payment(first, invoice_amount="500,00")   # 400 € paid, 200 € released
    services.approve(later, Decimal("440.00"))
    assert services.budget(programme).remaining == Decimal("160.00") == programme.remaining


def test_an_amount_other_than_what_the_invoice_gives_is_refused_and_nothing_changes(organisation, programme):
    application = _signed(organisation, programme)
    with pytest.raises(GrantError, match=r"Pour une facture de 690,00.€, le programme verse 552,00.€ "
                                         r"\(accordé : 600,00.€\)"):
        with db.session.begin_nested():
            payments.record_payment(application, amount="600,00", invoice_amount="690,00")
    db.session.refresh(application)
    assert application.status is GrantStatus.AGREEMENT_SIGNED and application.amount_paid is None
    assert set(_entries(application)) == {"commitment"}
    assert programme.granted_total == Decimal("600.00")


def test_the_treasurer_records_a_lower_invoice_from_the_application_page(client, login_as, organisation, programme):
    application = _signed(organisation, programme)
    login_as("treasurer")
    page = client.get(url_for("grants.application", org="cpts-test", application_id=application.id))
    assert "Montant de la facture (TTC)" in page.get_data(as_text=True)
    response = client.post(url_for("grants.pay", org="cpts-test", application_id=application.id), data={
        "paid_on": "12/05/2026", "invoice_reference": "FAC-2026-118", "invoice_amount": "690,00 €"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(GrantApplication, application.id)
    assert (row.status, row.amount_paid) == (GrantStatus.PAID, Decimal("552.00"))
    page = client.get(url_for("grants.application", org="cpts-test", application_id=application.id))
    assert "reliquat de 48,00" in page.get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [
    ({"paid_on": "31/02/2026", "invoice_amount": "690,00 €"}, "paid_on", "Date invalide (jj/mm/aaaa)."),
    ({"paid_on": "12/05/2026", "invoice_amount": "six cent quatre-vingt-dix"}, "invoice_amount",
     "Le montant est invalide : « six cent quatre-vingt-dix » (exemple : 1 234,56)."),
    ({"paid_on": "12/05/2026", "invoice_amount": "-690,00"}, "invoice_amount", "Le montant doit être positif."),
])
def test_a_payment_form_refused_says_what_is_wrong_under_its_field(client, login_as, organisation, programme,
                                                                  data, field, message):
    import html
    import re

    application = _signed(organisation, programme)
    login_as("treasurer")
    data = {"invoice_reference": "FAC-2026-118", **data}
    response = client.post(url_for("grants.pay", org="cpts-test", application_id=application.id), data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = re.search(rf'<div class="invalid-feedback" id="{field}-err">(.*?)</div>', page, re.S)
    assert errors and message in html.unescape(errors.group(1)), page[:2000]
    assert "Date de versement invalide" not in page
    assert 'value="FAC-2026-118"' in page  # the form as typed
    db.session.expire_all()
    row = db.session.get(GrantApplication, application.id)
    assert (row.status, row.amount_paid) == (GrantStatus.AGREEMENT_SIGNED, None)
    assert set(_entries(application)) == {"commitment"}
