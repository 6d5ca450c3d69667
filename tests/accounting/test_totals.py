"""The totals kept in advance (``accounting_account_totals``) always equal the sum of the posted
lines, per month, fiscal year, account and auxiliary account: after postings one by one, in a
batch, reversals, manual entries, closings and their AN. The recount here is its own plain SQL
over the lines, not the code under test."""
import importlib.util
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from backoffice.accounting import annual, db_guards, opening, services
from backoffice.accounting.models import AccountTotal, JournalEntry, JournalLine
from backoffice.accounting.services import AccountingError, EntryLineSpec
from backoffice.extensions import db
from tests.accounting.conftest import example_rolled_back, post_event_operation

YEARS = (2025, 2026, 2027)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
EVENTS = [("fee_due", None), ("fee_paid", "transfer"), ("fee_paid", "cheque"), ("fee_refund", "card"),
          ("grant_committed", None), ("grant_paid", None), ("subsidy_received", None), ("bank_fees", None)]
event_op = st.tuples(st.just("event"), st.sampled_from(EVENTS), amounts, days, st.integers(0, 1))
batch_op = st.tuples(st.just("batch"), st.lists(event_op, min_size=1, max_size=4))
manual_op = st.tuples(st.just("manual"), amounts, amounts, days)
reverse_op = st.tuples(st.just("reverse"), st.integers(0, 50))
close_op = st.tuples(st.just("close"))
operations = st.lists(st.one_of(event_op, batch_op, manual_op, reverse_op, close_op), min_size=1, max_size=14)


def kept(organisation):
    rows = db.session.execute(select(AccountTotal.month, AccountTotal.fiscal_year, AccountTotal.account_id,
                                     AccountTotal.auxiliary_key, AccountTotal.debit, AccountTotal.credit)
                              .where(AccountTotal.organisation_id == organisation.id)).all()
    return {(month, year, account, aux): (Decimal(debit).quantize(Decimal("0.01")),
                                          Decimal(credit).quantize(Decimal("0.01")))
            for month, year, account, aux, debit, credit in rows}


def recount(organisation):
    """The same keys summed from the posted lines, month by month in Python."""
    rows = db.session.execute(select(JournalEntry.entry_date, JournalEntry.fiscal_year, JournalLine.account_id,
                                     JournalLine.auxiliary_id, JournalLine.debit, JournalLine.credit)
                              .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                              .where(JournalEntry.organisation_id == organisation.id,
                                     JournalEntry.status == "posted")).all()
    totals = {}
    for day, year, account, aux, debit, credit in rows:
        key = (day.replace(day=1), year, account, aux or 0)
        before = totals.get(key, (Decimal("0.00"), Decimal("0.00")))
        totals[key] = (before[0] + debit, before[1] + credit)
    return totals


def _open_years(organisation):
    return [year for year in YEARS if not opening.year_is_closed(organisation, year)]


def _apply(organisation, parties, posted, operation):
    kind = operation[0]
    try:
        with db.session.begin_nested():
            if kind == "event":
                posted.append(post_event_operation(organisation, parties, operation))
            elif kind == "batch":
                with services.posting_batch(organisation):  # kept only if the whole batch is
                    entries = [post_event_operation(organisation, parties, item) for item in operation[1]]
                posted.extend(entries)
            elif kind == "manual":  # three lines, two on the same account: grouped in one total
                _, first, second, day = operation
                posted.append(services.post_entry(organisation, "BQ", day, "M", "Saisie manuelle", [
                    EntryLineSpec("6132", debit=first), EntryLineSpec("6132", debit=second),
                    EntryLineSpec("512", credit=first + second)]))
            elif kind == "reverse" and posted:
                target = posted[operation[1] % len(posted)]
                posted.append(services.reverse_entry(target))
            elif kind == "close" and _open_years(organisation):
                year = _open_years(organisation)[0]
                services.close_period(organisation, "year", year)
                if year + 1 in YEARS:
                    opening.generate_opening(organisation, year + 1, provisional=False, required=False)
    except AccountingError as error:
        assert any(word in str(error) for word in ("clôtur", "contre-pass", "aucun solde")), str(error)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_kept_totals_always_equal_the_sum_of_the_lines(books, member, other_member, ops):
    with example_rolled_back():
        posted = []
        for operation in ops:
            _apply(books, [member, other_member], posted, operation)
        assert kept(books) == recount(books)
        for year in YEARS:  # and what the statements read is what the lines say
            start, end = books.fiscal_year_bounds(year)
            assert sorted(annual.year_balances(books, start, end), key=repr) == \
                sorted(annual.line_balances(books, start, end), key=repr)


def test_totals_group_one_entry_per_account_and_auxiliary_account(books, member, other_member):
    services.post_event(books, "fee_due", shares=[services.EventShare(member, Decimal("30.00")),
                                                  services.EventShare(other_member, Decimal("45.50"))],
                        entry_date=date(2026, 3, 14), piece_ref="ADH", label="Cotisations")
    services.post_entry(books, "BQ", date(2026, 3, 30), "F1", "Frais", [
        EntryLineSpec("627", debit=Decimal("1.10")), EntryLineSpec("627", debit=Decimal("2.20")),
        EntryLineSpec("512", credit=Decimal("3.30"))])
    totals = kept(books)
    bank_fees = services.get_account(books, "627").id
    assert totals[(date(2026, 3, 1), 2026, bank_fees, 0)] == (Decimal("3.30"), Decimal("0.00"))
    fees_due = [value for (month, _, _, aux), value in totals.items() if aux and month == date(2026, 3, 1)]
    assert sorted(fees_due) == [(Decimal("30.00"), Decimal("0.00")), (Decimal("45.50"), Decimal("0.00"))]
    assert totals == recount(books)


def test_a_period_that_is_not_whole_months_is_summed_from_its_lines(books):
    for day, amount in ((date(2026, 5, 10), "100.00"), (date(2026, 5, 20), "7.00")):
        services.post_entry(books, "BQ", day, "F", "Frais", [EntryLineSpec("627", debit=Decimal(amount)),
                                                             EntryLineSpec("512", credit=Decimal(amount))])
    numbers = {b.account_number: b.debit for b in annual.year_balances(books, date(2026, 5, 15), date(2026, 5, 31))}
    assert numbers["627"] == Decimal("7.00")
    numbers = {b.account_number: b.debit for b in annual.year_balances(books, date(2026, 5, 1), date(2026, 5, 31))}
    assert numbers["627"] == Decimal("107.00")


def test_a_draft_counts_nothing_and_a_refused_posting_leaves_no_total(books):
    """Only the draft → posted switch adds: a draft's lines, and a posting the guards refuse
    (unbalanced), leave the totals as they were."""
    services.post_entry(books, "BQ", date(2026, 2, 1), "F", "Frais", [
        EntryLineSpec("627", debit=Decimal("5.00")), EntryLineSpec("512", credit=Decimal("5.00"))])
    before = kept(books)
    with pytest.raises(AccountingError, match="déséquilibrée"):
        services.post_entry(books, "BQ", date(2026, 2, 2), "F", "Frais", [
            EntryLineSpec("627", debit=Decimal("5.00")), EntryLineSpec("512", credit=Decimal("4.00"))])
    assert kept(books) == before


def test_the_back_fill_recomputes_the_totals_of_books_posted_before_them(books, member):
    """The migration's back-fill (its SQL, copied from ``db_guards.refill_totals_statements``)
    gives the totals the trigger would have kept."""
    services.post_event(books, "fee_due", amount=Decimal("80.00"), entry_date=date(2025, 12, 31), party=member,
                        piece_ref="A", label="Cotisation")
    entry = services.post_event(books, "fee_paid", amount=Decimal("80.00"), entry_date=date(2026, 1, 2),
                                party=member, piece_ref="B", label="Règlement", payment_method="cheque")
    services.reverse_entry(entry)
    expected = kept(books)
    dialect = db.session.get_bind().dialect.name
    db.session.execute(text("DELETE FROM accounting_account_totals"))
    assert kept(books) == {}
    path = Path(__file__).parents[2] / "migrations" / "versions" / "0032_accounting_account_totals.py"
    spec = importlib.util.spec_from_file_location("migration_0032", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.BACK_FILL[dialect] == db_guards.refill_totals_statements(dialect)[1:]
    assert migration.KEEP[dialect] == db_guards.totals_statements(dialect)
    for statement in migration.BACK_FILL[dialect]:
        db.session.execute(text(statement))
    assert kept(books) == expected == recount(books)
    assert db.session.scalar(select(func.count()).select_from(AccountTotal)) == len(expected)
