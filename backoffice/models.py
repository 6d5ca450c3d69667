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
