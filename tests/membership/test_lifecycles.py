"""The status machines of membership and banking: memberships, payments, direct-debit runs,
receipts, HelloAsso checkouts, unmatched online payments, bank statement lines.

Every allowed move is made and recorded (status_changes), every forbidden one is refused with a
French message, and no status of a saved row is written directly.
"""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import update

from backoffice.extensions import db
from backoffice.lifecycle import DirectStatusWrite, LifecycleError, all_transitions, forbidden_transitions, history, move
from backoffice.banking import services as banking
from backoffice.banking.errors import BankingError
from backoffice.banking.models import LINE_LIFECYCLE, BankStatement, BankStatementLine, LineStatus
from backoffice.member_portal.models import (CHECKOUT_LIFECYCLE, RECEIPT_LIFECYCLE, UNMATCHED_LIFECYCLE,
                                             CheckoutStatus, HelloAssoCheckout, ReceiptStatus, UnmatchedPayment,
                                             UnmatchedStatus)
from backoffice.membership import receipts, sepa, services
from backoffice.membership.models import (DIRECT_DEBIT_RUN_LIFECYCLE, MEMBERSHIP_LIFECYCLE, PAYMENT_LIFECYCLE,
                                          DirectDebitRun, DirectDebitRunStatus, MembershipStatus, PaymentMethod,
                                          PaymentStatus)
from backoffice.membership.services import MembershipError
from tests.factories import UserFactory


def _in_status(obj, status):
    """``obj`` as another process left it: ``status`` committed (the guard is for this process)."""
    model = type(obj)
    db.session.execute(update(model).where(model.id == obj.id).values(status=status)
                       .execution_options(synchronize_session=False))
    db.session.refresh(obj)
    return obj


@pytest.fixture
def subjects(organisation, membership):
    """A subject of each machine, made the ordinary way."""
    payment = services.record_payment(membership, Decimal("20.00"), PaymentMethod.DIRECT_DEBIT,
                                      date(2026, 3, 5), reference="RUM-CPTS-0001", source="direct_debit",
                                      pending=True)
    run = DirectDebitRun(organisation_id=organisation.id, collection_date=date(2026, 3, 5),
                         status=DirectDebitRunStatus.DRAFT, message_id="MAILLAGE-TEST", total=Decimal("20.00"),
                         payment_count=1)
    db.session.add(run)
    db.session.flush()
    receipt = receipts.ensure_receipt(membership, mail_wanted=False)
    checkout = HelloAssoCheckout(organisation_id=organisation.id, membership_id=membership.id, checkout_intent_id=4217,
                                 amount=Decimal("50.00"), redirect_url="https://www.helloasso.com/checkout/4217",
                                 status=CheckoutStatus.CREATED)
    unmatched = UnmatchedPayment(organisation_id=organisation.id, external_id="98765", amount=Decimal("30.00"),
                                 paid_on=date(2026, 3, 2), payer_name="Loïc D'Arvor", status=UnmatchedStatus.OPEN)
    db.session.add_all([checkout, unmatched])
    return {MEMBERSHIP_LIFECYCLE: membership, PAYMENT_LIFECYCLE: payment, DIRECT_DEBIT_RUN_LIFECYCLE: run,
            RECEIPT_LIFECYCLE: receipt, CHECKOUT_LIFECYCLE: checkout, UNMATCHED_LIFECYCLE: unmatched,
            LINE_LIFECYCLE: _bank_line(organisation, "VIR SEPA LE FLOCH ANNE COTIS 2026", "50.00")}


def _bank_line(organisation, label, amount):
    account = banking.default_account(organisation)
    statement = BankStatement(organisation_id=organisation.id, bank_account_id=account.id, filename="mars.csv",
                              file_format="csv", line_count=1)
    db.session.add(statement)
    db.session.flush()
    line = BankStatementLine(organisation_id=organisation.id, bank_account_id=account.id, statement_id=statement.id,
                             booked_on=date(2026, 3, 4), amount=Decimal(amount), label=label,
                             fingerprint=f"test-{label}", status=LineStatus.UNMATCHED)
    db.session.add(line)
    db.session.flush()
    return line


MACHINES = {"adhésion": (MEMBERSHIP_LIFECYCLE, "l'adhésion"), "paiement": (PAYMENT_LIFECYCLE, "le paiement"),
            "prélèvement": (DIRECT_DEBIT_RUN_LIFECYCLE, "le prélèvement"),
            "attestation": (RECEIPT_LIFECYCLE, "l'attestation"),
            "helloasso": (CHECKOUT_LIFECYCLE, "le paiement en ligne"),
            "non-rapproché": (UNMATCHED_LIFECYCLE, "le paiement non rapproché"),
            "ligne-bancaire": (LINE_LIFECYCLE, "l'opération")}
# The error each machine raises, so that its feature's views catch it with their own errors.
ERRORS = {MEMBERSHIP_LIFECYCLE: MembershipError, PAYMENT_LIFECYCLE: MembershipError,
          DIRECT_DEBIT_RUN_LIFECYCLE: MembershipError, LINE_LIFECYCLE: BankingError}


def _cases(pairs_of):
    return [pytest.param(machine, source, target, id=f"{name}:{source.value}->{target.value}")
            for name, (machine, _) in MACHINES.items() for source, target in pairs_of(machine)]


@pytest.mark.parametrize("machine, source, target", _cases(all_transitions))
def test_every_allowed_move_is_made_and_recorded(subjects, machine, source, target):
    obj = _in_status(subjects[machine], source)
    user = UserFactory(full_name="Hélène Trésorière")
    move(obj, target, by=user, reason="Décision du bureau du 12 mars")
    db.session.flush()
    assert obj.status is target
    change = history(obj)[-1]
    assert (change.from_status, change.to_status, change.changed_by_id, change.reason) == (
        source.value, target.value, user.id, "Décision du bureau du 12 mars")
    assert change.organisation_id == obj.organisation_id


@pytest.mark.parametrize("machine, source, target", _cases(forbidden_transitions))
def test_every_forbidden_move_is_refused_in_french(subjects, machine, source, target):
    obj = _in_status(subjects[machine], source)
    before = len(history(obj))
    noun = dict(MACHINES.values())[machine]
    with pytest.raises(ERRORS.get(machine, LifecycleError)) as refused:
        move(obj, target, reason="Essai")
    assert str(refused.value) == f"Impossible de passer {noun} de « {source.label} » à « {target.label} »."
    assert obj.status is source and len(history(obj)) == before


@pytest.mark.parametrize("machine", [m for m, _ in MACHINES.values()], ids=list(MACHINES))
def test_a_saved_status_is_never_written_directly(subjects, machine):
    obj = subjects[machine]
    other = next(s for s in machine.states if s is not obj.status)
    with pytest.raises(DirectStatusWrite):
        obj.status = other


def test_the_tables_are_the_documented_ones():
    S, P, R, RS = MembershipStatus, PaymentStatus, DirectDebitRunStatus, ReceiptStatus
    assert set(all_transitions(PAYMENT_LIFECYCLE)) == {(P.PENDING, P.CONFIRMED), (P.PENDING, P.FAILED)}
    assert set(all_transitions(DIRECT_DEBIT_RUN_LIFECYCLE)) == {(R.DRAFT, R.GENERATED), (R.GENERATED, R.COLLECTED)}
    assert set(all_transitions(RECEIPT_LIFECYCLE)) == {(a, b) for a in RS for b in RS if a is not b}
    assert MEMBERSHIP_LIFECYCLE.transitions[S.CANCELLED] == {S.AWAITING_PAYMENT}
    assert set(all_transitions(UNMATCHED_LIFECYCLE)) == {(UnmatchedStatus.OPEN, UnmatchedStatus.RESOLVED),
                                                         (UnmatchedStatus.OPEN, UnmatchedStatus.DISMISSED)}
    assert (LineStatus.IGNORED, LineStatus.UNMATCHED) in forbidden_transitions(LINE_LIFECYCLE)


# --- the services move through the machines ------------------------------------------------

def test_exempting_and_cancelling_record_who_and_why(membership):
    services.exempt_membership(membership, "Membre d'honneur")
    services.lift_exemption(membership)
    services.cancel_membership(membership, "Départ à la retraite")
    services.reinstate_membership(membership)
    assert [(c.from_status, c.to_status, c.reason) for c in history(membership)] == [
        ("awaiting_payment", "exempt", "Membre d'honneur"), ("exempt", "awaiting_payment", None),
        ("awaiting_payment", "cancelled", "Départ à la retraite"), ("cancelled", "awaiting_payment", None)]
    assert {c.changed_by_id for c in history(membership)} == {None}  # nobody signed in: the system


def test_payments_move_the_membership_and_are_recorded(membership):
    services.record_payment(membership, Decimal("30.00"), PaymentMethod.CHEQUE, date(2026, 2, 1), reference="1234567")
    services.record_payment(membership, Decimal("20.00"), PaymentMethod.TRANSFER, date(2026, 2, 3))
    assert [(c.from_status, c.to_status) for c in history(membership)] == [
        ("awaiting_payment", "partially_paid"), ("partially_paid", "paid")]
    pending = services.record_payment(membership, Decimal("5.00"), PaymentMethod.DIRECT_DEBIT, date(2026, 3, 1),
                                      pending=True)
    services.fail_payment(pending, "Provision insuffisante")
    assert [(c.from_status, c.to_status, c.reason) for c in history(pending)] == [
        ("pending", "failed", "Provision insuffisante")]
    with pytest.raises(MembershipError, match="n'est pas en attente"):
        services.confirm_payment(pending)


def test_a_direct_debit_run_moves_through_generated_and_collected(organisation, membership, monkeypatch):
    run = DirectDebitRun(organisation_id=organisation.id, collection_date=date(2026, 3, 5),
                         status=DirectDebitRunStatus.DRAFT, message_id="MAILLAGE-TEST", total=Decimal("50.00"),
                         payment_count=0)
    db.session.add(run)
    db.session.flush()
    monkeypatch.setattr(sepa, "build_pain008", lambda run: b"<Document/>")
    sepa.generate_file(run)
    sepa.generate_file(run)  # built again: still generated, one move
    sepa.collect_run(run, on=date(2026, 3, 6))
    assert [(c.from_status, c.to_status) for c in history(run)] == [("draft", "generated"), ("generated", "collected")]
    assert run.collected_on == date(2026, 3, 6)
    with pytest.raises(MembershipError, match="déjà encaissé"):
        sepa.generate_file(run)


def test_a_receipt_asked_for_again_moves_back_to_pending(membership):
    receipt = receipts.ensure_receipt(membership, mail_wanted=False)
    receipts.ensure_receipt(membership, mail_wanted=False)  # asked twice: still pending, no move
    assert receipt.status is ReceiptStatus.PENDING and history(receipt) == []
    with pytest.raises(MembershipError, match="n'est plus payée"):
        receipts.generate(receipt)  # not paid
    assert [(c.from_status, c.to_status) for c in history(receipt)] == [("pending", "failed")]
    receipts.ensure_receipt(membership, mail_wanted=False)
    assert receipt.status is ReceiptStatus.PENDING


def test_matching_a_bank_line_moves_it_and_undoing_brings_it_back(organisation):
    line = _bank_line(organisation, "VIR SEPA DUPONT JEAN", "30.00")
    banking.suggest(line, "memberships", 12, "reference")
    banking.suggest(line, "memberships", 13, "name")  # another suggestion: still suggested, one move
    first = banking.match_line(line, "membership_payments", 7, amount=Decimal("10.00"))
    assert line.status is LineStatus.SUGGESTED  # 20,00 € left
    second = banking.match_line(line, "membership_payments", 8)
    banking.unmatch(second)
    banking.unmatch(first)
    banking.clear_suggestion(line)
    banking.ignore_line(line)
    assert [(c.from_status, c.to_status) for c in history(line)] == [
        ("unmatched", "suggested"), ("suggested", "matched"), ("matched", "suggested"), ("suggested", "unmatched"),
        ("unmatched", "ignored")]


def test_dismissing_an_unmatched_payment_records_who(organisation, subjects):
    from backoffice.membership import helloasso

    user = UserFactory(full_name="Hélène Trésorière")
    unmatched = subjects[UNMATCHED_LIFECYCLE]
    helloasso.dismiss_unmatched(unmatched, user=user)
    assert [(c.to_status, c.changed_by_id) for c in history(unmatched)] == [("dismissed", user.id)]
    with pytest.raises(MembershipError, match="déjà été traité"):
        helloasso.dismiss_unmatched(unmatched, user=user)
