"""accounting: the budget prévisionnel, an amount per account or group of accounts and fiscal year

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

One new table.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accounting_budget_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('account_prefix', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_accounting_budget_lines_amount_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_budget_lines_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_budget_lines')),
    sa.UniqueConstraint('organisation_id', 'fiscal_year', 'account_prefix', name='uq_accounting_budget_lines_org_year_prefix')
    )
    with op.batch_alter_table('accounting_budget_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_budget_lines_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('accounting_budget_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_budget_lines_organisation_id'))
    op.drop_table('accounting_budget_lines')
