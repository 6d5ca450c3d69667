"""Money: commitment on approval, payment on the invoice after signature, SEPA transfers, funding
received, the report; the entries balance and agree with the budget page."""
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from lxml import etree

from backoffice.accounting import reporting
from backoffice.extensions import db
from backoffice.grants import agreements, payments, services
from backoffice.grants.models import GrantStatus
from backoffice.grants.services import GrantError
from backoffice.tasks.models import Task
from tests.factories import UserFactory
from tests.grants.factories import submitted

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def _signed(organisation, programme, amount=None):
    application = submitted(organisation, programme)
    services.approve(application, amount, on=date(2026, 4, 7))
    agreements.issue_agreement(application)
    agreements.sign_online(application, UserFactory(party_id=application.applicant_id), "203.0.113.7")
    return application


def _run(organisation, kind, job, params):
    from backoffice.tasks.services import start_task

    task = start_task(organisation=organisation, user=None, kind=kind, label=kind, job=job, params=params)
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Task, task.id)


def test_payment_before_the_signed_convention_is_refused(organisation, programme):
    application = submitted(organisation, programme)
    services.approve(application)
    with pytest.raises(GrantError, match="Le versement suit la signature de la convention : la demande est « Accordée »"):
        payments.record_payment(application)
    assert application.status is GrantStatus.APPROVED and application.amount_paid is None


def test_payment_of_another_amount_is_refused(organisation, programme):
    application = _signed(organisation, programme)
    with pytest.raises(GrantError, match=r"du montant accordé \(600,00"):
        payments.record_payment(application, amount="550,00")


def test_entries_balance_letter_and_agree_with_the_budget(organisation, programme):
    paid = _signed(organisation, programme)
    payments.record_payment(paid, paid_on=date(2026, 5, 12), invoice_reference="FAC-2026-118")
    committed = submitted(organisation, programme)
    services.approve(committed, Decimal("480.00"), on=date(2026, 4, 7))
    cancelled = submitted(organisation, programme)
    services.approve(cancelled, on=date(2026, 4, 7))
    services.cancel(cancelled, "Départ du professionnel")
    payments.record_funding(programme.funders[0], date(2026, 2, 20))
    trial = reporting.trial_balance(organisation, *YEAR)
    assert trial.is_balanced
    accounts = trial.by_account()
    budget = services.budget(programme)
    assert (budget.committed, budget.paid) == (Decimal("480.00"), Decimal("600.00"))
    assert accounts["6571"].balance == budget.committed + budget.paid       # 6571: what was granted, net
    assert -accounts["467"].balance == budget.committed                    # 467: granted, not yet paid
    assert accounts["741"].balance == Decimal("-5000.00")
    assert programme.funders[0].received_on == date(2026, 2, 20)
    payments.record_funding(programme.funders[0], date(2026, 2, 20))       # a double click posts once
    assert reporting.trial_balance(organisation, *YEAR).by_account()["741"].balance == Decimal("-5000.00")
    unlettered = {aux.party_id for aux, lines, balance in reporting.unlettered_by_auxiliary(organisation)}
    assert paid.applicant_id not in unlettered and cancelled.applicant_id not in unlettered  # lettered on 467
    assert committed.applicant_id in unlettered


def test_transfers_file_pays_the_batch(organisation, programme):
    from backoffice.banking import services as banking
    from backoffice.banking.errors import BankingError
    from jobs.grants import grant_transfers

    first, second = _signed(organisation, programme), _signed(organisation, programme, Decimal("450.00"))
    with pytest.raises(BankingError):
        banking.set_payee_details(organisation, first.applicant, "FR76 3000 4000 0312 3456 7890 144")
    banking.set_payee_details(organisation, first.applicant, "FR76 3000 4000 0312 3456 7890 143", "BNPAFRPPXXX")
    task = _run(organisation, "grants.transfers", grant_transfers,
                {"application_ids": [first.id, second.id], "execution_date": "2026-05-15"})
    assert task.status.value == "failed" and "Coordonnées bancaires manquantes" in task.message
    assert second.applicant.display_name in task.message
    banking.set_payee_details(organisation, second.applicant, "FR1420041010050500013M02606", "PSSTFRPPLIL")
    task = _run(organisation, "grants.transfers", grant_transfers,
                {"application_ids": [first.id, second.id], "execution_date": "2026-05-15"})
    assert task.status.value == "done", task.message
    xml = etree.fromstring(task.result_abspath().read_bytes())
    ns = {"p": xml.nsmap[None]}
    assert xml.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "1050.00"
    assert sorted(e.text for e in xml.iterfind(".//p:EndToEndId", namespaces=ns)) == sorted(
        [first.reference, second.reference])
    assert (first.status, second.status) == (GrantStatus.PAID, GrantStatus.PAID)
    assert (first.paid_on, second.amount_paid) == (date(2026, 5, 15), Decimal("450.00"))


def test_funder_report(organisation, programme):
    from backoffice.grants.models import GrantFollowUp
    from jobs.grants import grant_report

    application = _signed(organisation, programme)
    db.session.add(GrantFollowUp(application=application, year=2026, quarter=2, screenings=31, referrals=3))
    task = _run(organisation, "grants.report", grant_report, {"programme_id": programme.id, "format": "xlsx"})
    assert task.status.value == "done", task.message
    book = openpyxl.load_workbook(io.BytesIO(task.result_abspath().read_bytes()))
    grants = list(book["Aides"].iter_rows(values_only=True))
    assert grants[0][:4] == ("Demande", "Bénéficiaire", "Profession", "Commune")
    assert grants[1][0] == application.reference and grants[1][2] == "Médecin généraliste"
    assert list(book["Activité"].iter_rows(values_only=True))[1][2:] == (2026, "T2", 31, 3)


def test_dedicated_funds_at_year_end_equal_the_unspent_funding_then_are_used(organisation):
    from tests.grants.factories import dermatoscope_programme

    programme = dermatoscope_programme(organisation, closes_on=date(2027, 12, 31))
    payments.record_funding(programme.funders[0], date(2026, 2, 20))            # 5 000 € received in 2026
    services.approve(submitted(organisation, programme), on=date(2026, 4, 7))    # 600 € used in 2026
    services.approve(submitted(organisation, programme), Decimal("450.00"), on=date(2026, 6, 2))
    assert payments.unspent_funding(programme, 2026) == Decimal("3950.00")
    payments.carry_dedicated_funds(programme, 2026)
    payments.carry_dedicated_funds(programme, 2026)                              # once
    accounts = reporting.trial_balance(organisation, *YEAR).by_account()
    assert (accounts["6894"].balance, accounts["194"].balance) == (Decimal("3950.00"), Decimal("-3950.00"))
    late = submitted(organisation, programme)
    services.approve(late, on=date(2027, 2, 1))
    payments.use_dedicated_funds(programme, 2027, on=date(2027, 2, 1))
    accounts = reporting.trial_balance(organisation, date(2026, 1, 1), date(2027, 12, 31)).by_account()
    assert (accounts["194"].balance, accounts["7894"].balance) == (Decimal("-3350.00"), Decimal("-600.00"))


def _balances(organisation, year):
    start, end = organisation.fiscal_year_bounds(year)
    return {number: row.balance for number, row in reporting.trial_balance(organisation, start, end).by_account().items()}


def test_funding_received_before_the_programme_year_is_income_of_that_year(organisation):
    """Cut-off: the FIR of a 2027 programme paid in December 2026 waits in 487 (produits
    constatés d'avance) and is income of 2027; the fonds dédiés count it in 2027."""
    from tests.grants.factories import dermatoscope_programme

    programme = dermatoscope_programme(organisation, name="Dermatoscopes 2027", opens_on=date(2027, 1, 15),
                                       closes_on=date(2027, 12, 31))
    entry = payments.record_funding(programme.funders[0], date(2026, 12, 14))
    assert entry.entry_date == date(2026, 12, 14)
    assert _balances(organisation, 2026) == {"487": Decimal("-5000.00"), "512": Decimal("5000.00")}
    assert _balances(organisation, 2027) == {"487": Decimal("5000.00"), "741": Decimal("-5000.00")}
    assert payments.funding_year(programme, date(2026, 12, 14)) == 2027
    assert payments.unspent_funding(programme, 2026) == Decimal("0.00")
    assert payments.unspent_funding(programme, 2027) == Decimal("5000.00")
    assert payments.carry_dedicated_funds(programme, 2026) is None


def test_dedicated_funds_follow_a_fiscal_year_starting_in_july(db):
    from tests.factories import OrganisationFactory
    from tests.grants.factories import dermatoscope_programme

    organisation = OrganisationFactory(slug="cpts-juillet", name="CPTS de Juillet", fiscal_year_start_month=7)
    programme = dermatoscope_programme(organisation, opens_on=date(2026, 7, 1), closes_on=date(2027, 6, 30))
    payments.record_funding(programme.funders[0], date(2027, 5, 3))              # fiscal 2026 (07/2026–06/2027)
    assert payments.unspent_funding(programme, 2026) == Decimal("5000.00")
    assert payments.unspent_funding(programme, 2027) == Decimal("0.00")
    entry = payments.carry_dedicated_funds(programme, 2026)
    assert entry.entry_date == date(2027, 6, 30) and entry.fiscal_year == 2026
