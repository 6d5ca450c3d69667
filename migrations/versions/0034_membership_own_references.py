"""membership: the association's own references issued to new memberships

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04

``memberships.payment_reference`` may now hold the organisation's own reference
(``COT2026/00042``, built from its scheme): longer (64), and unique per organisation and period
instead of across the instance — two associations may both write COT2026/00042, and a scheme
without the year gives a member the same reference every year. Existing references are kept.
``membership_settings.member_counter``: the last member number the scheme handed out.
"""
import contextlib

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


@contextlib.contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds ``memberships`` to change a constraint (batch mode): with foreign keys on,
    dropping the old table fails on the payments that point to it. The pragma only changes
    outside a transaction: end it, switch, begin again (as 0014 does)."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    bind.exec_driver_sql('BEGIN')
    try:
        yield
    finally:
        bind.exec_driver_sql('COMMIT')
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')
        bind.exec_driver_sql('BEGIN')


def upgrade():
    op.add_column('membership_settings', sa.Column('member_counter', sa.Integer(), server_default='0',
                                                   nullable=False))
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.alter_column('payment_reference', existing_type=sa.String(length=20), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.drop_constraint('uq_memberships_payment_reference', type_='unique')
        batch_op.create_unique_constraint('uq_memberships_org_period_reference',
                                          ['organisation_id', 'period_id', 'payment_reference'])


def downgrade():
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint('uq_memberships_org_period_reference', type_='unique')
        batch_op.create_unique_constraint('uq_memberships_payment_reference', ['payment_reference'])
        batch_op.alter_column('payment_reference', existing_type=sa.String(length=64), type_=sa.String(length=20),
                              existing_nullable=False)
    op.drop_column('membership_settings', 'member_counter')
