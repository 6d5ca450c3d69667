"""The member list export (jobs/membership.py ``export_members``, run inline in tests): a CSV in
French conventions and an XLSX with real numbers and dates, for the list's filters."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.extensions import db as _db
from backoffice.membership import services
from backoffice.membership.deposits import EXPORT_HEADER

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


@pytest.fixture
def members(organisation, period, colleges, membership, physician):
    """Anne (physician, 50 € due, 30 € paid: partially paid) and a pharmacy (1 234,50 € due,
    1 240 € paid: 5,50 € of credit), both of 2026; a 2025 membership that the export leaves out."""
    from tests.factories import ProfessionalFactory, StructureFactory

    membership.college = colleges[0]
    services.record_payment(membership, "30,00", "transfer", date(2026, 2, 3))
    pharmacy = StructureFactory(name="SELAS Pharmacie des Marais", email="pharmacie@example.org")
    structure = services.create_membership(organisation, pharmacy, period, amount_due=Decimal("1234.50"),
                                           college=colleges[1], joined_on=date(2026, 1, 31),
                                           category=next(c for c in period.categories if c.label == "Structure"))
    services.record_payment(structure, "1240", "cheque", date(2026, 3, 15), reference="7654321")
    earlier = services.ensure_grid(services.period_for_year(organisation, 2025), previous=period)
    services.create_membership(organisation, ProfessionalFactory(), earlier, joined_on=date(2025, 3, 1))
    return membership, structure


def export(client, **data):
    from backoffice.tasks.models import Task

    response = client.post("/o/cpts-test/membership/export", data=data)
    assert response.status_code == 302
    task = _db.session.scalar(select(Task).where(Task.kind == "membership.export").order_by(Task.id.desc()))
    assert task.status.value == "done", task.message
    return task


def test_csv_in_french_conventions(client, treasurer, members, physician):
    anne, pharmacy = members
    task = export(client, file_format="csv")
    assert task.result_filename == "adherents-cpts-test.csv"
    content = task.result_abspath().read_bytes()
    assert content.startswith(BOM)  # Excel needs it to read UTF-8
    text = content[len(BOM):].decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == EXPORT_HEADER
    assert rows[1:] == [
        ["2026", "Le Floch", "Anne", "Professionnel", physician.profession_label, physician.email, "", "Guérande",
         "Médecin", "Libéraux", "Partiellement payée", "50,00", "30,00", "0,00", "10/01/2026", "",
         anne.payment_reference],
        ["2026", "SELAS Pharmacie des Marais", "", "Structure", pharmacy.party.structure_type_label,
         "pharmacie@example.org", "", "Guérande", "Structure", "Structures", "Payée", "1234,50", "1240,00", "5,50",
         "31/01/2026", "15/03/2026", pharmacy.payment_reference],
    ]


def test_csv_follows_the_list_filters(client, treasurer, members, colleges, period):
    anne, _ = members
    task = export(client, file_format="csv", college=str(colleges[0].id), period=str(period.id))
    rows = list(csv.reader(io.StringIO(task.result_abspath().read_bytes().decode("utf-8-sig"), newline=""),
                           delimiter=";"))
    assert [r[-1] for r in rows[1:]] == [anne.payment_reference]
    task = export(client, file_format="csv", status="paid")
    rows = list(csv.reader(io.StringIO(task.result_abspath().read_bytes().decode("utf-8-sig"), newline=""),
                           delimiter=";"))
    assert [r[1] for r in rows[1:]] == ["SELAS Pharmacie des Marais"]


def test_xlsx_has_numbers_and_dates(client, treasurer, members):
    from openpyxl import load_workbook

    anne, pharmacy = members
    task = export(client, file_format="xlsx")
    assert task.result_filename == "adherents-cpts-test.xlsx"
    workbook = load_workbook(task.result_abspath())
    assert workbook.sheetnames == ["Adhérents"]
    sheet = workbook["Adhérents"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == EXPORT_HEADER and len(values) == 3
    due, paid, credit, joined, paid_on = (EXPORT_HEADER.index(h) for h in (
        "Montant dû", "Montant payé", "Avoir", "Date d'adhésion", "Date de paiement"))
    row = values[2]
    assert row[1] == "SELAS Pharmacie des Marais"
    assert [row[due], row[paid], row[credit]] == [1234.5, 1240, 5.5]
    assert all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for i in (due, paid, credit))
    assert (row[joined], row[paid_on]) == (datetime(2026, 1, 31), datetime(2026, 3, 15))
    cells = list(sheet.iter_rows(min_row=3, max_row=3))[0]
    assert cells[due].number_format == "#,##0.00" and cells[joined].number_format.upper() == "DD/MM/YYYY"
    assert values[1][paid_on] is None and values[1][credit] == 0  # Anne has not finished paying
    assert values[1][-1] == anne.payment_reference
