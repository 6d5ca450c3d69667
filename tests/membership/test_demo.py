"""The demo memberships of the CPTS du Pays Blanc: realistic figures, posted, idempotent."""
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice import demo
from backoffice.extensions import db
from backoffice.membership import demo as membership_demo
from backoffice.membership import stats
from backoffice.banking.models import BankStatementLine
from backoffice.membership.models import Membership, MembershipPayment, MembershipPeriod, MembershipStatus as S
from backoffice.organisations.models import Organisation
from backoffice.people import demo as people_demo


@pytest.fixture
def pays_blanc(monkeypatch):
    monkeypatch.setattr(demo, "_steps", lambda: [people_demo.step, membership_demo.step])
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    return db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-pays-blanc"))


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Membership, MembershipPayment, BankStatementLine))


def test_demo_figures_and_idempotence(pays_blanc):
    before = _counts()
    demo.seed()
    assert _counts() == before
    by_year = dict(db.session.execute(select(MembershipPeriod.year, func.count()).join(Membership.period)
                                      .group_by(MembershipPeriod.year)).all())
    assert by_year == {2024: 55, 2025: 74, 2026: 85, 2027: 12}
    period = db.session.scalar(select(MembershipPeriod).where(MembershipPeriod.year == 2026))
    statuses = Counter(db.session.scalars(select(Membership.status).where(Membership.period_id == period.id)))
    assert statuses == {S.PAID: 71, S.AWAITING_PAYMENT: 9, S.PARTIALLY_PAID: 4, S.EXEMPT: 1}
    assert db.session.scalar(select(func.sum(Membership.credit))) == Decimal("20.00")
    assert stats.lapsed_count(pays_blanc, period) == 4
    # Every confirmed payment is in the books.
    assert db.session.scalar(select(func.count()).select_from(MembershipPayment)
                             .where(MembershipPayment.accounting_entry_id.is_(None))) == 0
    assert {l.status.value for l in db.session.scalars(select(BankStatementLine))} == {"suggested", "unmatched"}


def test_every_demo_bank_account_has_a_valid_iban(pays_blanc):
    from schwifty import IBAN

    from backoffice.banking.models import BankAccount

    accounts = db.session.scalars(select(BankAccount).where(BankAccount.iban.is_not(None))).all()
    assert len(accounts) >= 2  # the CPTS's and the SISA's at least
    for account in accounts:
        IBAN(account.iban)  # raises on a wrong checksum or length
