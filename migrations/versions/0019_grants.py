"""grants: programmes (envelope, ceiling, eligibility rules, required documents), their funders,
applications with their lifecycle, signature and payment, uploaded documents, quarterly follow-ups

The envelope is backed by ``ck_grant_programmes_within_envelope`` (granted_total <= envelope).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grant_programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('equipment_kind', sa.String(length=120), nullable=True),
    sa.Column('envelope', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('granted_total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('ceiling_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('ceiling_rate', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('requires_membership', sa.Boolean(), nullable=False),
    sa.Column('requires_training', sa.Boolean(), nullable=False),
    sa.Column('training_label', sa.String(length=200), nullable=True),
    sa.Column('one_per', sa.Enum('professional', 'practice', 'none', name='oneper', native_enum=False, length=24), nullable=False),
    sa.Column('professions', sa.JSON(), nullable=False),
    sa.Column('required_documents', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ceiling_amount IS NULL OR ceiling_amount > 0', name=op.f('ck_grant_programmes_ceiling_positive')),
    sa.CheckConstraint('ceiling_rate IS NULL OR (ceiling_rate > 0 AND ceiling_rate <= 100)', name=op.f('ck_grant_programmes_rate_percent')),
    sa.CheckConstraint('closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on', name=op.f('ck_grant_programmes_dates')),
    sa.CheckConstraint('envelope > 0', name=op.f('ck_grant_programmes_envelope_positive')),
    sa.CheckConstraint('granted_total <= envelope', name=op.f('ck_grant_programmes_within_envelope')),
    sa.CheckConstraint('granted_total >= 0', name=op.f('ck_grant_programmes_granted_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_grant_programmes_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_grant_programmes_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_programmes'))
    )
    with op.batch_alter_table('grant_programmes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_programmes_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('grant_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'rejected', 'agreement_issued', 'agreement_signed', 'paid', 'delivered', 'repayment_claimed', 'closed', 'withdrawn', 'cancelled', name='grantstatus', native_enum=False, length=24), nullable=False),
    sa.Column('equipment_kind', sa.String(length=120), nullable=False),
    sa.Column('equipment_model', sa.String(length=200), nullable=True),
    sa.Column('supplier', sa.String(length=200), nullable=True),
    sa.Column('quoted_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount_requested', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount_granted', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('training_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('signature_method', sa.String(length=10), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_ip', sa.String(length=45), nullable=True),
    sa.Column('signed_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('invoice_reference', sa.String(length=120), nullable=True),
    sa.Column('amount_paid', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('serial_number', sa.String(length=120), nullable=True),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_granted IS NULL OR (amount_granted > 0 AND amount_granted <= amount_requested)', name=op.f('ck_grant_applications_granted_within_requested')),
    sa.CheckConstraint('amount_paid IS NULL OR amount_paid > 0', name=op.f('ck_grant_applications_paid_positive')),
    sa.CheckConstraint('amount_requested > 0 AND amount_requested <= quoted_price', name=op.f('ck_grant_applications_requested_within_quote')),
    sa.CheckConstraint('quoted_price > 0', name=op.f('ck_grant_applications_quote_positive')),
    sa.ForeignKeyConstraint(['applicant_id'], ['parties.id'], name=op.f('fk_grant_applications_applicant_id_parties')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_grant_applications_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_grant_applications_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['grant_programmes.id'], name=op.f('fk_grant_applications_programme_id_grant_programmes')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_grant_applications_signed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_grant_applications_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_applications'))
    )
    with op.batch_alter_table('grant_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_applications_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_applications_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_grant_applications_programme_status', ['programme_id', 'status'], unique=False)

    op.create_table('grant_funders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('accounting_entry_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_grant_funders_amount_positive')),
    sa.ForeignKeyConstraint(['programme_id'], ['grant_programmes.id'], name=op.f('fk_grant_funders_programme_id_grant_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_funders'))
    )
    with op.batch_alter_table('grant_funders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_funders_programme_id'), ['programme_id'], unique=False)

    op.create_table('grant_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('quote', 'training_certificate', 'signed_agreement', 'invoice', 'other', name='attachmentkind', native_enum=False, length=24), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_grant_attachments_size_positive')),
    sa.ForeignKeyConstraint(['application_id'], ['grant_applications.id'], name=op.f('fk_grant_attachments_application_id_grant_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_grant_attachments_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_attachments'))
    )
    with op.batch_alter_table('grant_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_attachments_application_id'), ['application_id'], unique=False)

    op.create_table('grant_follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('screenings', sa.Integer(), nullable=False),
    sa.Column('referrals', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_grant_follow_ups_quarter_range')),
    sa.CheckConstraint('screenings >= 0 AND referrals >= 0 AND referrals <= screenings', name=op.f('ck_grant_follow_ups_counts')),
    sa.ForeignKeyConstraint(['application_id'], ['grant_applications.id'], name=op.f('fk_grant_follow_ups_application_id_grant_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_grant_follow_ups_reported_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_follow_ups')),
    sa.UniqueConstraint('application_id', 'year', 'quarter', name='uq_grant_follow_ups_quarter')
    )
    with op.batch_alter_table('grant_follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_follow_ups_application_id'), ['application_id'], unique=False)



def downgrade():
    with op.batch_alter_table('grant_follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_follow_ups_application_id'))

    op.drop_table('grant_follow_ups')
    with op.batch_alter_table('grant_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_attachments_application_id'))

    op.drop_table('grant_attachments')
    with op.batch_alter_table('grant_funders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_funders_programme_id'))

    op.drop_table('grant_funders')
    with op.batch_alter_table('grant_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_grant_applications_programme_status')
        batch_op.drop_index(batch_op.f('ix_grant_applications_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_grant_applications_applicant_id'))

    op.drop_table('grant_applications')
    with op.batch_alter_table('grant_programmes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_programmes_organisation_id'))

    op.drop_table('grant_programmes')
