"""grants: the reminders sent for late quarterly follow-up reports (one per application and quarter)

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grant_follow_up_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_grant_follow_up_reminders_quarter_range')),
    sa.ForeignKeyConstraint(['application_id'], ['grant_applications.id'], name=op.f('fk_grant_follow_up_reminders_application_id_grant_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_follow_up_reminders')),
    sa.UniqueConstraint('application_id', 'year', 'quarter', name='uq_grant_follow_up_reminders_quarter')
    )
    with op.batch_alter_table('grant_follow_up_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_follow_up_reminders_application_id'), ['application_id'], unique=False)


def downgrade():
    with op.batch_alter_table('grant_follow_up_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_follow_up_reminders_application_id'))
    op.drop_table('grant_follow_up_reminders')
