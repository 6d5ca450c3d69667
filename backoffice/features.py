"""The feature registry: what each feature package contributes to the whole.

Each package ``backoffice/<feature>/`` that shows something to users has a ``feature.py``
declaring ``FEATURE = Feature(...)``; :func:`features` discovers them like blueprints
(``backoffice.feature_modules("feature")``), no import side effect, no list to edit.

A declaration says:

- ``kinds``: the organisation kinds it serves (CPTS, SISA, other associations). For the other
  kinds its menu entries and panels are not shown and its blueprints answer 404 with a French
  explanation (a SISA has no membership fees);
- ``menu``: its entries of the organisation's menu (label, endpoint, permission, order);
- ``panels``: its panels of the organisation's dashboard (a template included with
  ``panel_data``, what ``data(organisation)`` returned; None hides the panel);
- ``party_panels``: its panels of a person's or structure's page in the directory, the same
  way with ``data(organisation, party)`` (membership shows the person's memberships there,
  without the directory knowing membership);
- ``permissions``: the keys of ``backoffice.auth.permissions.PERMISSIONS`` (the one table of
  who may do what) that it uses: unknown keys fail at start-up;
- ``task_kinds``: the kinds of task it starts and who may download their result: a permission
  key, or a rule ``f(task, user) -> bool`` (:func:`requester_or`). A task of an undeclared
  kind cannot be downloaded by anyone.

See the ``## Feature registry`` section of backoffice/README.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Callable

from backoffice.organisations.models import OrganisationKind

ALL_KINDS = frozenset(OrganisationKind)
ASSOCIATIONS = frozenset(kind for kind in OrganisationKind if kind.is_association)


@dataclass(frozen=True)
class MenuEntry:
    label: str  # French, short: the bar must fit at 1 280 px for every role
    endpoint: str
    permission: str
    order: int = 100  # left to right
    group: str | None = None  # entries of a group share one drop-down (at its first entry's place)


@dataclass(frozen=True)
class MenuGroup:
    label: str
    entries: tuple[MenuEntry, ...]


@dataclass(frozen=True)
class Panel:
    template: str  # included by main/dashboard.html; it reads ``panel_data``
    permission: str
    data: Callable[[Any], Any] | None = None  # f(organisation); None (the result) hides the panel
    order: int = 100  # top to bottom


@dataclass(frozen=True)
class TaskKind:
    key: str  # Task.kind, e.g. "accounting.export"
    download: str | Callable[[Any, Any], bool]  # a permission key, or f(task, user) -> bool


@dataclass(frozen=True)
class Feature:
    name: str  # the package's name
    label: str  # French, in messages (« Adhésions »)
    kinds: frozenset = ALL_KINDS
    blueprints: tuple[str, ...] = ()  # blueprint names (a nested one as "parent.child")
    menu: tuple[MenuEntry, ...] = ()
    panels: tuple[Panel, ...] = ()
    party_panels: tuple[Panel, ...] = ()  # data(organisation, party)
    permissions: frozenset[str] = frozenset()
    task_kinds: tuple[TaskKind, ...] = ()
    # f(organisation, year) -> [accounting ClosingCheck]: what the feature leaves to do before the
    # fiscal year closes (grants: funding not carried in fonds dédiés), shown on the accounting's
    # closing checklist without the accounting importing the feature.
    closing_checks: tuple[Callable[[Any, int], Any], ...] = ()
    # fn(bank_account, by=None) -> lines reconciled: a feature's own matching of statement lines
    # (by its references, its batches), run by banking's automatic reconciliation before its
    # generic amount-and-date pass.
    bank_matchers: tuple = ()

    def serves(self, organisation) -> bool:
        return organisation.kind in self.kinds


def requester_or(permission):
    """A download rule: the user who asked for the task (a member's own receipt), or a holder
    of ``permission`` in the task's organisation."""
    def rule(task, user):
        return task.requested_by_id == user.id or permission in granted_permissions(task.organisation, user)

    rule.permission = permission
    return rule


@cache
def features() -> tuple[Feature, ...]:
    """Every declared feature, by package name."""
    from backoffice import feature_modules

    return tuple(module.FEATURE for module in feature_modules("feature"))


def bank_matchers(organisation) -> list:
    """The ``bank_matchers`` of the features ``organisation`` uses."""
    return [matcher for feature in features() if feature.serves(organisation) for matcher in feature.bank_matchers]


@cache
def task_kinds() -> dict[str, TaskKind]:
    return {kind.key: kind for feature in features() for kind in feature.task_kinds}


@cache
def _feature_of_blueprint() -> dict[str, Feature]:
    return {name: feature for feature in features() for name in feature.blueprints}


def feature_of_blueprint(blueprint: str | None) -> Feature | None:
    """The feature that owns ``blueprint`` (or one of its parents), if any."""
    owners = _feature_of_blueprint()
    while blueprint:
        if blueprint in owners:
            return owners[blueprint]
        blueprint = blueprint.rpartition(".")[0]
    return None


def granted_permissions(organisation, user) -> frozenset[str]:
    """The permissions ``user`` holds in ``organisation``, computed once per request."""
    from flask import g, has_app_context

    from backoffice.auth.permissions import PERMISSIONS, roles_of

    if organisation is None or user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    key = (organisation.id, user.id)
    cached = g.setdefault("_granted_permissions", {}) if has_app_context() else {}
    if key not in cached:
        roles = roles_of(user, organisation)
        cached[key] = frozenset(name for name, allowed in PERMISSIONS.items() if roles & allowed)
    return cached[key]


def may_download(task, user) -> bool:
    """Whether ``user`` may download the result of ``task`` (see ``Feature.task_kinds``)."""
    kind = task_kinds().get(task.kind)
    if kind is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    if isinstance(kind.download, str):
        return kind.download in granted_permissions(task.organisation, user)
    return bool(kind.download(task, user))


def closing_checks(organisation, year) -> list:
    """The closing checklist items of the features serving ``organisation`` for fiscal ``year``."""
    return [check for feature in features() if feature.serves(organisation)
            for function in feature.closing_checks for check in function(organisation, year)]


def menu(organisation, user) -> list[MenuEntry | MenuGroup]:
    """The organisation's menu for ``user``: the entries of the features serving its kind whose
    permission he holds, in order; entries of a group gathered in a :class:`MenuGroup` (unless
    he sees only one of them)."""
    if organisation is None:
        return []
    granted = granted_permissions(organisation, user)
    entries = sorted((entry for feature in features() if feature.serves(organisation)
                      for entry in feature.menu if entry.permission in granted), key=lambda e: e.order)
    grouped = {}
    for entry in entries:
        grouped.setdefault(entry.group or entry, []).append(entry)
    return [MenuGroup(key, tuple(members)) if isinstance(key, str) and len(members) > 1 else members[0]
            for key, members in grouped.items()]


def panels(organisation, user) -> list[tuple[Panel, Any]]:
    """``(panel, its data)`` of the dashboard, for ``user``, in order; a panel whose data is None
    is left out (nothing to show yet)."""
    return _shown(organisation, user, "panels", organisation)


def party_panels(organisation, user, party) -> list[tuple[Panel, Any]]:
    """``(panel, its data)`` of ``party``'s directory page, for ``user``, in order (as :func:`panels`)."""
    return _shown(organisation, user, "party_panels", organisation, party)


def _shown(organisation, user, attribute, *data_args):
    granted = granted_permissions(organisation, user)
    shown = []
    for panel in sorted((panel for feature in features() if feature.serves(organisation)
                         for panel in getattr(feature, attribute) if panel.permission in granted),
                        key=lambda p: p.order):
        data = panel.data(*data_args) if panel.data is not None else {}
        if data is not None:
            shown.append((panel, data))
    return shown


def check(app, declared=None) -> None:
    """Fail at start-up on a declaration (default: every feature's) that names an unknown
    permission, endpoint or blueprint, or a task kind declared twice."""
    from backoffice.auth.permissions import PERMISSIONS

    seen_kinds = set()
    for feature in declared if declared is not None else features():
        used = set(feature.permissions) | {e.permission for e in feature.menu} | {
            p.permission for p in feature.panels + feature.party_panels}
        used |= {k.download if isinstance(k.download, str) else getattr(k.download, "permission", None)
                 for k in feature.task_kinds} - {None}
        unknown = used - set(PERMISSIONS)
        if unknown:
            raise LookupError(f"feature {feature.name}: unknown permissions {sorted(unknown)}")
        undeclared = used - set(feature.permissions)
        if undeclared:
            raise LookupError(f"feature {feature.name}: add {sorted(undeclared)} to its permissions")
        for entry in feature.menu:
            if entry.endpoint not in app.view_functions:
                raise LookupError(f"feature {feature.name}: no endpoint {entry.endpoint!r} for « {entry.label} »")
        for name in set(feature.blueprints) - _blueprint_names(app):
            raise LookupError(f"feature {feature.name}: no blueprint {name!r}")
        for kind in feature.task_kinds:
            if kind.key in seen_kinds:
                raise LookupError(f"task kind {kind.key!r} is declared twice")
            seen_kinds.add(kind.key)


def _blueprint_names(app):
    """Every blueprint's full name, nested ones included (``self_service.member``)."""
    return {rule.endpoint.rpartition(".")[0] for rule in app.url_map.iter_rules()}
