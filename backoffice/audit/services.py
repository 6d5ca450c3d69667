"""The audit trail: every change to an audited model is recorded in the same transaction.

A model opts in with ``__audited__ = True`` (and may hide columns with
``__audit_exclude__``). Recording happens in a flush hook, so no service can
forget it and a rolled-back change leaves no trace.
"""
import contextlib
import contextvars
import enum
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from backoffice.audit.models import AuditEntry
from backoffice.models import utcnow

# Set by jobs and CLI commands, which have no signed-in user (``acting_as``).
acting_user_id = contextvars.ContextVar("acting_user_id", default=None)


@contextlib.contextmanager
def acting_as(user_id):
    """Within the block, changes are recorded (audit rows, ``created_by``) in the name of
    ``user_id`` when no user is signed in: the task runner runs a job as its requester."""
    token = acting_user_id.set(user_id)
    try:
        yield
    finally:
        acting_user_id.reset(token)


def current_actor_id(user=None):
    """Who is acting: ``user`` if given, else the signed-in user of the request, else the user
    a job or command acts for (``acting_as``); None for the system. For ``created_by`` columns."""
    if user is not None:
        return user.id
    return _current_user_id()


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _current_user_id():
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.id
    return acting_user_id.get()


def _columns(obj):
    excluded = getattr(obj, "__audit_exclude__", set()) | {"created_at", "updated_at"}
    return [c for c in inspect(obj).mapper.column_attrs if c.key not in excluded]


def _snapshot(obj):
    return {attr.key: _jsonable(getattr(obj, attr.key)) for attr in _columns(obj)}


def _changes(obj):
    state = inspect(obj)
    before, after = {}, {}
    for attr in _columns(obj):
        history = state.attrs[attr.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _jsonable(old) != _jsonable(new):
                before[attr.key] = _jsonable(old)
                after[attr.key] = _jsonable(new)
    return before, after


def _organisation_id(obj):
    if obj.__tablename__ == "organisations":
        return obj.id
    return getattr(obj, "organisation_id", None)


def _entry(obj, action, before, after, user_id):
    return {
        "created_at": utcnow(),
        "user_id": user_id,
        "organisation_id": _organisation_id(obj),
        "action": action,
        "table_name": obj.__tablename__,
        "row_id": getattr(obj, "id", None),
        "summary": str(obj)[:250],
        "before": before,
        "after": after,
    }


def _is_audited(obj):
    return getattr(obj, "__audited__", False)


@event.listens_for(Session, "after_flush")
def _record_audit_entries(session, flush_context):
    user_id = _current_user_id()
    rows = []
    for obj in session.new:
        if _is_audited(obj):
            rows.append(_entry(obj, "create", None, _snapshot(obj), user_id))
    for obj in session.dirty:
        if _is_audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                rows.append(_entry(obj, "update", before, after, user_id))
    for obj in session.deleted:
        if _is_audited(obj):
            rows.append(_entry(obj, "delete", _snapshot(obj), None, user_id))
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def record_bulk_updates(changes):
    """Audit rows for changes a service wrote with one Core ``UPDATE`` instead of the ORM's flush
    (which the ``after_flush`` hook above would have audited): ``changes`` is ``[(obj, before,
    after)]``, ``obj`` as it is after the change, ``before``/``after`` ``{column: value}``. The
    same rows as a flush would record, in one statement."""
    user_id = _current_user_id()
    rows = [_entry(obj, "update", {key: _jsonable(value) for key, value in before.items()},
                   {key: _jsonable(value) for key, value in after.items()}, user_id)
            for obj, before, after in changes if _is_audited(obj)]
    if rows:
        from backoffice.extensions import db

        db.session.connection().execute(insert(AuditEntry.__table__), rows)
    return len(rows)
