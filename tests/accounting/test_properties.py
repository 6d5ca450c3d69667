"""Property tests: whatever sequence of operations is posted, the books stay balanced, the
numbering stays continuous, and every lettering group balances."""
from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backoffice.accounting import reporting, services
from backoffice.accounting.models import JournalEntry, JournalLine
from backoffice.accounting.services import AccountingError, EntryLineSpec
from backoffice.extensions import db
from tests.accounting.conftest import example_rolled_back, post_event_operation

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))
EVENTS = [("fee_due", None), ("fee_paid", "transfer"), ("fee_paid", "cheque"), ("fee_paid", "cash"),
          ("fee_refund", "card"), ("grant_committed", None), ("grant_paid", None), ("subsidy_received", None),
          ("aci_income", None), ("bank_fees", None)]

event_op = st.tuples(st.just("event"), st.sampled_from(EVENTS), amounts, days, st.integers(0, 1))
reverse_op = st.tuples(st.just("reverse"), st.integers(0, 50))
manual_op = st.tuples(st.just("manual"), st.lists(amounts, min_size=1, max_size=4), days)
operations = st.lists(st.one_of(event_op, event_op, reverse_op, manual_op), min_size=1, max_size=12)

EXPENSES = ["6064", "6226", "627", "6251"]


def _apply(organisation, parties, posted, operation):
    kind = operation[0]
    if kind == "event":
        posted.append(post_event_operation(organisation, parties, operation))
    elif kind == "manual":
        _, parts, day = operation
        lines = [EntryLineSpec(EXPENSES[i % len(EXPENSES)], debit=part) for i, part in enumerate(parts)]
        lines.append(EntryLineSpec("512", credit=sum(parts, Decimal("0.00"))))
        posted.append(services.post_entry(organisation, "BQ", day, "M", "Saisie manuelle", lines))
    elif posted:
        target = posted[operation[1] % len(posted)]
        try:
            posted.append(services.reverse_entry(target))
        except AccountingError as error:  # already reversed, or itself a reversal
            assert "contre-pass" in str(error)


def _check_books(organisation):
    per_entry = db.session.execute(
        select(JournalEntry.id, func.sum(JournalLine.debit), func.sum(JournalLine.credit), func.count())
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalEntry.organisation_id == organisation.id).group_by(JournalEntry.id)).all()
    for entry_id, debit, credit, count in per_entry:
        assert debit == credit and count >= 2, entry_id
    balance = reporting.trial_balance(organisation, date(2025, 1, 1), date(2026, 12, 31))
    assert balance.total_debit == balance.total_credit
    assert balance.total_balance_debit == balance.total_balance_credit
    numbers = defaultdict(list)
    for year, number in db.session.execute(select(JournalEntry.fiscal_year, JournalEntry.number).where(
            JournalEntry.organisation_id == organisation.id)):
        numbers[year].append(number)
    for year, values in numbers.items():
        assert sorted(values) == list(range(1, len(values) + 1)), year
    groups = defaultdict(lambda: [Decimal("0"), Decimal("0"), set()])
    for code, aux, debit, credit in db.session.execute(
            select(JournalLine.lettering_code, JournalLine.auxiliary_id, JournalLine.debit, JournalLine.credit)
            .where(JournalLine.organisation_id == organisation.id, JournalLine.lettering_code.is_not(None))):
        groups[code][0] += debit
        groups[code][1] += credit
        groups[code][2].add(aux)
    for code, (debit, credit, auxiliaries) in groups.items():
        assert debit == credit and len(auxiliaries) == 1, code


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_any_sequence_of_operations_keeps_the_books_balanced(books, member, other_member, ops):
    with example_rolled_back():
        posted = []
        for operation in ops:
            _apply(books, [member, other_member], posted, operation)
        _check_books(books)
