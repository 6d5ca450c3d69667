"""The compte de résultat and the bilan (ANC 2018-06 presentation) against the trial balance, to
the cent, on a realistic CPTS year; the presentation table against both charts."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.accounting import annual, opening, reporting, rules
from backoffice.accounting.annual import LINE_BY_KEY, PLACEMENTS, SECTION_BY_KEY, placement
from tests.accounting.annual_year import post_year

D = Decimal


# --- the presentation table ------------------------------------------------------------------

@pytest.mark.parametrize("chart", sorted(rules.CHARTS))
def test_every_account_of_the_charts_falls_on_exactly_one_line(chart):
    for number, label, _ in rules.chart_rows(chart):
        if number[:1] not in "1234567":
            continue
        rule = placement(number)
        assert rule is not None, f"{number} {label} has no line"
        # Exactly one line: a longest prefix, never a one-digit catch-all for an account of our charts.
        assert len(rule.prefix) >= 2 or number[:1] in "3", f"{number} {label} falls on the catch-all of its class"
        matching = [p for p in PLACEMENTS if number.startswith(p)]
        assert rule.prefix == max(matching, key=len)
        for key in {rule.debit_line, rule.credit_line}:
            statement = SECTION_BY_KEY[LINE_BY_KEY[key].section].statement
            expected = {"6": {"expense"}, "7": {"income"}}.get(number[0], {"assets", "liabilities"})
            assert statement in expected, f"{number} goes to {key} ({statement})"
        if number[0] in "123":  # classes 1-3 never change side with the sign of their balance
            assert not rule.split


def test_placements_where_the_regulation_puts_them():
    cases = {"756": "fees", "7562": "fees", "741": "subsidies", "745": "subsidies", "7541": "generosity",
             "7894": "dedicated_funds_used", "6894": "dedicated_funds_set_aside", "194": "dedicated_funds",
             "6571": "grants_paid", "6411": "salaries", "6451": "social_charges", "6132": "external_charges",
             "616": "external_charges", "6226": "external_charges", "627": "external_charges",
             "6811": "depreciation", "6815": "provisions_charge", "768": "financial_income",
             "28154": "tangible_assets", "2154": "tangible_assets", "487": "deferred_income",
             "486": "prepaid_charges", "106": "reserves", "110": "retained_earnings", "120": "pending_result",
             "102": "funds_without_recovery", "101": "capital", "164": "bank_debts"}
    for number, line in cases.items():
        rule = placement(number)
        assert line in (rule.debit_line, rule.credit_line), number
    assert (placement("411").debit_line, placement("411").credit_line) == ("member_receivables", "other_debts")
    assert (placement("512").debit_line, placement("512").credit_line) == ("cash", "bank_debts")
    assert placement("99") is None and placement("") is None


def test_an_account_added_to_the_chart_still_has_its_line():
    assert placement("65999").debit_line == "other_charges"
    assert placement("7399").debit_line == "other_income"
    assert placement("6999").debit_line == "income_tax"
    assert placement("4799").debit_line == "other_receivables" and placement("4799").credit_line == "other_debts"


# --- a realistic year --------------------------------------------------------------------------

@pytest.fixture
def cpts_books(books, db):
    from tests.factories import ProfessionalFactory, StructureFactory

    members = [ProfessionalFactory(first_name=f"Prénom{n}", last_name=f"Adhérent{n}") for n in range(6)]
    supplier = StructureFactory(name="Bureau Vallée Nantes")
    post_year(books, 2025, members, supplier, advance_payer=members[3])
    opening.generate_opening(books, 2026)  # the AN of 2026: 2025's balances, its result to 120
    post_year(books, 2026, members, supplier)
    return books


def _trial(org, year):
    return reporting.trial_balance(org, *org.fiscal_year_bounds(year)).by_account()


def _sum(trial, prefixes, sign):
    return sum((sign * row.balance for number, row in trial.items() if number.startswith(prefixes)), D("0.00"))


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_income_statement_agrees_with_the_trial_balance(cpts_books, year):
    accounts = annual.annual_accounts(cpts_books, year)
    trial = _trial(cpts_books, year)
    income, expense = _sum(trial, "7", -1), _sum(trial, "6", 1)
    assert accounts.total_income.current == income
    assert accounts.total_expense.current == expense
    assert accounts.result.current == income - expense
    assert accounts.lines["year_result"].current == income - expense
    # Every line is its accounts of the trial balance, to the cent.
    for key, row in accounts.lines.items():
        section = SECTION_BY_KEY[LINE_BY_KEY[key].section]
        if section.statement in ("income", "expense"):
            numbers = [n for n in trial if n[0] in "67" and placement(n).debit_line == key]
            assert row.current == sum((section.sign * trial[n].balance for n in numbers), D("0.00")), key
            assert dict(row.accounts) == {n: section.sign * trial[n].balance for n in numbers if trial[n].balance}
    lines = accounts.lines
    assert lines["fees"].current == _sum(trial, "756", -1) > 0
    assert lines["subsidies"].current == _sum(trial, "74", -1) > 0
    assert lines["salaries"].current == _sum(trial, "641", 1) > 0
    assert lines["social_charges"].current == _sum(trial, "645", 1) > 0
    assert lines["grants_paid"].current == D("1500.00")
    assert lines["financial_income"].current == D("37.12")
    if year == 2025:
        assert lines["dedicated_funds_set_aside"].current == D("6000.00")
    else:
        assert lines["dedicated_funds_used"].current == D("4000.00")


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_bilan_balances_and_agrees_with_the_trial_balance(cpts_books, year):
    accounts = annual.annual_accounts(cpts_books, year)
    trial = _trial(cpts_books, year)
    assert accounts.is_balanced
    assert accounts.total_assets.current == accounts.total_liabilities.current > 0
    lines = accounts.lines
    # Lines whose accounts never change side: the trial balance's accounts, to the cent.
    assert lines["tangible_assets"].current == _sum(trial, ("2154", "28154"), 1) == D("2400.00") - (
        D("480.00") if year == 2025 else D("960.00"))
    assert lines["tangible_assets"].gross == D("2400.00")
    assert lines["tangible_assets"].depreciation == (D("480.00") if year == 2025 else D("960.00"))
    assert lines["dedicated_funds"].current == _sum(trial, "194", -1) == (D("6000.00") if year == 2025 else D("2000.00"))
    assert lines["cash"].current == _sum(trial, "512", 1) > 0
    assert lines["tax_social_debts"].current == _sum(trial, "431", -1) == D("1760.00") * (1 if year == 2025 else 2)
    assert lines["supplier_debts"].current == _sum(trial, ("401", "408"), -1)
    assert lines["other_receivables"].current == _sum(trial, "441", 1) == (D("5000.00") * (1 if year == 2025 else 2))
    # Member accounts per auxiliary account: the unpaid fee is a receivable, the fee paid in
    # advance a debt; together they are the 411 of the trial balance.
    receivable, debt = lines["member_receivables"].current, lines["other_debts"].current
    assert receivable - debt == _sum(trial, "411", 1)
    if year == 2025:
        assert (receivable, debt) == (D("30.00"), D("50.00"))
    # Before the closing the year's result is in the passif.
    assert lines["year_result"].current == accounts.result.current
    if year == 2026:
        # The AN carried 2025's result to 120, awaiting the AG's allocation.
        assert lines["pending_result"].current == annual.annual_accounts(cpts_books, 2025).result.current
        assert not accounts.opening_missing


def test_the_previous_year_is_beside(cpts_books):
    current = annual.annual_accounts(cpts_books, 2026)
    previous = annual.annual_accounts(cpts_books, 2025)
    for key, row in current.lines.items():
        assert row.previous == previous.lines[key].current, key
    assert current.result.previous == previous.result.current
    assert current.total_assets.previous == previous.total_assets.current
    assert current.is_balanced and previous.is_balanced


def test_closing_the_year_changes_no_figure(cpts_books):
    from backoffice.accounting.closing import close_fiscal_year

    before = annual.annual_accounts(cpts_books, 2025)
    close_fiscal_year(cpts_books, 2025)
    after = annual.annual_accounts(cpts_books, 2025)
    assert {key: (row.current, row.previous) for key, row in after.lines.items()} == \
        {key: (row.current, row.previous) for key, row in before.lines.items()} and after.is_balanced
    # The same debt, on its own account: the members in credit on 411 are reclassified to 419.
    owed = dict(before.lines["other_debts"].accounts)
    assert owed.get("411") and dict(after.lines["other_debts"].accounts) == {
        **{number: amount for number, amount in owed.items() if number != "411"}, "419": owed["411"]}
    # The definitive AN carries the same balances: 2026 still balances, 2025's result pending.
    assert annual.annual_accounts(cpts_books, 2026).lines["pending_result"].current == before.result.current


def test_a_year_without_its_opening_entry_is_flagged(books, member):
    from tests.accounting.annual_year import _entry
    from backoffice.accounting.services import EntryLineSpec as L

    _entry(books, date(2025, 3, 1), "S-1", "Subvention", L("512", debit=D("100.00")), L("741", credit=D("100.00")),
           journal="BQ")
    _entry(books, date(2026, 3, 1), "S-2", "Subvention", L("512", debit=D("50.00")), L("741", credit=D("50.00")),
           journal="BQ")
    accounts = annual.annual_accounts(books, 2026)
    assert accounts.opening_missing and accounts.is_balanced
    assert not annual.annual_accounts(books, 2025).opening_missing  # 2024 had nothing to carry


def test_an_overdraft_is_a_bank_debt(books):
    from tests.accounting.annual_year import _entry
    from backoffice.accounting.services import EntryLineSpec as L

    _entry(books, date(2026, 3, 1), "LOY", "Loyer", L("6132", debit=D("450.00")), L("512", credit=D("450.00")),
           journal="BQ")
    accounts = annual.annual_accounts(books, 2026)
    assert accounts.lines["bank_debts"].current == D("450.00") and accounts.lines["cash"].current == 0
    assert accounts.lines["year_result"].current == D("-450.00") and accounts.is_balanced


def test_an_empty_year(books):
    accounts = annual.annual_accounts(books, 2026)
    assert accounts.is_balanced and accounts.result.current == 0 and not accounts.opening_missing
    assert [row.key for block in accounts.liabilities for row in block.rows] == ["year_result"]


def test_a_sisa_on_the_general_chart(sisa, db):
    from tests.accounting.annual_year import _entry
    from tests.factories import ProfessionalFactory
    from backoffice.accounting.services import EntryLineSpec as L

    associate = ProfessionalFactory(first_name="Hélène", last_name="Brochard")
    _entry(sisa, date(2026, 1, 1), "AN-2026", "À-nouveaux", L("512", debit=D("1500.00")), L("101", credit=D("1500.00")),
           journal="AN")
    _entry(sisa, date(2026, 4, 1), "ACI", "ACI 2025 solde", L("512", debit=D("88432.00")), L("7061", credit=D("88432.00")),
           journal="BQ")
    _entry(sisa, date(2026, 5, 12), "REP", "Répartition", L("62261", debit=D("80000.00")),
           L("4551", credit=D("80000.00"), party=associate))
    accounts = annual.annual_accounts(sisa, 2026)
    assert accounts.lines["sales"].current == D("88432.00")
    assert accounts.lines["capital"].current == D("1500.00")
    assert accounts.lines["other_financial_debts"].current == D("80000.00")  # associates' current accounts
    assert accounts.is_balanced and accounts.result.current == D("8432.00")


def test_two_grouped_queries_per_statement(cpts_books, count_queries):
    with count_queries() as queries:
        annual.annual_accounts(cpts_books, 2026)
    grouped = [s for s in queries.statements if "GROUP BY" in s.upper()]
    assert len(grouped) == 2  # one per year
    assert queries.count <= 4  # and the chart's numbers, the look for the AN entry
