"""Who may do what, in one table, and the decorators that enforce it.

Organisation-scoped blueprints live under ``/o/<org>/``: ``org_blueprint``
loads the organisation from the URL into ``g.organisation`` (404 if unknown)
and ``permission_required`` answers 403 unless the signed-in user holds a
role in that organisation that grants the permission.
"""
import unicodedata
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, g, request
from flask_login import current_user
from sqlalchemy import select

from backoffice.auth.models import STAFF_ROLES, Role
from backoffice.extensions import db, login_manager
from backoffice.models import UnscopedModelError, organisation_id_of, scope_of

A, T, B, C, M = Role.ADMIN, Role.TREASURER, Role.BOARD, Role.ACCOUNTANT, Role.MEMBER

PERMISSIONS = {
    "dashboard.view": STAFF_ROLES,
    "organisation.edit": {A},
    "organisation.logo": STAFF_ROLES | {M},
    "users.manage": {A},
    "audit.view": {A},
    "people.view": {A, T, B},
    "people.edit": {A, T},
    "people.import": {A, T},
    "tasks.view": STAFF_ROLES,
    "documents.generate": {A, T},
    "documents.templates": {A, T},
    "accounting.view": {A, T, B, C},
    "accounting.edit": {A, T},
    "accounting.export": {A, T, C},
    "accounting.settings": {A, T},
    "accounting.close": {A, T},  # closing a fiscal year: irreversible
    "membership.view": {A, T, B},
    "membership.manage": {A, T},
    "banking.manage": {A, T},
    "assemblies.view": {A, T, B},
    "assemblies.manage": {A, T, B},  # board members and the treasurer run assemblies
    "self.service": {M},
    "sisa.view": {A, T, B, C},
    "sisa.manage": {A, T},
    "sisa.self": {M},
    "grants.view": {A, T, B, C},
    "grants.decide": {A, T, B},
    "grants.manage": {A, T},
    "grants.apply": {M},
}


def roles_of(user, organisation):
    if user is None or not user.is_authenticated or organisation is None:
        return set()
    return user.roles_in(organisation)


def can(permission, organisation=None, user=None):
    """True if ``user`` (default: signed in) holds ``permission`` in ``organisation`` (default: current)."""
    organisation = organisation if organisation is not None else g.get("organisation")
    user = user if user is not None else current_user
    return bool(roles_of(user, organisation) & PERMISSIONS[permission])


def permission_required(permission):
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorator


def org_blueprint(name, import_name, **kwargs):
    """A blueprint whose routes all live under ``/o/<org>/`` and see ``g.organisation``."""
    from backoffice.organisations.models import Organisation

    bp = Blueprint(name, import_name, url_prefix="/o/<org>" + kwargs.pop("url_prefix", ""), **kwargs)

    @bp.url_value_preprocessor
    def load_organisation(endpoint, values):
        slug = values.pop("org", None)
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        if organisation is None:
            abort(404)
        g.organisation = organisation

    @bp.url_defaults
    def add_organisation(endpoint, values):
        if "org" not in values and g.get("organisation") is not None:
            values["org"] = g.organisation.slug

    return bp


def get_or_404(model, ident, organisation=None):
    """Load a row of the current organisation, or answer 404.

    Rows of another organisation answer 404 too, so that identifiers of other
    organisations' data cannot be probed. A child row is checked through its parent
    (``__scoped_through__``); a model that declares no scope, or a global one, raises
    :class:`~backoffice.models.UnscopedModelError` before anything is loaded: a
    forgotten scope fails the tests instead of showing another organisation's row.
    """
    if scope_of(model) not in ("column", "through"):
        raise UnscopedModelError(f"{model.__name__} is not scoped by organisation: get_or_404 cannot check it "
                                 "(load a shared row with db.get_or_404).")
    obj = db.session.get(model, ident)
    organisation = organisation if organisation is not None else g.get("organisation")
    if obj is None or (organisation is not None and organisation_id_of(obj) != organisation.id):
        abort(404)
    return obj


def safe_next_url(default):
    """The ``next`` parameter if it is a path of this site, else ``default``."""
    target = request.args.get("next") or request.form.get("next")
    return target if is_local_path(target) else default


def is_local_path(target):
    """True if a browser would resolve ``target`` to a path of this site, and nothing else.

    Browsers drop tabs and line breaks anywhere in a URL, trim control characters, read ``\\``
    as ``/`` and some decode ``%09`` or fold look-alike slashes (``／``): ``/\\t/evil.example``
    goes to evil.example. So any control or invisible character, a backslash, a scheme or a
    host, in the text as given, percent-decoded or folded to compatibility form (NFKC), is
    refused rather than cleaned up: a link of ours never has them.
    """
    if not target or not isinstance(target, str):
        return False
    for form in {target, unquote(target), unicodedata.normalize("NFKC", unquote(target))}:
        if any(unicodedata.category(char) in _INVISIBLE for char in form) or "\\" in form:
            return False
        if not form.startswith("/") or form.startswith("//"):
            return False
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return False
    return True


# Control (tab, line breaks, NUL…), format (zero-width, bidirectional overrides),
# line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
