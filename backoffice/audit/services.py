"""The audit trail: every change to an audited model is recorded in the same transaction.

A model opts in with ``__audited__ = True`` (and may hide columns with
``__audit_exclude__``). Recording happens in a flush hook, so no service can
forget it and a rolled-back change leaves no trace.
"""
import contextlib
import contextvars
import enum
import functools
import json
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context
from sqlalchemy import event, insert, inspect, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE

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


@functools.cache
def _audited_keys(model):
    """The audited columns of ``model``, in the mapper's order (asked for every object of every
    flush: a workbook import flushes tens of thousands)."""
    excluded = getattr(model, "__audit_exclude__", set()) | {"created_at", "updated_at"}
    return tuple(c.key for c in inspect(model).column_attrs if c.key not in excluded)


def _columns(obj):
    return _audited_keys(type(obj))


def _snapshot(obj):
    return {key: _jsonable(getattr(obj, key)) for key in _columns(obj)}


def _changes(obj):
    state = inspect(obj)
    # Only an attribute set since the object was loaded or flushed has a history: its value
    # then is kept in ``committed_state`` (the other columns are not even looked at).
    touched = state.committed_state
    before, after = {}, {}
    for key in _columns(obj):
        if key not in touched:
            continue
        # What ``state.attrs[key].history`` gives, without building every attribute's state.
        history = state.get_history(key, PASSIVE_NO_INITIALIZE)
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _jsonable(old) != _jsonable(new):
                before[key] = _jsonable(old)
                after[key] = _jsonable(new)
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
        if _is_audited(obj):  # an object with no column changed has no ``after``: no row
            before, after = _changes(obj)
            if after:
                rows.append(_entry(obj, "update", before, after, user_id))
    for obj in session.deleted:
        if _is_audited(obj):
            rows.append(_entry(obj, "delete", _snapshot(obj), None, user_id))
    _insert(session.connection(), rows)


_COLUMNS = {"created_at": "timestamptz", "user_id": "integer", "organisation_id": "integer", "action": "text",
            "table_name": "text", "row_id": "integer", "summary": "text", "before": "json", "after": "json"}


def _insert(connection, rows):
    """Write the audit rows ``rows`` (``_entry``'s dicts), in order, in one statement. On
    PostgreSQL an executemany is still a statement per row for the server (a round trip each in
    psycopg's pipeline, and an import audits tens of thousands of rows): the rows go as one JSON
    document (``json_to_recordset``), ``before`` and ``after`` written as SQLAlchemy's JSON type
    writes them (the same text; None the JSON null)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql" or len(rows) == 1:
        connection.execute(insert(AuditEntry.__table__), rows)
        return
    names = ", ".join(_COLUMNS)
    columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
    picked = ", ".join(f"coalesce(r.{name}, 'null'::json)" if kind == "json" else f"r.{name}"
                       for name, kind in _COLUMNS.items())
    document = json.dumps([{**row, "created_at": row["created_at"].isoformat()} for row in rows])
    connection.execute(text(
        f"INSERT INTO {AuditEntry.__tablename__} ({names}) SELECT {picked} "
        f"FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS ({columns})) WITH ORDINALITY "
        f"AS r({names}, row_number_) ORDER BY r.row_number_"), {"rows": document})


def record_bulk_creates(objects):
    """Audit rows for new objects a service inserted with Core statements instead of the ORM's
    flush (``models.insert_objects``): the rows the ``after_flush`` hook above would have
    recorded for them, in one statement."""
    user_id = _current_user_id()
    rows = [_entry(obj, "create", None, _snapshot(obj), user_id) for obj in objects if _is_audited(obj)]
    from backoffice.extensions import db

    _insert(db.session.connection(), rows)
    return len(rows)


def pending_changes(obj):
    """``(obj, before, after)``: what the ``after_flush`` hook above would audit of the changes
    made to ``obj`` since it was loaded or flushed (``after`` empty: nothing to record), for
    ``record_bulk_updates`` once they are written otherwise (``models.update_objects``)."""
    before, after = _changes(obj)
    return obj, before, after


def record_bulk_updates(changes):
    """Audit rows for changes a service wrote with one Core ``UPDATE`` instead of the ORM's flush
    (which the ``after_flush`` hook above would have audited): ``changes`` is ``[(obj, before,
    after)]``, ``obj`` as it is after the change, ``before``/``after`` ``{column: value}``. The
    same rows as a flush would record, in one statement."""
    user_id = _current_user_id()
    rows = [_entry(obj, "update", {key: _jsonable(value) for key, value in before.items()},
                   {key: _jsonable(value) for key, value in after.items()}, user_id)
            for obj, before, after in changes if _is_audited(obj)]
    from backoffice.extensions import db

    _insert(db.session.connection(), rows)
    return len(rows)
