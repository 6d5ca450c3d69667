"""Shared model helpers: timestamps, the money type, the organisation scoping, and the bulk
writes of an import (``insert_rows`` / ``update_rows`` and their ORM forms ``insert_objects`` /
``update_objects``, audited as a flush would; ``among`` for long ``IN`` lists)."""
import json
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import JSON, DateTime, Numeric, insert, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE

# Every amount of money in the product: exact decimals, never floats.
Money = Numeric(12, 2, asdecimal=True)
ZERO = Decimal("0.00")


def utcnow():
    return datetime.now(timezone.utc)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


def insert_unless_present(model, **values):
    """``INSERT … ON CONFLICT DO NOTHING`` of one ``model`` row, on PostgreSQL and SQLite (e.g. a
    counter row created on first use, then locked ``FOR UPDATE``)."""
    from backoffice.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return db.session.execute(insert(model).values(**values).on_conflict_do_nothing())


def among(column, values):
    """``column IN values`` for a long list of ``values`` (an import's hundreds), the values
    written in the statement itself on PostgreSQL. With hundreds of parameters, the same query
    run again (the chunks of a list, a file previewed again) is soon a prepared statement for
    psycopg, whose generic plan compares each row with the list of parameters one by one (some
    70 ms a query at 5,000 people, 4 ms with the values); written out, even a prepared statement
    looks them up in a hash. The values are rendered by the column's type (quoted, escaped)."""
    from sqlalchemy import String, bindparam
    from sqlalchemy.types import NullType

    from backoffice.extensions import db

    values = list(values)
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    # An expression of no declared type (``func.lower(email)``) compares text.
    kind = String() if isinstance(column.type, NullType) else column.type
    return column.in_(bindparam(None, values, type_=kind, expanding=True, literal_execute=True))


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"insert_rows: no JSON form for {type(value).__name__}")


def insert_rows(table, rows):
    """Insert ``rows`` (dicts with the same keys, column names of ``table``) in one statement and
    return their new ids, in the order of ``rows``. On PostgreSQL the rows go as one JSON
    document (``json_to_recordset``): the ORM's multi-row ``VALUES`` has a parameter per cell,
    which psycopg parses in Python (some 25 µs each) and the server plans again at each page.
    The ids are given in the rows' order there (the ``ORDER BY`` of the ``INSERT … SELECT``), as
    SQLAlchemy's own ``insertmanyvalues`` relies on. On SQLite, an executemany (the driver runs
    it row by row, in process)."""
    from backoffice.extensions import db

    if not rows:
        return []
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return list(connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                       rows).scalars())
    names, declared, document = _json_document(connection, table, rows)
    result = connection.execute(text(
        f"INSERT INTO {connection.dialect.identifier_preparer.quote(table.name)} ({names}) SELECT {names} "
        f"FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS ({declared})) WITH ORDINALITY "
        f"AS r({names}, row_number_) ORDER BY r.row_number_ RETURNING id"), {"rows": document})
    return sorted(result.scalars())


def update_rows(table, rows):
    """Update the rows of ``table`` whose ids ``rows`` give (dicts with the same keys: ``id`` and
    the column names to set) in one statement. On PostgreSQL the rows go as one JSON document
    (``insert_rows``): an executemany is still a statement per row for the server, a round trip
    each in psycopg's pipeline. On SQLite, an executemany (in process)."""
    from sqlalchemy import bindparam, update

    from backoffice.extensions import db

    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        # A bound parameter may not take a column's name: each one gets a final underscore.
        connection.execute(update(table).where(table.c.id == bindparam("id_"))
                           .values({name: bindparam(f"{name}_") for name in rows[0] if name != "id"}),
                           [{f"{name}_": value for name, value in row.items()} for row in rows])
        return
    quote = connection.dialect.identifier_preparer.quote
    names, declared, document = _json_document(connection, table, rows)
    assignments = ", ".join(f"{quote(name)} = r.{quote(name)}" for name in rows[0] if name != "id")
    connection.execute(text(
        f"UPDATE {quote(table.name)} AS t SET {assignments} "
        f"FROM json_to_recordset(CAST(:rows AS json)) AS r({declared}) WHERE t.id = r.id"), {"rows": document})


def _json_document(connection, table, rows):
    """``(names, declared columns, JSON document)`` of ``rows`` for ``json_to_recordset``, each
    value as the column's type binds it (an enum's value, say)."""
    quote = connection.dialect.identifier_preparer.quote
    dialect = connection.dialect
    processors = {}
    for name in rows[0]:
        column_type = table.c[name].type
        if column_type._type_affinity is JSON:
            raise TypeError(f"insert_rows: {table.name}.{name} is JSON (its None would be the JSON null)")
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)  # an enum's value, say
        if processor is not None:
            processors[name] = processor
    if processors:
        rows = [{name: processors[name](value) if name in processors and value is not None else value
                 for name, value in row.items()} for row in rows]
    names = ", ".join(quote(name) for name in rows[0])
    declared = ", ".join(f"{quote(name)} {table.c[name].type.compile(dialect=dialect)}" for name in rows[0])
    return names, declared, json.dumps(rows, default=_json_value)


_UNSET = object()


def insert_objects(objects):
    """Insert new objects of one model (not in the session) with ``insert_rows`` and make them
    detached rows (``make_transient_to_detached``), as if loaded, for the caller to add to the
    session once every table is written (adding one cascades to its related new objects): their
    ids, the columns' Python defaults and the foreign keys of their many-to-one relationships
    (``party=…``, whose objects must have their ids) are set on them, as a flush would; no
    mapper event runs (none may be listened to for these models). Returns them. Audit them
    with ``audit.services.record_bulk_creates``."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import MANYTOONE, make_transient_to_detached

    if not objects:
        return objects
    mapper = inspect(type(objects[0]))
    columns = [(mapper.get_property_by_column(column).key, column) for column in mapper.local_table.c
               if not column.primary_key]
    # What a flush takes from the many-to-one relationships set on the objects (``party=…``).
    references = [(relationship.key, [(mapper.get_property_by_column(local).key, remote)
                                      for local, remote in relationship.local_remote_pairs])
                  for relationship in mapper.relationships if relationship.direction is MANYTOONE]
    rows = []
    for obj in objects:
        for key, pairs in references:
            if key in obj.__dict__:
                target = obj.__dict__[key]
                for local, remote in pairs:
                    setattr(obj, local, None if target is None else
                            getattr(target, inspect(target).mapper.get_property_by_column(remote).key))
        row = {}
        for key, column in columns:
            value = obj.__dict__.get(key, _UNSET)
            if value is _UNSET:
                if column.server_default is not None:
                    raise ValueError(f"insert_objects: {column} has a server default the object does not set")
                default = column.default
                value = None if default is None else default.arg(None) if default.is_callable else default.arg
                setattr(obj, key, value)
            row[column.name] = value
        rows.append(row)
    for obj, row_id in zip(objects, insert_rows(mapper.local_table, rows)):
        obj.id = row_id
        make_transient_to_detached(obj)
    # Added as rows already there, they are no new objects of the transaction to the session,
    # which would keep them after a rollback takes their rows back (and SQLite gives their ids
    # to the next rows): forgotten then, as a flush's new objects are.
    from backoffice.transactions import on_rollback

    on_rollback(lambda: _expunge(objects))
    return objects


def _expunge(objects):
    from backoffice.extensions import db

    session = db.session()
    for obj in objects:
        if obj in session:
            session.expunge(obj)


def update_objects(objects):
    """Write what was changed through the ORM (``move()`` included) on flushed ``objects`` of one
    model with ``update_rows`` — a statement per set of changed columns, not one per object as a
    flush — and leave them as written: their ``onupdate`` columns (``updated_at``) set as a flush
    sets them, the changes audited as the flush would have audited them
    (``audit.services.record_bulk_updates``). Only column changes: a changed relationship is
    refused (``ValueError``). Returns how many objects had changes."""
    from sqlalchemy import inspect
    from sqlalchemy.orm.attributes import set_committed_value

    from backoffice.audit.services import pending_changes, record_bulk_updates

    objects = list(objects)
    if not objects:
        return 0
    mapper = inspect(type(objects[0]))
    columns = {prop.key: prop.columns[0] for prop in mapper.column_attrs}
    touched = [column for column in mapper.local_table.c if column.onupdate is not None]
    groups, changes = {}, []
    for obj in objects:
        state = inspect(obj)
        keys = tuple(key for key in columns if key in state.committed_state
                     and state.get_history(key, PASSIVE_NO_INITIALIZE).has_changes())
        if any(key not in columns and state.get_history(key, PASSIVE_NO_INITIALIZE).has_changes()
               for key in state.committed_state):
            raise ValueError(f"update_objects: a relationship of {obj!r} changed")
        if keys:
            changes.append(pending_changes(obj))
            groups.setdefault(keys, []).append(obj)
    now = utcnow()
    for keys, members in groups.items():
        names = [columns[key].name for key in keys] + [column.name for column in touched]
        rows = [dict(zip(["id"] + names, [obj.id] + [getattr(obj, key) for key in keys] + [now] * len(touched)))
                for obj in members]
        update_rows(mapper.local_table, rows)
        for obj in members:
            for key in keys:
                set_committed_value(obj, key, getattr(obj, key))
            for column in touched:
                set_committed_value(obj, mapper.get_property_by_column(column).key, now)
    record_bulk_updates([change for change in changes if change[2]])
    return len(changes)


def import_all_models():
    """Import every feature's models so that metadata (and Alembic) sees them all."""
    from backoffice import feature_modules, lifecycle  # noqa: F401 - lifecycle holds status_changes

    feature_modules("models")


# --- Organisation scoping ------------------------------------------------------------------
# Every row belongs to one organisation, and a view must never show another organisation's.
# A model says how it is scoped, in one of three ways:
#   - an ``organisation_id`` column (most tables);
#   - ``__scoped_through__ = "<relationship>"``: a child row (a ballot of a resolution, a line
#     of a file) reaches its organisation through its parent;
#   - ``__global__ = True``: shared by every organisation (the directory of people, accounts).
# tests/foundation/test_scoping.py walks every model and fails on one that says nothing.

class UnscopedModelError(TypeError):
    """A model was used as organisation-scoped but declares no scope (a programming error)."""


def scope_of(model):
    """``"column"``, ``"through"``, ``"global"`` or ``"organisation"`` (the Organisation itself);
    raises :class:`UnscopedModelError` for a model that declares none."""
    if getattr(model, "__tablename__", None) == "organisations":
        return "organisation"
    if hasattr(model, "organisation_id"):
        return "column"
    if getattr(model, "__scoped_through__", None):
        return "through"
    if getattr(model, "__global__", False):
        return "global"
    raise UnscopedModelError(
        f"{model.__name__} has no organisation_id: declare __scoped_through__ = '<parent relationship>' "
        "(a child row) or __global__ = True (shared by every organisation).")


def organisation_id_of(obj):
    """The id of the organisation ``obj`` belongs to (through its parents for a child row),
    None for a row not attached to any; raises for a global or undeclared model."""
    scope = scope_of(type(obj))
    if scope == "organisation":
        return obj.id
    if scope == "column":
        return obj.organisation_id
    if scope == "through":
        parent = getattr(obj, type(obj).__scoped_through__)
        return organisation_id_of(parent) if parent is not None else None
    raise UnscopedModelError(f"{type(obj).__name__} is shared by every organisation: it belongs to none.")
