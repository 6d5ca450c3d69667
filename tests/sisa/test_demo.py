"""The demo SISA's expected ACI: its grid gives the remuneration its advance and balance are
compared with, on screen."""
from decimal import Decimal

from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from backoffice.organisations.models import Organisation
from backoffice.sisa import aci


def test_the_demo_sisa_has_an_expected_aci_to_compare_with(monkeypatch, client, login_as):
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    sisa = db.session.scalar(select(Organisation).where(Organisation.slug == "sisa-pays-de-mayenne"))
    seen = aci.comparison(sisa, 2025)
    # (800 + 700×1,3 + 1700 + 1100×1,3 + 800×1,3×75 % + 1000×1,3 + 450 + 9400) × 7 € = 16 770 points × 7 €
    assert seen.expected.total == Decimal("117390.00")
    assert seen.received == Decimal("117600.00") and seen.gap == Decimal("210.00")
    demo.seed()  # idempotent
    assert len(aci.grid(sisa, 2025).indicators) == 7
    login_as("treasurer", org=sisa)
    page = client.get("/o/sisa-pays-de-mayenne/sisa/2025/aci").get_data(as_text=True)
    assert 'data-figure="expected">117\u202f390,00\u00a0€' in page
