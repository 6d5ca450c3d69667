"""Property test of the opening balances: whatever is posted over several years, closed and
carried, each year's closing balances are the next year's opening balances, per account and
per auxiliary account, and the result carried is income minus expenses.

The closing balances are read here with the reports (``reporting.trial_balance`` and
``auxiliary_balances`` of the year), not with ``opening.closing_balances``: the test does not
check the code with itself."""
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backoffice.accounting import opening, reporting, services
from backoffice.accounting.services import AccountingError, EntryLineSpec
from backoffice.extensions import db
from tests.accounting.conftest import example_rolled_back, post_event_operation

YEARS = (2025, 2026, 2027)
ZERO = Decimal("0.00")

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
EVENTS = [("fee_due", None), ("fee_paid", "transfer"), ("fee_paid", "cheque"), ("fee_refund", "card"),
          ("grant_committed", None), ("grant_paid", None), ("subsidy_received", None), ("bank_fees", None)]

event_op = st.tuples(st.just("event"), st.sampled_from(EVENTS), amounts, days, st.integers(0, 1))
manual_op = st.tuples(st.just("manual"), amounts, days, st.sampled_from(["6132", "2154", "164", "1068"]))
reverse_op = st.tuples(st.just("reverse"), st.integers(0, 50))
close_op = st.tuples(st.just("close"))
provisional_op = st.tuples(st.just("provisional"))
allocate_op = st.tuples(st.just("allocate"), st.sampled_from(["110", "1068"]))
operations = st.lists(st.one_of(event_op, event_op, event_op, manual_op, reverse_op, close_op, provisional_op,
                                allocate_op), min_size=1, max_size=16)


def _open_years(organisation):
    return [year for year in YEARS if not opening.year_is_closed(organisation, year)]


def _apply(organisation, parties, posted, operation):
    kind = operation[0]
    try:
        with db.session.begin_nested():
            if kind == "event":
                posted.append(post_event_operation(organisation, parties, operation))
            elif kind == "manual":  # an expense, an asset, a loan or reserves paid through the bank
                _, amount, day, account = operation
                posted.append(services.post_entry(organisation, "BQ", day, "M", "Saisie manuelle", [
                    EntryLineSpec(account, debit=amount), EntryLineSpec("512", credit=amount)]))
            elif kind == "reverse" and posted:
                target = posted[operation[1] % len(posted)]
                posted.append(services.reverse_entry(target, entry_date=target.entry_date))
            elif kind == "close" and _open_years(organisation):  # every year may be closed already
                year = _open_years(organisation)[0]
                services.close_period(organisation, "year", year)
                if year + 1 in YEARS:
                    opening.generate_opening(organisation, year + 1, provisional=False)
            elif kind == "provisional" and _open_years(organisation):
                year = _open_years(organisation)[0]
                if year + 1 in YEARS:
                    opening.generate_opening(organisation, year + 1, provisional=True)
            elif kind == "allocate":
                closed = [year for year in YEARS if year not in _open_years(organisation)
                          and opening.current_allocation(organisation, year) is None]
                if closed:
                    year = closed[0]
                    result = opening.opening_status(organisation, year + 1).result
                    decided_on = organisation.fiscal_year_bounds(year)[1] + timedelta(days=160)
                    opening.allocate_result(organisation, year, {operation[1]: abs(result)}, decided_on)
    except AccountingError as error:
        # What the books refuse: a closed year, a reversal of a reversal, an AN with nothing to
        # carry, a zero result, an allocation dated in a closed year…
        assert any(word in str(error) for word in ("clôtur", "contre-pass", "aucun solde", "nul", "définitifs")), \
            str(error)


def _closing(organisation, year):
    """``(balances per (account, aux party id), result)`` of ``year`` read from the reports."""
    start, end = organisation.fiscal_year_bounds(year)
    trial = reporting.trial_balance(organisation, start, end)
    collective = {aux.account.number for aux, _, _ in reporting.auxiliary_balances(organisation, start, end)}
    balances = {(row.account_number, None): row.balance for row in trial.rows
                if row.account_number[0] in "12345" and row.account_number not in collective and row.balance}
    for aux, debit, credit in reporting.auxiliary_balances(organisation, start, end):
        if debit != credit:
            balances[(aux.account.number, aux.party_id)] = debit - credit
    income = sum((row.credit - row.debit for row in trial.rows if row.account_number[0] == "7"), ZERO)
    expenses = sum((row.debit - row.credit for row in trial.rows if row.account_number[0] == "6"), ZERO)
    return balances, income - expenses


def _check(organisation):
    # The years still open get their AN regenerated first: a provisional AN lags behind until then.
    for year in _open_years(organisation):
        if year + 1 in YEARS and not opening.year_is_closed(organisation, year + 1):
            try:
                opening.generate_opening(organisation, year + 1)
            except AccountingError as error:
                assert "aucun solde" in str(error)
    for year in YEARS[:-1]:
        balances, result = _closing(organisation, year)
        entry = opening.current_opening(organisation, year + 1)
        status = opening.opening_status(organisation, year + 1)
        assert status.result == result
        if opening.year_is_closed(organisation, year):
            assert entry is None or status.definitive
        expected = dict(balances)
        if result:
            key = ("120" if result > 0 else "129", None)
            expected[key] = expected.get(key, ZERO) - result
            expected = {key: amount for key, amount in expected.items() if amount}
        carried = {}
        for line in entry.lines if entry is not None else []:
            key = (line.account.number, line.auxiliary.party_id if line.auxiliary else None)
            carried[key] = carried.get(key, ZERO) + line.debit - line.credit
        assert carried == expected, year
        if entry is not None:
            assert entry.entry_date == organisation.fiscal_year_bounds(year + 1)[0]
            assert sum((line.debit for line in entry.lines), ZERO) == sum((line.credit for line in entry.lines), ZERO)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
# Every year closed, then one more closing and a provisional AN asked for: nothing is left to do.
@example([("event", EVENTS[0], Decimal("30.00"), date(2025, 3, 1), 0), ("close",), ("close",), ("close",),
          ("close",), ("provisional",)])
# A closing refused in its savepoint after the provisional AN's reversal was lettered there (CI,
# 2026-12-04): the AN line kept that code in the session, and the next closing unlettered a code
# no line carried.
@example([("event", EVENTS[0], Decimal("0.01"), date(2025, 1, 1), 0), ("provisional",), ("reverse", 0),
          ("event", EVENTS[0], Decimal("0.01"), date(2026, 1, 1), 0), ("close",),
          ("event", EVENTS[0], Decimal("0.01"), date(2025, 1, 1), 1), ("close",)])
def test_each_year_closes_with_the_balances_the_next_one_opens_with(books, member, other_member, ops):
    with example_rolled_back():
        posted = []
        for operation in ops:
            _apply(books, [member, other_member], posted, operation)
        _check(books)
