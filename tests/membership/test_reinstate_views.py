"""A cancelled membership can be reinstated by the treasurer: the "Rétablir" button of the member
page, or the creation form for the same member and period."""
import html
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.membership import services
from backoffice.membership.models import CategoryKind, Membership, MembershipStatus


@pytest.fixture
def cancelled(membership):
    services.cancel_membership(membership, "Saisie en double")
    _db.session.commit()
    return membership


def text(response):
    return html.unescape(response.get_data(as_text=True))


def test_reinstate_button_on_the_member_page(client, login_as, cancelled):
    login_as("treasurer")
    page = text(client.get(f"/o/cpts-test/membership/members/{cancelled.id}"))
    assert f"/membership/members/{cancelled.id}/reinstate" in page and "Rétablir l'adhésion" in page
    response = client.post(f"/o/cpts-test/membership/members/{cancelled.id}/reinstate", follow_redirects=True)
    assert "Adhésion rétablie : 50,00 € de nouveau dus." in text(response)
    assert cancelled.status is MembershipStatus.AWAITING_PAYMENT and cancelled.cancellation_reason is None
    assert "/reinstate" not in text(response)  # no button on a live membership
    again = client.post(f"/o/cpts-test/membership/members/{cancelled.id}/reinstate", follow_redirects=True)
    assert "elle n'est pas annulée, rien à rétablir" in text(again)


def test_board_cannot_reinstate(client, login_as, cancelled):
    login_as("board")
    assert "/reinstate" not in text(client.get(f"/o/cpts-test/membership/members/{cancelled.id}"))
    assert client.post(f"/o/cpts-test/membership/members/{cancelled.id}/reinstate").status_code == 403
    assert cancelled.status is MembershipStatus.CANCELLED


def test_creating_again_reinstates_with_the_chosen_category(client, login_as, period, physician, cancelled):
    login_as("treasurer")
    page = text(client.get(f"/o/cpts-test/membership/new?party={physician.id}&period={period.id}"))
    assert "a été annulée" in page and "Rétablir l'adhésion" in page
    structure = next(c for c in period.categories if c.kind is CategoryKind.STRUCTURE)
    response = client.post("/o/cpts-test/membership/new", data={
        "party_id": physician.id, "period_id": period.id, "category_id": structure.id, "college_id": 0,
        "amount_due": "", "joined_on": "2026-03-01"}, follow_redirects=True)
    assert f"Adhésion 2026 de {physician.display_name} rétablie : elle avait été annulée" in text(response)
    assert cancelled.status is MembershipStatus.AWAITING_PAYMENT and cancelled.amount_due == Decimal("100.00")
    count = select(func.count()).select_from(Membership).where(Membership.party_id == physician.id)
    assert _db.session.scalar(count) == 1
