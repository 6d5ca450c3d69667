"""Accounts: passwords (argon2id) with lock-out, single-use links by e-mail, invitations and roles.

Services flush, never commit: the view (or job) commits once. Mails are queued
(``queue_mail``) in that transaction and delivered by a job after its commit: a slow
mail server never holds the request.
"""
import hmac
import secrets
from datetime import timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from backoffice.auth.models import STAFF_ROLES, Role, RoleAssignment, User
from backoffice.errors import ServiceError
from backoffice.extensions import db, login_manager
from backoffice.mail.services import external_url, queue_mail
from backoffice.models import utcnow

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200

GENERIC_LOGIN_ERROR = (
    "Adresse e-mail ou mot de passe incorrect. Après {max} échecs successifs, "
    "le compte est verrouillé pendant {minutes} minutes."
)


class AuthError(ServiceError):
    """Signing in failed; the message is French and safe to show."""


class AccountError(ServiceError):
    """An account change was refused; the message is French and safe to show.

    ``field`` names the form field the message belongs next to, if any.
    """


class LinkError(ServiceError):
    """A link from an e-mail is forged, expired or already used; French message."""


# --- passwords -------------------------------------------------------------------------------

def hash_password(password):
    return _hasher.hash(password)


def check_password_strength(password, email=None):
    """Raise ``AccountError`` unless ``password`` is acceptable (12 characters at least)."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe ne peut pas dépasser {MAX_PASSWORD_LENGTH} caractères.", "password")
    if len(set(password)) < 4:
        raise AccountError("Le mot de passe est trop répétitif : variez les caractères.", "password")
    if email and password.strip().lower() == email.strip().lower():
        raise AccountError("Le mot de passe ne doit pas être votre adresse e-mail.", "password")


def find_user_by_email(email):
    return db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))


def authenticate(email, password):
    """The user whose password this is, or ``AuthError``.

    After ``MAX_FAILED_LOGINS`` wrong passwords the account is locked for
    ``LOCKOUT_MINUTES``. Unknown address, wrong password, account without
    password, inactive or locked account: the same message and the same
    hashing work, so that nobody learns whether an address has an account.
    """
    config = current_app.config
    generic = AuthError(GENERIC_LOGIN_ERROR.format(max=config["MAX_FAILED_LOGINS"], minutes=config["LOCKOUT_MINUTES"]))
    user = find_user_by_email(email)
    now = utcnow()
    if user is None or not user.password_hash or not user.active or (
        user.locked_until and _aware(user.locked_until) > now
    ):
        _hasher.hash(password or "")  # same cost whether or not the account exists
        raise generic
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= config["MAX_FAILED_LOGINS"]:
            user.locked_until = now + timedelta(minutes=config["LOCKOUT_MINUTES"])
            user.failed_logins = 0
        raise generic from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record_sign_in(user)
    return user


def record_sign_in(user):
    """Note a successful sign-in; the new nonce makes every link sent before it worthless."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    user.login_nonce = new_nonce()


def new_nonce():
    return secrets.token_hex(16)


def _aware(moment):
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def set_password(user, password):
    """Give ``user`` a new password (checked for strength); links sent before are void."""
    check_password_strength(password, user.email)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.login_nonce = new_nonce()


def change_password(user, current_password, new_password):
    """The signed-in user changes their own password; the current one is required if any."""
    if user.password_hash:
        try:
            _hasher.verify(user.password_hash, current_password or "")
        except (VerificationError, InvalidHashError):
            raise AccountError("Le mot de passe actuel est incorrect.", "current_password") from None
    set_password(user, new_password)


# --- signed links ----------------------------------------------------------------------------
# Each purpose has its own salt (a link of one kind is worthless as another) and
# its own lifetime. The payload holds the user's id and ``login_nonce``; the
# nonce changes at every sign-in and password change, which makes a link single-use.

LINK_PURPOSES = {
    "signin": ("maillage.auth.signin-link", "SIGNIN_LINK_MAX_AGE", 15 * 60),
    "invitation": ("maillage.auth.invitation", "INVITATION_LINK_MAX_AGE", 7 * 24 * 3600),
    "reset": ("maillage.auth.password-reset", "PASSWORD_RESET_LINK_MAX_AGE", 60 * 60),
}


def _serializer(purpose):
    salt = LINK_PURPOSES[purpose][0]
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def link_max_age(purpose):
    _, setting, default = LINK_PURPOSES[purpose]
    return int(current_app.config.get(setting, default))


def make_token(user, purpose):
    return _serializer(purpose).dumps({"user": user.id, "nonce": user.login_nonce or ""})


def signed_link_user(serializer, token, max_age, expired="Ce lien a expiré.", error=LinkError):
    """``(user, payload)`` of a signed link ``{"user": id, …}`` to an active account, or ``error``
    with a French message (expired, forged, unknown or deactivated account)."""
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise error(expired) from None
    except BadSignature:
        raise error("Ce lien n'est pas valable : il est incomplet ou a été modifié.") from None
    user = db.session.get(User, payload.get("user")) if isinstance(payload, dict) else None
    if user is None or not user.active:
        raise error("Ce lien n'est pas valable : le compte n'existe pas ou a été désactivé.")
    return user, payload


def user_from_token(token, purpose):
    """The active user a link was made for, or ``LinkError`` with a French message."""
    user, payload = signed_link_user(_serializer(purpose), token, link_max_age(purpose))
    if not hmac.compare_digest(str(payload.get("nonce", "")), user.login_nonce or ""):
        raise LinkError("Ce lien a déjà été utilisé, ou un lien plus récent l'a remplacé.")
    return user


def link_lifetime(purpose):
    """How long a link of ``purpose`` stays valid, in French words: "15 minutes", "7 jours"."""
    seconds = link_max_age(purpose)
    for unit, singular, plural in ((86400, "jour", "jours"), (3600, "heure", "heures")):
        if seconds >= unit and seconds % unit == 0:
            count = seconds // unit
            return f"{count} {singular if count == 1 else plural}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def _render_mail(template, **context):
    """(subject, body) of a plain-text mail template whose first line is the subject."""
    subject, _, body = render_template(template, **context).partition("\n")
    return subject.strip(), body.lstrip("\n")


def _link_mail(user, purpose, endpoint, template, **context):
    """Subject and body of a mail carrying a link for ``user``; the same work for a stand-in user."""
    url = external_url(endpoint, token=make_token(user, purpose))
    return _render_mail(template, user=user, url=url, lifetime=link_lifetime(purpose), **context)


def send_signin_link(user):
    """Send ``user`` an e-mail with a link that signs them in once, within ``SIGNIN_LINK_MAX_AGE``.

    For other features (membership creates members' accounts and may call it).
    The mail is queued: it leaves once the caller has committed.
    """
    subject, body = _link_mail(user, "signin", "auth.link_signin", "auth/mail/signin_link.txt")
    queue_mail(user.email, subject, body, user=user)


def send_password_link(user, purpose="invitation", organisation=None):
    """Send a link to choose a password: ``invitation`` (new account) or ``reset`` (forgotten)."""
    endpoint = "auth.accept_invitation" if purpose == "invitation" else "auth.reset_password"
    subject, body = _link_mail(user, purpose, endpoint, f"auth/mail/{purpose}.txt", organisation=organisation)
    queue_mail(user.email, subject, body, user=user)


def _request_link(email, send, purpose, endpoint, template):
    """Send a link to the account of ``email`` if there is an active one; same work otherwise."""
    user = find_user_by_email(email)
    if user is not None and user.active:
        send(user)
        return
    # Unknown address: build and render the same mail for a stand-in, then drop it,
    # so that the answer takes the same time.
    stand_in = User(id=0, email=(email or "").strip().lower(), full_name="", login_nonce=new_nonce())
    _link_mail(stand_in, purpose, endpoint, template, organisation=None)


def request_signin_link(email):
    """A sign-in link for ``email`` if it belongs to an active account; silent otherwise."""
    _request_link(email, send_signin_link, "signin", "auth.link_signin", "auth/mail/signin_link.txt")


def request_password_reset(email):
    """A link to choose a new password for ``email`` if it belongs to an active account."""
    _request_link(
        email, lambda user: send_password_link(user, "reset"), "reset", "auth.reset_password", "auth/mail/reset.txt"
    )


def sign_in_with_link(token):
    """The user a sign-in link was made for; the link can't be used again."""
    user = user_from_token(token, "signin")
    record_sign_in(user)
    return user


def set_password_with_link(token, purpose, password):
    """Choose a password from an invitation or reset link; signs in and voids the link."""
    user = user_from_token(token, purpose)
    set_password(user, password)
    record_sign_in(user)
    return user


# --- accounts and roles ----------------------------------------------------------------------

def create_user(email, full_name, password=None, party=None):
    user = User(email=email.strip().lower(), full_name=full_name, party=party, active=True, login_nonce=new_nonce())
    if password:
        user.password_hash = hash_password(password)
    db.session.add(user)
    return user


def grant_role(user, organisation, role):
    """Give ``user`` ``role`` in ``organisation`` (nothing if they hold it already)."""
    role = Role(role)
    for assignment in user.roles:
        if assignment.organisation_id == organisation.id and assignment.role == role:
            return assignment
    assignment = RoleAssignment(organisation=organisation, role=role)
    user.roles.append(assignment)
    return assignment


def assign_role(user, organisation, role):
    """``grant_role`` for an administrator's request: refuses an inactive account or a role already held."""
    role = Role(role)
    _check_can_receive(user, organisation, role)
    assignment = grant_role(user, organisation, role)
    db.session.flush()
    return assignment


def _check_can_receive(user, organisation, role):
    if not user.active:
        raise AccountError("Ce compte est désactivé : réactivez-le avant de lui donner un rôle.")
    if role in user.roles_in(organisation):
        raise AccountError(f"{user} a déjà le rôle « {role.label} » dans cette organisation.")


def active_admin_count(organisation):
    return db.session.scalar(
        select(func.count(func.distinct(RoleAssignment.user_id)))
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.organisation_id == organisation.id, RoleAssignment.role == Role.ADMIN, User.active.is_(True))
    )


def _ensure_not_last_admin(user, organisation, message):
    if user.active and Role.ADMIN in user.roles_in(organisation) and active_admin_count(organisation) <= 1:
        raise AccountError(message)


def revoke_role(user, organisation, role):
    """Take ``role`` in ``organisation`` away from ``user``; never the last administrator's."""
    role = Role(role)
    assignment = next(
        (a for a in user.roles if a.organisation_id == organisation.id and a.role == role), None
    )
    if assignment is None:
        raise AccountError(f"{user} n'a pas le rôle « {role.label} » dans cette organisation.")
    if role == Role.ADMIN:
        _ensure_not_last_admin(
            user, organisation,
            "Impossible de retirer le dernier rôle d'administrateur de l'organisation : "
            "attribuez d'abord ce rôle à une autre personne.",
        )
    user.roles.remove(assignment)
    db.session.delete(assignment)  # explicitly: the audit trail sees deletions, not orphans
    db.session.flush()


def invite_staff(organisation, email, full_name, role):
    """Give a staff role to ``email`` in ``organisation``, creating the account if needed.

    A new account has no password: it receives a link to choose one. An existing
    account receives a mail telling them about the new role.
    """
    role = Role(role)
    if role not in STAFF_ROLES:
        raise AccountError("Choisissez un rôle de l'équipe (administrateur, trésorier, bureau, expert-comptable).")
    user = find_user_by_email(email)
    if user is not None:
        _check_can_receive(user, organisation, role)
    else:
        user = create_user(email, full_name.strip())
    assign_role(user, organisation, role)
    if not user.password_hash:
        send_password_link(user, "invitation", organisation)
    else:
        subject, body = _render_mail("auth/mail/role_granted.txt", user=user, organisation=organisation, role=role,
                                     url=external_url("auth.login"))
        queue_mail(user.email, subject, body, user=user)
    return user


def _foreign_organisations(user, organisation, acting_user):
    """Organisations, other than this one, where ``user`` has a role and ``acting_user`` isn't admin."""
    return sorted(
        {
            a.organisation.name
            for a in user.roles
            if a.organisation_id != organisation.id and Role.ADMIN not in acting_user.roles_in(a.organisation)
        }
    )


def set_active(user, organisation, acting_user, active):
    """Deactivate (``active=False``) or reactivate an account, from ``organisation``'s admin pages.

    An account is shared by every organisation: it can only be switched off by
    someone who administers every organisation where it holds a role.
    """
    if user.active == active:
        return
    if not active:
        if user.id == acting_user.id:
            raise AccountError("Vous ne pouvez pas désactiver votre propre compte.")
        _ensure_not_last_admin(
            user, organisation,
            "Impossible de désactiver le dernier administrateur de l'organisation : "
            "attribuez d'abord ce rôle à une autre personne.",
        )
    others = _foreign_organisations(user, organisation, acting_user)
    if others:
        raise AccountError(
            "Ce compte a aussi des rôles dans d'autres organisations (" + ", ".join(others) + ") : "
            "seul un administrateur de chacune peut le " + ("réactiver." if active else "désactiver. Retirez-lui plutôt ses rôles ici.")
        )
    user.active = active
    user.login_nonce = new_nonce()  # links sent before are void
    db.session.flush()


def organisation_users(organisation, search=None, role=None):
    """A query of the accounts holding a role (``role`` if given) in ``organisation``, by name.

    ``search`` looks in the name and the e-mail address.
    """
    from sqlalchemy.orm import selectinload

    holders = select(RoleAssignment.user_id).where(RoleAssignment.organisation_id == organisation.id)
    if role:
        holders = holders.where(RoleAssignment.role == Role(role))
    query = (
        select(User)
        .where(User.id.in_(holders))
        .options(selectinload(User.roles))
        .order_by(func.lower(func.coalesce(func.nullif(User.full_name, ""), User.email)), User.id)
    )
    search = (search or "").strip()
    if search:
        search = search.lower()
        query = query.where(or_(
            func.lower(User.full_name).contains(search, autoescape=True),
            func.lower(User.email).contains(search, autoescape=True),
        ))
    return query


def organisation_user_or_none(organisation, user_id):
    """The account ``user_id`` if it holds a role in ``organisation``."""
    user = db.session.get(User, user_id)
    if user is None or not any(a.organisation_id == organisation.id for a in user.roles):
        return None
    return user


@login_manager.user_loader
def load_user(user_id):
    # Every page checks the user's roles (menus, permissions): loaded with the user, in one query.
    user = db.session.get(User, int(user_id), options=[joinedload(User.roles)])
    return user if user is not None and user.active else None
