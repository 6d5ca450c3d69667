"""sisa: a refund owed by an associate can be netted against a later payment to him

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04

One table, ``sisa_refund_offsets``: the part of a refund netted against the transfer of a later
distribution version (posted D 4551 / C 467 on his auxiliary accounts).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sisa_refund_offsets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('netted_on', sa.Date(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_sisa_refund_offsets_amount_positive')),
    sa.ForeignKeyConstraint(['distribution_id'], ['sisa_distributions.id'], name=op.f('fk_sisa_refund_offsets_distribution_id_sisa_distributions')),
    sa.ForeignKeyConstraint(['entry_id'], ['accounting_entries.id'], name=op.f('fk_sisa_refund_offsets_entry_id_accounting_entries')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_refund_offsets_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_sisa_refund_offsets_party_id_parties')),
    sa.ForeignKeyConstraint(['refund_id'], ['sisa_refunds.id'], name=op.f('fk_sisa_refund_offsets_refund_id_sisa_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_refund_offsets')),
    sa.UniqueConstraint('refund_id', 'distribution_id', name='uq_sisa_refund_offsets_refund_distribution')
    )
    with op.batch_alter_table('sisa_refund_offsets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sisa_refund_offsets_distribution_id'), ['distribution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sisa_refund_offsets_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sisa_refund_offsets_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sisa_refund_offsets_refund_id'), ['refund_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sisa_refund_offsets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_refund_offsets_refund_id'))
        batch_op.drop_index(batch_op.f('ix_sisa_refund_offsets_party_id'))
        batch_op.drop_index(batch_op.f('ix_sisa_refund_offsets_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_sisa_refund_offsets_distribution_id'))

    op.drop_table('sisa_refund_offsets')
