"""The files of the annual accounts, made by their job and opened again: the XLSX (openpyxl)
and the Word document (python-docx), the PDF when LibreOffice is there."""
from datetime import date
from decimal import Decimal

import pytest
from docx import Document
from openpyxl import load_workbook

from backoffice.accounting import annual, budget, opening
from backoffice.accounting.annual_files import sample_context
from backoffice.documents.engine.pdf import pdf_available
from tests.accounting.annual_year import post_year
from tests.tasks.conftest import start_and_commit

D = Decimal


@pytest.fixture
def cpts_books(books, db):
    from tests.factories import ProfessionalFactory, StructureFactory

    members = [ProfessionalFactory(first_name=f"Prénom{n}", last_name=f"Adhérent{n}") for n in range(4)]
    supplier = StructureFactory(name="Bureau Vallée Nantes")
    post_year(books, 2025, members, supplier, advance_payer=members[3])
    opening.generate_opening(books, 2026)
    post_year(books, 2026, members, supplier)
    budget.set_budget_line(books, 2026, "64", D("50000.00"), label="Salaires et charges")
    budget.set_budget_line(books, 2026, "6226", D("1800.00"))
    budget.set_budget_line(books, 2026, "74", D("62000.00"), label="Subventions")
    return books


def _run(org, user_factory, fmt):
    from backoffice.accounting.documents import ANNUAL_ACCOUNTS_KIND  # noqa: F401 - the kind is declared
    from jobs.accounting import annual_accounts_file

    task = start_and_commit(organisation=org, user=user_factory(), kind="accounting.annual",
                            label="Comptes annuels 2026", job=annual_accounts_file, params={"year": 2026, "format": fmt})
    assert task.status == "done", task.message
    return task


def test_the_workbook(cpts_books):
    from tests.factories import UserFactory

    task = _run(cpts_books, UserFactory, "xlsx")
    assert task.result_filename.endswith("comptes-annuels-cpts-test-2026.xlsx")
    workbook = load_workbook(task.result_abspath())
    assert workbook.sheetnames == ["Compte de résultat", "Bilan actif", "Bilan passif", "Budget 2026"]
    accounts = annual.annual_accounts(cpts_books, 2026)
    income = {row[0].value: row for row in workbook["Compte de résultat"].iter_rows(min_row=2)}
    assert [c.value for c in workbook["Compte de résultat"][1]] == ["Poste", "Type", "Exercice 2026", "Exercice 2025"]
    assert D(str(income["Cotisations"][2].value)) == accounts.lines["fees"].current
    assert D(str(income["Excédent ou déficit"][2].value)) == accounts.result.current
    assert D(str(income["Excédent ou déficit"][3].value)) == accounts.result.previous
    assert income["Cotisations"][2].number_format == "#,##0.00"
    assets = {row[0].value: row for row in workbook["Bilan actif"].iter_rows(min_row=2)}
    liabilities = {row[0].value: row for row in workbook["Bilan passif"].iter_rows(min_row=2)}
    total_assets, total_liabilities = assets["Total de l'actif"][4].value, liabilities["Total du passif"][2].value
    assert D(str(total_assets)) == D(str(total_liabilities)) == accounts.total_assets.current
    assert D(str(assets["Immobilisations corporelles"][2].value)) == D("2400.00")
    assert D(str(assets["Immobilisations corporelles"][3].value)) == D("960.00")
    assert D(str(liabilities["Fonds dédiés"][2].value)) == D("2000.00")
    assert D(str(liabilities["Fonds dédiés"][3].value)) == D("6000.00")
    rows = {row[0].value: row for row in workbook["Budget 2026"].iter_rows(min_row=2)}
    report = budget.budget_report(cpts_books, 2026)
    salaries = next(r for r in report.charges.rows if r.prefix == "64")
    assert [rows["64"][i].value for i in (1, 3)] == ["Salaires et charges", 50000]
    assert D(str(rows["64"][4].value)) == salaries.actual and D(str(rows["64"][5].value)) == salaries.gap
    assert D(str(rows["64"][6].value)) == salaries.gap_percent


def _text(document):
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
    return "\n".join(parts)


def test_the_word_document(cpts_books):
    from tests.factories import UserFactory

    task = _run(cpts_books, UserFactory, "docx")
    document = Document(task.result_abspath())
    text = _text(document)
    accounts = annual.annual_accounts(cpts_books, 2026)
    from backoffice.formatting import format_money

    assert "Comptes annuels de l'exercice 2026" in text and "Rapport financier de l'exercice 2026" in text
    income, liabilities = document.tables[0], document.tables[2]
    assert [c.text for c in income.rows[0].cells] == ["Poste", "Exercice 2026", "Exercice 2025"]
    fees = next(row for row in income.rows if row.cells[0].text == "Cotisations")
    assert fees.cells[1].text == format_money(accounts.lines["fees"].current)
    dedicated = next(row for row in liabilities.rows if row.cells[0].text == "Fonds dédiés")
    assert [c.text for c in dedicated.cells[1:]] == [format_money(D("2000.00")), format_money(D("6000.00"))]
    total = next(row for row in liabilities.rows if row.cells[0].text == "Total du passif")
    assert total.cells[1].text == format_money(accounts.total_assets.current)
    budget_table = document.tables[3]
    assert any(row.cells[0].text == "64" and row.cells[2].text == format_money(D("50000.00")) for row in budget_table.rows)
    # The rapport financier: computed sentences and placeholders for the treasurer.
    result = accounts.result.current
    assert f"L'exercice se solde par un {'excédent' if result >= 0 else 'déficit'} de {format_money(abs(result))}" in text
    assert "[À compléter : l'affectation proposée" in text and "[À compléter : nom du trésorier]" in text
    assert "{{" not in text and "{%" not in text


def test_the_treasurer_is_named(cpts_books):
    from backoffice.organisations.affiliations import Role, affiliate
    from tests.factories import ProfessionalFactory, UserFactory

    affiliate(ProfessionalFactory(first_name="Claire", last_name="Morvan"), cpts_books, Role.TREASURER,
              starts_on=date(2025, 6, 1))
    text = _text(Document(_run(cpts_books, UserFactory, "docx").result_abspath()))
    assert "Présenté par Claire MORVAN" in text


@pytest.mark.skipif(not pdf_available(), reason="LibreOffice is not installed")
def test_the_pdf(cpts_books):
    from tests.factories import UserFactory

    task = _run(cpts_books, UserFactory, "pdf")
    with open(task.result_abspath(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_an_unknown_format_fails_in_french(books):
    from jobs.accounting import annual_accounts_file
    from tests.factories import UserFactory

    task = start_and_commit(organisation=books, user=UserFactory(), kind="accounting.annual", label="x",
                            job=annual_accounts_file, params={"year": 2026, "format": "odt"})
    assert task.status == "failed" and task.message == "Format inconnu : odt."


def test_the_sample_context_renders_the_template(app):
    from backoffice.documents.kinds import document_kind

    kind = document_kind("annual_accounts")
    context = sample_context()
    assert set(context) | {"logo"} == kind.variables
    from backoffice.documents import engine

    data = engine.cached_template(kind.default_path).render({**context, "logo": None})
    assert "CPTS du Pays Blanc" in _text(Document(__import__("io").BytesIO(data)))
