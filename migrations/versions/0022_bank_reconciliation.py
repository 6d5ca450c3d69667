"""banking: bank reconciliation — a statement's closing balance, rules remembered by label, a
line of the books reconciled with one statement line at most

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

Two columns on bank_statements, one new table, one partial unique index.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closing_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('closing_balance', sa.Numeric(precision=12, scale=2), nullable=True))
    op.create_table('bank_label_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('keyword', sa.String(length=100), nullable=False),
    sa.Column('folded_keyword', sa.String(length=100), nullable=False),
    sa.Column('account_number', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bank_label_rules_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_label_rules_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_label_rules')),
    sa.UniqueConstraint('organisation_id', 'folded_keyword', name='uq_bank_label_rules_org_keyword')
    )
    with op.batch_alter_table('bank_label_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_label_rules_organisation_id'), ['organisation_id'], unique=False)
    with op.batch_alter_table('bank_line_matches', schema=None) as batch_op:
        batch_op.create_index('uq_bank_line_matches_accounting_line', ['target_id'], unique=True,
                              sqlite_where=sa.text("target_kind = 'accounting_lines'"),
                              postgresql_where=sa.text("target_kind = 'accounting_lines'"))


def downgrade():
    with op.batch_alter_table('bank_line_matches', schema=None) as batch_op:
        batch_op.drop_index('uq_bank_line_matches_accounting_line')
    with op.batch_alter_table('bank_label_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_label_rules_organisation_id'))
    op.drop_table('bank_label_rules')
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.drop_column('closing_balance')
        batch_op.drop_column('closing_date')
