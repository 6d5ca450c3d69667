"""HelloAsso: the client (token cache, errors), settings (secret never shown), checkout intents,
and notifications that are never trusted — all on recorded payloads, never the network."""
import copy
import html
import json
import logging
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.member_portal.models import CheckoutStatus, HelloAssoAccount, UnmatchedPayment, UnmatchedStatus
from backoffice.membership import helloasso, services
from backoffice.membership.models import MembershipPayment, MembershipStatus, PaymentMethod

DATA = Path(__file__).parent / "data" / "helloasso"
SLUG = "cpts-du-pays-blanc"


def load(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class FakeHelloAsso:
    """A transport that answers like HelloAsso's API from the recorded payloads."""

    def __init__(self):
        self.calls = []
        self.orders = {}
        self.intents = {}
        self.token_status = 200
        self.unavailable = False

    def add_order(self, order, intent_metadata=None):
        self.orders[order["id"]] = order
        if order.get("checkoutIntentId") and intent_metadata is not None:
            intent = load("checkout_intent_75698555.json")
            intent["id"] = order["checkoutIntentId"]
            intent["metadata"] = intent_metadata
            intent["order"] = copy.deepcopy(order)
            self.intents[order["checkoutIntentId"]] = intent

    def __call__(self, method, url, headers, body):
        self.calls.append((method, url, headers, body))
        path = urlsplit(url).path
        if self.unavailable:
            raise helloasso.HelloAssoUnavailable("HelloAsso ne répond pas (test).")
        if path == "/oauth2/token":
            return self.token_status, json.dumps(load("token.json")).encode()
        assert headers["Authorization"] == "Bearer " + load("token.json")["access_token"]
        if method == "POST" and path == f"/v5/organizations/{SLUG}/checkout-intents":
            return 200, json.dumps(load("checkout_intent_created.json")).encode()
        found = None
        if match := re.fullmatch(r"/v5/orders/(\d+)", path):
            found = self.orders.get(int(match.group(1)))
        elif match := re.fullmatch(rf"/v5/organizations/{SLUG}/checkout-intents/(\d+)", path):
            found = self.intents.get(int(match.group(1)))
        if found is None:
            return 404, b'{"errors": [{"code": "NotFound"}]}'
        return 200, json.dumps(found).encode()

    def paths(self):
        return [(method, urlsplit(url).path) for method, url, _, _ in self.calls]


@pytest.fixture(autouse=True)
def _fresh(app, tmp_path, monkeypatch):
    helloasso.clear_token_cache()
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    yield
    helloasso.clear_token_cache()


@pytest.fixture
def fake(app, monkeypatch):
    transport = FakeHelloAsso()
    monkeypatch.setitem(app.config, "HELLOASSO_TRANSPORT", transport)
    return transport


@pytest.fixture
def account(organisation, fake):
    account = helloasso.save_account(organisation, "client-123", "secret-456", SLUG, sandbox=True, enabled=True)
    _db.session.commit()
    return account


@pytest.fixture
def checkout(membership, account):
    """Anne's 2026 membership (50 €) sent to HelloAsso: checkout intent 75698555."""
    checkout = helloasso.create_checkout(membership, "https://x/retour", "https://x/erreur", "https://x/retour-site")
    _db.session.commit()
    return checkout


def metadata_of(membership):
    return {"membership_id": membership.id, "organisation": "cpts-test", "reference": membership.payment_reference}


def notify(client, name="notification_order.json", **changes):
    payload = load(name)
    payload.update(changes)
    return client.post("/helloasso/cpts-test/notification", data=json.dumps(payload),
                       content_type="application/json")


def card_payments(membership):
    return list(_db.session.scalars(select(MembershipPayment).where(
        MembershipPayment.membership_id == membership.id, MembershipPayment.method == PaymentMethod.HELLOASSO)))


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------

def test_token_is_fetched_once_and_cached_until_it_expires(fake):
    now = [1000.0]
    client = helloasso.HelloAssoClient("id", "secret", sandbox=True, transport=fake, clock=lambda: now[0])
    fake.add_order(load("order_22707.json"))
    client.get_order(22707)
    client.get_order(22707)
    assert fake.paths().count(("POST", "/oauth2/token")) == 1
    method, url, headers, body = fake.calls[0]
    assert url == "https://api.helloasso-sandbox.com/oauth2/token"
    assert parse_qs(body.decode()) == {"grant_type": ["client_credentials"], "client_id": ["id"],
                                       "client_secret": ["secret"]}
    now[0] += 1800 - 59  # within the last minute of the token's life: a new one
    client.get_order(22707)
    assert fake.paths().count(("POST", "/oauth2/token")) == 2


def test_wrong_credentials_and_missing_objects_give_french_errors(fake):
    client = helloasso.HelloAssoClient("id", "secret", transport=fake)
    with pytest.raises(helloasso.HelloAssoNotFound):
        client.get_order(1)
    helloasso.clear_token_cache()
    fake.token_status = 401
    with pytest.raises(helloasso.HelloAssoError, match="refuse l'identifiant ou le secret"):
        client.get_order(1)


def test_a_revoked_token_is_replaced_once(fake):
    statuses = iter([401])
    original = fake.__call__

    def flaky(method, url, headers, body):
        if "/v5/orders/" in url:
            status = next(statuses, None)
            if status:
                fake.calls.append((method, url, headers, body))
                return status, b""
        return original(method, url, headers, body)

    fake.add_order(load("order_22707.json"))
    client = helloasso.HelloAssoClient("id", "secret", transport=flaky)
    assert client.get_order(22707)["id"] == 22707
    assert [p for p in fake.paths() if p[0] == "POST"] == [("POST", "/oauth2/token")] * 2


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------

def test_secret_is_stored_encrypted_and_never_shown_back(client, organisation, login_as, fake):
    login_as("treasurer")
    response = client.post("/o/cpts-test/membership/helloasso", data={
        "organisation_slug": SLUG, "client_id": "client-123", "client_secret": "tres-secret-789", "enabled": "y"},
        follow_redirects=True)
    assert "la connexion à HelloAsso fonctionne" in response.get_data(as_text=True)
    account = _db.session.scalar(select(HelloAssoAccount))
    assert "tres-secret-789" not in account.client_secret_encrypted
    assert helloasso.decrypt_secret(account.client_secret_encrypted) == "tres-secret-789"
    page = client.get("/o/cpts-test/membership/helloasso").get_data(as_text=True)
    assert "tres-secret-789" not in page and "jamais réaffiché" in page
    # saving again without typing the secret keeps it
    client.post("/o/cpts-test/membership/helloasso", data={"organisation_slug": SLUG, "client_id": "client-123",
                                                           "enabled": "y"})
    assert helloasso.decrypt_secret(account.client_secret_encrypted) == "tres-secret-789"


def test_enabling_without_credentials_is_refused(organisation):
    with pytest.raises(services.MembershipError, match="indiquez l'identifiant du client API"):
        helloasso.save_account(organisation, "", "", SLUG, enabled=True)


def test_online_payment_is_off_when_not_configured(organisation, membership):
    assert helloasso.is_enabled(organisation) is False
    with pytest.raises(helloasso.HelloAssoError, match="n'est pas proposé"):
        helloasso.create_checkout(membership, "r", "e", "b")


# --------------------------------------------------------------------------------------------
# Checkout intent
# --------------------------------------------------------------------------------------------

def test_checkout_intent_carries_the_amount_in_cents_and_the_membership_id(membership, checkout, fake):
    method, url, headers, body = next(c for c in fake.calls if c[1].endswith("/checkout-intents"))
    sent = json.loads(body)
    assert url == f"https://api.helloasso-sandbox.com/v5/organizations/{SLUG}/checkout-intents"
    assert sent["totalAmount"] == sent["initialAmount"] == 5000
    assert sent["metadata"] == metadata_of(membership)
    assert sent["itemName"] == "Cotisation 2026 — CPTS de Test"
    assert (sent["returnUrl"], sent["errorUrl"], sent["backUrl"]) == ("https://x/retour", "https://x/erreur",
                                                                      "https://x/retour-site")
    assert sent["payer"]["lastName"] == "Le Floch" and sent["payer"]["email"] == membership.party.email
    assert sent["containsDonation"] is False
    assert checkout.checkout_intent_id == 75698555 and checkout.amount == Decimal("50.00")
    assert checkout.redirect_url.startswith("https://www.helloasso-sandbox.com/")
    assert membership.status is MembershipStatus.AWAITING_PAYMENT  # nothing paid yet


def test_member_is_sent_to_helloasso(client, organisation, membership, account, login_as):
    from tests.factories import UserFactory

    user = UserFactory(party=membership.party)
    login_as("member", user=user)
    page = client.get(f"/o/cpts-test/espace-adherent/adhesions/{membership.id}/paiement").get_data(as_text=True)
    assert "Payer 50,00" in page
    response = client.post(f"/o/cpts-test/espace-adherent/adhesions/{membership.id}/paiement-en-ligne")
    assert response.status_code == 302 and response.headers["Location"].startswith("https://www.helloasso-sandbox")


# --------------------------------------------------------------------------------------------
# Notifications
# --------------------------------------------------------------------------------------------

def test_notification_records_the_payment_after_fetching_the_order_again(client, membership, checkout, fake):
    fake.add_order(load("order_22707.json"), metadata_of(membership))
    response = notify(client)
    assert response.status_code == 200 and response.json["status"] == "recorded"
    assert ("GET", "/v5/orders/22707") in fake.paths()
    assert ("GET", f"/v5/organizations/{SLUG}/checkout-intents/75698555") in fake.paths()
    [payment] = card_payments(membership)
    assert payment.amount == Decimal("50.00") and payment.paid_on == date(2026, 2, 10)
    assert payment.source == "helloasso" and payment.idempotency_key == "helloasso:15222"
    assert membership.status is MembershipStatus.PAID
    assert checkout.status is CheckoutStatus.PAID and checkout.order_id == 22707


def test_payment_notification_names_the_order_too(client, membership, checkout, fake):
    fake.add_order(load("order_22707.json"), metadata_of(membership))
    assert notify(client, "notification_payment_authorized.json").json["status"] == "recorded"
    assert membership.status is MembershipStatus.PAID


def test_replayed_notification_changes_nothing(client, membership, checkout, fake):
    fake.add_order(load("order_22707.json"), metadata_of(membership))
    notify(client)
    assert notify(client).json["status"] == "duplicate"
    assert notify(client, "notification_payment_authorized.json").json["status"] == "duplicate"
    assert len(card_payments(membership)) == 1 and membership.amount_paid == Decimal("50.00")


def test_forged_notification_of_an_unknown_order_changes_nothing_and_is_logged(client, membership, checkout, fake,
                                                                               caplog):
    with caplog.at_level(logging.WARNING, logger="backoffice.membership.helloasso"):
        response = notify(client, "notification_forged.json")
    assert response.status_code == 200 and response.json["status"] == "rejected"
    assert card_payments(membership) == [] and membership.status is MembershipStatus.AWAITING_PAYMENT
    assert "99990000" in caplog.text and "commande inconnue" in caplog.text
    assert _db.session.scalar(select(func.count()).select_from(UnmatchedPayment)) == 0


@pytest.mark.parametrize("change, reason", [
    (lambda o: o["payments"][0].update(amount=500) or o["amount"].update(total=500), "montant"),
    (lambda o: o.update(organizationSlug="une-autre-asso"), "autre association"),
    (lambda o: o["payments"][0].update(state="Refused"), None),
])
def test_order_that_does_not_fit_records_nothing(client, membership, checkout, fake, caplog, change, reason):
    order = load("order_22707.json")
    change(order)
    fake.add_order(order, metadata_of(membership))
    with caplog.at_level(logging.WARNING, logger="backoffice.membership.helloasso"):
        status = notify(client).json["status"]
    assert card_payments(membership) == [] and membership.status is MembershipStatus.AWAITING_PAYMENT
    if reason:
        assert status == "rejected" and reason in caplog.text
    else:
        assert status == "pending"


def test_the_body_is_never_trusted_only_the_order_id(client, organisation, period, membership, checkout, fake):
    """The body names order 22707 with Anne's metadata and 50 €; the API says that order is a
    checkout of another membership, with metadata naming it: the API wins."""
    from tests.factories import ProfessionalFactory

    other = services.create_membership(organisation, ProfessionalFactory(), period, amount_due=Decimal("50.00"))
    _db.session.commit()
    fake_intent = helloasso.HelloAssoCheckout(organisation_id=organisation.id, membership_id=other.id,
                                              checkout_intent_id=11111, amount=Decimal("50.00"),
                                              redirect_url="https://x")
    _db.session.add(fake_intent)
    _db.session.commit()
    order = load("order_22707.json")
    order["checkoutIntentId"] = 11111
    fake.add_order(order, metadata_of(other))
    assert notify(client).json["status"] == "recorded"
    assert other.status is MembershipStatus.PAID and membership.status is MembershipStatus.AWAITING_PAYMENT


def test_metadata_that_names_another_membership_is_rejected(client, membership, checkout, fake):
    fake.add_order(load("order_22707.json"), {"membership_id": membership.id + 1000})
    assert notify(client).json["status"] == "rejected"
    assert card_payments(membership) == []


def test_api_unavailable_asks_helloasso_to_retry(client, membership, checkout, fake):
    fake.unavailable = True
    response = notify(client)
    assert response.status_code == 503 and card_payments(membership) == []


def test_malformed_body_is_a_400(client, account):
    assert client.post("/helloasso/cpts-test/notification", data="{not json",
                       content_type="application/json").status_code == 400
    assert client.post("/helloasso/cpts-test/notification", data=json.dumps({"eventType": "Order", "data": {}}),
                       content_type="application/json").status_code == 400


def test_notification_url_needs_no_csrf_token(app, client, membership, checkout, fake, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    fake.add_order(load("order_22707.json"), metadata_of(membership))
    assert notify(client).status_code == 200 and membership.status is MembershipStatus.PAID


def test_notification_for_an_organisation_without_helloasso_is_ignored(client, membership):
    assert notify(client).json["status"] == "ignored"


def test_return_page_asks_helloasso_and_confirms(client, membership, checkout, fake, login_as):
    from tests.factories import UserFactory

    login_as("member", user=UserFactory(party=membership.party))
    fake.add_order(load("order_22707.json"), metadata_of(membership))
    page = client.get("/o/cpts-test/espace-adherent/paiement-en-ligne/retour?checkoutIntentId=75698555"
                      "&code=succeeded&orderId=22707").get_data(as_text=True)
    assert "Votre paiement est confirmé" in page and membership.status is MembershipStatus.PAID
    unknown = client.get("/o/cpts-test/espace-adherent/paiement-en-ligne/retour?checkoutIntentId=1")
    assert unknown.status_code == 302 and unknown.headers["Location"].endswith("/espace-adherent/")


def test_notification_for_an_unknown_organisation_is_404(client):
    assert client.post("/helloasso/inconnue/notification", data="{}", content_type="application/json").status_code == 404


# --------------------------------------------------------------------------------------------
# Unmatched payments
# --------------------------------------------------------------------------------------------

def test_payment_naming_no_membership_lands_in_the_unmatched_list(client, membership, account, fake, login_as):
    fake.add_order(load("order_31415_membership_form.json"))
    response = notify(client, data={"id": 31415}, eventType="Order")
    assert response.json["status"] == "unmatched"
    assert notify(client, data={"id": 31415}, eventType="Order").json["status"] == "duplicate"
    [row] = _db.session.scalars(select(UnmatchedPayment)).all()
    assert (row.amount, row.payer_email, row.external_id, row.status) == (
        Decimal("30.00"), "j.martin@autre-adresse.example", "27182", UnmatchedStatus.OPEN)

    login_as("treasurer")
    page = client.get("/o/cpts-test/membership/paiements-en-ligne").get_data(as_text=True)
    assert "Jean Martin" in page and "30,00" in page
    response = client.post(f"/o/cpts-test/membership/paiements-en-ligne/{row.id}/rapprocher",
                           data={"membership_id": membership.id}, follow_redirects=True)
    assert "enregistré sur l'adhésion 2026" in html.unescape(response.get_data(as_text=True))
    assert row.status is UnmatchedStatus.RESOLVED and membership.amount_paid == Decimal("30.00")
    # HelloAsso sends it again later: still recorded once
    assert notify(client, data={"id": 31415}, eventType="Order").json["status"] == "duplicate"
    assert len(card_payments(membership)) == 1


def test_unmatched_payment_can_be_dismissed_and_not_resolved_twice(organisation, membership, account, fake):
    fake.add_order(load("order_31415_membership_form.json"))
    helloasso.process_order(organisation, 31415)
    row = _db.session.scalars(select(UnmatchedPayment)).one()
    helloasso.dismiss_unmatched(row)
    with pytest.raises(services.MembershipError, match="déjà été traité"):
        helloasso.resolve_unmatched(row, membership)


def test_payer_email_and_amount_match_an_open_membership(organisation, period, account, fake):
    from tests.factories import ProfessionalFactory

    martin = ProfessionalFactory(first_name="Jean", last_name="Martin", email="J.Martin@autre-adresse.example")
    target = services.create_membership(organisation, martin, period, amount_due=Decimal("30.00"))
    fake.add_order(load("order_31415_membership_form.json"))
    assert helloasso.process_order(organisation, 31415).status == "recorded"
    assert target.status is MembershipStatus.PAID


def test_checkout_paid_for_a_cancelled_membership_goes_to_the_treasurer(client, membership, checkout, fake):
    services.cancel_membership(membership, "départ")
    _db.session.commit()
    fake.add_order(load("order_22707.json"), metadata_of(membership))
    assert notify(client).json["status"] == "unmatched"
    row = _db.session.scalars(select(UnmatchedPayment)).one()
    assert "annulée" in row.reason and card_payments(membership) == []
