"""Signing in: passwords (argon2id) with lock-out after repeated failures."""
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from backoffice.auth.models import Role, RoleAssignment, User
from backoffice.extensions import db, login_manager
from backoffice.models import utcnow

_hasher = PasswordHasher()


class AuthError(Exception):
    """Signing in failed; the message is French and safe to show."""


def hash_password(password):
    return _hasher.hash(password)


def find_user_by_email(email):
    return db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))


def authenticate(email, password):
    """The user whose password this is, or ``AuthError``.

    After ``MAX_FAILED_LOGINS`` wrong passwords the account is locked for
    ``LOCKOUT_MINUTES``; the message never says whether the address exists.
    """
    generic = AuthError("Adresse e-mail ou mot de passe incorrect.")
    user = find_user_by_email(email)
    if user is None or not user.password_hash or not user.active:
        _hasher.hash(password or "")  # same cost whether or not the account exists
        raise generic
    now = utcnow()
    if user.locked_until and _aware(user.locked_until) > now:
        raise AuthError("Trop de tentatives : ce compte est verrouillé temporairement. Réessayez dans quelques minutes.")
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= current_app.config["MAX_FAILED_LOGINS"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
            user.failed_logins = 0
        raise generic from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def _aware(moment):
    # SQLite hands back naive datetimes even for timezone-aware columns.
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def create_user(email, full_name, password=None, party=None):
    user = User(email=email.strip().lower(), full_name=full_name, party=party)
    if password:
        user.password_hash = hash_password(password)
    db.session.add(user)
    return user


def grant_role(user, organisation, role):
    role = Role(role)
    if role not in user.roles_in(organisation):
        user.roles.append(RoleAssignment(organisation=organisation, role=role))


@login_manager.user_loader
def load_user(user_id):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None
