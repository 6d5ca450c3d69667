"""The budget prévisionnel: lines per account or group, their French refusals, actual vs budget;
the screens of the annual accounts and of the budget."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.accounting import budget
from backoffice.accounting.budget import BudgetLine
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.services import EntryLineSpec as L
from backoffice.extensions import db
from tests.accounting.annual_year import _entry

D = Decimal
BASE = "/o/cpts-test/accounting"


def _year_2026(org):
    _entry(org, date(2026, 3, 1), "ACI", "ACI CPTS", L("512", debit=D("40000.00")), L("745", credit=D("40000.00")),
           journal="BQ")
    _entry(org, date(2026, 3, 5), "HON", "Expert-comptable", L("6226", debit=D("1980.00")), L("512", credit=D("1980.00")),
           journal="BQ")
    _entry(org, date(2026, 4, 5), "LOY", "Loyer", L("6132", debit=D("5400.00")), L("512", credit=D("5400.00")),
           journal="BQ")
    _entry(org, date(2026, 5, 5), "AV", "Avoir loyer", L("512", debit=D("400.00")), L("6132", credit=D("400.00")),
           journal="BQ")
    _entry(org, date(2026, 6, 5), "MAIF", "Assurance", L("616", debit=D("612.35")), L("512", credit=D("612.35")),
           journal="BQ")
    _entry(org, date(2025, 6, 5), "MAIF-25", "Assurance 2025", L("616", debit=D("590.00")), L("512", credit=D("590.00")),
           journal="BQ")  # another year: not in 2026's actual


def test_actual_against_budget(books):
    _year_2026(books)
    budget.set_budget_line(books, 2026, "6226", D("1800.00"))
    budget.set_budget_line(books, 2026, "61", D("6000.00"), label="Services extérieurs")
    budget.set_budget_line(books, 2026, "74", D("45000.00"))
    report = budget.budget_report(books, 2026)
    charges = {row.prefix: row for row in report.charges.rows}
    assert charges["6226"].label == "Honoraires"  # the chart's label when none is given
    assert (charges["6226"].actual, charges["6226"].gap, charges["6226"].gap_percent) == (D("1980.00"), D("180.00"), D("10.0"))
    assert charges["6226"].gap_percent_text == "+10,0 %"
    # 61 = 6132 (5 400 − 400 credit note) + 616 (612,35) of 2026 only
    assert charges["61"].actual == D("5612.35") and charges["61"].gap == D("-387.65")
    assert charges["61"].gap_percent_text == "−6,5 %"
    assert "6" not in charges  # every charge of the year is budgeted: no « hors budget » row
    income = {row.prefix: row for row in report.income.rows}
    assert income["74"].actual == D("40000.00") and income["74"].gap == D("-5000.00")
    assert report.charges.total.budget == D("7800.00") and report.charges.total.actual == D("7592.35")
    assert report.result.budget == D("37200.00") and report.result.actual == D("32407.65")


def test_what_no_line_covers_is_shown_apart(books):
    _year_2026(books)
    budget.set_budget_line(books, 2026, "6226", D("1800.00"))
    report = budget.budget_report(books, 2026)
    rest = report.charges.rows[-1]
    assert (rest.prefix, rest.label, rest.budget, rest.actual) == ("6", "Autres, hors budget", None, D("5612.35"))
    assert rest.gap_percent is None and rest.gap_percent_text == "—"
    assert report.charges.total.actual == D("7592.35")


def test_setting_a_line_again_updates_it(books):
    budget.set_budget_line(books, 2026, "6226", D("1800.00"))
    line = budget.set_budget_line(books, 2026, " 6226 ", D("2000.00"), label="Expert-comptable")
    assert [(l.account_prefix, l.amount, l.label) for l in budget.budget_lines(books, 2026)] == [
        ("6226", D("2000.00"), "Expert-comptable")]
    assert line.amount == D("2000.00")
    budget.set_budget_line(books, 2027, "6226", D("2100.00"))  # another year, its own line
    assert db.session.scalar(select(func.count()).select_from(BudgetLine)) == 2


@pytest.mark.parametrize("account, message", [
    ("6999", "Le compte 6999 n'existe pas dans le plan comptable"),
    ("512", "ni une charge (classe 6) ni un produit (classe 7)"),
    ("62A", "n'est pas un numéro de compte"),
    ("", "Indiquez un compte ou un groupe"),
])
def test_refusals_in_french(books, account, message):
    with pytest.raises(AccountingError) as caught:
        budget.set_budget_line(books, 2026, account, D("100.00"))
    assert message in str(caught.value) and caught.value.field == "account"
    assert db.session.scalar(select(func.count()).select_from(BudgetLine)) == 0


@pytest.mark.parametrize("first, second", [("62", "6226"), ("6226", "62")])
def test_overlapping_lines_are_refused(books, first, second):
    budget.set_budget_line(books, 2026, first, D("100.00"))
    with pytest.raises(AccountingError, match="Le compte 6226 est déjà compris dans la ligne 62"):
        budget.set_budget_line(books, 2026, second, D("100.00"))


def test_a_negative_amount_is_refused(books):
    with pytest.raises(AccountingError, match="positif") as caught:
        budget.set_budget_line(books, 2026, "6226", D("-1.00"))
    assert caught.value.field == "amount"


def test_deleting_a_line_of_another_organisation_is_refused(books, other_organisation):
    from backoffice.accounting import services

    services.ensure_ledger(other_organisation)
    line = budget.set_budget_line(other_organisation, 2026, "6226", D("100.00"))
    with pytest.raises(AccountingError, match="n'existe plus"):
        budget.delete_budget_line(books, line.id)


# --- screens -----------------------------------------------------------------------------------

@pytest.fixture
def treasurer(login_as, books):
    return login_as("treasurer")


def test_budget_screen_takes_french_amounts(client, treasurer, books):
    _year_2026(books)
    response = client.post(BASE + "/budget?year=2026", data={"account": "6226", "amount": "1 800,00", "label": ""})
    assert response.status_code == 302
    line = db.session.scalar(select(BudgetLine))
    assert (line.account_prefix, line.amount, line.fiscal_year) == ("6226", D("1800.00"), 2026)
    page = client.get(BASE + "/budget?year=2026").get_data(as_text=True)
    assert "Honoraires" in page and "1\u202f800,00\xa0€" in page and "1\u202f980,00\xa0€" in page
    assert "+10,0 %" in page and "Autres, hors budget" in page


@pytest.mark.parametrize("data, message", [
    ({"account": "6999", "amount": "100"}, "Le compte 6999 n&#39;existe pas"),
    ({"account": "6226", "amount": "douze"}, "Montant"),
    ({"account": "6226", "amount": ""}, "Ce champ est obligatoire."),
])
def test_budget_screen_refusals(client, treasurer, data, message):
    response = client.post(BASE + "/budget?year=2026", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BudgetLine)) == 0


def test_budget_line_deleted_from_the_screen(client, treasurer, books):
    line = budget.set_budget_line(books, 2026, "6226", D("100.00"))
    db.session.commit()
    response = client.post(f"{BASE}/budget/{line.id}/delete?year=2026")
    assert response.status_code == 302 and "year=2026" in response.location
    assert db.session.scalar(select(func.count()).select_from(BudgetLine)) == 0


def test_board_reads_the_budget_without_the_form(client, login_as, books):
    budget.set_budget_line(books, 2026, "6226", D("100.00"))
    login_as("board")
    page = client.get(BASE + "/budget?year=2026").get_data(as_text=True)
    assert "Honoraires" in page and "Enregistrer la ligne" not in page and "Retirer" not in page


def test_annual_accounts_screen(client, treasurer, books):
    _year_2026(books)
    page = client.get(BASE + "/annual?year=2026").get_data(as_text=True)
    assert "Compte de résultat" in page and "Bilan au 31 décembre 2026" in page
    assert "Concours publics et subventions d&#39;exploitation" in page and "40\u202f000,00\xa0€" in page
    assert "Bilan équilibré" in page and "Excédent ou déficit de l&#39;exercice" in page
    assert "Préparer le fichier" in page


def test_annual_export_starts_a_task(client, treasurer, books):
    from backoffice.tasks.models import Task

    _year_2026(books)
    response = client.post(BASE + "/annual/export?year=2026", data={"year": "2026", "fmt": "xlsx"})
    assert response.status_code == 302 and "/tasks/" in response.location
    task = db.session.scalar(select(Task).where(Task.kind == "accounting.annual"))
    assert task.params == {"year": 2026, "format": "xlsx"}


def test_annual_accounts_screen_warns_when_the_an_is_missing(client, treasurer, books):
    _year_2026(books)  # 2025 has a balance-sheet balance (the 512 of its insurance) and 2026 no AN
    page = client.get(BASE + "/annual?year=2026").get_data(as_text=True)
    assert "Les à-nouveaux de l'exercice 2026 ne sont pas encore passés" in page
    from backoffice.accounting import opening

    opening.generate_opening(books, 2026)
    page = client.get(BASE + "/annual?year=2026").get_data(as_text=True)
    assert "ne sont pas encore passés" not in page and "Résultat en instance d&#39;affectation" in page


def test_the_accountant_reads_the_statements_and_may_export_but_not_budget(client, login_as, books):
    login_as("accountant")
    page = client.get(BASE + "/annual?year=2026").get_data(as_text=True)
    assert "Préparer le fichier" in page
    assert client.post(BASE + "/budget?year=2026", data={"account": "6226", "amount": "1"}).status_code == 403
