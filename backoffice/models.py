"""Shared model helpers: timestamps and the money type."""
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlalchemy.orm import Mapped, mapped_column

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
