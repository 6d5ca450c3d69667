"""The cut-off rule (``accounting.cutoff``): the fiscal year an operation with a period belongs
to, and money received for a period outside it (through 487 before it, 4687 after it)."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.accounting import reporting, services
from backoffice.accounting.services import AccountingError, attach, post_period_income

D = Decimal
YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize("on, expected, timing", [
    (date(2026, 3, 14), date(2026, 3, 14), "within"),
    (date(2026, 1, 1), date(2026, 1, 1), "within"),
    (date(2026, 12, 31), date(2026, 12, 31), "within"),
    (date(2025, 12, 5), date(2026, 1, 1), "advance"),
    (date(2024, 6, 1), date(2026, 1, 1), "advance"),
    (date(2027, 4, 20), date(2026, 12, 31), "arrears"),
])
def test_attach_by_fiscal_year(books, on, expected, timing):
    attachment = attach(books, *YEAR_2026, on)
    assert (attachment.entry_date, attachment.fiscal_year, attachment.timing) == (expected, 2026, timing)


def test_attach_after_the_period_of_a_closed_year_keeps_the_day(books):
    services.close_period(books, "year", 2026)
    attachment = attach(books, *YEAR_2026, date(2027, 4, 20))
    assert (attachment.entry_date, attachment.timing) == (date(2027, 4, 20), "within")


def test_attach_a_period_shorter_than_the_fiscal_year(books):
    """A quarter: an operation in another month of the same fiscal year keeps its day."""
    assert attach(books, date(2026, 4, 1), date(2026, 6, 30), date(2026, 2, 10)).entry_date == date(2026, 2, 10)
    assert attach(books, date(2026, 4, 1), date(2026, 6, 30), date(2026, 11, 10)).entry_date == date(2026, 11, 10)


def test_attach_refuses_a_period_upside_down(books):
    with pytest.raises(AccountingError, match="Période invalide"):
        attach(books, date(2026, 12, 31), date(2026, 1, 1), date(2026, 5, 1))


def _balance(organisation, year):
    start, end = organisation.fiscal_year_bounds(year)
    return {number: row.balance for number, row in reporting.trial_balance(organisation, start, end).by_account().items()}


def _lines(entry):
    return [(line.account.number, line.debit, line.credit) for line in entry.lines]


def _receive(organisation, on, source="test:aci-2026", amount="9000.00"):
    return post_period_income(organisation, "aci_income", amount=D(amount), received_on=on,
                              period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                              piece_ref="CPAM-ACI-2026", label="ACI 2026", source=source)


def test_income_received_within_its_year_is_one_entry(sisa):
    entry, attachment = _receive(sisa, date(2026, 4, 30))
    assert attachment.timing == "within"
    assert _lines(entry) == [("512", D("9000.00"), D("0.00")), ("7061", D("0.00"), D("9000.00"))]


def test_the_balance_of_a_year_received_the_next_spring_is_income_of_that_year(sisa):
    entry, attachment = _receive(sisa, date(2027, 4, 20))
    assert attachment.arrears
    assert (entry.entry_date, entry.journal.code) == (date(2027, 4, 20), "BQ")
    assert _lines(entry) == [("512", D("9000.00"), D("0.00")), ("4687", D("0.00"), D("9000.00"))]
    # 2026: the income, against a receivable at the year end; 2027: the receivable collected.
    assert _balance(sisa, 2026) == {"4687": D("9000.00"), "7061": D("-9000.00")}
    assert _balance(sisa, 2027) == {"4687": D("-9000.00"), "512": D("9000.00")}
    # Idempotent: the same source posts nothing more.
    again, _ = _receive(sisa, date(2027, 4, 20))
    assert again.id == entry.id
    assert _balance(sisa, 2026) == {"4687": D("9000.00"), "7061": D("-9000.00")}


def test_income_received_before_its_year_waits_in_487(sisa):
    entry, attachment = _receive(sisa, date(2025, 12, 18))
    assert attachment.advance
    assert _lines(entry) == [("512", D("9000.00"), D("0.00")), ("487", D("0.00"), D("9000.00"))]
    assert _balance(sisa, 2025) == {"487": D("-9000.00"), "512": D("9000.00")}
    assert _balance(sisa, 2026) == {"487": D("9000.00"), "7061": D("-9000.00")}


def test_a_year_already_closed_takes_the_late_income(sisa):
    services.close_period(sisa, "year", 2026)
    entry, attachment = _receive(sisa, date(2027, 4, 20))
    assert attachment.timing == "within" and entry.entry_date == date(2027, 4, 20)
    assert _balance(sisa, 2027) == {"512": D("9000.00"), "7061": D("-9000.00")}


def test_only_a_treasury_event_without_party_is_split(sisa):
    with pytest.raises(AccountingError, match="seul un encaissement sans tiers"):
        post_period_income(sisa, "fee_paid", amount=D("50.00"), received_on=date(2027, 2, 1),
                           period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), piece_ref="X",
                           label="X", source=None)
