"""accounting: the totals kept in advance — debit and credit per organisation, month, fiscal
year, account and auxiliary account of the posted lines (accounting_account_totals), added to by
a trigger when an entry is posted, and back-filled here from the books already posted; the
annual accounts read them instead of summing a year's lines

The trigger's and the back-fill's SQL are copied from backoffice/accounting/db_guards.py
(``totals_statements``, ``refill_totals_statements``) as they are at this revision.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

KEEP = {'postgresql': ["\nCREATE OR REPLACE FUNCTION accounting_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $keep$\nBEGIN\n  INSERT INTO accounting_account_totals AS t (organisation_id, month, fiscal_year, account_id, auxiliary_key, debit, credit)\n    SELECT NEW.organisation_id, date_trunc('month', NEW.entry_date)::date, NEW.fiscal_year, l.account_id,\n           coalesce(l.auxiliary_id, 0), sum(l.debit), sum(l.credit)\n      FROM accounting_lines l WHERE l.entry_id = NEW.id\n      GROUP BY l.account_id, coalesce(l.auxiliary_id, 0)\n  ON CONFLICT (organisation_id, month, fiscal_year, account_id, auxiliary_key)\n  DO UPDATE SET debit = t.debit + EXCLUDED.debit, credit = t.credit + EXCLUDED.credit;\n  RETURN NULL;\nEND\n$keep$", 'DROP TRIGGER IF EXISTS accounting_entries_totals ON accounting_entries', "CREATE TRIGGER accounting_entries_totals AFTER UPDATE ON accounting_entries\nFOR EACH ROW WHEN (OLD.status = 'draft' AND NEW.status = 'posted') EXECUTE FUNCTION accounting_totals_keep()"], 'sqlite': ["CREATE TRIGGER IF NOT EXISTS accounting_entries_totals AFTER UPDATE ON accounting_entries\nWHEN OLD.status = 'draft' AND NEW.status = 'posted'\nBEGIN\n  INSERT INTO accounting_account_totals (organisation_id, month, fiscal_year, account_id, auxiliary_key, debit, credit)\n    SELECT NEW.organisation_id, date(NEW.entry_date, 'start of month'), NEW.fiscal_year, account_id,\n           coalesce(auxiliary_id, 0), round(sum(debit), 2), round(sum(credit), 2)\n      FROM accounting_lines WHERE entry_id = NEW.id\n      GROUP BY account_id, coalesce(auxiliary_id, 0)\n  ON CONFLICT (organisation_id, month, fiscal_year, account_id, auxiliary_key)\n  DO UPDATE SET debit = round(debit + excluded.debit, 2), credit = round(credit + excluded.credit, 2);\nEND"]}
BACK_FILL = {'postgresql': ["INSERT INTO accounting_account_totals (organisation_id, month, fiscal_year, account_id, auxiliary_key, debit, credit)\nSELECT e.organisation_id, date_trunc('month', e.entry_date)::date, e.fiscal_year, l.account_id, coalesce(l.auxiliary_id, 0), sum(l.debit), sum(l.credit)\nFROM accounting_lines l JOIN accounting_entries e ON e.id = l.entry_id\nWHERE e.status = 'posted'\nGROUP BY e.organisation_id, date_trunc('month', e.entry_date)::date, e.fiscal_year, l.account_id, coalesce(l.auxiliary_id, 0)"], 'sqlite': ["INSERT INTO accounting_account_totals (organisation_id, month, fiscal_year, account_id, auxiliary_key, debit, credit)\nSELECT e.organisation_id, date(e.entry_date, 'start of month'), e.fiscal_year, l.account_id, coalesce(l.auxiliary_id, 0), round(sum(l.debit), 2), round(sum(l.credit), 2)\nFROM accounting_lines l JOIN accounting_entries e ON e.id = l.entry_id\nWHERE e.status = 'posted'\nGROUP BY e.organisation_id, date(e.entry_date, 'start of month'), e.fiscal_year, l.account_id, coalesce(l.auxiliary_id, 0)"]}
DROP = {'postgresql': ['DROP TRIGGER IF EXISTS accounting_entries_totals ON accounting_entries', 'DROP FUNCTION IF EXISTS accounting_totals_keep()'], 'sqlite': ['DROP TRIGGER IF EXISTS accounting_entries_totals']}


def upgrade():
    op.create_table(
        'accounting_account_totals',
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('fiscal_year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('auxiliary_key', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('debit', sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column('credit', sa.Numeric(precision=16, scale=2), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounting_accounts.id'],
                                name=op.f('fk_accounting_account_totals_account_id_accounting_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_accounting_account_totals_organisation_id_organisations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organisation_id', 'month', 'fiscal_year', 'account_id', 'auxiliary_key',
                                name=op.f('pk_accounting_account_totals')),
    )
    dialect = op.get_bind().dialect.name
    # The books already posted, then the trigger: this runs in the migration's transaction, so
    # no posting can slip between the two.
    for statement in BACK_FILL[dialect] + KEEP[dialect]:
        op.execute(statement)


def downgrade():
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table('accounting_account_totals')
