"""membership member side: receipts, reminders, HelloAsso, unmatched payments

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # ### member side of membership (generated, checked: only these tables) ###
    op.create_table('membership_helloasso_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('client_secret_encrypted', sa.Text(), nullable=True),
    sa.Column('organisation_slug', sa.String(length=150), nullable=False),
    sa.Column('sandbox', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_helloasso_accounts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_helloasso_accounts')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_membership_helloasso_accounts_organisation_id'))
    )
    op.create_table('membership_reminder_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('renewal_notice_days', sa.Integer(), nullable=False),
    sa.Column('overdue_days', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('renewal_notice_days >= 0', name=op.f('ck_membership_reminder_settings_notice_days_positive')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_reminder_settings_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_reminder_settings')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_membership_reminder_settings_organisation_id'))
    )
    op.create_table('membership_helloasso_checkouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('checkout_intent_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('redirect_url', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('created', 'paid', 'rejected', name='checkoutstatus', native_enum=False, length=20), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_membership_helloasso_checkouts_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_membership_helloasso_checkouts_created_by_id_users')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_helloasso_checkouts_membership_id_memberships')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_helloasso_checkouts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_helloasso_checkouts')),
    sa.UniqueConstraint('organisation_id', 'checkout_intent_id', name='uq_membership_helloasso_checkouts_intent')
    )
    with op.batch_alter_table('membership_helloasso_checkouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_helloasso_checkouts_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_helloasso_checkouts_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'ready', 'failed', name='receiptstatus', native_enum=False, length=20), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('file_path', sa.String(length=300), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mailed_to', sa.String(length=200), nullable=True),
    sa.Column('mail_wanted', sa.Boolean(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_receipts_membership_id_memberships')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_receipts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_receipts')),
    sa.UniqueConstraint('membership_id', name='uq_membership_receipts_membership'),
    sa.UniqueConstraint('organisation_id', 'number', name='uq_membership_receipts_org_number'),
    sa.UniqueConstraint('token', name='uq_membership_receipts_token')
    )
    with op.batch_alter_table('membership_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_receipts_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_reminder_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_reminder_logs_membership_id_memberships')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_reminder_logs_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_membership_reminder_logs_party_id_parties')),
    sa.ForeignKeyConstraint(['period_id'], ['membership_periods.id'], name=op.f('fk_membership_reminder_logs_period_id_membership_periods')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_membership_reminder_logs_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_reminder_logs'))
    )
    with op.batch_alter_table('membership_reminder_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_reminder_logs_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index('ix_membership_reminder_logs_org_sent', ['organisation_id', 'sent_at'], unique=False)
        batch_op.create_index('uq_membership_reminder_logs_once', ['organisation_id', 'party_id', 'period_id', 'kind'], unique=True, postgresql_where=sa.text("kind <> 'manual'"), sqlite_where=sa.text("kind <> 'manual'"))

    op.create_table('membership_unmatched_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('payer_name', sa.String(length=200), nullable=True),
    sa.Column('payer_email', sa.String(length=200), nullable=True),
    sa.Column('label', sa.String(length=250), nullable=True),
    sa.Column('reason', sa.String(length=250), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('status', sa.Enum('open', 'resolved', 'dismissed', name='unmatchedstatus', native_enum=False, length=20), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_membership_unmatched_payments_amount_positive')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_unmatched_payments_membership_id_memberships')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_unmatched_payments_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['membership_payments.id'], name=op.f('fk_membership_unmatched_payments_payment_id_membership_payments')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_membership_unmatched_payments_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_unmatched_payments')),
    sa.UniqueConstraint('organisation_id', 'source', 'external_id', name='uq_membership_unmatched_payments_external')
    )
    with op.batch_alter_table('membership_unmatched_payments', schema=None) as batch_op:
        batch_op.create_index('ix_membership_unmatched_payments_org_status', ['organisation_id', 'status'], unique=False)

    # ### end Alembic commands ###


def downgrade():
    # ### member side of membership (generated, checked: only these tables) ###
    with op.batch_alter_table('membership_unmatched_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_unmatched_payments_org_status')

    op.drop_table('membership_unmatched_payments')
    with op.batch_alter_table('membership_reminder_logs', schema=None) as batch_op:
        batch_op.drop_index('uq_membership_reminder_logs_once', postgresql_where=sa.text("kind <> 'manual'"), sqlite_where=sa.text("kind <> 'manual'"))
        batch_op.drop_index('ix_membership_reminder_logs_org_sent')
        batch_op.drop_index(batch_op.f('ix_membership_reminder_logs_membership_id'))

    op.drop_table('membership_reminder_logs')
    with op.batch_alter_table('membership_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_receipts_organisation_id'))

    op.drop_table('membership_receipts')
    with op.batch_alter_table('membership_helloasso_checkouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_helloasso_checkouts_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_membership_helloasso_checkouts_membership_id'))

    op.drop_table('membership_helloasso_checkouts')
    op.drop_table('membership_reminder_settings')
    op.drop_table('membership_helloasso_accounts')
    # ### end Alembic commands ###
