"""Online card payment through HelloAsso (API v5): settings, checkout intents, notifications.

How a payment arrives:

1. The member clicks "Payer en ligne": :func:`create_checkout` asks HelloAsso for a *checkout
   intent* (``POST /v5/organizations/{slug}/checkout-intents``) for the membership's balance,
   in cents, with the membership's id in its ``metadata``, and stores it
   (``HelloAssoCheckout``) before sending the member to ``redirectUrl``.
2. HelloAsso calls our notification URL (and sends the member back to the return page). We
   **never trust that body**: :func:`handle_notification` only takes the order id from it and
   :func:`process_order` fetches the order again (``GET /v5/orders/{id}``), checks its
   organisation, its authorized payments and their amount, finds the checkout intent we made
   (its metadata fetched again too, ``GET …/checkout-intents/{id}``) and records each payment
   through the membership core (``services.record_payment``, method card, idempotency key
   ``helloasso:<payment id>``): a replayed notification records nothing more; an unknown order
   or an amount that is not the one asked records nothing and is logged.
3. A payment that names no membership we know (a HelloAsso form of the organisation, another
   e-mail address…) becomes an ``UnmatchedPayment`` that the treasurer attaches to a membership
   in one click (:func:`resolve_unmatched`), through the same idempotency key.

Why a small client over ``urllib`` rather than ``helloasso-python``: we need four calls; the
official package is generated code pulling pydantic and urllib3 and hides the HTTP exchange
that tests must replace by recorded payloads. :class:`HelloAssoClient` takes a ``transport``
(``fn(method, url, headers, body) -> (status, bytes)``); tests pass one that serves JSON files,
``HELLOASSO_TRANSPORT`` in the app config does the same for view tests. Never the network.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from backoffice.audit.services import current_actor_id
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.member_portal.models import (CheckoutStatus, HelloAssoAccount, HelloAssoCheckout, UnmatchedPayment,
                                             UnmatchedStatus)
from backoffice.membership import services
from backoffice.membership.models import OPEN_STATUSES, Membership, MembershipPayment, PaymentMethod
from backoffice.membership.services import DuplicateSubmission, MembershipError
from backoffice.models import utcnow

log = logging.getLogger(__name__)

PRODUCTION = "https://api.helloasso.com"
SANDBOX = "https://api.helloasso-sandbox.com"
SOURCE = "helloasso"
# Payment states of HelloAsso that mean the money is ours.
PAID_STATES = {"Authorized"}


class HelloAssoError(MembershipError):
    """HelloAsso refused a call or could not be reached; French message."""


class HelloAssoUnavailable(HelloAssoError):
    """The API did not answer (network, 5xx): worth trying again later."""


class HelloAssoNotFound(HelloAssoError):
    """The API answered 404: the object does not exist (a forged id, typically)."""


# --------------------------------------------------------------------------------------------
# The secret, encrypted at rest
# --------------------------------------------------------------------------------------------

def _fernet():
    from cryptography.fernet import Fernet

    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    key = hashlib.sha256(b"maillage.helloasso.client-secret:" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(value):
    return _fernet().encrypt(value.encode()).decode()


def decrypt_secret(token):
    """The clear secret, or ``HelloAssoError`` when SECRET_KEY changed since it was saved."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise HelloAssoError("Le secret HelloAsso enregistré ne peut plus être lu (la clé du serveur a changé) : "
                             "saisissez-le à nouveau dans les paramètres HelloAsso.") from None


# --------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------

def urllib_transport(method, url, headers, body, timeout=20):
    """The real transport: one HTTPS request with the standard library."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https URLs of ours)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise HelloAssoUnavailable(f"HelloAsso ne répond pas ({exc}). Réessayez dans quelques minutes.") from exc


_TOKENS: dict = {}
_TOKENS_LOCK = threading.Lock()


def clear_token_cache():
    with _TOKENS_LOCK:
        _TOKENS.clear()


class HelloAssoClient:
    """The four HelloAsso calls we need, with an OAuth2 client-credentials token cached until
    shortly before it expires (per process, per client id)."""

    def __init__(self, client_id, client_secret, sandbox=False, transport=None, clock=time.monotonic):
        self.client_id = client_id
        self.client_secret = client_secret
        self.base = SANDBOX if sandbox else PRODUCTION
        self.transport = transport or urllib_transport
        self.clock = clock

    # -- token ---------------------------------------------------------------------------

    @property
    def _cache_key(self):
        return (self.base, self.client_id, hashlib.sha256(self.client_secret.encode()).hexdigest())

    def token(self):
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._cache_key)
            if cached and cached[1] > self.clock():
                return cached[0]
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.client_id,
                                       "client_secret": self.client_secret}).encode()
        status, raw = self.transport("POST", f"{self.base}/oauth2/token",
                                     {"Content-Type": "application/x-www-form-urlencoded",
                                      "Accept": "application/json"}, body)
        if status in (400, 401, 403):
            raise HelloAssoError("HelloAsso refuse l'identifiant ou le secret du client API : vérifiez-les dans "
                                 "les paramètres HelloAsso.")
        data = self._json(status, raw)
        token = data.get("access_token")
        if not token:
            raise HelloAssoError("HelloAsso n'a pas renvoyé de jeton d'accès.")
        # Keep a minute of margin: a token that expires during a call would fail it.
        lifetime = max(int(data.get("expires_in") or 0) - 60, 0)
        with _TOKENS_LOCK:
            _TOKENS[self._cache_key] = (token, self.clock() + lifetime)
        return token

    def _forget_token(self):
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache_key, None)

    # -- calls ---------------------------------------------------------------------------

    @staticmethod
    def _json(status, raw):
        if status >= 500:
            raise HelloAssoUnavailable(f"HelloAsso est momentanément indisponible (erreur {status}).")
        if status == 404:
            raise HelloAssoNotFound("HelloAsso ne connaît pas cet élément.")
        if status >= 400:
            raise HelloAssoError(f"HelloAsso a refusé la demande (erreur {status}).")
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise HelloAssoError("HelloAsso a renvoyé une réponse illisible.") from None

    def _call(self, method, path, payload=None, retry=True):
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, raw = self.transport(method, f"{self.base}/v5{path}", headers, body)
        if status == 401 and retry:  # the cached token was revoked or expired early
            self._forget_token()
            return self._call(method, path, payload, retry=False)
        return self._json(status, raw)

    def create_checkout_intent(self, organisation_slug, body):
        slug = urllib.parse.quote(organisation_slug, safe="")
        return self._call("POST", f"/organizations/{slug}/checkout-intents", body)

    def get_checkout_intent(self, organisation_slug, checkout_intent_id):
        slug = urllib.parse.quote(organisation_slug, safe="")
        return self._call("GET", f"/organizations/{slug}/checkout-intents/{int(checkout_intent_id)}")

    def get_order(self, order_id):
        return self._call("GET", f"/orders/{int(order_id)}")


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------

def account_for(organisation, create=False):
    """The organisation's HelloAsso settings row (None when never configured and not ``create``)."""
    account = db.session.scalar(select(HelloAssoAccount).where(HelloAssoAccount.organisation_id == organisation.id))
    if account is None and create:
        account = HelloAssoAccount(organisation_id=organisation.id, enabled=False, client_id="",
                                   organisation_slug="", sandbox=False)
        db.session.add(account)
        db.session.flush()
    return account


def is_enabled(organisation):
    """True when members may pay online: connected, switched on."""
    account = account_for(organisation)
    return account is not None and account.active


def save_account(organisation, client_id, client_secret, organisation_slug, sandbox=False, enabled=True):
    """Save the HelloAsso settings. An empty ``client_secret`` keeps the saved one."""
    account = account_for(organisation, create=True)
    client_id = (client_id or "").strip()
    organisation_slug = (organisation_slug or "").strip().strip("/").lower()
    if "/" in organisation_slug or " " in organisation_slug:
        raise MembershipError("Le nom court HelloAsso est la partie de l'adresse après /associations/ "
                              "(par exemple « cpts-du-pays-blanc »).")
    if client_secret and client_secret.strip():
        account.client_secret_encrypted = encrypt_secret(client_secret.strip())
    if enabled and not (client_id and organisation_slug and account.client_secret_encrypted):
        raise MembershipError("Pour activer le paiement en ligne, indiquez l'identifiant du client API, son secret "
                              "et le nom court de l'association sur HelloAsso.")
    account.client_id, account.organisation_slug = client_id, organisation_slug
    account.sandbox, account.enabled = bool(sandbox), bool(enabled)
    account.last_error = None
    db.session.flush()
    return account


def client_for(account):
    """An API client for ``account`` (the transport can be replaced by ``HELLOASSO_TRANSPORT``)."""
    if not account.configured:
        raise HelloAssoError("Le paiement en ligne HelloAsso n'est pas configuré pour cette organisation.")
    return HelloAssoClient(account.client_id, decrypt_secret(account.client_secret_encrypted),
                           sandbox=account.sandbox, transport=current_app.config.get("HELLOASSO_TRANSPORT"))


def check_connection(account):
    """Fetch a token: raises ``HelloAssoError`` with the reason when the credentials are wrong."""
    try:
        client_for(account).token()
    except HelloAssoError as exc:
        account.last_error = str(exc)[:500]
        raise
    account.last_error = None


# --------------------------------------------------------------------------------------------
# Checkout
# --------------------------------------------------------------------------------------------

def cents(amount):
    return int((Decimal(amount) * 100).to_integral_value())


def from_cents(value):
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def _payer(party):
    payer = {"email": party.email}
    if getattr(party, "last_name", None):
        payer.update(firstName=party.first_name or party.last_name, lastName=party.last_name)
    elif getattr(party, "name", None):
        payer["companyName"] = party.name[:255]
    if party.address and party.postcode and party.commune:
        payer.update(address=party.address, zipCode=party.postcode, city=party.commune, country="FRA")
    return {key: value for key, value in payer.items() if value}


def create_checkout(membership, return_url, error_url, back_url, user=None):
    """Ask HelloAsso to collect the membership's balance; returns the stored ``HelloAssoCheckout``.

    The member is then sent to ``checkout.redirect_url``. Nothing is recorded as paid here.
    """
    organisation = membership.organisation
    account = account_for(organisation)
    if account is None or not account.active:
        raise HelloAssoError("Le paiement en ligne n'est pas proposé par cette organisation.")
    if membership.status not in OPEN_STATUSES:
        raise MembershipError("Cette adhésion n'attend aucun paiement.")
    amount = membership.balance
    if amount <= 0:
        raise MembershipError("Il ne reste rien à payer sur cette adhésion.")
    body = {
        "totalAmount": cents(amount),
        "initialAmount": cents(amount),
        "itemName": f"Cotisation {membership.period.label} — {organisation.name}"[:250],
        "backUrl": back_url,
        "errorUrl": error_url,
        "returnUrl": return_url,
        "containsDonation": False,
        "payer": _payer(membership.party),
        "metadata": {"membership_id": membership.id, "organisation": organisation.slug,
                     "reference": membership.payment_reference},
    }
    answer = client_for(account).create_checkout_intent(account.organisation_slug, body)
    intent_id, redirect_url = answer.get("id"), answer.get("redirectUrl")
    if not intent_id or not redirect_url:
        raise HelloAssoError("HelloAsso n'a pas créé le paiement (réponse incomplète). Réessayez plus tard.")
    checkout = HelloAssoCheckout(organisation_id=organisation.id, membership_id=membership.id,
                                 checkout_intent_id=int(intent_id), amount=amount, redirect_url=redirect_url[:500],
                                 status=CheckoutStatus.CREATED, created_by_id=current_actor_id(user))
    db.session.add(checkout)
    db.session.flush()
    return checkout


def checkout_of(organisation, checkout_intent_id):
    return db.session.scalar(select(HelloAssoCheckout).where(
        HelloAssoCheckout.organisation_id == organisation.id,
        HelloAssoCheckout.checkout_intent_id == checkout_intent_id))


# --------------------------------------------------------------------------------------------
# Notifications and orders
# --------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What processing an order did: ``recorded`` (payments added), ``duplicate`` (already
    recorded), ``unmatched`` (kept for the treasurer), ``pending`` (not paid yet), ``ignored``
    (not an order), ``rejected`` (forged or inconsistent: nothing recorded)."""

    status: str
    message: str = ""
    payments: tuple = ()
    membership: Membership | None = None


def order_id_of(payload):
    """The order id a notification names (``Order``: ``data.id``; ``Payment``: ``data.order.id``),
    or None for other events. The rest of the body is ignored on purpose."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ValueError("not a HelloAsso notification")
    event, data = payload.get("eventType"), payload["data"]
    if event == "Order":
        value = data.get("id")
    elif event == "Payment":
        value = (data.get("order") or {}).get("id")
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise ValueError("no order id")
    return int(value)


def handle_notification(organisation, payload):
    """Process a notification addressed to ``organisation``: fetch the order it names again."""
    account = account_for(organisation)
    if account is None or not account.active:
        log.warning("HelloAsso notification for %s, which has no active HelloAsso account: ignored",
                    organisation.slug)
        return Outcome("ignored", "HelloAsso n'est pas activé.")
    order_id = order_id_of(payload)
    if order_id is None:
        return Outcome("ignored", f"Événement {payload.get('eventType')!r} sans commande.")
    return process_order(organisation, order_id, account=account)


def _parse_date(value):
    try:
        return datetime.fromisoformat(str(value)).date()
    except (TypeError, ValueError):
        return date.today()


def _payer_name(order):
    payer = order.get("payer") or {}
    name = " ".join(p for p in (payer.get("firstName"), payer.get("lastName")) if p)
    return (name or payer.get("company") or "")[:200] or None


def _reject(organisation, order_id, reason):
    log.warning("HelloAsso order %s for %s rejected: %s", order_id, organisation.slug, reason)
    return Outcome("rejected", reason)


def process_order(organisation, order_id, account=None):
    """Fetch order ``order_id`` from HelloAsso and record what it paid. Idempotent."""
    account = account or account_for(organisation)
    client = client_for(account)
    try:
        order = client.get_order(order_id)
    except HelloAssoNotFound:
        return _reject(organisation, order_id, "commande inconnue de HelloAsso")
    if str(order.get("id")) != str(order_id):
        return _reject(organisation, order_id, "la commande renvoyée n'est pas celle demandée")
    if (order.get("organizationSlug") or "").lower() != account.organisation_slug.lower():
        return _reject(organisation, order_id, f"commande d'une autre association ({order.get('organizationSlug')})")
    paid = [p for p in order.get("payments") or [] if p.get("state") in PAID_STATES and int(p.get("amount") or 0) > 0]
    if not paid:
        return Outcome("pending", "Aucun paiement autorisé sur cette commande pour l'instant.")
    total = sum(int(p["amount"]) for p in paid)
    intent_id = order.get("checkoutIntentId")
    checkout = checkout_of(organisation, int(intent_id)) if intent_id else None
    if checkout is not None:
        return _record_checkout_order(organisation, account, client, order, paid, total, checkout)
    return _record_without_checkout(organisation, order, paid, total,
                                    "paiement HelloAsso hors adhésion en ligne" if not intent_id
                                    else "intention de paiement inconnue")


def _record_checkout_order(organisation, account, client, order, paid, total, checkout):
    order_id = order.get("id")
    # The metadata we sent is only given back with the checkout intent: fetch it too.
    intent = client.get_checkout_intent(account.organisation_slug, checkout.checkout_intent_id)
    metadata = intent.get("metadata") or {}
    if str(metadata.get("membership_id")) != str(checkout.membership_id):
        return _reject(organisation, order_id, f"métadonnées de l'intention {checkout.checkout_intent_id} "
                                               f"({metadata!r}) différentes de l'adhésion {checkout.membership_id}")
    order_total = int((order.get("amount") or {}).get("total") or 0)
    if total != cents(checkout.amount) or order_total != cents(checkout.amount):
        return _reject(organisation, order_id, f"montant {total} c (commande {order_total} c) au lieu de "
                                               f"{cents(checkout.amount)} c demandés")
    membership = checkout.membership
    try:
        recorded = _record_payments(membership, order, paid)
    except MembershipError as exc:
        # A cancelled or exempt membership: the money is real, the treasurer decides.
        return _record_without_checkout(organisation, order, paid, total, str(exc))
    if checkout.status is not CheckoutStatus.PAID:  # a notification of an order already recorded: stays paid
        move(checkout, CheckoutStatus.PAID)
    checkout.order_id = int(order_id)
    db.session.flush()
    return Outcome("recorded" if recorded else "duplicate", payments=tuple(recorded), membership=membership)


def _record_payments(membership, order, paid):
    """Record each authorized payment once (idempotency key ``helloasso:<payment id>``)."""
    recorded = []
    for payment in paid:
        try:
            recorded.append(services.record_payment(
                membership, from_cents(payment["amount"]), PaymentMethod.HELLOASSO, paid_on=_parse_date(payment.get("date")),
                reference=f"HelloAsso {payment.get('id')}", payer_name=_payer_name(order),
                note=f"Commande HelloAsso {order.get('id')}", source=SOURCE,
                idempotency_key=f"{SOURCE}:{payment.get('id')}"))
        except DuplicateSubmission:
            continue
    return recorded


def _membership_by_email(organisation, email, total):
    """The only open membership of the organisation whose member has ``email`` and owes ``total``."""
    from backoffice.people.models import Party

    if not email:
        return None
    found = list(db.session.scalars(select(Membership).join(Party, Membership.party_id == Party.id).where(
        Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES),
        func.lower(Party.email) == email.strip().lower())))
    fits = [m for m in found if cents(m.balance) == total]
    return fits[0] if len(fits) == 1 else None


def _already_recorded(organisation, key):
    return db.session.scalar(select(MembershipPayment.id).where(
        MembershipPayment.organisation_id == organisation.id, MembershipPayment.idempotency_key == key)) is not None


def _record_without_checkout(organisation, order, paid, total, reason):
    """An order of ours that names no checkout intent: match by the payer's e-mail and amount,
    else keep it in the unmatched list."""
    email = (order.get("payer") or {}).get("email")
    keys = [f"{SOURCE}:{p.get('id')}" for p in paid]
    if all(_already_recorded(organisation, key) for key in keys):
        return Outcome("duplicate")
    membership = _membership_by_email(organisation, email, total)
    if membership is not None:
        try:
            recorded = _record_payments(membership, order, paid)
        except MembershipError as exc:
            reason = str(exc)
        else:
            return Outcome("recorded" if recorded else "duplicate", payments=tuple(recorded), membership=membership)
    added = []
    for payment in paid:
        external_id = str(payment.get("id"))
        if _already_recorded(organisation, f"{SOURCE}:{external_id}") or db.session.scalar(
                select(UnmatchedPayment.id).where(UnmatchedPayment.organisation_id == organisation.id,
                                                  UnmatchedPayment.source == SOURCE,
                                                  UnmatchedPayment.external_id == external_id)):
            continue
        items = ", ".join(i.get("name") or i.get("type") or "" for i in order.get("items") or [])
        row = UnmatchedPayment(
            organisation_id=organisation.id, source=SOURCE, external_id=external_id, order_id=str(order.get("id")),
            amount=from_cents(payment["amount"]), paid_on=_parse_date(payment.get("date")),
            payer_name=_payer_name(order), payer_email=(email or "")[:200] or None,
            label=(items or order.get("formSlug") or "")[:250] or None, reason=reason[:250],
            details=order, status=UnmatchedStatus.OPEN)
        db.session.add(row)
        added.append(row)
    db.session.flush()
    if added:
        log.info("HelloAsso order %s of %s kept as unmatched: %s", order.get("id"), organisation.slug, reason)
        return Outcome("unmatched", reason)
    return Outcome("duplicate")


# --------------------------------------------------------------------------------------------
# Unmatched payments
# --------------------------------------------------------------------------------------------

def unmatched_query(organisation, status=UnmatchedStatus.OPEN):
    query = select(UnmatchedPayment).where(UnmatchedPayment.organisation_id == organisation.id)
    if status is not None:
        query = query.where(UnmatchedPayment.status == UnmatchedStatus(status))
    return query.order_by(UnmatchedPayment.paid_on.desc(), UnmatchedPayment.id.desc())


def open_unmatched_count(organisation):
    return db.session.scalar(select(func.count()).select_from(UnmatchedPayment).where(
        UnmatchedPayment.organisation_id == organisation.id, UnmatchedPayment.status == UnmatchedStatus.OPEN))


def resolve_unmatched(unmatched, membership, user=None):
    """Attach an unmatched payment to ``membership``: the payment is recorded (HelloAsso) once."""
    if unmatched.status is not UnmatchedStatus.OPEN:
        raise MembershipError("Ce paiement a déjà été traité.")
    if membership.organisation_id != unmatched.organisation_id:
        raise MembershipError("Cette adhésion n'appartient pas à l'organisation.")
    try:
        payment = services.record_payment(
            membership, unmatched.amount, PaymentMethod.HELLOASSO, paid_on=unmatched.paid_on,
            reference=f"HelloAsso {unmatched.external_id}", payer_name=unmatched.payer_name,
            note=f"Commande HelloAsso {unmatched.order_id} (rapprochée à la main)", source=SOURCE,
            idempotency_key=unmatched.idempotency_key, user=user)
    except DuplicateSubmission as exc:
        payment = exc.payment
    move(unmatched, UnmatchedStatus.RESOLVED, by=user)
    unmatched.membership_id, unmatched.payment_id = membership.id, payment.id
    unmatched.resolved_by_id, unmatched.resolved_at = getattr(user, "id", None), utcnow()
    db.session.flush()
    return payment


def dismiss_unmatched(unmatched, user=None):
    """Not a membership fee (a donation, another form): kept for the record, out of the list."""
    if unmatched.status is not UnmatchedStatus.OPEN:
        raise MembershipError("Ce paiement a déjà été traité.")
    move(unmatched, UnmatchedStatus.DISMISSED, by=user)
    unmatched.resolved_by_id, unmatched.resolved_at = getattr(user, "id", None), utcnow()
    db.session.flush()
    return unmatched


def confirm_return(checkout):
    """The member is back from HelloAsso: ask HelloAsso (not the URL's parameters) whether the
    intent has an order, and process it now rather than waiting for the notification."""
    organisation = checkout.membership.organisation
    account = account_for(organisation)
    if checkout.status is CheckoutStatus.PAID:
        return Outcome("duplicate", membership=checkout.membership)
    intent = client_for(account).get_checkout_intent(account.organisation_slug, checkout.checkout_intent_id)
    order_id = (intent.get("order") or {}).get("id")
    if not order_id:
        return Outcome("pending", "HelloAsso n'a pas encore confirmé le paiement.")
    return process_order(organisation, int(order_id), account=account)
