"""HelloAsso as a payment method: its money waits in 517 until HelloAsso's payout reaches the
bank; books set up before the method existed get its rule from migration 0021."""
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select

from backoffice.accounting import services
from backoffice.accounting.models import JournalLine, PaymentMethodRule
from backoffice.extensions import db
from tests.data_migrations import run_data_migration


def _rule(organisation):
    return db.session.scalar(select(PaymentMethodRule).where(
        PaymentMethodRule.organisation_id == organisation.id, PaymentMethodRule.method == "helloasso"))


def test_a_helloasso_payment_waits_in_517(books, post_fee):
    _, paid = post_fee("30.00", paid=True, method="helloasso")
    lines = {(l.account.number, l.debit, l.credit) for l in db.session.scalars(
        select(JournalLine).where(JournalLine.entry_id == paid.id))}
    assert lines == {("517", Decimal("30.00"), Decimal("0.00")), ("411", Decimal("0.00"), Decimal("30.00"))}
    assert paid.journal.code == "BQ"


def test_migration_gives_older_books_the_helloasso_rule(books, sisa, member):
    db.session.execute(delete(PaymentMethodRule).where(PaymentMethodRule.method == "helloasso"))
    db.session.expire_all()
    run_data_migration("helloasso_payment_method")  # twice: a second run adds nothing
    for organisation in (books, sisa):
        rule = _rule(organisation)
        assert (rule.account.number, rule.journal.code) == ("517", "BQ")
    services.post_event(books, "fee_paid", amount=Decimal("30.00"), entry_date=date(2026, 2, 3),
                        party=member, piece_ref="HA-1", label="HelloAsso", payment_method="helloasso")
