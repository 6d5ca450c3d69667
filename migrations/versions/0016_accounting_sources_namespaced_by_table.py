"""accounting: the sources of automatic entries start with their table (memberships:42,
membership_payments:17, membership_cheque_deposits:3), so that two features never collide

``source`` is the idempotency key of an automatic entry, not part of the books (the FEC and the
reports never show it), but the guard triggers freeze every column of a posted entry: they are
lifted for the rename only, in this migration's transaction. The SQL of the SQLite trigger is
copied from backoffice/accounting/db_guards.py as it was at this revision.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

#: old prefix → new prefix (the table of the row the entry books).
RENAMES = (
    ("membership:", "memberships:"),
    ("payment:", "membership_payments:"),
    ("cheque_deposit:", "membership_cheque_deposits:"),
)

SQLITE_FROZEN_TRIGGER = """CREATE TRIGGER IF NOT EXISTS accounting_entries_frozen BEFORE UPDATE ON accounting_entries
WHEN OLD.status = 'posted' AND (NEW.status IS NOT OLD.status OR NEW.organisation_id IS NOT OLD.organisation_id OR NEW.journal_id IS NOT OLD.journal_id OR NEW.fiscal_year IS NOT OLD.fiscal_year OR NEW.number IS NOT OLD.number OR NEW.entry_date IS NOT OLD.entry_date OR NEW.piece_ref IS NOT OLD.piece_ref OR NEW.piece_date IS NOT OLD.piece_date OR NEW.label IS NOT OLD.label OR NEW.event IS NOT OLD.event OR NEW.source IS NOT OLD.source OR NEW.reversal_of_id IS NOT OLD.reversal_of_id)
BEGIN SELECT RAISE(ABORT, 'Écriture comptabilisée : elle ne peut plus être modifiée ; passez une écriture de contre-passation.'); END"""


def _rename(pairs):
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE accounting_entries DISABLE TRIGGER accounting_entries_guard")
    else:
        op.execute("DROP TRIGGER IF EXISTS accounting_entries_frozen")
    for old, new in pairs:
        # substr() and not LIKE: "_" is a LIKE wildcard, and the comparison is exact.
        op.execute(
            f"UPDATE accounting_entries SET source = '{new}' || substr(source, {len(old) + 1}) "
            f"WHERE substr(source, 1, {len(old)}) = '{old}'")
    if postgresql:
        op.execute("ALTER TABLE accounting_entries ENABLE TRIGGER accounting_entries_guard")
    else:
        op.execute(SQLITE_FROZEN_TRIGGER)


def upgrade():
    _rename(RENAMES)


def downgrade():
    _rename([(new, old) for old, new in RENAMES])
