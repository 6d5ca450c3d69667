"""The demo's books: every fiscal year's FEC of the CPTS and of the SISA is written (the writer
checks the sequence, balances and dates; definitive for the closed years) and reads back with the
trial balance's totals, every operation is in the fiscal year it belongs to (cut-off), and 2024
and 2025 are closed with opening balances equal to their closing balances and their result
allocated, 2026 open; a second seed changes nothing."""
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

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
    # 2025 is closed: 2026 opens with 4687 carried by the AN, then the money received clears it.
    assert year_2025["4687"].balance == year_2026["4687"].credit > 0 and year_2026["4687"].balance == ZERO


def _closing_balances_by_account(organisation, year):
    """What the year's posted entries leave on each balance-sheet account and auxiliary account,
    and its result (income minus expenses), summed here from the lines themselves."""
    from backoffice.accounting.models import Account, JournalLine

    balances, result = defaultdict(lambda: ZERO), ZERO
    for number, aux_id, debit, credit in db.session.execute(
            select(Account.number, JournalLine.auxiliary_id, JournalLine.debit, JournalLine.credit)
            .join(JournalEntry, JournalLine.entry_id == JournalEntry.id).join(Account, JournalLine.account_id == Account.id)
            .where(JournalEntry.organisation_id == organisation.id, JournalEntry.fiscal_year == year,
                   JournalEntry.status == "posted")):
        if number[0] in "12345":
            balances[(number, aux_id)] += debit - credit
        else:
            result += credit - debit
    return {key: amount for key, amount in balances.items() if amount}, result


def _counts():
    from backoffice.accounting.models import ClosedPeriod, JournalLine

    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (JournalEntry, JournalLine, ClosedPeriod))


def test_the_demo_has_two_closed_years_whose_closing_balances_are_the_next_years_opening(territory):
    from backoffice.accounting import closing, opening

    for slug in ("cpts-pays-blanc", "sisa-pays-de-mayenne"):
        organisation = territory[slug]
        assert [y for y in (2024, 2025, 2026) if closing.is_year_closed(organisation, y)] == [2024, 2025], slug
        for year in (2024, 2025):
            status = opening.opening_status(organisation, year + 1)
            assert status.definitive, (slug, year)
            balances, result = _closing_balances_by_account(organisation, year)
            an = defaultdict(lambda: ZERO)
            for line in status.entry.lines:
                an[(line.account.number, line.auxiliary_id)] += line.debit - line.credit
            carried = dict(balances)
            carried[("120" if result > 0 else "129", None)] = carried.get(("120" if result > 0 else "129", None),
                                                                          ZERO) - result
            assert dict(an) == {key: amount for key, amount in carried.items() if amount}, (slug, year)
            assert status.result == result != ZERO
            # The AG of the next June allocated it, to the cent.
            allocation = opening.current_allocation(organisation, year)
            assert allocation is not None and allocation.fiscal_year == year + 1
            assert allocation.total == abs(result)
    cpts = territory["cpts-pays-blanc"]
    an_2026 = opening.current_opening(cpts, 2026)
    carried = defaultdict(lambda: ZERO)
    for line in an_2026.lines:
        carried[line.account.number] += line.debit - line.credit
    # What 2025 leaves to 2026: the FIR not spent (fonds dédiés), the accountant's accrual, the
    # ACI balance to receive, December's URSSAF, the last quarter's mission indemnities (one AN
    # line per professional), the members' 2026 fees paid in advance.
    assert carried["194"] == Decimal("-8200.00") and carried["408"] == Decimal("-1440.00")
    assert carried["4687"] == Decimal("15900.00") and carried["431"] < 0 and carried["467"] < 0
    assert len([line for line in an_2026.lines if line.account.number == "467"]) == 3
    year_2025 = reporting.trial_balance(cpts, date(2025, 1, 1), date(2025, 12, 31)).by_account()
    for number in ("6411", "6451", "6132", "616", "627", "6226", "6256", "6571", "6894", "7894", "706", "741", "756"):
        assert year_2025[number].debit or year_2025[number].credit, number

    before = _counts()
    demo.seed()  # a second seed posts nothing, into the closed years or elsewhere
    assert _counts() == before


def _lines_of(organisation, year, number, exclude=()):
    """(entry, line) of account ``number`` in the fiscal year ``year``, AN left out."""
    from backoffice.accounting.models import Account, JournalLine

    return [(line.entry, line) for line in db.session.scalars(
        select(JournalLine).join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(Account, JournalLine.account_id == Account.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.fiscal_year == year,
               Account.number == number, JournalEntry.id.not_in([e.id for e in exclude if e is not None]))
        .order_by(JournalLine.id))]


def test_the_sisas_2025_books_hold_its_own_aci_and_its_validated_distribution_once(territory):
    """One source of each fact: the SISA's demo records 2025's ACI and distribution through its
    services; the accounting demo posts neither a second balance nor a second set of shares,
    nor the software and accountant its deductions already charge."""
    from backoffice.accounting import opening
    from backoffice.sisa import services as sisa_services

    sisa = territory["sisa-pays-de-mayenne"]
    an_2025, an_2026 = opening.current_opening(sisa, 2025), opening.current_opening(sisa, 2026)
    received = sisa_services.income(sisa, 2025)
    aci = [row for row in received if row.kind in ("advance", "balance")]
    (balance,) = [row for row in aci if row.kind == "balance"]
    assert balance.received_on == date(2026, 4, 20) and balance.amount == Decimal("47040.00")
    # 7061 of 2025 is the SISA's recorded ACI, line for line: the advance and one balance.
    credits = sorted(line.credit - line.debit for _, line in _lines_of(sisa, 2025, "7061"))
    assert credits == sorted(row.amount for row in aci)
    year_2025 = reporting.trial_balance(sisa, date(2025, 1, 1), date(2025, 12, 31)).by_account()
    assert -year_2025["7061"].balance - year_2025["741"].balance == sisa_services.total_income(sisa, 2025)
    # The balance received in 2026 is income of 2025: D 4687 / C 7061 on 31/12/2025, once.
    accrued = [(entry, line) for entry, line in _lines_of(sisa, 2025, "4687", exclude=[an_2025]) if line.debit]
    assert [(entry.entry_date, line.debit) for entry, line in accrued] == [(date(2025, 12, 31), balance.amount)]
    assert {line.account.number: line.credit for line in accrued[0][0].lines if line.credit} == {"7061": balance.amount}
    cleared = _lines_of(sisa, 2026, "4687", exclude=[an_2026])
    assert [(entry.entry_date, line.credit) for entry, line in cleared] == [(balance.received_on, balance.amount)]
    # One set of shares, the validated version's: what 4551 owes each associate at the end of
    # 2025 (2024's, carried by the AN, were paid in June 2025) is his amount in version 2, and
    # the charge is its distributable amount.
    second, first = sisa_services.distributions(sisa, 2025)
    owed = defaultdict(lambda: ZERO)
    for _, line in _lines_of(sisa, 2025, "4551"):
        owed[line.auxiliary.party_id] += line.credit - line.debit
    assert {pid: amount for pid, amount in owed.items() if amount} == {
        share.party_id: share.amount for share in second.shares if share.amount}
    assert set(db.session.scalars(select(JournalEntry.id).where(
        JournalEntry.organisation_id == sisa.id, JournalEntry.fiscal_year == 2025,
        JournalEntry.event == "sisa_distribution"))) == {first.entry_id, second.entry_id}
    assert year_2025["62261"].balance == second.distributable
    # The software and the accountant of 2025 are charged once, by the deductions (D / C 408),
    # and their invoices paid in 2026 clear 408.
    posted = {d.kind: d.posted_amount for d in sisa_services.deductions(sisa, 2025) if d.entry_id}
    assert year_2025["651"].debit == posted["software"]
    assert year_2025["6226"].debit == posted["coordinator"] + posted["accountant"]
    year_2026 = reporting.trial_balance(sisa, date(2026, 1, 1), date(2026, 12, 31)).by_account()
    assert year_2025["408"].balance == -sum(posted.values()) and year_2026["408"].balance == ZERO
