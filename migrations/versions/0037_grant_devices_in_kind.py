"""grants (in kind): in-kind programmes — the devices the organisation buys and lends (assets 2154,
depreciated D 6811 / C 28154) and who holds them (custody conventions)

A programme gets ``mode`` (grant | in_kind, existing ones: grant) and ``depreciation_years`` (3 by
default). The posting rules of the devices' purchase, payment and depreciation for books set up
before them come with migration 0038 (data only).

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grant_programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.Enum('grant', 'in_kind', name='programmemode', native_enum=False, length=10),
                                      nullable=False, server_default='grant'))
        batch_op.add_column(sa.Column('depreciation_years', sa.Integer(), nullable=False, server_default='3'))
        batch_op.create_check_constraint('depreciation_years_range', 'depreciation_years BETWEEN 1 AND 20')
    with op.batch_alter_table('grant_programmes', schema=None) as batch_op:
        batch_op.alter_column('mode', server_default=None)
        batch_op.alter_column('depreciation_years', server_default=None)

    op.create_table('grant_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('in_stock', 'lent', 'transferred', 'returned', 'retired', name='devicestatus', native_enum=False, length=16), nullable=False),
    sa.Column('equipment_kind', sa.String(length=120), nullable=False),
    sa.Column('equipment_model', sa.String(length=200), nullable=True),
    sa.Column('serial_number', sa.String(length=80), nullable=False),
    sa.Column('purchased_on', sa.Date(), nullable=False),
    sa.Column('purchase_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('invoice_reference', sa.String(length=60), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('retired_on', sa.Date(), nullable=True),
    sa.Column('invoice_filename', sa.String(length=200), nullable=True),
    sa.Column('invoice_content_type', sa.String(length=40), nullable=True),
    sa.Column('invoice_size', sa.Integer(), nullable=True),
    sa.Column('invoice_sha256', sa.String(length=64), nullable=True),
    sa.Column('invoice_stored_name', sa.String(length=100), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('purchase_amount > 0', name=op.f('ck_grant_devices_purchase_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_grant_devices_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_grant_devices_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['grant_programmes.id'], name=op.f('fk_grant_devices_programme_id_grant_programmes')),
    sa.ForeignKeyConstraint(['supplier_id'], ['parties.id'], name=op.f('fk_grant_devices_supplier_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_devices')),
    sa.UniqueConstraint('organisation_id', 'serial_number', name='uq_grant_devices_serial')
    )
    with op.batch_alter_table('grant_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_devices_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_devices_programme_id'), ['programme_id'], unique=False)

    op.create_table('grant_device_custodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= started_on', name=op.f('ck_grant_device_custodies_dates')),
    sa.ForeignKeyConstraint(['application_id'], ['grant_applications.id'], name=op.f('fk_grant_device_custodies_application_id_grant_applications')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_grant_device_custodies_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['grant_devices.id'], name=op.f('fk_grant_device_custodies_device_id_grant_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_grant_device_custodies_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_device_custodies'))
    )
    with op.batch_alter_table('grant_device_custodies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_device_custodies_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_device_custodies_device_id'), ['device_id'], unique=False)


def downgrade():
    with op.batch_alter_table('grant_device_custodies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_device_custodies_device_id'))
        batch_op.drop_index(batch_op.f('ix_grant_device_custodies_application_id'))
    op.drop_table('grant_device_custodies')
    with op.batch_alter_table('grant_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_devices_programme_id'))
        batch_op.drop_index(batch_op.f('ix_grant_devices_organisation_id'))
    op.drop_table('grant_devices')
    with op.batch_alter_table('grant_programmes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_grant_programmes_depreciation_years_range'), type_='check')
        batch_op.drop_column('depreciation_years')
        batch_op.drop_column('mode')
