"""Member self-service: accounts of members, what a member sees, renewal, contact details.

A member signs in with a single-use link (``backoffice.auth``); their ``User`` is linked to
their ``Party`` (``User.party_id``) and holds the role ``member`` in each organisation they
belong to. :func:`ensure_member_account` creates it when a membership is created for a party
with an e-mail address (the membership core calls the registered created hook).

Services flush, never commit; they raise ``MembershipError`` / ``PortalError`` with French
messages.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from backoffice.auth.models import Role, User
from backoffice.auth.services import create_user, find_user_by_email, grant_role, new_nonce, signed_link_user
from backoffice.extensions import db
from backoffice.formatting import format_money
from backoffice.mail.services import external_url, render_mail
from backoffice.membership import helloasso, receipts, services
from backoffice.membership.models import MembershipStatus
from backoffice.membership.services import MembershipError

log = logging.getLogger(__name__)

EMAIL_CHANGE_SALT = "maillage.member.email-change"
EMAIL_CHANGE_MAX_AGE = 24 * 3600


class PortalError(MembershipError):
    """A member's request was refused; French message (``field`` names the form field)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------

def ensure_member_account(party, organisation):
    """The account of ``party`` with the role member in ``organisation`` (created if needed).

    None when the party has no e-mail address, or when its address belongs to an account
    already linked to another party (we never hand someone else's account over).
    """
    email = (party.email or "").strip().lower()
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.party_id == party.id).order_by(User.id).limit(1))
    if user is None:
        user = find_user_by_email(email)
        if user is not None and user.party_id not in (None, party.id):
            log.warning("party %s: the account %s belongs to party %s; no member account", party.id, user.id,
                        user.party_id)
            return None
        if user is None:
            user = create_user(email, party.display_name, party=party)
        else:
            user.party = party
    grant_role(user, organisation, Role.MEMBER)
    db.session.flush()
    return user


def on_membership_created(membership):
    """Created hook of the membership core: the member gets an account (no mail is sent).

    Never breaks the membership: a failure (two creations racing for one address) is logged.
    """
    try:
        with db.session.begin_nested():
            ensure_member_account(membership.party, membership.organisation)
    except Exception:  # noqa: BLE001 - the membership matters more; the account comes next time
        log.exception("could not give party %s a member account", membership.party_id)


def ensure_member_accounts(parties, organisation):
    """``ensure_member_account`` for many parties, in order, with a few queries for them all."""
    from sqlalchemy import func
    from sqlalchemy.orm import selectinload

    parties = [party for party in parties if (party.email or "").strip()]
    ids = sorted({party.id for party in parties})
    emails = sorted({party.email.strip().lower() for party in parties})
    by_party, by_email, owners = {}, {}, {}
    for start in range(0, max(len(ids), len(emails)), 500):
        for user in db.session.scalars(select(User).where(User.party_id.in_(ids[start:start + 500]))
                                       .options(selectinload(User.roles)).order_by(User.id)):
            by_party.setdefault(user.party_id, user)
        for user in db.session.scalars(select(User).where(func.lower(User.email).in_(emails[start:start + 500]))
                                       .options(selectinload(User.roles))):
            by_email[user.email.lower()] = user
            owners[user.email.lower()] = user.party_id
    for party in parties:
        email = party.email.strip().lower()
        user = by_party.get(party.id)
        if user is None:
            user = by_email.get(email)
            if user is not None and owners.get(email) not in (None, party.id):
                log.warning("party %s: the account %s belongs to party %s; no member account", party.id, user.id,
                            owners.get(email))
                continue
            if user is None:
                user = by_email[email] = create_user(email, party.display_name, party=party)
            else:
                user.party = party
            owners[email], by_party[party.id] = party.id, user
        grant_role(user, organisation, Role.MEMBER)
    db.session.flush()


def on_memberships_created(memberships):
    """``on_membership_created`` for the memberships an import creates at once; if that fails,
    one by one (each failure logged, as there)."""
    if not memberships:
        return
    try:
        with db.session.begin_nested():
            ensure_member_accounts([m.party for m in memberships], memberships[0].organisation)
    except Exception:  # noqa: BLE001 - the memberships matter more; each one is tried on its own
        log.exception("could not give the imported members their accounts at once; one by one")
        for membership in memberships:
            on_membership_created(membership)


def member_organisations(user):
    """Organisations where ``user`` holds the role member, by name."""
    return sorted({a.organisation for a in user.roles if a.role == Role.MEMBER}, key=lambda o: o.name)


# --------------------------------------------------------------------------------------------
# What a member sees
# --------------------------------------------------------------------------------------------

@dataclass
class OrganisationOverview:
    """One organisation as its member sees it."""

    organisation: object
    history: list
    renewable: list = field(default_factory=list)    # [(period, suggested category)]
    receipts: dict = field(default_factory=dict)      # membership id → receipt
    online_payment: bool = False

    @property
    def current(self):
        return self.history[0] if self.history else None

    @property
    def open_memberships(self):
        return [m for m in self.history if m.is_open]

    def owed_sentence(self, period):
        """What the member still owes on earlier memberships, told to him as he renews for ``period``."""
        return owed_sentence(owed_before(self.history, period))


def owed_before(history, period):
    return [m for m in history if m.is_open and m.balance > 0 and m.period.year < period.year]


def owed_sentence(memberships) -> str | None:
    """« Il vous reste 20,00 € à régler sur votre adhésion 2025. » (None when nothing is owed)."""
    if not memberships:
        return None
    first, *others = [(format_money(m.balance), m.period.label) for m in memberships]
    rest = "".join(f" et {amount} sur votre adhésion {label}" for amount, label in others)
    return f"Il vous reste {first[0]} à régler sur votre adhésion {first[1]}{rest}."


def overview(user, organisation, today=None):
    """History, renewable periods, receipts of ``user``'s party in ``organisation``."""
    party = user.party
    if party is None:
        return OrganisationOverview(organisation, [])
    history = services.membership_history(organisation, party)
    # A cancelled membership does not close the period: renewing reinstates it.
    joined = {m.period_id for m in history if m.status is not MembershipStatus.CANCELLED}
    renewable = []
    for period in services.renewal_periods(organisation, today):
        if period.id not in joined:
            services.ensure_grid(period)
            renewable.append((period, services.suggest_category(party, period)))
    return OrganisationOverview(organisation, history, renewable,
                                receipts.receipts_by_membership([m.id for m in history]),
                                helloasso.is_enabled(organisation))


def own_membership(user, membership):
    """True if ``membership`` is the signed-in member's own (else the view answers 404)."""
    return user.party_id is not None and membership.party_id == user.party_id


def renew(user, organisation, period, today=None):
    """Renew ``user``'s membership for ``period`` with the suggested category (amount from the grid);
    returns ``(membership, credit used)``.

    A cancelled membership of the period is reinstated (the core does it); a second renewal
    for the same period raises the core's French message. The member's credit (an overpayment
    of another year) pays what it can of the new fee.
    """
    party = user.party
    if party is None:
        raise PortalError("Votre compte n'est relié à aucune fiche d'adhérent : contactez le trésorier.")
    if period.organisation_id != organisation.id:
        raise PortalError("Cette période n'appartient pas à l'organisation.")
    if period.id not in {p.id for p in services.renewal_periods(organisation, today)}:
        raise PortalError(f"Le renouvellement {period.label} n'est pas ouvert.")
    services.ensure_grid(period)
    category = services.suggest_category(party, period)
    if category is None:
        raise PortalError(f"La grille de cotisations {period.label} n'est pas encore fixée : "
                          "contactez le trésorier.")
    previous = services.membership_history(organisation, party)
    college = next((m.college for m in previous if m.college is not None), None)
    if college is None:
        college = services.suggest_college(party, services.colleges(organisation))
    membership = services.create_membership(organisation, party, period, category=category, college=college,
                                            source="self_service")
    return membership, services.apply_available_credit(membership, user=user)


@dataclass
class PaymentInstructions:
    membership: object
    amount: object
    iban: str | None
    bic: str | None
    payee: str
    address_lines: list
    online: bool


def payment_instructions(membership):
    organisation = membership.organisation
    city_line = f"{organisation.postcode or ''} {organisation.city or ''}".strip()
    return PaymentInstructions(
        membership=membership, amount=membership.balance, iban=_group(organisation.iban), bic=organisation.bic,
        payee=organisation.name, address_lines=[line for line in (organisation.address, city_line) if line],
        online=helloasso.is_enabled(organisation))


def _group(iban):
    """``FR7630004000031234567890143`` → ``FR76 3000 4000 0312 3456 7890 143``."""
    if not iban:
        return None
    compact = iban.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def downloadable_receipt(user, membership):
    """The member's own receipt, if it can be downloaded."""
    if not own_membership(user, membership) or membership.status is not MembershipStatus.PAID:
        return None
    receipt = receipts.receipt_of(membership)
    return receipt if receipts.downloadable(receipt) else None


# --------------------------------------------------------------------------------------------
# Contact details
# --------------------------------------------------------------------------------------------

def update_contact(party, phone=None, address=None, postcode=None, commune=None):
    """Phone and postal address of the member (values already cleaned by the form)."""
    party.phone = phone or None
    party.address = (address or "").strip()[:200] or None
    party.postcode = postcode or None
    party.commune = (commune or "").strip()[:100] or None
    db.session.flush()
    return party


def _email_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EMAIL_CHANGE_SALT)


def request_email_change(user, new_email):
    """Send a confirmation link to ``new_email`` (queued: it leaves after the caller's commit);
    nothing changes until it is opened.

    The link carries the current address: once the address changed (by this link or another),
    every older link is worthless.
    """
    from backoffice.mail.services import queue_mail

    new_email = (new_email or "").strip().lower()
    if new_email == (user.email or "").lower():
        raise PortalError("C'est déjà votre adresse e-mail.", "email")
    other = find_user_by_email(new_email)
    if other is not None and other.id != user.id:
        raise PortalError("Cette adresse e-mail est déjà utilisée par un autre compte.", "email")
    token = _email_serializer().dumps({"user": user.id, "old": user.email.lower(), "new": new_email})
    subject, body = render_mail("member_portal/mail/email_change.txt", user=user, new_email=new_email,
                                url=external_url("self_service.confirm_email", token=token), hours=24)
    queue_mail(new_email, subject, body, user=user)
    return new_email


def email_change_from_token(token):
    """(user, new e-mail) of a confirmation link, or ``PortalError``."""
    user, payload = signed_link_user(_email_serializer(), token, EMAIL_CHANGE_MAX_AGE, error=PortalError,
                                     expired="Ce lien a expiré : demandez à nouveau le changement d'adresse.")
    if not hmac.compare_digest(str(payload.get("old", "")), (user.email or "").lower()):
        raise PortalError("Ce lien a déjà servi, ou l'adresse a changé depuis.")
    return user, payload["new"]


def confirm_email_change(token):
    """Apply a confirmed change: the new address replaces the old one on the account and on the
    member's record (``Party``)."""
    user, new_email = email_change_from_token(token)
    other = find_user_by_email(new_email)
    if other is not None and other.id != user.id:
        raise PortalError("Cette adresse e-mail est déjà utilisée par un autre compte.")
    user.email = new_email
    user.login_nonce = new_nonce()  # sign-in links sent to the old address are void
    if user.party is not None:
        user.party.email = new_email
    db.session.flush()
    return user



services.register_created_hook(on_membership_created, many=on_memberships_created)
