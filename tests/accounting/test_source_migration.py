"""Migration 0016: the sources of posted entries are renamed to their table, the guards stay."""
import importlib.util
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from backoffice.accounting import db_guards
from backoffice.accounting.models import JournalEntry
from backoffice.accounting.services import post_event
from backoffice.extensions import db

MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "0016_accounting_sources_namespaced_by_table.py"


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0016", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(step):
    with Operations.context(MigrationContext.configure(db.session.connection())):
        step()
    db.session.expire_all()


def test_the_copied_sqlite_trigger_is_the_guard_of_this_revision():
    assert _migration().SQLITE_FROZEN_TRIGGER in db_guards.statements("sqlite")


def test_posted_sources_are_renamed_and_stay_frozen(books, member):
    old = ["membership:7", "membership:7:31", "payment:9", "cheque_deposit:2", "demo:cpts:ars-2026",
           "bank:1", "membership_payments:4"]
    for n, source in enumerate(old):
        post_event(books, "fee_due", amount=Decimal("10.00"), entry_date=date(2026, 1, n + 1), party=member,
                   piece_ref=f"P{n}", label="Cotisation de Zoé Ménard", source=source)
    db.session.flush()

    def sources():
        return list(db.session.scalars(select(JournalEntry.source).where(
            JournalEntry.organisation_id == books.id).order_by(JournalEntry.entry_date)))

    migration = _migration()
    _run(migration.upgrade)
    assert sources() == ["memberships:7", "memberships:7:31", "membership_payments:9",
                         "membership_cheque_deposits:2", "demo:cpts:ars-2026", "bank:1", "membership_payments:4"]
    with pytest.raises(DatabaseError, match="ne peut plus être modifiée"):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE accounting_entries SET source = 'x' WHERE source = 'bank:1'"))
    _run(migration.downgrade)
    assert sources()[:5] == old[:5]
