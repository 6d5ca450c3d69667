"""sisa: remuneration of the associates (income, deductions, keys, mission points, meetings and
attendance, distributions and their shares)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

New tables only: the associates are affiliations, their bank details banking's payee details.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sisa_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('theme', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('rcp', 'protocol', 'training', 'cpts', 'other')", name=op.f('ck_sisa_meetings_kind')),
    sa.CheckConstraint('duration_minutes > 0 AND duration_minutes <= 1440', name=op.f('ck_sisa_meetings_duration_range')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_meetings_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_meetings'))
    )
    with op.batch_alter_table('sisa_meetings', schema=None) as batch_op:
        batch_op.create_index('ix_sisa_meetings_org_date', ['organisation_id', 'held_on'], unique=False)

    op.create_table('sisa_scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_scenarios_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_scenarios')),
    sa.UniqueConstraint('organisation_id', 'year', 'name', name='uq_sisa_scenarios_org_year_name')
    )
    with op.batch_alter_table('sisa_scenarios', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sisa_scenarios_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('sisa_associates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('capital_share', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capital_share IS NULL OR capital_share >= 0', name=op.f('ck_sisa_associates_capital_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_associates_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_sisa_associates_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_associates')),
    sa.UniqueConstraint('organisation_id', 'party_id', name='uq_sisa_associates_org_party')
    )
    with op.batch_alter_table('sisa_associates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sisa_associates_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sisa_associates_party_id'), ['party_id'], unique=False)

    op.create_table('sisa_attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['sisa_meetings.id'], name=op.f('fk_sisa_attendances_meeting_id_sisa_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_sisa_attendances_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_attendances')),
    sa.UniqueConstraint('meeting_id', 'party_id', name='uq_sisa_attendances_meeting_party')
    )
    with op.batch_alter_table('sisa_attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sisa_attendances_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sisa_attendances_party_id'), ['party_id'], unique=False)

    op.create_table('sisa_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('percentage', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('prorate_presence', sa.Boolean(), nullable=False),
    sa.Column('profession_weights', sa.JSON(), nullable=False),
    sa.CheckConstraint("basis IN ('equal', 'hours', 'points')", name=op.f('ck_sisa_keys_basis')),
    sa.CheckConstraint('percentage > 0 AND percentage <= 100', name=op.f('ck_sisa_keys_percentage_range')),
    sa.ForeignKeyConstraint(['scenario_id'], ['sisa_scenarios.id'], name=op.f('fk_sisa_keys_scenario_id_sisa_scenarios'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_keys')),
    sa.UniqueConstraint('scenario_id', 'position', name='uq_sisa_keys_scenario_position')
    )
    with op.batch_alter_table('sisa_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sisa_keys_scenario_id'), ['scenario_id'], unique=False)

    op.create_table('sisa_mission_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('points', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_sisa_mission_points_points_positive')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_mission_points_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_sisa_mission_points_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_mission_points'))
    )
    with op.batch_alter_table('sisa_mission_points', schema=None) as batch_op:
        batch_op.create_index('ix_sisa_mission_points_org_year', ['organisation_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_sisa_mission_points_party_id'), ['party_id'], unique=False)

    op.create_table('sisa_deductions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('percentage', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('account_number', sa.String(length=20), nullable=True),
    sa.Column('posted_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('coordinator', 'software', 'accountant', 'reserve', 'other')", name=op.f('ck_sisa_deductions_kind')),
    sa.CheckConstraint('(amount IS NULL) <> (percentage IS NULL)', name=op.f('ck_sisa_deductions_amount_or_percentage')),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_sisa_deductions_amount_positive')),
    sa.CheckConstraint('percentage IS NULL OR (percentage > 0 AND percentage < 100)', name=op.f('ck_sisa_deductions_percentage_range')),
    sa.ForeignKeyConstraint(['entry_id'], ['accounting_entries.id'], name=op.f('fk_sisa_deductions_entry_id_accounting_entries')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_deductions_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_deductions'))
    )
    with op.batch_alter_table('sisa_deductions', schema=None) as batch_op:
        batch_op.create_index('ix_sisa_deductions_org_year', ['organisation_id', 'year'], unique=False)

    op.create_table('sisa_distributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('scenario_name', sa.String(length=120), nullable=False),
    sa.Column('distributable', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'frozen', 'paid', 'superseded')", name=op.f('ck_sisa_distributions_status')),
    sa.CheckConstraint('distributable > 0', name=op.f('ck_sisa_distributions_distributable_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sisa_distributions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['accounting_entries.id'], name=op.f('fk_sisa_distributions_entry_id_accounting_entries')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_distributions_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['sisa_distributions.id'], name=op.f('fk_sisa_distributions_supersedes_id_sisa_distributions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_distributions')),
    sa.UniqueConstraint('organisation_id', 'year', 'version', name='uq_sisa_distributions_version')
    )
    with op.batch_alter_table('sisa_distributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sisa_distributions_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('sisa_income',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('advance', 'balance', 'other')", name=op.f('ck_sisa_income_kind')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_sisa_income_amount_positive')),
    sa.ForeignKeyConstraint(['entry_id'], ['accounting_entries.id'], name=op.f('fk_sisa_income_entry_id_accounting_entries')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sisa_income_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_income'))
    )
    with op.batch_alter_table('sisa_income', schema=None) as batch_op:
        batch_op.create_index('ix_sisa_income_org_year', ['organisation_id', 'year'], unique=False)

    op.create_table('sisa_distribution_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_sisa_distribution_shares_amount_not_negative')),
    sa.ForeignKeyConstraint(['distribution_id'], ['sisa_distributions.id'], name=op.f('fk_sisa_distribution_shares_distribution_id_sisa_distributions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_sisa_distribution_shares_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sisa_distribution_shares')),
    sa.UniqueConstraint('distribution_id', 'party_id', name='uq_sisa_distribution_shares_party')
    )
    with op.batch_alter_table('sisa_distribution_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sisa_distribution_shares_distribution_id'), ['distribution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sisa_distribution_shares_party_id'), ['party_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sisa_distribution_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_distribution_shares_party_id'))
        batch_op.drop_index(batch_op.f('ix_sisa_distribution_shares_distribution_id'))

    op.drop_table('sisa_distribution_shares')
    with op.batch_alter_table('sisa_income', schema=None) as batch_op:
        batch_op.drop_index('ix_sisa_income_org_year')

    op.drop_table('sisa_income')
    with op.batch_alter_table('sisa_distributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_distributions_organisation_id'))

    op.drop_table('sisa_distributions')
    with op.batch_alter_table('sisa_deductions', schema=None) as batch_op:
        batch_op.drop_index('ix_sisa_deductions_org_year')

    op.drop_table('sisa_deductions')
    with op.batch_alter_table('sisa_mission_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_mission_points_party_id'))
        batch_op.drop_index('ix_sisa_mission_points_org_year')

    op.drop_table('sisa_mission_points')
    with op.batch_alter_table('sisa_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_keys_scenario_id'))

    op.drop_table('sisa_keys')
    with op.batch_alter_table('sisa_attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_attendances_party_id'))
        batch_op.drop_index(batch_op.f('ix_sisa_attendances_meeting_id'))

    op.drop_table('sisa_attendances')
    with op.batch_alter_table('sisa_associates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_associates_party_id'))
        batch_op.drop_index(batch_op.f('ix_sisa_associates_organisation_id'))

    op.drop_table('sisa_associates')
    with op.batch_alter_table('sisa_scenarios', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sisa_scenarios_organisation_id'))

    op.drop_table('sisa_scenarios')
    with op.batch_alter_table('sisa_meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_sisa_meetings_org_date')

    op.drop_table('sisa_meetings')
