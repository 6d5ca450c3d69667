"""accounting: closing a fiscal year — definitive entry numbers, what the closing keeps (labels,
FEC fingerprint), FEC exports marked definitive or provisional, and the triggers that freeze a
closed fiscal year (no entry or line dated in it may be inserted, changed, lettered or deleted;
a closed year's row may be neither changed nor deleted)

The triggers' SQL is copied from backoffice/accounting/db_guards.py (``closed_year_statements``)
as it is at this revision.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION accounting_closed_year_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF TG_TABLE_NAME = 'accounting_entries' THEN
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = OLD.organisation_id AND p.kind = 'year' AND OLD.entry_date BETWEEN p.start_date AND p.end_date)) OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = NEW.organisation_id AND p.kind = 'year' AND NEW.entry_date BETWEEN p.start_date AND p.end_date)) THEN
      RAISE EXCEPTION 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.' USING ERRCODE = 'check_violation';
    END IF;
  ELSE
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = OLD.entry_id)) OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = NEW.entry_id)) THEN
      RAISE EXCEPTION 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.' USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$guard$""",
    """DROP TRIGGER IF EXISTS accounting_entries_closed_year ON accounting_entries""",
    """CREATE TRIGGER accounting_entries_closed_year BEFORE INSERT OR UPDATE OR DELETE ON accounting_entries
FOR EACH ROW EXECUTE FUNCTION accounting_closed_year_guard()""",
    """DROP TRIGGER IF EXISTS accounting_lines_closed_year ON accounting_lines""",
    """CREATE TRIGGER accounting_lines_closed_year BEFORE INSERT OR UPDATE OR DELETE ON accounting_lines
FOR EACH ROW EXECUTE FUNCTION accounting_closed_year_guard()""",
    """CREATE OR REPLACE FUNCTION accounting_closings_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF OLD.kind = 'year' THEN
    RAISE EXCEPTION 'Clôture d''exercice définitive : elle ne peut être ni modifiée ni supprimée.' USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$guard$""",
    """DROP TRIGGER IF EXISTS accounting_closed_periods_final ON accounting_closed_periods""",
    """CREATE TRIGGER accounting_closed_periods_final BEFORE UPDATE OR DELETE ON accounting_closed_periods
FOR EACH ROW EXECUTE FUNCTION accounting_closings_guard()""",
]

_SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_closed_year_insert BEFORE INSERT ON accounting_entries
WHEN EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = NEW.organisation_id AND p.kind = 'year' AND NEW.entry_date BETWEEN p.start_date AND p.end_date)
BEGIN SELECT RAISE(ABORT, 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_closed_year_update BEFORE UPDATE ON accounting_entries
WHEN EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = OLD.organisation_id AND p.kind = 'year' AND OLD.entry_date BETWEEN p.start_date AND p.end_date) OR EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = NEW.organisation_id AND p.kind = 'year' AND NEW.entry_date BETWEEN p.start_date AND p.end_date)
BEGIN SELECT RAISE(ABORT, 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_closed_year_delete BEFORE DELETE ON accounting_entries
WHEN EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = OLD.organisation_id AND p.kind = 'year' AND OLD.entry_date BETWEEN p.start_date AND p.end_date)
BEGIN SELECT RAISE(ABORT, 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_lines_closed_year_insert BEFORE INSERT ON accounting_lines
WHEN EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = NEW.entry_id)
BEGIN SELECT RAISE(ABORT, 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_lines_closed_year_update BEFORE UPDATE ON accounting_lines
WHEN EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = OLD.entry_id) OR EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = NEW.entry_id)
BEGIN SELECT RAISE(ABORT, 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_lines_closed_year_delete BEFORE DELETE ON accounting_lines
WHEN EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = OLD.entry_id)
BEGIN SELECT RAISE(ABORT, 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_closed_periods_final_update BEFORE UPDATE ON accounting_closed_periods
WHEN OLD.kind = 'year'
BEGIN SELECT RAISE(ABORT, 'Clôture d''exercice définitive : elle ne peut être ni modifiée ni supprimée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_closed_periods_final_delete BEFORE DELETE ON accounting_closed_periods
WHEN OLD.kind = 'year'
BEGIN SELECT RAISE(ABORT, 'Clôture d''exercice définitive : elle ne peut être ni modifiée ni supprimée.'); END""",
]

GUARDS = {"postgresql": _POSTGRESQL, "sqlite": _SQLITE}
DROP_GUARDS = {'postgresql': ['DROP TRIGGER IF EXISTS accounting_closed_periods_final ON accounting_closed_periods', 'DROP TRIGGER IF EXISTS accounting_lines_closed_year ON accounting_lines', 'DROP TRIGGER IF EXISTS accounting_entries_closed_year ON accounting_entries', 'DROP FUNCTION IF EXISTS accounting_closings_guard()', 'DROP FUNCTION IF EXISTS accounting_closed_year_guard()'], 'sqlite': ['DROP TRIGGER IF EXISTS accounting_entries_closed_year_insert', 'DROP TRIGGER IF EXISTS accounting_entries_closed_year_update', 'DROP TRIGGER IF EXISTS accounting_entries_closed_year_delete', 'DROP TRIGGER IF EXISTS accounting_lines_closed_year_insert', 'DROP TRIGGER IF EXISTS accounting_lines_closed_year_update', 'DROP TRIGGER IF EXISTS accounting_lines_closed_year_delete', 'DROP TRIGGER IF EXISTS accounting_closed_periods_final_update', 'DROP TRIGGER IF EXISTS accounting_closed_periods_final_delete']}


def upgrade():
    op.add_column('accounting_entries', sa.Column('final_number', sa.Integer(), nullable=True))
    op.create_index('uq_accounting_entries_org_year_final_number', 'accounting_entries',
                    ['organisation_id', 'fiscal_year', 'final_number'], unique=True)
    op.add_column('accounting_closed_periods', sa.Column('fiscal_year', sa.Integer(), nullable=True))
    op.add_column('accounting_closed_periods', sa.Column('entry_count', sa.Integer(), nullable=True))
    op.add_column('accounting_closed_periods', sa.Column('fec_sha256', sa.String(length=64), nullable=True))
    op.add_column('accounting_closed_periods', sa.Column('labels', sa.JSON(), nullable=True))
    op.add_column('accounting_exports', sa.Column('definitive', sa.Boolean(), server_default=sa.text('false'),
                                                  nullable=False))
    for statement in GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for statement in DROP_GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('accounting_exports', schema=None) as batch_op:
        batch_op.drop_column('definitive')
    with op.batch_alter_table('accounting_closed_periods', schema=None) as batch_op:
        batch_op.drop_column('labels')
        batch_op.drop_column('fec_sha256')
        batch_op.drop_column('entry_count')
        batch_op.drop_column('fiscal_year')
    op.drop_index('uq_accounting_entries_org_year_final_number', table_name='accounting_entries')
    # A plain DROP COLUMN (SQLite 3.35+), not a batch rebuild: rebuilding accounting_entries drops
    # the table its lines point at, which SQLite's foreign keys refuse once there are entries.
    op.drop_column('accounting_entries', 'final_number')
