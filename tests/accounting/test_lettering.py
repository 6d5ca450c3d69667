"""Lettering (*lettrage*) of auxiliary accounts: automatic, manual, undone."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.accounting import reporting, services
from backoffice.accounting.services import AccountingError, lettering_code, post_event


@pytest.mark.parametrize("n, code", [(0, "AA"), (1, "AB"), (25, "AZ"), (26, "BA"), (675, "ZZ"), (676, "AAA"),
                                     (677, "AAB"), (676 + 26 ** 3, "AAAA")])
def test_lettering_codes(n, code):
    assert lettering_code(n) == code


def _codes(*entries):
    return [line.lettering_code for entry in entries for line in entry.lines if line.auxiliary_id]


def test_a_fee_and_its_payment_are_lettered(post_fee):
    due, paid = post_fee(paid=True)
    assert _codes(due, paid) == ["AA", "AA"]
    assert due.lines[0].lettering_date == date(2026, 1, 15)


def test_an_unpaid_fee_stays_unlettered(books, post_fee, member):
    due = post_fee()
    assert _codes(due) == [None]
    groups = reporting.unlettered_by_auxiliary(books)
    assert [(aux.party_id, [line.id for line in lines], balance) for aux, lines, balance in groups] == [
        (member.id, [due.lines[0].id], Decimal("50.00"))]
    assert reporting.unlettered_count(books) == 1


def test_two_fees_paid_at_once(books, member, post_fee):
    first = post_fee("50.00", day=date(2026, 1, 10))
    second = post_fee("30.00", day=date(2026, 2, 10))
    paid = post_event(books, "fee_paid", amount=Decimal("80.00"), entry_date=date(2026, 2, 20), party=member,
                      piece_ref="VIR-1", label="Règlement", payment_method="transfer")
    assert _codes(first, second, paid) == ["AA", "AA", "AA"]


def test_the_oldest_matching_amount_is_lettered_first(books, member, other_member, post_fee):
    old = post_fee("50.00", day=date(2026, 1, 10))
    newer = post_fee("50.00", day=date(2026, 3, 10))
    someone_else = post_fee("50.00", day=date(2026, 3, 10), party=other_member)
    paid = post_event(books, "fee_paid", amount=Decimal("50.00"), entry_date=date(2026, 3, 20), party=member,
                      piece_ref="CHQ-1", label="Chèque", payment_method="cheque")
    assert _codes(old, newer, someone_else, paid) == ["AA", None, None, "AA"]


def test_a_partial_payment_is_not_lettered(books, member, post_fee):
    due = post_fee("50.00")
    paid = post_event(books, "fee_paid", amount=Decimal("20.00"), entry_date=date(2026, 1, 20), party=member,
                      piece_ref="ESP", label="Acompte", payment_method="cash")
    assert _codes(due, paid) == [None, None]
    rest = post_event(books, "fee_paid", amount=Decimal("30.00"), entry_date=date(2026, 1, 25), party=member,
                      piece_ref="ESP", label="Solde", payment_method="cash")
    assert _codes(due, paid, rest) == ["AA", "AA", "AA"]


def test_refund_is_lettered_with_the_overpayment(books, member, post_fee):
    due, paid = post_fee(paid=True)
    extra = post_event(books, "fee_paid", amount=Decimal("50.00"), entry_date=date(2026, 1, 16), party=member,
                       piece_ref="DBL", label="Double paiement", payment_method="transfer")
    refund = post_event(books, "fee_refund", amount=Decimal("50.00"), entry_date=date(2026, 1, 20), party=member,
                        piece_ref="RMB", label="Remboursement", payment_method="transfer")
    assert _codes(due, paid) == ["AA", "AA"]
    assert _codes(extra, refund) == ["AB", "AB"]


def test_manual_lettering_and_unlettering(books, member, post_fee):
    due = post_fee("50.00")
    paid = post_event(books, "fee_paid", amount=Decimal("20.00"), entry_date=date(2026, 1, 20), party=member,
                      piece_ref="ESP", label="Acompte", payment_method="cash")
    lines = [due.lines[0], paid.lines[1]]
    with pytest.raises(AccountingError, match="ne s'équilibrent pas"):
        services.letter_lines(books, lines)
    with pytest.raises(AccountingError, match="au moins deux lignes"):
        services.letter_lines(books, lines[:1])
    with pytest.raises(AccountingError, match="même compte et le même tiers"):
        services.letter_lines(books, [due.lines[0], due.lines[1]])
    gift = post_event(books, "fee_paid", amount=Decimal("30.00"), entry_date=date(2026, 1, 21), party=member,
                      piece_ref="ESP", label="Solde", payment_method="cash")
    assert _codes(due, paid, gift) == ["AA", "AA", "AA"]
    assert services.unletter(books, "AA") == 3
    assert _codes(due, paid, gift) == [None, None, None]
    code = services.letter_lines(books, [due.lines[0], paid.lines[1], gift.lines[1]], on=date(2026, 2, 1))
    assert code == "AB" and due.lines[0].lettering_date == date(2026, 2, 1)
    with pytest.raises(AccountingError, match="déjà lettrée"):
        services.letter_lines(books, [due.lines[0], paid.lines[1]])
    with pytest.raises(AccountingError, match="Aucune ligne lettrée"):
        services.unletter(books, "ZZ")


def test_lettering_is_allowed_on_validated_entries_of_a_closed_month(books, member, post_fee):
    due, paid = post_fee(paid=True)
    services.close_period(books, "month", 2026, 1)
    assert services.unletter(books, "AA") == 2
    assert services.letter_lines(books, [due.lines[0], paid.lines[1]]) == "AB"


def test_lettering_of_a_closed_fiscal_year_is_frozen(books, member, post_fee):
    due, paid = post_fee(paid=True)
    services.close_period(books, "year", 2026)
    with pytest.raises(AccountingError, match="exercice clôturé .* ne peut plus être délettrée"):
        services.unletter(books, "AA")
    assert due.lines[0].lettering_code == "AA"
