"""membership: fee grids, memberships, payments, statements, SEPA

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:20:39.187381

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # ### membership tables only (generated, then trimmed of other features' tables) ###
    op.create_table('membership_cheque_deposits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('deposited_on', sa.Date(), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('cheque_count', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total > 0', name=op.f('ck_membership_cheque_deposits_total_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_membership_cheque_deposits_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_cheque_deposits_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_cheque_deposits')),
    sa.UniqueConstraint('organisation_id', 'number', name='uq_membership_cheque_deposits_org_number')
    )
    with op.batch_alter_table('membership_cheque_deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_cheque_deposits_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_colleges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=250), nullable=True),
    sa.Column('party_kind', sa.String(length=20), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_colleges_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_colleges')),
    sa.UniqueConstraint('organisation_id', 'name', name='uq_membership_colleges_org_name')
    )
    with op.batch_alter_table('membership_colleges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_colleges_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_direct_debit_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'generated', 'collected', name='directdebitrunstatus', native_enum=False, length=20), nullable=False),
    sa.Column('message_id', sa.String(length=35), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('payment_count', sa.Integer(), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('collected_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total > 0', name=op.f('ck_membership_direct_debit_runs_total_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_membership_direct_debit_runs_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_direct_debit_runs_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_direct_debit_runs'))
    )
    with op.batch_alter_table('membership_direct_debit_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_direct_debit_runs_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('renewal_open', sa.Boolean(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on > starts_on', name=op.f('ck_membership_periods_dates')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_periods_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_periods')),
    sa.UniqueConstraint('organisation_id', 'year', name='uq_membership_periods_org_year')
    )
    with op.batch_alter_table('membership_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_periods_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_sepa_mandates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('debtor_name', sa.String(length=70), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('first_used_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_sepa_mandates_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_membership_sepa_mandates_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_sepa_mandates')),
    sa.UniqueConstraint('organisation_id', 'reference', name='uq_membership_sepa_mandates_org_reference')
    )
    with op.batch_alter_table('membership_sepa_mandates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_sepa_mandates_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_sepa_mandates_party_id'), ['party_id'], unique=False)

    op.create_table('membership_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('creditor_identifier', sa.String(length=35), nullable=True),
    sa.Column('reference_prefix', sa.String(length=5), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('statement_csv_mapping', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_settings_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_settings')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_membership_settings_organisation_id'))
    )
    op.create_table('membership_statement_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('new_line_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_membership_statement_imports_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_statement_imports_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_statement_imports'))
    )
    with op.batch_alter_table('membership_statement_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_statement_imports_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_fee_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('physician', 'other_professional', 'structure', 'first_year', 'other', name='categorykind', native_enum=False, length=20), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_membership_fee_categories_amount_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_fee_categories_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['period_id'], ['membership_periods.id'], name=op.f('fk_membership_fee_categories_period_id_membership_periods'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_fee_categories')),
    sa.UniqueConstraint('period_id', 'label', name='uq_membership_fee_categories_period_label')
    )
    with op.batch_alter_table('membership_fee_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_fee_categories_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_fee_categories_period_id'), ['period_id'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('college_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('awaiting_payment', 'partially_paid', 'paid', 'exempt', 'cancelled', name='membershipstatus', native_enum=False, length=20), nullable=False),
    sa.Column('amount_due', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('credit', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('payment_reference', sa.String(length=20), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('exemption_reason', sa.String(length=250), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancellation_reason', sa.String(length=250), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('fee_due_entry_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_due >= 0', name=op.f('ck_memberships_amount_due_not_negative')),
    sa.CheckConstraint('credit >= 0', name=op.f('ck_memberships_credit_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['membership_fee_categories.id'], name=op.f('fk_memberships_category_id_membership_fee_categories')),
    sa.ForeignKeyConstraint(['college_id'], ['membership_colleges.id'], name=op.f('fk_memberships_college_id_membership_colleges')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_memberships_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_memberships_party_id_parties')),
    sa.ForeignKeyConstraint(['period_id'], ['membership_periods.id'], name=op.f('fk_memberships_period_id_membership_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('organisation_id', 'party_id', 'period_id', name='uq_memberships_org_party_period'),
    sa.UniqueConstraint('payment_reference', name=op.f('uq_memberships_payment_reference'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_college_id'), ['college_id'], unique=False)
        batch_op.create_index('ix_memberships_org_period_status', ['organisation_id', 'period_id', 'status'], unique=False)
        batch_op.create_index('ix_memberships_org_updated_at', ['organisation_id', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_period_id'), ['period_id'], unique=False)

    op.create_table('membership_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('payment', 'refund', 'reversal', 'credit_out', name='paymentkind', native_enum=False, length=20), nullable=False),
    sa.Column('method', sa.Enum('transfer', 'cheque', 'cash', 'card', 'direct_debit', 'credit', name='paymentmethod', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'failed', name='paymentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('cheque_bank', sa.String(length=100), nullable=True),
    sa.Column('payer_name', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=250), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('related_membership_id', sa.Integer(), nullable=True),
    sa.Column('cheque_deposit_id', sa.Integer(), nullable=True),
    sa.Column('direct_debit_run_id', sa.Integer(), nullable=True),
    sa.Column('mandate_id', sa.Integer(), nullable=True),
    sa.Column('accounting_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'payment' AND amount > 0) OR (kind IN ('refund', 'credit_out') AND amount < 0) OR kind = 'reversal'", name=op.f('ck_membership_payments_amount_sign')),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_membership_payments_amount_not_zero')),
    sa.ForeignKeyConstraint(['cheque_deposit_id'], ['membership_cheque_deposits.id'], name=op.f('fk_membership_payments_cheque_deposit_id_membership_cheque_deposits')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_membership_payments_created_by_id_users')),
    sa.ForeignKeyConstraint(['direct_debit_run_id'], ['membership_direct_debit_runs.id'], name=op.f('fk_membership_payments_direct_debit_run_id_membership_direct_debit_runs')),
    sa.ForeignKeyConstraint(['mandate_id'], ['membership_sepa_mandates.id'], name=op.f('fk_membership_payments_mandate_id_membership_sepa_mandates')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_payments_membership_id_memberships')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_payments_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['related_membership_id'], ['memberships.id'], name=op.f('fk_membership_payments_related_membership_id_memberships')),
    sa.ForeignKeyConstraint(['reverses_id'], ['membership_payments.id'], name=op.f('fk_membership_payments_reverses_id_membership_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_payments')),
    sa.UniqueConstraint('organisation_id', 'idempotency_key', name='uq_membership_payments_org_idempotency_key'),
    sa.UniqueConstraint('reverses_id', name='uq_membership_payments_reverses_id')
    )
    with op.batch_alter_table('membership_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_payments_cheque_deposit_id'), ['cheque_deposit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_payments_direct_debit_run_id'), ['direct_debit_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_payments_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_payments_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('label', sa.String(length=500), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=True),
    sa.Column('counterparty', sa.String(length=200), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('unmatched', 'suggested', 'matched', 'ignored', name='statementlinestatus', native_enum=False, length=20), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=True),
    sa.Column('match_rule', sa.String(length=20), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['membership_statement_imports.id'], name=op.f('fk_membership_statement_lines_import_id_membership_statement_imports')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_statement_lines_membership_id_memberships')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_statement_lines_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['membership_payments.id'], name=op.f('fk_membership_statement_lines_payment_id_membership_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_statement_lines')),
    sa.UniqueConstraint('organisation_id', 'fingerprint', name='uq_membership_statement_lines_org_fingerprint')
    )
    with op.batch_alter_table('membership_statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_statement_lines_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_statement_lines_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index('ix_membership_statement_lines_org_status', ['organisation_id', 'status'], unique=False)

    # ### end Alembic commands ###


def downgrade():
    # ### membership tables only (generated, then trimmed of other features' tables) ###
    with op.batch_alter_table('membership_statement_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_statement_lines_org_status')
        batch_op.drop_index(batch_op.f('ix_membership_statement_lines_membership_id'))
        batch_op.drop_index(batch_op.f('ix_membership_statement_lines_import_id'))

    op.drop_table('membership_statement_lines')
    with op.batch_alter_table('membership_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_payments_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_membership_payments_membership_id'))
        batch_op.drop_index(batch_op.f('ix_membership_payments_direct_debit_run_id'))
        batch_op.drop_index(batch_op.f('ix_membership_payments_cheque_deposit_id'))

    op.drop_table('membership_payments')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_period_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_party_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_organisation_id'))
        batch_op.drop_index('ix_memberships_org_updated_at')
        batch_op.drop_index('ix_memberships_org_period_status')
        batch_op.drop_index(batch_op.f('ix_memberships_college_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_category_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('membership_fee_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_fee_categories_period_id'))
        batch_op.drop_index(batch_op.f('ix_membership_fee_categories_organisation_id'))

    op.drop_table('membership_fee_categories')
    with op.batch_alter_table('membership_statement_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_statement_imports_organisation_id'))

    op.drop_table('membership_statement_imports')
    op.drop_table('membership_settings')
    with op.batch_alter_table('membership_sepa_mandates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_sepa_mandates_party_id'))
        batch_op.drop_index(batch_op.f('ix_membership_sepa_mandates_organisation_id'))

    op.drop_table('membership_sepa_mandates')
    with op.batch_alter_table('membership_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_periods_organisation_id'))

    op.drop_table('membership_periods')
    with op.batch_alter_table('membership_direct_debit_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_direct_debit_runs_organisation_id'))

    op.drop_table('membership_direct_debit_runs')
    with op.batch_alter_table('membership_colleges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_colleges_organisation_id'))

    op.drop_table('membership_colleges')
    with op.batch_alter_table('membership_cheque_deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_cheque_deposits_organisation_id'))

    op.drop_table('membership_cheque_deposits')
    # ### end Alembic commands ###
