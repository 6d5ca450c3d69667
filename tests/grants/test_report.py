"""The funder's report: one set of figures (``reports.programme_report``) for the Word report
(a job, a durable document linked from the programme page), the spreadsheet and the programme
page's charts, whose SVG and data table carry the same figures as the budget."""
from datetime import date
from decimal import Decimal

import docx
import lxml.html
import pytest

from backoffice.charts import grouped_bars
from backoffice.extensions import db
from backoffice.grants import agreements, payments, reports, services
from backoffice.grants.models import GrantFollowUp
from backoffice.tasks.models import Task
from tests.factories import SiteFactory, UserFactory
from tests.grants.factories import paid_member, submitted

D = Decimal


def _grant(organisation, programme, *, commune, profession, amount=None, pay=None, serial=None):
    site = SiteFactory(name=f"Cabinet de {commune}", commune=commune)
    applicant = paid_member(organisation, profession=profession)
    application = submitted(organisation, programme, applicant=applicant, site=site)
    services.approve(application, amount, on=date(2026, 4, 7))
    if pay:
        agreements.issue_agreement(application)
        agreements.sign_online(application, UserFactory(party_id=application.applicant_id), "203.0.113.7")
        payments.record_payment(application, paid_on=date(2026, 5, 12), amount=pay, invoice_reference="FAC 118")
    if serial:
        services.record_delivery(application, serial, delivered_on=date(2026, 5, 20))
    return application


@pytest.fixture
def season(organisation, programme):
    """Four grants in three communes, two professions: two paid and delivered (one on a smaller
    invoice), one committed, one granted then cancelled; two quarters of activity."""
    croisic = _grant(organisation, programme, commune="Le Croisic", profession="medecin_generaliste",
                     pay="600,00", serial="HD30-2026-0042")
    guerande = _grant(organisation, programme, commune="Guérande", profession="infirmier",
                      pay=None, amount=D("450.00"))
    batz = _grant(organisation, programme, commune="Batz-sur-Mer", profession="medecin_generaliste",
                  serial=None)
    cancelled = _grant(organisation, programme, commune="Le Pouliguen", profession="pharmacien")
    services.cancel(cancelled, "Départ du professionnel")
    smaller = _grant(organisation, programme, commune="Le Croisic", profession="infirmier")
    agreements.issue_agreement(smaller)
    agreements.sign_online(smaller, UserFactory(party_id=smaller.applicant_id), "203.0.113.8")
    payments.record_payment(smaller, paid_on=date(2026, 6, 3), invoice_amount="500,00",
                            invoice_reference="FAC 204")                          # 80 % of 500 €: 400 €
    services.record_delivery(smaller, "DL4-77 1029", delivered_on=date(2026, 6, 10))
    for application, quarter, screenings, referrals in ((croisic, 2, 31, 3), (croisic, 3, 44, 5),
                                                        (smaller, 3, 12, 1)):
        db.session.add(GrantFollowUp(application=application, year=2026, quarter=quarter,
                                     screenings=screenings, referrals=referrals))
    db.session.flush()
    return {"croisic": croisic, "guerande": guerande, "batz": batz, "smaller": smaller}


def test_one_set_of_figures_agrees_with_the_budget(programme, season):
    report = reports.programme_report(programme)
    budget = services.budget(programme)
    assert (budget.committed, budget.paid) == (D("450.00") + D("600.00"), D("600.00") + D("400.00"))
    for groups in (report.by_commune, report.by_profession, report.funders):
        assert sum(g.committed for g in groups) == budget.committed
        assert sum(g.paid for g in groups) == budget.paid
    assert sum(f.remaining for f in report.funders) == budget.remaining
    communes = {g.name: (g.count, g.committed, g.paid) for g in report.by_commune}
    assert communes == {"Le Croisic": (2, D("0"), D("1000.00")), "Guérande": (1, D("450.00"), D("0")),
                        "Batz-sur-Mer": (1, D("600.00"), D("0"))}
    assert report.by_commune[0].name == "Le Croisic"                                # most grants first
    assert {g.name: g.count for g in report.by_profession} == {"Médecin généraliste": 2, "Infirmier": 2}
    assert [(e.application.serial_number, e.practice) for e in report.equipment] == [
        ("HD30-2026-0042", "Cabinet de Le Croisic"), ("DL4-77 1029", "Cabinet de Le Croisic")]
    assert [(q.label, q.screenings, q.referrals, q.reports) for q in report.quarters] == [
        ("T2 2026", 31, 3, 1), ("T3 2026", 56, 6, 2)]


def _run(organisation, programme, fmt):
    from backoffice.tasks.services import start_task
    from jobs.grants import grant_report

    task = start_task(organisation=organisation, user=None, kind="grants.report", label="Rapport", job=grant_report,
                      params={"programme_id": programme.id, "format": fmt})
    db.session.commit()  # handed over after the commit (inline in tests)
    db.session.expire_all()
    return db.session.get(Task, task.id)


def _text(path):
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_word_report_by_a_job_is_a_durable_document_with_the_figures(organisation, programme, season):
    task = _run(organisation, programme, "docx")
    assert task.status.value == "done", task.message
    assert (task.progress_done, task.progress_total) == (2, 2)
    first = reports.current_report(programme)
    assert first.version == 1 and first.filename.startswith("rapport-dermatoscopes-2026-")
    text = _text(first.abspath())
    assert "4 aide(s) accordée(s) pour 2\u202f050,00\u00a0€ sur une enveloppe de 6\u202f000,00\u00a0€" in text
    assert "1\u202f000,00\u00a0€ versés, 1\u202f050,00\u00a0€ engagés" in text
    for expected in ("Le Croisic", "Batz-sur-Mer", "Infirmier", "ARS Pays de la Loire — FIR", "FIR 2026-044",
                     "HD30-2026-0042", "DL4-77 1029", "T3 2026", "56", "Au total : 87 dépistage(s) et 9 orientation(s)"):
        assert expected in text, expected
    assert "Le Pouliguen" not in text                                                # cancelled: not a grant
    assert task.result_abspath().read_bytes() == first.abspath().read_bytes()
    _run(organisation, programme, "docx")
    second = reports.current_report(programme)
    db.session.refresh(first)
    assert (second.version, first.status.value) == (2, "superseded") and first.abspath().is_file()


def test_the_spreadsheet_reads_the_same_grants(organisation, programme, season):
    import io

    import openpyxl

    task = _run(organisation, programme, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(task.result_abspath().read_bytes()))
    rows = list(book["Aides"].iter_rows(values_only=True))[1:]
    report = reports.programme_report(programme)
    assert [r[0] for r in rows] == [line.application.reference for line in report.grants]
    assert sum(D(str(r[11] or 0)) for r in rows) == report.budget.paid


def _figures(node):
    return [(el.get("data-kind"), D(el.get("data-value"))) for el in node]


def test_programme_page_charts_and_tables_carry_the_budget(client, login_as, organisation, programme, season):
    db.session.commit()
    login_as("treasurer")
    page = lxml.html.fromstring(client.get(f"/o/{organisation.slug}/aides/programmes/{programme.id}").data)
    budget = services.budget(programme)
    bars = page.xpath('//svg[@id="chart-budget"]//rect')
    cells = page.xpath('//table[@id="chart-budget-data"]//td')
    assert _figures(bars) == _figures(cells) and len(bars) == 3 * 3                # 2 funders + the programme
    programme_row = page.xpath('//table[@id="chart-budget-data"]//tr[th="Programme"]/td')
    assert _figures(programme_row) == [("committed", budget.committed), ("paid", budget.paid),
                                       ("remaining", budget.remaining)]
    assert [td.text for td in programme_row] == ["1\u202f050,00\u00a0€", "1\u202f000,00\u00a0€", "3\u202f950,00\u00a0€"]
    titles = [t.text for t in page.xpath('//svg[@id="chart-budget"]//rect/title')]
    assert "Programme – Versé : 1\u202f000,00\u00a0€" in titles
    activity = page.xpath('//svg[@id="chart-activity"]//rect')
    assert _figures(activity) == _figures(page.xpath('//table[@id="chart-activity-data"]//td')) == [
        ("screenings", 31), ("referrals", 3), ("screenings", 56), ("referrals", 6)]
    # The tallest bar is the largest figure, the others in proportion.
    heights = {(r.get("data-key"), r.get("data-kind")): float(r.get("height")) for r in activity}
    assert heights[("T3 2026", "screenings")] == max(heights.values())
    assert heights[("T2 2026", "screenings")] == pytest.approx(heights[("T3 2026", "screenings")] * 31 / 56, abs=0.1)


def test_programme_page_links_the_last_word_report(client, login_as, organisation, programme, season):
    _run(organisation, programme, "docx")
    login_as("treasurer")
    html = client.get(f"/o/{organisation.slug}/aides/programmes/{programme.id}").get_data(as_text=True)
    document = reports.current_report(programme)
    assert f"/documents/files/{document.id}" in html and "version 1" in html
    assert client.get(f"/o/{organisation.slug}/documents/files/{document.id}").status_code == 200


def test_grouped_bars_geometry():
    chart = grouped_bars([("A", D("10"), D("5"), D("0")), ("B", D("20"), D("-3"), D("2"))], ("x", "y", "z"),
                         width=330, height=260, margin=30, label_space=60)
    assert len(chart["bars"]) == 6 and chart["peak"] == D("20") and chart["groups"] == ["A", "B"]
    tallest = next(b for b in chart["bars"] if (b.key, b.kind) == ("B", "x"))
    assert (tallest.height, tallest.y) == (200.0, 0.0)
    negative = next(b for b in chart["bars"] if (b.key, b.kind) == ("B", "y"))
    assert (negative.height, negative.value) == (0.0, D("-3"))
    assert all(b.x + b.width <= 330 for b in chart["bars"])
    narrow = grouped_bars([("T1", 3, 1)], ("x", "y"), width=330, margin=30, max_bar_width=40)["bars"]
    assert [b.width for b in narrow] == [40, 40]
    assert narrow[0].x - 30 == pytest.approx(330 - (narrow[1].x + 40), abs=2.1)   # centred in its slot
