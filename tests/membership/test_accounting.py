"""Every money event of a membership posts a balanced entry; fees and payments get lettered."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.accounting.models import JournalEntry, JournalLine
from backoffice.extensions import db as _db
from backoffice.membership import services, statements
from backoffice.membership.services import MembershipError


def entry(entry_id):
    found = _db.session.get(JournalEntry, entry_id)
    assert found is not None
    return found


def accounts(entry_id):
    """{account number: (debit, credit)} of an entry, checking it balances."""
    lines = list(_db.session.scalars(select(JournalLine).where(JournalLine.entry_id == entry_id)))
    assert sum(l.debit for l in lines) == sum(l.credit for l in lines) > 0
    return {l.account.number: (l.debit, l.credit) for l in lines}


def member_lines(membership):
    """Lines of the member's auxiliary account (411), in order."""
    return [l for l in _db.session.scalars(select(JournalLine).join(JournalEntry).where(
        JournalEntry.organisation_id == membership.organisation_id, JournalLine.auxiliary_id.is_not(None))
        .order_by(JournalLine.id)) if l.auxiliary.party_id == membership.party_id]


def test_fee_due_posted(membership):
    assert accounts(membership.fee_due_entry_id) == {"411": (Decimal("50.00"), 0), "756": (0, Decimal("50.00"))}
    assert entry(membership.fee_due_entry_id).piece_ref == membership.payment_reference


@pytest.mark.parametrize("method, treasury", [("transfer", "512"), ("cheque", "5112"), ("cash", "530"),
                                              ("card", "512"), ("direct_debit", "512"),
                                              ("helloasso", "517")])
def test_fee_paid_by_method_and_lettered(membership, method, treasury):
    from backoffice.accounting.models import PaymentMethodRule

    rule = _db.session.scalar(select(PaymentMethodRule).where(
        PaymentMethodRule.organisation_id == membership.organisation_id, PaymentMethodRule.method == method))
    payment = services.record_payment(membership, "50", method, date(2026, 2, 1), reference="123")
    posted = accounts(payment.accounting_entry_id)
    assert posted == {rule.account.number: (Decimal("50.00"), 0), "411": (0, Decimal("50.00"))}
    assert rule.account.number.startswith(treasury[:3])
    codes = {l.lettering_code for l in member_lines(membership)}
    assert len(codes) == 1 and None not in codes  # the fee and its payment are lettered together


def test_partial_payments_letter_once_complete(membership):
    services.record_payment(membership, "20", "transfer", date(2026, 2, 1))
    assert all(l.lettering_code is None for l in member_lines(membership))
    services.record_payment(membership, "30", "transfer", date(2026, 2, 2))
    assert len({l.lettering_code for l in member_lines(membership)} - {None}) == 1


def test_refund_and_reversal_entries(membership):
    payment = services.record_payment(membership, "80", "transfer", date(2026, 2, 1))
    refund = services.refund(membership, "30", "transfer", date(2026, 2, 5))
    assert accounts(refund.accounting_entry_id) == {"411": (Decimal("30.00"), 0), "512": (0, Decimal("30.00"))}
    reversal = services.reverse_payment(refund, date(2026, 2, 6), reason="erreur")
    assert entry(reversal.accounting_entry_id).reversal_of_id == refund.accounting_entry_id
    assert accounts(reversal.accounting_entry_id) == {"411": (0, Decimal("30.00")), "512": (Decimal("30.00"), 0)}
    assert membership.credit == Decimal("30.00") and payment.accounting_entry_id is not None
    # 411 of the member: +50 due, -80 paid, +30 refund, -30 reversal → 30 credit balance.
    balance = sum(l.debit - l.credit for l in member_lines(membership))
    assert balance == -membership.credit


def test_exemption_and_cancellation_reverse_fee_due(membership):
    services.exempt_membership(membership, "Bénévole")
    services.lift_exemption(membership)
    second_fee = membership.fee_due_entry_id
    services.cancel_membership(membership, "Départ")
    balance = sum(l.debit - l.credit for l in member_lines(membership))
    assert balance == 0 and second_fee is not None
    assert entry(second_fee).source.startswith(f"memberships:{membership.id}:")


def test_credit_carried_over_posts_nothing(organisation, membership, physician):
    services.record_payment(membership, "100", "transfer", date(2026, 2, 1))
    nxt = services.ensure_grid(services.period_for_year(organisation, 2027), previous=membership.period)
    target = services.create_membership(organisation, physician, nxt, joined_on=date(2026, 12, 1))
    into = services.carry_over_credit(membership, target)
    assert into.accounting_entry_id is None
    assert sum(l.debit - l.credit for l in member_lines(membership)) == 0  # 50+50 due, 100 paid


def test_statement_payment_posts_transfer(organisation, membership):
    content = f"Date;Libellé;Montant\n03/02/2026;VIR {membership.payment_reference};50,00\n".encode()
    statements.save_csv_mapping(organisation, {"date": "Date", "label": "Libellé", "amount": "Montant"},
                                ["Date", "Libellé", "Montant"])
    statement = statements.import_statement(organisation, "r.csv", content)
    [payment] = statements.confirm_lines(organisation, {statement.lines[0].id: membership.id})
    assert accounts(payment.accounting_entry_id)["512"] == (Decimal("50.00"), 0)


def test_accounting_error_records_nothing(membership, monkeypatch):
    from backoffice.accounting import services as accounting

    def refuse(*args, **kwargs):
        raise accounting.AccountingError("Période close.")

    monkeypatch.setattr(accounting, "post_event", refuse)
    with pytest.raises(MembershipError, match="Période close"):
        with _db.session.begin_nested():
            services.record_payment(membership, "50", "transfer")
    _db.session.expire_all()
    assert membership.payments == [] and membership.amount_paid == 0
