"""membership: drop ix_memberships_org_updated_at (the figures cache's version now lives in Redis)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_org_updated_at')


def downgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_org_updated_at', ['organisation_id', 'updated_at'], unique=False)
