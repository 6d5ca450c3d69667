"""At the closing, members in credit on 411 (a next-year fee paid in advance, an overpayment)
are reclassified to 419 *adhérents créditeurs* per auxiliary account, dated the year's last
day; the next year's AN carries them on 419 and the reclassification is reversed on its first
day, so the credits are back on 411 where the new fees are lettered against them."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.accounting import annual, closing, opening, reporting, services
from backoffice.accounting.models import JournalEntry
from backoffice.accounting.rules import MEMBER_CREDITS_EVENT
from backoffice.extensions import db
from tests.factories import ProfessionalFactory


def _due(books, party, day, amount):
    return services.post_event(books, "fee_due", amount=Decimal(amount), entry_date=day, party=party,
                               piece_ref="ADH", label=f"Cotisation – {party.display_name}")


def _paid(books, party, day, amount):
    return services.post_event(books, "fee_paid", amount=Decimal(amount), entry_date=day, party=party,
                               piece_ref="PAY", label=f"Règlement – {party.display_name}", payment_method="transfer")


def _aux_balances(books, number, start, end):
    """``{party id: debit - credit}`` of the auxiliary accounts of ``number`` (the reports' view)."""
    return {aux.party_id: debit - credit for aux, debit, credit in reporting.auxiliary_balances(books, start, end)
            if aux.account.number == number and debit != credit}


@pytest.fixture
def year_with_advances(books, member, other_member):
    """2026: Marie pays her 2027 fee (60 €) in December and had overpaid 2026 by 5 €; Paul owes
    his 2026 fee (50 €); Jeanne paid exactly what she owed."""
    third = ProfessionalFactory(first_name="Jeanne", last_name="Petit")
    _due(books, member, date(2026, 2, 1), "50.00")
    _paid(books, member, date(2026, 2, 3), "55.00")
    _paid(books, member, date(2026, 12, 18), "60.00")
    _due(books, other_member, date(2026, 2, 1), "50.00")
    _due(books, third, date(2026, 2, 1), "50.00")
    _paid(books, third, date(2026, 2, 10), "50.00")
    return books, member, other_member, third


def test_the_closing_reclassifies_credit_balances_to_419_per_member(year_with_advances):
    books, marie, paul, jeanne = year_with_advances
    services.close_period(books, "year", 2026)
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.organisation_id == books.id,
                                                         JournalEntry.event == MEMBER_CREDITS_EVENT))
    assert entry.entry_date == date(2026, 12, 31) and entry.fiscal_year == 2026
    assert entry.validated_on is not None and entry.final_number is not None  # part of the closed year
    assert sorted((line.account.number, line.auxiliary.party_id, line.debit, line.credit) for line in entry.lines) == [
        ("411", marie.id, Decimal("65.00"), Decimal("0.00")), ("419", marie.id, Decimal("0.00"), Decimal("65.00"))]
    year = books.fiscal_year_bounds(2026)
    assert _aux_balances(books, "411", *year) == {paul.id: Decimal("50.00")}
    assert _aux_balances(books, "419", *year) == {marie.id: Decimal("-65.00")}
    # The bilan: Paul's debt is a receivable, Marie's credit a debt; it still balances.
    accounts = annual.annual_accounts(books, 2026)
    assert accounts.lines["member_receivables"].current == Decimal("50.00")
    assert dict(accounts.lines["other_debts"].accounts)["419"] == Decimal("65.00")
    assert accounts.is_balanced


def test_the_an_carries_419_and_the_opening_puts_the_credit_back_on_411(year_with_advances):
    books, marie, paul, _ = year_with_advances
    services.close_period(books, "year", 2026)
    an = opening.current_opening(books, 2027)
    carried = sorted((line.account.number, line.auxiliary.party_id if line.auxiliary else None, line.debit - line.credit)
                     for line in an.lines if line.account.number.startswith("41"))
    assert carried == [("411", paul.id, Decimal("50.00")), ("419", marie.id, Decimal("-65.00"))]
    back = db.session.scalar(select(JournalEntry).where(JournalEntry.organisation_id == books.id,
                                                        JournalEntry.fiscal_year == 2027,
                                                        JournalEntry.event == "reversal",
                                                        JournalEntry.reversal_of_id.is_not(None)))
    assert back.entry_date == date(2027, 1, 1) and back.reversal_of.event == MEMBER_CREDITS_EVENT
    first_day = (date(2027, 1, 1), date(2027, 1, 1))
    assert _aux_balances(books, "411", date(2027, 1, 1), date(2027, 12, 31)) == {
        paul.id: Decimal("50.00"), marie.id: Decimal("-65.00")}
    assert _aux_balances(books, "419", *first_day) == {}  # the AN's 419 and its reversal net to nothing
    nineteen = [line for line in an.lines + back.lines if line.account.number == "419"]
    assert len(nineteen) == 2 and len({line.lettering_code for line in nineteen}) == 1 and nineteen[0].lettering_code
    # Marie's 2027 fee is lettered against her credit back on 411 (60 of her 65 €: 5 € stay in credit).
    due = _due(books, marie, date(2027, 1, 15), "65.00")
    marie_line = next(line for line in due.lines if line.account.number == "411")
    assert marie_line.lettering_code is not None


def test_no_member_in_credit_no_reclassification(books, member):
    _due(books, member, date(2026, 2, 1), "50.00")
    services.close_period(books, "year", 2026)
    assert db.session.scalar(select(JournalEntry.id).where(JournalEntry.organisation_id == books.id,
                                                           JournalEntry.event == MEMBER_CREDITS_EVENT)) is None


def test_a_closed_december_does_not_refuse_the_reclassification(year_with_advances):
    books, marie, _, _ = year_with_advances
    services.close_period(books, "month", 2026, 12)
    with pytest.raises(services.AccountingError, match="clôturée"):  # an everyday posting is refused
        _paid(books, marie, date(2026, 12, 30), "1.00")
    services.close_period(books, "year", 2026)
    assert closing.is_year_closed(books, 2026)
    assert _aux_balances(books, "419", *books.fiscal_year_bounds(2026)) == {marie.id: Decimal("-65.00")}


def test_each_year_closes_and_reopens_its_members_in_credit(year_with_advances):
    """Two closings in a row: 2027's own advance is reclassified at its closing, with the 2026
    reclassification and its reversal left as they were."""
    books, marie, paul, _ = year_with_advances
    services.close_period(books, "year", 2026)
    _paid(books, marie, date(2027, 11, 2), "70.00")  # 2028 in advance: 65 − 65 (fee below) + 70
    _due(books, marie, date(2027, 1, 15), "65.00")
    services.close_period(books, "year", 2027)
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.organisation_id == books.id,
                                                            JournalEntry.event == MEMBER_CREDITS_EVENT)
                                 .order_by(JournalEntry.fiscal_year)).all()
    assert [(e.fiscal_year, e.total) for e in entries] == [(2026, Decimal("65.00")), (2027, Decimal("70.00"))]
    assert _aux_balances(books, "411", date(2028, 1, 1), date(2028, 12, 31)) == {
        marie.id: Decimal("-70.00"), paul.id: Decimal("50.00")}  # Paul still owes his 2026 fee
