"""Membership rules: state machine, category suggestion, payments, credit, refunds, reversals."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.membership import memberships, services
from backoffice.membership.models import (CategoryKind, MembershipStatus as S, PaymentKind, PaymentMethod,
                                          PaymentStatus)
from backoffice.membership.services import MembershipError

ALL = list(S)
ALLOWED = {
    (S.AWAITING_PAYMENT, S.PARTIALLY_PAID), (S.AWAITING_PAYMENT, S.PAID), (S.AWAITING_PAYMENT, S.EXEMPT),
    (S.AWAITING_PAYMENT, S.CANCELLED),
    (S.PARTIALLY_PAID, S.AWAITING_PAYMENT), (S.PARTIALLY_PAID, S.PAID),
    (S.PAID, S.AWAITING_PAYMENT), (S.PAID, S.PARTIALLY_PAID),
    (S.EXEMPT, S.AWAITING_PAYMENT), (S.EXEMPT, S.CANCELLED),
    (S.CANCELLED, S.AWAITING_PAYMENT),  # reinstated
}


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", ALL)
def test_transition_table(current, target):
    assert services.can_transition(current, target) is ((current, target) in ALLOWED)


def test_reinstating_is_the_only_way_out_of_a_cancellation():
    assert services.REINSTATE == (S.CANCELLED, S.AWAITING_PAYMENT)
    assert services.MEMBERSHIP_TRANSITIONS[S.CANCELLED] == {services.REINSTATE[1]}


@pytest.mark.parametrize("due, paid, expected", [
    ("50.00", "0.00", S.AWAITING_PAYMENT),
    ("50.00", "20.00", S.PARTIALLY_PAID),
    ("50.00", "50.00", S.PAID),
    ("50.00", "80.00", S.PAID),
    ("0.00", "0.00", S.PAID),
])
def test_derived_status(due, paid, expected):
    assert services.derived_status(Decimal(due), Decimal(paid)) is expected


@pytest.mark.parametrize("party_kind, physician, first, expected", [
    ("professional", True, False, CategoryKind.PHYSICIAN),
    ("professional", False, False, CategoryKind.OTHER_PROFESSIONAL),
    ("structure", False, False, CategoryKind.STRUCTURE),
    ("professional", True, True, CategoryKind.FIRST_YEAR),
    ("professional", False, True, CategoryKind.FIRST_YEAR),
    ("structure", False, True, CategoryKind.FIRST_YEAR),
])
def test_suggest_category_kind(party_kind, physician, first, expected):
    assert services.suggest_category_kind(party_kind, physician, first) is expected


def test_suggest_category_uses_history(organisation, period, physician):
    assert services.suggest_category(physician, period).label == "Première adhésion"
    previous = services.ensure_grid(services.period_for_year(organisation, 2025), previous=period)
    services.create_membership(organisation, physician, previous, joined_on=date(2025, 2, 1))
    assert services.suggest_category(physician, period).label == "Médecin"


def test_suggest_category_without_first_year_line(organisation, physician):
    period = services.period_for_year(organisation, 2027)
    services.set_fee_category(period, "Médecin", "60", CategoryKind.PHYSICIAN)
    services.set_fee_category(period, "Autre", "30", CategoryKind.OTHER_PROFESSIONAL)
    assert services.suggest_category(physician, period).label == "Médecin"


def test_suggest_college(colleges, nurse):
    from tests.factories import StructureFactory

    assert services.suggest_college(nurse, colleges).name == "Libéraux"
    assert services.suggest_college(StructureFactory(), colleges).name == "Structures"


def test_period_follows_fiscal_year(organisation):
    organisation.fiscal_year_start_month = 9
    period = services.period_for_year(organisation, 2026)
    assert (period.starts_on, period.ends_on, period.label) == (date(2026, 9, 1), date(2027, 8, 31), "2026-2027")


def test_changing_the_due_date_moves_the_periods_not_ended(organisation, period):
    ended = services.period_for_year(organisation, 2025)
    following = services.period_for_year(organisation, 2027)
    assert (ended.due_on, period.due_on) == (date(2025, 4, 1), date(2026, 4, 1))  # 90 days, the default
    moved = services.set_due_days(organisation, 59, today=date(2026, 2, 10))
    assert moved == [period, following] and services.get_settings(organisation).due_days == 59
    assert (period.due_on, following.due_on, ended.due_on) == (date(2026, 3, 1), date(2027, 3, 1), date(2025, 4, 1))
    assert services.set_due_days(organisation, 59, today=date(2026, 2, 10)) == []  # nothing left to move
    assert services.period_for_year(organisation, 2028).due_on == date(2028, 2, 29)  # new periods follow too
    with pytest.raises(MembershipError, match="entre 0 et 365"):
        services.set_due_days(organisation, 400)


def test_create_membership_defaults(organisation, period, nurse):
    membership = services.create_membership(organisation, nurse, period)
    assert membership.category.label == "Première adhésion"
    assert membership.amount_due == Decimal("20.00")
    assert membership.status is S.AWAITING_PAYMENT
    assert membership.payment_reference.startswith("ADH26-")
    code = membership.payment_reference.split("-")[1]
    assert len(code) == 5 and not set(code) & set("0O1IL2Z5S8B")


def test_second_membership_same_period_refused(organisation, period, membership, physician):
    with pytest.raises(MembershipError, match="déjà une adhésion pour 2026"):
        services.create_membership(organisation, physician, period)


def test_duplicate_grid_label_refused(period):
    with pytest.raises(MembershipError, match="existe déjà"):
        services.set_fee_category(period, "médecin", "10")


@pytest.mark.parametrize("value, message", [("-5", "positif"), ("0", "supérieur à zéro"), ("abc", "invalide"),
                                            ("12.345", "deux décimales")])
def test_bad_amounts(membership, value, message):
    with pytest.raises(MembershipError, match=message):
        services.record_payment(membership, value, "transfer")
    assert membership.payments == []


def test_partial_then_full_payment(membership):
    services.record_payment(membership, "20", "cheque", date(2026, 2, 1), reference="1234567", cheque_bank="CIC")
    assert (membership.status, membership.amount_paid, membership.balance) == (S.PARTIALLY_PAID, Decimal("20.00"), Decimal("30.00"))
    services.record_payment(membership, "30,00", "transfer", date(2026, 2, 10))
    assert membership.status is S.PAID
    assert membership.paid_on == date(2026, 2, 10)
    assert membership.credit == 0


def test_overpayment_credit_then_refund(membership):
    services.record_payment(membership, "80", "transfer", date(2026, 2, 1))
    assert membership.status is S.PAID and membership.credit == Decimal("30.00")
    row = services.refund(membership, None, "transfer", date(2026, 2, 15))
    assert row.amount == Decimal("-30.00") and row.kind is PaymentKind.REFUND
    assert membership.credit == 0 and membership.amount_paid == Decimal("50.00") and membership.status is S.PAID


def test_refund_more_than_paid_refused(membership):
    services.record_payment(membership, "10", "cash")
    with pytest.raises(MembershipError, match="plus que ce qui a été payé"):
        services.refund(membership, "11", "cash")


def test_credit_carried_over(organisation, membership, physician):
    services.record_payment(membership, "100", "transfer", date(2026, 2, 1))
    nxt = services.ensure_grid(services.period_for_year(organisation, 2027), previous=membership.period)
    target = services.create_membership(organisation, physician, nxt, joined_on=date(2026, 12, 1))
    assert target.category.label == "Médecin"
    services.carry_over_credit(membership, target)
    assert target.status is S.PAID and target.amount_paid == Decimal("50.00")
    assert membership.credit == 0 and membership.status is S.PAID


def test_reversal_never_deletes(membership):
    payment = services.record_payment(membership, "50", "transfer", date(2026, 2, 1))
    assert membership.status is S.PAID
    reversal = services.reverse_payment(payment, date(2026, 2, 3), reason="Erreur de saisie")
    assert reversal.amount == Decimal("-50.00") and reversal.reverses is payment and payment.is_reversed
    assert membership.status is S.AWAITING_PAYMENT and membership.amount_paid == 0 and membership.paid_on is None
    assert len(membership.payments) == 2
    with pytest.raises(MembershipError, match="déjà annulé"):
        services.reverse_payment(payment)
    with pytest.raises(MembershipError, match="ne peut pas être annulée"):
        services.reverse_payment(reversal)


def test_double_submit_records_once(membership):
    services.record_payment(membership, "20", "transfer", idempotency_key="form-123")
    with pytest.raises(services.DuplicateSubmission) as caught:
        services.record_payment(membership, "20", "transfer", idempotency_key="form-123")
    assert caught.value.payment.amount == Decimal("20.00")
    assert membership.amount_paid == Decimal("20.00") and len(membership.payments) == 1


def test_payment_on_cancelled_refused(membership):
    services.cancel_membership(membership, "Départ du territoire")
    assert membership.status is S.CANCELLED
    with pytest.raises(MembershipError, match="annulée"):
        services.record_payment(membership, "50", "transfer")
    assert membership.payments == []


def member_balance(membership):
    """Debit minus credit of the member's auxiliary account (411): what the books say is owed."""
    from sqlalchemy import select

    from backoffice.accounting.models import JournalEntry, JournalLine
    from backoffice.extensions import db

    lines = db.session.scalars(select(JournalLine).join(JournalEntry).where(
        JournalEntry.organisation_id == membership.organisation_id, JournalLine.auxiliary_id.is_not(None)))
    return sum((l.debit - l.credit for l in lines if l.auxiliary.party_id == membership.party_id), Decimal(0))


def fee_due_sources(membership):
    from sqlalchemy import select

    from backoffice.accounting.models import JournalEntry
    from backoffice.extensions import db

    source = f"memberships:{membership.id}"
    return list(db.session.scalars(select(JournalEntry.source).where(
        (JournalEntry.source == source) | JournalEntry.source.like(f"{source}:%")).order_by(JournalEntry.id)))


def test_treasurer_recreating_a_cancelled_membership_reopens_the_same_row(organisation, period, membership,
                                                                         physician):
    reference, first_entry = membership.payment_reference, membership.fee_due_entry_id
    services.cancel_membership(membership, "Annulée par erreur", on=date(2026, 2, 1))
    assert member_balance(membership) == 0
    other = next(c for c in period.categories if c.kind is CategoryKind.OTHER_PROFESSIONAL)
    again = services.create_membership(organisation, physician, period, category=other, joined_on=date(2026, 3, 2))
    assert again.id == membership.id and again.payment_reference == reference
    assert again.status is S.AWAITING_PAYMENT and again.amount_due == Decimal("30.00") and again.category == other
    assert (again.cancelled_on, again.cancellation_reason, again.joined_on) == (None, None, date(2026, 3, 2))
    # The cancelled fee stays in the books (posted, reversed); the reinstated one is posted anew.
    assert again.fee_due_entry_id not in (None, first_entry)
    sources = fee_due_sources(again)
    assert sources == [f"memberships:{again.id}", f"memberships:{again.id}:{first_entry}"]
    assert member_balance(again) == Decimal("30.00")
    services.record_payment(again, "30", "transfer")
    assert again.status is S.PAID and member_balance(again) == 0


def test_reinstating_keeps_the_category_at_todays_grid_amount(membership, period):
    services.cancel_membership(membership, "Erreur")
    physician_rate = membership.category
    services.set_fee_category(period, physician_rate.label, "55", physician_rate.kind, category=physician_rate)
    services.reinstate_membership(membership)
    assert membership.status is S.AWAITING_PAYMENT and membership.amount_due == Decimal("55.00")
    assert membership.joined_on == date(2026, 1, 10)  # a mistake undone: the member joined then
    assert member_balance(membership) == Decimal("55.00")


def test_reinstating_a_membership_cancelled_while_exempt(membership):
    services.exempt_membership(membership, "Bénévole")
    services.cancel_membership(membership, "Départ")
    services.reinstate_membership(membership)
    assert membership.status is S.AWAITING_PAYMENT and membership.exemption_reason is None
    assert member_balance(membership) == Decimal("50.00")


def test_reinstating_twice_is_refused(organisation, period, membership, physician):
    services.cancel_membership(membership, "Erreur")
    services.reinstate_membership(membership)
    with pytest.raises(MembershipError, match="pas annulée"):
        services.reinstate_membership(membership)
    with pytest.raises(MembershipError, match="déjà une adhésion pour 2026 .en attente de paiement"):
        services.create_membership(organisation, physician, period)
    # Cancelled and reinstated again: one more fee due under a fresh source, books still right.
    services.cancel_membership(membership, "Erreur encore")
    services.reinstate_membership(membership)
    assert len(set(fee_due_sources(membership))) == 3 and member_balance(membership) == Decimal("50.00")


def test_cancel_with_money_refused(membership):
    services.record_payment(membership, "10", "cash")
    with pytest.raises(MembershipError, match="remboursez"):
        services.cancel_membership(membership, "x")


def test_exempt_and_lift(membership):
    services.exempt_membership(membership, "Membre d'honneur")
    assert membership.status is S.EXEMPT
    with pytest.raises(MembershipError, match="exonérée"):
        services.record_payment(membership, "10", "cash")
    services.lift_exemption(membership)
    assert membership.status is S.AWAITING_PAYMENT


def test_pending_direct_debit_counts_once_confirmed(membership):
    payment = services.record_payment(membership, "50", "direct_debit", pending=True)
    assert payment.status is PaymentStatus.PENDING and membership.amount_paid == 0
    services.confirm_payment(payment, date(2026, 3, 5))
    assert membership.status is S.PAID and membership.paid_on == date(2026, 3, 5)
    with pytest.raises(MembershipError):
        services.fail_payment(payment)


def test_paid_hook_runs_once(membership):
    seen = []
    hook = services.register_paid_hook(lambda m: seen.append(m.id))
    try:
        services.record_payment(membership, "30", "cash")
        services.record_payment(membership, "30", "cash")
        services.record_payment(membership, "5", "cash")
    finally:
        memberships._PAID_HOOKS.remove(hook)
    assert seen == [membership.id]


def test_history(organisation, membership, physician):
    previous = services.ensure_grid(services.period_for_year(organisation, 2025), previous=membership.period)
    services.create_membership(organisation, physician, previous, joined_on=date(2025, 1, 5))
    assert [m.period.year for m in services.membership_history(organisation, physician)] == [2026, 2025]


def test_find_by_reference(membership):
    ref = membership.payment_reference
    assert services.find_by_reference(ref.lower().replace("-", " ")) is membership


def test_a_cheque_may_be_recorded_without_its_number(membership):
    payment = services.record_payment(membership, "50", PaymentMethod.CHEQUE, date(2026, 2, 1))
    assert payment.reference is None and payment.method is PaymentMethod.CHEQUE


def test_unpaid_deposited_cheque_is_refunded_by_transfer_as_the_refusal_says(organisation, membership):
    from sqlalchemy import select

    from backoffice.accounting.models import Account, JournalEntry, JournalLine
    from backoffice.extensions import db
    from backoffice.membership import deposits

    def balance(number):
        lines = db.session.scalars(select(JournalLine).join(JournalEntry).join(Account).where(
            JournalEntry.organisation_id == organisation.id, Account.number == number))
        return sum((l.debit - l.credit for l in lines), Decimal(0))

    cheque = services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0012345")
    deposits.create_cheque_deposit(organisation, [cheque.id], date(2026, 2, 3))
    with pytest.raises(MembershipError, match="remboursement par virement"):
        services.reverse_payment(cheque)
    services.refund(membership, "50", "transfer", date(2026, 2, 20), reference="Chèque 0012345 impayé")
    assert membership.status is S.AWAITING_PAYMENT and membership.balance == Decimal("50.00")
    assert (balance("5112"), balance("512"), member_balance(membership)) == (0, 0, Decimal("50.00"))


def test_cheque_deposit_slip_renders(organisation, membership, nurse, period):
    """The slip lists the selected cheques with the total in figures and in words."""
    from pathlib import Path

    from docx import Document

    from backoffice.documents.engine import DocumentTemplate
    from backoffice.membership import deposits

    other = services.create_membership(organisation, nurse, period)
    first = services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0012345",
                                    cheque_bank="Crédit Mutuel", payer_name="Dupont & Fils <SCM>")
    second = services.record_payment(other, "20", "cheque", date(2026, 2, 2), reference="7654321", cheque_bank="CIC")
    services.record_payment(other, "5", "cash")
    assert [c.id for c in services.undeposited_cheques(organisation)] == [first.id, second.id]
    deposit = deposits.create_cheque_deposit(organisation, [first.id, second.id], date(2026, 2, 3))
    assert (deposit.number, deposit.total, deposit.cheque_count) == (1, Decimal("70.00"), 2)
    assert services.undeposited_cheques(organisation) == []
    with pytest.raises(MembershipError, match="ne sont plus à remettre"):
        deposits.create_cheque_deposit(organisation, [first.id])
    with pytest.raises(MembershipError, match="remis en banque.*remboursement par virement") as refused:
        services.reverse_payment(first)
    assert "rejet" not in str(refused.value)  # no such operation

    template = Path(__file__).parents[2] / "templates" / "documents" / "cheque_deposit_slip.docx"
    data = DocumentTemplate.from_path(template).render({**deposits.deposit_context(organisation, deposit),
                                                        "logo": None})
    import io

    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert "soixante-dix euros" in text
    assert "0012345" in cells and "Dupont & Fils <SCM>" in cells and "7654321" in cells
    assert any("70,00" in c for c in cells)
