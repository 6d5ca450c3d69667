"""Treasurer screens: list (no N+1), detail, payments through forms, statements, exports, SEPA."""
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.membership import sepa, services
from backoffice.membership.models import (CategoryKind, Membership, MembershipPayment, MembershipStatus,
                                          PaymentMethod)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


@pytest.fixture
def many_members(organisation, period, colleges):
    from tests.factories import ProfessionalFactory, StructureFactory

    memberships = []
    for n in range(30):
        party = ProfessionalFactory(profession="medecin_generaliste" if n % 3 == 0 else "infirmier") if n % 5 else StructureFactory()
        m = services.create_membership(organisation, party, period, college=colleges[0 if n % 5 else 1],
                                       joined_on=date(2026, 1, 5))
        if n % 4 == 0:
            services.record_payment(m, m.amount_due, "transfer", date(2026, 2, 1))
        memberships.append(m)
    return memberships


def last_task(kind):
    from backoffice.tasks.models import Task

    return _db.session.scalar(select(Task).where(Task.kind == kind).order_by(Task.id.desc()))


def form_key(html):
    return re.search(r'name="form_key" type="hidden" value="([^"]+)"', html).group(1)


def test_member_list_query_count_does_not_grow(client, treasurer, many_members, count_queries):
    client.get("/o/cpts-test/membership/?per_page=2")  # warm up (period creation, caches)
    with count_queries() as small:
        response = client.get("/o/cpts-test/membership/?per_page=2")
    assert response.status_code == 200
    with count_queries() as large:
        response = client.get("/o/cpts-test/membership/?per_page=30")
    html = response.get_data(as_text=True)
    assert html.count('href="/o/cpts-test/membership/members/') == 30
    assert large.count == small.count, "\n".join(large.statements[small.count - 2:small.count + 3])


@pytest.mark.parametrize("query, expected", [("status=paid", 8), ("status=awaiting_payment", 22), ("q={name}", 1),
                                             ("q={reference}", 1), ("sort=-due", 30)])
def test_member_list_filters(client, treasurer, many_members, query, expected):
    query = query.format(name=many_members[1].party.last_name, reference=many_members[2].payment_reference)
    html = client.get(f"/o/cpts-test/membership/?{query}&per_page=100").get_data(as_text=True)
    assert html.count('href="/o/cpts-test/membership/members/') == expected


def test_dashboard_renders_chart_and_counts(client, treasurer, many_members, count_queries):
    response = client.get("/o/cpts-test/membership/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in html and "bar-collected" in html
    assert "Libéraux" in html
    with count_queries() as counter:
        client.get("/o/cpts-test/membership/dashboard")
    assert counter.count < 25


def test_organisation_dashboard_panel(client, treasurer, many_members):
    html = client.get("/o/cpts-test/").get_data(as_text=True)
    assert "Adhésions 2026" in html and "Membres à jour" in html


def test_create_membership_with_suggestion(client, treasurer, period, physician):
    page = client.get(f"/o/cpts-test/membership/new?q=floch&party={physician.id}").get_data(as_text=True)
    assert "Catégorie suggérée : <strong>Première adhésion</strong>" in page
    response = client.post("/o/cpts-test/membership/new", data={
        "party_id": physician.id, "period_id": period.id, "category_id": 0, "college_id": 0, "amount_due": "",
        "joined_on": "2026-01-15"})
    assert response.status_code == 302
    membership = _db.session.scalar(select(Membership).where(Membership.party_id == physician.id))
    assert membership.amount_due == Decimal("20.00") and membership.category.kind is CategoryKind.FIRST_YEAR
    again = client.post("/o/cpts-test/membership/new", data={
        "party_id": physician.id, "period_id": period.id, "category_id": 0, "college_id": 0,
        "joined_on": "2026-01-16"}, follow_redirects=True)
    assert "déjà une adhésion pour 2026" in again.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(Membership).where(Membership.party_id == physician.id)) == 1


def test_record_payment_double_submit_records_once(client, treasurer, membership):
    page = client.get(f"/o/cpts-test/membership/members/{membership.id}").get_data(as_text=True)
    data = {"amount": "30,00", "method": "cheque", "paid_on": "2026-02-01", "reference": "0012345",
            "cheque_bank": "Crédit Mutuel", "form_key": form_key(page)}
    url = f"/o/cpts-test/membership/members/{membership.id}/payments"
    first = client.post(url, data=data, follow_redirects=True)
    assert "Paiement de 30,00 € enregistré" in first.get_data(as_text=True)
    second = client.post(url, data=data, follow_redirects=True)
    assert "déjà été enregistré" in second.get_data(as_text=True)
    _db.session.expire_all()
    assert len(membership.payments) == 1 and membership.status is MembershipStatus.PARTIALLY_PAID


@pytest.mark.parametrize("amount, message", [("-5", "positif"), ("abc", "invalide"), ("", "obligatoire")])
def test_record_payment_bad_amount(client, treasurer, membership, amount, message):
    response = client.post(f"/o/cpts-test/membership/members/{membership.id}/payments",
                           data={"amount": amount, "method": "transfer", "paid_on": "2026-02-01", "form_key": "k"},
                           follow_redirects=True)
    assert message in response.get_data(as_text=True)
    _db.session.expire_all()
    assert membership.payments == []


def test_reverse_payment_through_form(client, treasurer, membership):
    payment = services.record_payment(membership, "50", "transfer", date(2026, 2, 1))
    response = client.post(f"/o/cpts-test/membership/payments/{payment.id}/reverse",
                           data={"reason": "Virement rejeté", "form_key": "rev-1"}, follow_redirects=True)
    assert "Paiement contre-passé" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert membership.status is MembershipStatus.AWAITING_PAYMENT
    assert [p.amount for p in membership.payments] == [Decimal("50.00"), Decimal("-50.00")]


def test_payment_on_cancelled_refused_in_view(client, treasurer, membership):
    services.cancel_membership(membership, "Départ")
    response = client.post(f"/o/cpts-test/membership/members/{membership.id}/payments",
                           data={"amount": "50", "method": "transfer", "paid_on": "2026-02-01", "form_key": "x"},
                           follow_redirects=True)
    assert "Cette adhésion est annulée : impossible" in response.get_data(as_text=True)


def test_board_may_view_but_not_pay(client, login_as, membership):
    login_as("board")
    assert client.get(f"/o/cpts-test/membership/members/{membership.id}").status_code == 200
    response = client.post(f"/o/cpts-test/membership/members/{membership.id}/payments",
                           data={"amount": "50", "method": "transfer", "paid_on": "2026-02-01"})
    assert response.status_code == 403


def test_other_organisation_membership_is_404(client, login_as, membership, other_organisation):
    login_as("treasurer", org=other_organisation)
    assert client.get(f"/o/cpts-autre/membership/members/{membership.id}").status_code == 404


def test_camt_upload_review_and_confirm(client, treasurer, membership):
    content = (DATA / "camt053_sample.xml").read_text().replace("{REF_PHYSICIAN}", membership.payment_reference)
    from io import BytesIO

    response = client.post("/o/cpts-test/membership/statements",
                           data={"statement": (BytesIO(content.encode()), "camt.xml")},
                           content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "3 opération(s) nouvelle(s)" in html
    line_id = re.search(r'name="confirm" value="(\d+)" id="line-\d+" checked', html).group(1)
    response = client.post("/o/cpts-test/membership/statements/review",
                           data={"confirm": [line_id], f"membership_reference_{line_id}": membership.payment_reference},
                           follow_redirects=True)
    assert "1 paiement(s) enregistré(s)" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert membership.status is MembershipStatus.PAID
    again = client.post("/o/cpts-test/membership/statements",
                        data={"statement": (BytesIO(content.encode()), "camt.xml")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert "Relevé déjà importé" in again.get_data(as_text=True)


def test_csv_upload_asks_columns_once(client, treasurer, membership):
    from io import BytesIO

    content = (DATA / "statement_cp1252.csv").read_bytes()
    response = client.post("/o/cpts-test/membership/statements",
                           data={"statement": (BytesIO(content), "releve.csv")}, content_type="multipart/form-data")
    assert response.status_code == 302 and "/statements/mapping?token=" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert '<option selected value="Date">' in page or 'value="Date" selected' in page
    token = response.location.split("token=")[1].split("&")[0]
    response = client.post("/o/cpts-test/membership/statements/mapping", data={
        "token": token, "date": "Date", "label": "Libellé", "amount": "", "debit": "Débit euros",
        "credit": "Crédit euros", "reference": "Référence"}, follow_redirects=True)
    assert "6 opération(s) nouvelle(s)" in response.get_data(as_text=True)
    # Next time the columns are known: straight to the review.
    response = client.post("/o/cpts-test/membership/statements",
                           data={"statement": (BytesIO(content), "releve.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "Relevé déjà importé" in response.get_data(as_text=True)


def test_unknown_statement_format(client, treasurer):
    from io import BytesIO

    response = client.post("/o/cpts-test/membership/statements",
                           data={"statement": (BytesIO(b"%PDF-1.4 ..."), "releve.pdf")},
                           content_type="multipart/form-data")
    assert "Format de relevé non reconnu" in response.get_data(as_text=True)


def test_export_members_csv_job(client, treasurer, many_members):
    response = client.post("/o/cpts-test/membership/export", data={"file_format": "csv", "status": "paid"})
    assert response.status_code == 302
    task = last_task("membership.export")
    assert task.status.value == "done", task.message
    content = task.result_abspath().read_bytes().decode("utf-8-sig")
    lines = content.strip().split("\r\n")
    assert lines[0].startswith("Période;Nom;Prénom") and len(lines) == 1 + 8
    assert ";Payée;" in lines[1]


def test_export_members_xlsx_job(client, treasurer, many_members):
    from openpyxl import load_workbook

    client.post("/o/cpts-test/membership/export", data={"file_format": "xlsx"})
    task = last_task("membership.export")
    assert task.status.value == "done", task.message
    sheet = load_workbook(task.result_abspath()).active
    assert sheet.max_row == 31 and sheet.cell(1, 1).value == "Période"


def test_formula_neutralised_in_export(organisation, period, client, treasurer):
    from tests.factories import ProfessionalFactory

    services.create_membership(organisation, ProfessionalFactory(last_name="=HYPERLINK(1)"), period)
    client.post("/o/cpts-test/membership/export", data={"file_format": "csv"})
    task = last_task("membership.export")
    assert "'=HYPERLINK(1)" in task.result_abspath().read_bytes().decode("utf-8-sig")


def test_direct_debit_run_job(client, treasurer, organisation, membership, physician):
    sepa.set_creditor_identifier(organisation, "FR72ZZZ123456")
    sepa.create_mandate(organisation, physician, "FR1420041010050500013M02606", "PSSTFRPPLIL", date(2025, 12, 1))
    response = client.post("/o/cpts-test/membership/sepa", data={
        "membership_ids": [membership.id], "collection_date": (date.today() + timedelta(days=7)).isoformat()})
    assert response.status_code == 302
    task = last_task("membership.direct_debit")
    assert task.status.value == "done", task.message
    assert b"pain.008.001.02" in task.result_abspath().read_bytes()
    payment = _db.session.scalar(select(MembershipPayment).where(MembershipPayment.membership_id == membership.id))
    assert payment.method is PaymentMethod.DIRECT_DEBIT and payment.status.value == "pending"


@pytest.mark.parametrize("path", ["", "dashboard", "grid", "colleges", "settings", "cheques", "statements",
                                  "statements/review", "sepa", "new"])
def test_pages_render(client, treasurer, membership, path):
    response = client.get(f"/o/cpts-test/membership/{path}")
    assert response.status_code == 200, path


def test_overview_agrees_with_the_separate_queries(organisation, period, many_members):
    from backoffice.membership import stats

    services.cancel_membership(many_members[1], "Départ")
    services.exempt_membership(many_members[2], "Bénévole")
    figures = stats.overview(organisation, period)
    assert figures.status_counts == stats.status_counts(organisation, period)
    assert figures.colleges == stats.college_counts(organisation, period)
    assert figures.by_category == stats.collected_vs_expected(organisation)
    assert figures.evolution == stats.evolution(organisation)
    assert figures.status_counts[MembershipStatus.PAID][0] == 8


def test_dashboard_cache_follows_changes(membership_cache, client, treasurer, organisation, period, membership):
    from backoffice.membership import stats

    first = stats.cached_overview(organisation, period)
    assert stats.cached_overview(organisation, period) == first  # served from Redis
    services.record_payment(membership, "50", "transfer")
    assert stats.cached_overview(organisation, period) == first  # not committed yet: others see no change
    _db.session.commit()
    after = stats.cached_overview(organisation, period)
    assert after.status_counts[MembershipStatus.PAID][0] == first.status_counts[MembershipStatus.PAID][0] + 1
    assert after == stats.overview(organisation, period)
    # Lapsed members: a 2025 member is lapsed until renewed for 2026.
    from tests.factories import ProfessionalFactory

    previous = services.ensure_grid(services.period_for_year(organisation, 2025), previous=period)
    leaver = ProfessionalFactory()
    last = services.create_membership(organisation, leaver, previous, joined_on=date(2025, 1, 2))
    services.record_payment(last, last.amount_due, "cash")
    _db.session.commit()
    assert stats.lapsed_ids(organisation, period) == [last.id]
    assert stats.lapsed_ids(organisation, period) == [last.id]  # from Redis
    services.create_membership(organisation, leaver, period)
    _db.session.commit()
    assert stats.lapsed_ids(organisation, period) == []
    page = stats.lapsed_page(organisation, period, 1, 10)
    assert page.total == 0 and page.items == []


def test_member_list_count_cache_follows_changes(membership_cache, organisation, period, membership):
    """The list's count (cached like the dashboard) changes as soon as a change of a membership
    is committed."""
    from backoffice.membership import stats
    from tests.factories import ProfessionalFactory

    every = stats.MemberFilters(period_id=period.id)
    paid = stats.MemberFilters(period_id=period.id, status=MembershipStatus.PAID.value)
    assert stats.member_page(organisation, every, 1, 25).total == 1
    assert stats.member_page(organisation, every, 1, 25).total == 1  # from Redis
    assert stats.member_page(organisation, paid, 1, 25).total == 0
    services.record_payment(membership, membership.amount_due, "transfer")
    _db.session.commit()
    assert stats.member_page(organisation, paid, 1, 25).total == 1
    services.create_membership(organisation, ProfessionalFactory(), period)
    _db.session.commit()
    assert stats.member_page(organisation, every, 1, 25).total == 2


def test_cheque_deposit_slip_job(client, treasurer, organisation, membership):
    """Selecting cheques makes a slip (a Word document job) and marks them deposited."""
    import io

    from docx import Document

    from backoffice.documents.services import document_kind, render_document
    cheque = services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0012345",
                                     cheque_bank="CIC")
    response = client.post("/o/cpts-test/membership/cheques",
                           data={"payment_ids": [cheque.id], "deposited_on": "2026-02-03"})
    assert response.status_code == 302
    task = last_task("membership.cheque_deposit")
    assert task.status.value == "done", task.message
    document = Document(io.BytesIO(task.result_abspath().read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "cinquante euros" in text and "Bordereau de remise de chèques" in text
    _db.session.expire_all()
    assert cheque.cheque_deposit_id is not None and cheque.cheque_deposit.task_id == task.id
    # The sample context renders with the default template (what uploaded templates are checked with).
    kind = document_kind("cheque_deposit_slip")
    assert render_document(organisation, "cheque_deposit_slip", kind.sample_context())[:2] == b"PK"


def test_lapsed_member_reminded_in_one_click(client, treasurer, organisation, period, outbox):
    """The dashboard lists last year's members who have not renewed, with a reminder button."""
    from tests.factories import ProfessionalFactory

    previous = services.ensure_grid(services.period_for_year(organisation, 2025), previous=period)
    leaver = ProfessionalFactory(email="partie@example.org")
    last = services.create_membership(organisation, leaver, previous, joined_on=date(2025, 1, 2))
    services.record_payment(last, last.amount_due, "cash", date(2025, 1, 3))
    html = client.get("/o/cpts-test/membership/dashboard").get_data(as_text=True)
    assert leaver.display_name in html and f"/members/{last.id}/remind" in html
    response = client.post(f"/o/cpts-test/membership/members/{last.id}/remind", follow_redirects=True)
    assert "Relance envoyée" in response.get_data(as_text=True)
    subjects = [m.subject for m in outbox("partie@example.org")]
    assert len([s for s in subjects if "ttestation" not in s]) == 1, subjects  # the 2025 receipt aside
