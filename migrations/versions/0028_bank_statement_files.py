"""banking: bank statement files as banks export them — a CSV layout per bank account, what an
import left out, the transactions of a batch entry

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03

``bank_csv_layouts``: the columns chosen for each layout (header signature) of an account's CSV
export. ``bank_statements.notes``: what the import skipped or cut, in French.
``bank_statement_lines.details``: the ``TxDtls`` of a CAMT.053 batch entry kept on its one line.
The account's former single mapping (``bank_accounts.statement_csv_mapping``) stays: the import
still uses it for a file holding all its columns, and remembers that file's layout.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_csv_layouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], name=op.f('fk_bank_csv_layouts_bank_account_id_bank_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_csv_layouts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_csv_layouts')),
    sa.UniqueConstraint('bank_account_id', 'signature', name='uq_bank_csv_layouts_account_signature')
    )
    with op.batch_alter_table('bank_csv_layouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_csv_layouts_bank_account_id'), ['bank_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_csv_layouts_organisation_id'), ['organisation_id'], unique=False)
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.JSON(), nullable=True))
    with op.batch_alter_table('bank_statement_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))


def downgrade():
    # Plain DROP COLUMNs (SQLite 3.35+), not batch rebuilds: rebuilding these tables drops the
    # tables that matches and lines point at, which SQLite's foreign keys refuse once there are rows.
    op.drop_column('bank_statement_lines', 'details')
    op.drop_column('bank_statements', 'notes')
    with op.batch_alter_table('bank_csv_layouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_csv_layouts_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_bank_csv_layouts_bank_account_id'))
    op.drop_table('bank_csv_layouts')
