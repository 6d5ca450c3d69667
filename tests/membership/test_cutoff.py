"""Cut-off (*rattachement à l'exercice*) of fees: a fee is income of its period's fiscal year,
whenever it is called or paid; money received before the period is a credit on the member's
account, never income of the year it came in."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.accounting import reporting
from backoffice.accounting import services as accounting
from backoffice.accounting.models import JournalEntry
from backoffice.extensions import db
from backoffice.membership import services
from backoffice.membership.models import CategoryKind

D = Decimal


def _grid(organisation, year):
    period = services.period_for_year(organisation, year)
    services.set_fee_category(period, "Médecin", D("50.00"), CategoryKind.PHYSICIAN)
    return period


def _join(organisation, party, period, on):
    category = period.categories[0]
    return services.create_membership(organisation, party, period, category=category, joined_on=on)


def _balance(organisation, year):
    start, end = organisation.fiscal_year_bounds(year)
    return {number: (row.debit, row.credit)
            for number, row in reporting.trial_balance(organisation, start, end).by_account().items()}


def _entry(entry_id):
    return db.session.get(JournalEntry, entry_id)


def test_a_2027_fee_called_and_paid_in_december_2026_is_income_of_2027(organisation, physician):
    period = _grid(organisation, 2027)
    membership = _join(organisation, physician, period, date(2026, 12, 5))
    payment = services.record_payment(membership, D("50.00"), "transfer", date(2026, 12, 10), reference="VIR 1")
    fee = _entry(membership.fee_due_entry_id)
    assert (fee.entry_date, fee.fiscal_year) == (date(2027, 1, 1), 2027)
    paid = _entry(payment.accounting_entry_id)
    assert (paid.entry_date, paid.fiscal_year) == (date(2026, 12, 10), 2026)
    # 2026: the money is in the bank and a credit on the member's account, no income at all.
    assert _balance(organisation, 2026) == {"411": (D("0.00"), D("50.00")), "512": (D("50.00"), D("0.00"))}
    # 2027: the fee, income of 2027.
    assert _balance(organisation, 2027) == {"411": (D("50.00"), D("0.00")), "756": (D("0.00"), D("50.00"))}
    aux = fee.lines[0].auxiliary_id
    assert accounting.advances_received(organisation, "411", date(2026, 12, 31)) == [(aux, D("50.00"))]
    assert accounting.advances_received(organisation, "411", date(2027, 12, 31)) == []
    # Lettered against the fee, in 2027 (the latest of the two lines), not in 2026.
    fee_line = next(line for line in fee.lines if line.auxiliary_id)
    paid_line = next(line for line in paid.lines if line.auxiliary_id)
    assert fee_line.lettering_code and fee_line.lettering_code == paid_line.lettering_code
    assert fee_line.lettering_date == paid_line.lettering_date == date(2027, 1, 1)
    assert membership.status.value == "paid"


def test_paid_first_called_later_still_lettered_in_the_fee_year(organisation, physician):
    """The payment posted after the fee (the fee called in November, paid in December)."""
    period = _grid(organisation, 2027)
    membership = _join(organisation, physician, period, date(2026, 11, 20))
    payment = services.record_payment(membership, D("50.00"), "cheque", date(2026, 12, 2), reference="1234567")
    line = next(line for line in _entry(payment.accounting_entry_id).lines if line.auxiliary_id)
    assert line.lettering_code and line.lettering_date == date(2027, 1, 1)
    assert "756" not in _balance(organisation, 2026)


def test_a_fee_of_the_current_period_is_unchanged(organisation, physician):
    period = _grid(organisation, 2026)
    membership = _join(organisation, physician, period, date(2026, 3, 14))
    fee = _entry(membership.fee_due_entry_id)
    assert (fee.entry_date, fee.fiscal_year) == (date(2026, 3, 14), 2026)
    assert _balance(organisation, 2026)["756"] == (D("0.00"), D("50.00"))


def test_cancelling_an_advance_fee_in_december_reverses_it_in_its_own_year(organisation, physician):
    period = _grid(organisation, 2027)
    membership = _join(organisation, physician, period, date(2026, 12, 1))
    services.cancel_membership(membership, "Inscription en double", on=date(2026, 12, 8))
    reversal = accounting.reversal_of(_entry(membership.fee_due_entry_id))
    assert (reversal.entry_date, reversal.fiscal_year) == (date(2027, 1, 1), 2027)
    assert _balance(organisation, 2026) == {}


def test_a_fee_called_after_its_year_goes_back_to_it_while_that_year_is_open(organisation, physician, nurse):
    period = _grid(organisation, 2026)
    late = _join(organisation, physician, period, date(2027, 2, 3))
    assert _entry(late.fee_due_entry_id).entry_date == date(2026, 12, 31)
    accounting.ensure_ledger(organisation)
    accounting.close_period(organisation, "year", 2026)
    later = _join(organisation, nurse, period, date(2027, 2, 10))
    # The year is closed: nothing can be dated in it, the fee is booked when called.
    assert _entry(later.fee_due_entry_id).entry_date == date(2027, 2, 10)


@pytest.fixture
def july_organisation(db):
    from tests.factories import OrganisationFactory

    return OrganisationFactory(slug="cpts-juillet", name="CPTS de Juillet", fiscal_year_start_month=7)


def test_a_fiscal_year_starting_in_july(july_organisation, physician):
    organisation = july_organisation
    period = _grid(organisation, 2026)  # 1 July 2026 – 30 June 2027
    assert (period.starts_on, period.ends_on) == (date(2026, 7, 1), date(2027, 6, 30))
    membership = _join(organisation, physician, period, date(2026, 5, 20))
    payment = services.record_payment(membership, D("50.00"), "transfer", date(2026, 6, 2), reference="VIR 2")
    fee = _entry(membership.fee_due_entry_id)
    assert (fee.entry_date, fee.fiscal_year) == (date(2026, 7, 1), 2026)
    assert _entry(payment.accounting_entry_id).fiscal_year == 2025
    assert _balance(organisation, 2025) == {"411": (D("0.00"), D("50.00")), "512": (D("50.00"), D("0.00"))}
    assert _balance(organisation, 2026)["756"] == (D("0.00"), D("50.00"))
    # A fee of the running year called in December (same fiscal year) keeps its day.
    other = _grid(organisation, 2027)
    assert other.starts_on == date(2027, 7, 1)
    assert accounting.attach(organisation, period.starts_on, period.ends_on, date(2026, 12, 15)).entry_date == \
        date(2026, 12, 15)
