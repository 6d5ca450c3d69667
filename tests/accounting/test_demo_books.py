"""The demo's books: every fiscal year's FEC of the CPTS and of the SISA is written (the writer
checks the sequence, balances and dates) and reads back with the trial balance's totals, and
every operation is in the fiscal year it belongs to (cut-off)."""
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice import demo
from backoffice.accounting import exporting, reporting
from backoffice.accounting import services as accounting
from backoffice.accounting.models import JournalEntry
from backoffice.extensions import db
from backoffice.membership.models import Membership, MembershipPayment, MembershipPeriod
from backoffice.organisations.models import Organisation
from tests.accounting.fec_reader import read_fec

ZERO = Decimal("0.00")




@pytest.fixture
def territory(monkeypatch):
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    return {o.slug: o for o in db.session.scalars(select(Organisation))}


def _years(organisation):
    return sorted(set(db.session.scalars(select(JournalEntry.fiscal_year).distinct().where(
        JournalEntry.organisation_id == organisation.id))))


def test_every_year_of_the_demo_books_exports_a_fec_that_matches_its_trial_balance(territory, tmp_path):
    for slug in ("cpts-pays-blanc", "sisa-pays-de-mayenne"):
        organisation = territory[slug]
        years = _years(organisation)
        assert years, slug
        for year in years:
            path = tmp_path / f"{slug}-{year}.txt"
            exporting.export_to_path(organisation, year, "fec", path)
            frame = read_fec(path)
            totals = defaultdict(lambda: [ZERO, ZERO])
            for number, debit, credit in zip(frame["CompteNum"], frame["Debit"], frame["Credit"]):
                totals[number][0] += debit
                totals[number][1] += credit
            start, end = organisation.fiscal_year_bounds(year)
            trial = reporting.trial_balance(organisation, start, end)
            assert {row.account_number: [row.debit, row.credit] for row in trial.rows} == dict(totals), (slug, year)
            assert trial.is_balanced


def _fees(organisation, year):
    period = db.session.scalar(select(MembershipPeriod).where(MembershipPeriod.organisation_id == organisation.id,
                                                              MembershipPeriod.year == year))
    return [db.session.get(JournalEntry, m.fee_due_entry_id) for m in db.session.scalars(
        select(Membership).where(Membership.period_id == period.id, Membership.fee_due_entry_id.is_not(None)))]


def test_the_demo_operations_are_in_the_fiscal_year_they_belong_to(territory):
    cpts = territory["cpts-pays-blanc"]
    for year in (2024, 2025, 2026, 2027):
        fees = _fees(cpts, year)
        assert fees and {entry.fiscal_year for entry in fees} == {year}
    # Most 2026 members joined in December 2025: their fees are dated 1 January 2026.
    assert min(entry.entry_date for entry in _fees(cpts, 2026)) == date(2026, 1, 1)
    income = reporting.trial_balance(cpts, date(2026, 1, 1), date(2026, 12, 31)).by_account()["756"]
    reversed_fees = sum((entry.total for entry in _fees(cpts, 2026) if accounting.reversal_of(entry)), ZERO)
    assert -income.balance == sum((entry.total for entry in _fees(cpts, 2026)), ZERO) - reversed_fees
    # The 2027 renewals paid in November 2026: credits on the members' accounts at the end of 2026.
    paid_2027 = sum(db.session.scalars(select(MembershipPayment.amount)
        .join(Membership, MembershipPayment.membership_id == Membership.id).join(MembershipPeriod).where(
        MembershipPeriod.organisation_id == cpts.id, MembershipPeriod.year == 2027)), ZERO)
    assert paid_2027 > 0
    advances = accounting.advances_received(cpts, "411", date(2026, 12, 31))
    assert sum((amount for _, amount in advances), ZERO) >= paid_2027
    # The SISA's ACI balance of 2025, received in April 2026, is income of 2025 (4687 at its end).
    sisa = territory["sisa-pays-de-mayenne"]
    year_2025 = reporting.trial_balance(sisa, date(2025, 1, 1), date(2025, 12, 31)).by_account()
    year_2026 = reporting.trial_balance(sisa, date(2026, 1, 1), date(2026, 12, 31)).by_account()
    assert "7061" not in year_2026 or year_2026["7061"].credit == ZERO
    assert year_2025["4687"].balance == -year_2026["4687"].balance > 0
