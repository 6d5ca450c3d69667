"""assemblies: general assemblies with their statutes' settings, frozen voter roll, resolutions,
proxies, attendance, open votes, secret ballots apart from participations, and the vote guards

The triggers' SQL is copied from backoffice/assemblies/db_guards.py as it is at this revision.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assemblies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('ordinary', 'extraordinary', name='assemblykind', native_enum=False, length=20), nullable=False),
    sa.Column('convocation', sa.Integer(), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'convened', 'in_session', 'closed', 'minutes_issued', name='assemblystatus', native_enum=False, length=20), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=250), nullable=True),
    sa.Column('video_link', sa.String(length=500), nullable=True),
    sa.Column('cut_off', sa.Date(), nullable=False),
    sa.Column('college_id', sa.Integer(), nullable=True),
    sa.Column('college_weights', sa.JSON(), nullable=True),
    sa.Column('quorum_numerator', sa.Integer(), nullable=True),
    sa.Column('quorum_denominator', sa.Integer(), nullable=True),
    sa.Column('second_without_quorum', sa.Boolean(), nullable=False),
    sa.Column('abstentions_count', sa.Boolean(), nullable=False),
    sa.Column('chair_casting_vote', sa.Boolean(), nullable=False),
    sa.Column('max_proxies', sa.Integer(), nullable=False),
    sa.Column('notice_days', sa.Integer(), nullable=False),
    sa.Column('convened_on', sa.Date(), nullable=True),
    sa.Column('convocation_task_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(quorum_numerator IS NULL AND quorum_denominator IS NULL) OR (quorum_numerator > 0 AND quorum_denominator >= quorum_numerator)', name=op.f('ck_assemblies_quorum')),
    sa.CheckConstraint('convocation IN (1, 2)', name=op.f('ck_assemblies_convocation')),
    sa.CheckConstraint('max_proxies >= 0', name=op.f('ck_assemblies_max_proxies')),
    sa.CheckConstraint('notice_days >= 0', name=op.f('ck_assemblies_notice_days')),
    sa.ForeignKeyConstraint(['college_id'], ['membership_colleges.id'], name=op.f('fk_assemblies_college_id_membership_colleges'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['convocation_task_id'], ['tasks.id'], name=op.f('fk_assemblies_convocation_task_id_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['first_id'], ['assemblies.id'], name=op.f('fk_assemblies_first_id_assemblies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_assemblies_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assemblies'))
    )
    with op.batch_alter_table('assemblies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assemblies_first_id'), ['first_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assemblies_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('assembly_exclusions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('sort_name', sa.String(length=250), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('reason_label', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.String(length=250), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_assembly_exclusions_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_assembly_exclusions_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_exclusions'))
    )
    with op.batch_alter_table('assembly_exclusions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_exclusions_assembly_id'), ['assembly_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assembly_exclusions_party_id'), ['party_id'], unique=False)

    op.create_table('assembly_resolutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=250), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('majority', sa.Enum('simple', 'two_thirds', 'absolute', name='majorityrule', native_enum=False, length=20), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'open', 'closed', name='resolutionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('room_for', sa.Integer(), nullable=False),
    sa.Column('room_against', sa.Integer(), nullable=False),
    sa.Column('room_abstain', sa.Integer(), nullable=False),
    sa.Column('final_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('room_for >= 0 AND room_against >= 0 AND room_abstain >= 0', name=op.f('ck_assembly_resolutions_room')),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_assembly_resolutions_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_resolutions'))
    )
    with op.batch_alter_table('assembly_resolutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_resolutions_assembly_id'), ['assembly_id'], unique=False)

    op.create_table('assembly_voters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=True),
    sa.Column('college_id', sa.Integer(), nullable=True),
    sa.Column('college_name', sa.String(length=100), nullable=True),
    sa.Column('sort_name', sa.String(length=250), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('convoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('weight > 0', name=op.f('ck_assembly_voters_weight')),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_assembly_voters_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['college_id'], ['membership_colleges.id'], name=op.f('fk_assembly_voters_college_id_membership_colleges'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_assembly_voters_membership_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_assembly_voters_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_voters')),
    sa.UniqueConstraint('assembly_id', 'party_id', name='uq_assembly_voters_party')
    )
    with op.batch_alter_table('assembly_voters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_voters_assembly_id'), ['assembly_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assembly_voters_party_id'), ['party_id'], unique=False)

    op.create_table('assembly_attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('room', 'online', name='attendancemode', native_enum=False, length=20), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_assembly_attendances_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['assembly_voters.id'], name=op.f('fk_assembly_attendances_voter_id_assembly_voters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_attendances')),
    sa.UniqueConstraint('assembly_id', 'voter_id', name='uq_assembly_attendances_voter')
    )
    with op.batch_alter_table('assembly_attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_attendances_assembly_id'), ['assembly_id'], unique=False)

    op.create_table('assembly_open_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('cast_by_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.Enum('for', 'against', 'abstain', name='choice', native_enum=False, length=10), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['cast_by_id'], ['assembly_voters.id'], name=op.f('fk_assembly_open_votes_cast_by_id_assembly_voters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolution_id'], ['assembly_resolutions.id'], name=op.f('fk_assembly_open_votes_resolution_id_assembly_resolutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['assembly_voters.id'], name=op.f('fk_assembly_open_votes_voter_id_assembly_voters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_open_votes')),
    sa.UniqueConstraint('resolution_id', 'voter_id', name='uq_assembly_open_votes_voter')
    )
    with op.batch_alter_table('assembly_open_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_open_votes_resolution_id'), ['resolution_id'], unique=False)

    op.create_table('assembly_participations',
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resolution_id'], ['assembly_resolutions.id'], name=op.f('fk_assembly_participations_resolution_id_assembly_resolutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['assembly_voters.id'], name=op.f('fk_assembly_participations_voter_id_assembly_voters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resolution_id', 'voter_id', name=op.f('pk_assembly_participations'))
    )
    op.create_table('assembly_proxies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('giver_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('blank', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('giver_id <> holder_id', name=op.f('ck_assembly_proxies_not_self')),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_assembly_proxies_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['giver_id'], ['assembly_voters.id'], name=op.f('fk_assembly_proxies_giver_id_assembly_voters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['holder_id'], ['assembly_voters.id'], name=op.f('fk_assembly_proxies_holder_id_assembly_voters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_proxies'))
    )
    with op.batch_alter_table('assembly_proxies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_proxies_assembly_id'), ['assembly_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assembly_proxies_giver_id'), ['giver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assembly_proxies_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index('uq_assembly_proxies_standing', ['assembly_id', 'giver_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('assembly_secret_ballots',
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('choice', sa.Enum('for', 'against', 'abstain', name='choice', native_enum=False, length=10), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('receipt', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['resolution_id'], ['assembly_resolutions.id'], name=op.f('fk_assembly_secret_ballots_resolution_id_assembly_resolutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resolution_id', 'position', name=op.f('pk_assembly_secret_ballots')),
    sa.UniqueConstraint('hash', name=op.f('uq_assembly_secret_ballots_hash'))
    )
    _guards(GUARDS)


# The guards' SQL as backoffice/assemblies/db_guards.py wrote it at this revision (copied: a
# migration never imports the application).
GUARDS = {
    'sqlite': [
    "CREATE TRIGGER IF NOT EXISTS assembly_resolutions_closed BEFORE UPDATE ON assembly_resolutions\nWHEN OLD.status = 'closed' AND (NEW.status IS NOT OLD.status OR NEW.room_for IS NOT OLD.room_for OR NEW.room_against IS NOT OLD.room_against OR NEW.room_abstain IS NOT OLD.room_abstain OR NEW.final_hash IS NOT OLD.final_hash OR NEW.title IS NOT OLD.title OR NEW.text IS NOT OLD.text OR NEW.majority IS NOT OLD.majority OR NEW.secret IS NOT OLD.secret OR NEW.assembly_id IS NOT OLD.assembly_id)\nBEGIN SELECT RAISE(ABORT, 'Vote clos : le résultat de cette résolution ne peut plus changer.'); END",
    "CREATE TRIGGER IF NOT EXISTS assembly_participations_open BEFORE INSERT ON assembly_participations\nWHEN (SELECT status FROM assembly_resolutions WHERE id = NEW.resolution_id) IS NOT 'open'\nBEGIN SELECT RAISE(ABORT, 'Vote refusé : le vote de cette résolution n''est pas ouvert.'); END",
    "CREATE TRIGGER IF NOT EXISTS assembly_participations_frozen BEFORE UPDATE ON assembly_participations\nBEGIN SELECT RAISE(ABORT, 'Un bulletin enregistré ne peut plus être modifié.'); END",
    "CREATE TRIGGER IF NOT EXISTS assembly_open_votes_open BEFORE INSERT ON assembly_open_votes\nWHEN (SELECT status FROM assembly_resolutions WHERE id = NEW.resolution_id) IS NOT 'open'\nBEGIN SELECT RAISE(ABORT, 'Vote refusé : le vote de cette résolution n''est pas ouvert.'); END",
    "CREATE TRIGGER IF NOT EXISTS assembly_open_votes_frozen BEFORE UPDATE ON assembly_open_votes\nBEGIN SELECT RAISE(ABORT, 'Un bulletin enregistré ne peut plus être modifié.'); END",
    "CREATE TRIGGER IF NOT EXISTS assembly_secret_ballots_open BEFORE INSERT ON assembly_secret_ballots\nWHEN (SELECT status FROM assembly_resolutions WHERE id = NEW.resolution_id) IS NOT 'open'\nBEGIN SELECT RAISE(ABORT, 'Vote refusé : le vote de cette résolution n''est pas ouvert.'); END",
    "CREATE TRIGGER IF NOT EXISTS assembly_secret_ballots_frozen BEFORE UPDATE ON assembly_secret_ballots\nBEGIN SELECT RAISE(ABORT, 'Un bulletin enregistré ne peut plus être modifié.'); END",
],
    'postgresql': [
    "\nCREATE OR REPLACE FUNCTION assembly_resolutions_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$\nBEGIN\n  IF OLD.status = 'closed' AND (NEW.status, NEW.room_for, NEW.room_against, NEW.room_abstain, NEW.final_hash, NEW.title, NEW.text, NEW.majority, NEW.secret, NEW.assembly_id) IS DISTINCT FROM (OLD.status, OLD.room_for, OLD.room_against, OLD.room_abstain, OLD.final_hash, OLD.title, OLD.text, OLD.majority, OLD.secret, OLD.assembly_id) THEN\n    RAISE EXCEPTION 'Vote clos : le résultat de cette résolution ne peut plus changer.' USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NEW;\nEND\n$guard$",
    'DROP TRIGGER IF EXISTS assembly_resolutions_guard ON assembly_resolutions',
    'CREATE TRIGGER assembly_resolutions_guard BEFORE UPDATE ON assembly_resolutions\nFOR EACH ROW EXECUTE FUNCTION assembly_resolutions_guard()',
    "\nCREATE OR REPLACE FUNCTION assembly_votes_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$\nDECLARE\n  resolution_status text;\nBEGIN\n  IF TG_OP = 'UPDATE' THEN\n    RAISE EXCEPTION 'Un bulletin enregistré ne peut plus être modifié.' USING ERRCODE = 'check_violation';\n  END IF;\n  SELECT status INTO resolution_status FROM assembly_resolutions WHERE id = NEW.resolution_id FOR SHARE;\n  IF resolution_status IS DISTINCT FROM 'open' THEN\n    RAISE EXCEPTION 'Vote refusé : le vote de cette résolution n''est pas ouvert.' USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NEW;\nEND\n$guard$",
    'DROP TRIGGER IF EXISTS assembly_participations_guard ON assembly_participations',
    'CREATE TRIGGER assembly_participations_guard BEFORE INSERT OR UPDATE ON assembly_participations FOR EACH ROW EXECUTE FUNCTION assembly_votes_guard()',
    "\nCREATE OR REPLACE FUNCTION assembly_votes_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$\nDECLARE\n  resolution_status text;\nBEGIN\n  IF TG_OP = 'UPDATE' THEN\n    RAISE EXCEPTION 'Un bulletin enregistré ne peut plus être modifié.' USING ERRCODE = 'check_violation';\n  END IF;\n  SELECT status INTO resolution_status FROM assembly_resolutions WHERE id = NEW.resolution_id FOR SHARE;\n  IF resolution_status IS DISTINCT FROM 'open' THEN\n    RAISE EXCEPTION 'Vote refusé : le vote de cette résolution n''est pas ouvert.' USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NEW;\nEND\n$guard$",
    'DROP TRIGGER IF EXISTS assembly_open_votes_guard ON assembly_open_votes',
    'CREATE TRIGGER assembly_open_votes_guard BEFORE INSERT OR UPDATE ON assembly_open_votes FOR EACH ROW EXECUTE FUNCTION assembly_votes_guard()',
    "\nCREATE OR REPLACE FUNCTION assembly_votes_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$\nDECLARE\n  resolution_status text;\nBEGIN\n  IF TG_OP = 'UPDATE' THEN\n    RAISE EXCEPTION 'Un bulletin enregistré ne peut plus être modifié.' USING ERRCODE = 'check_violation';\n  END IF;\n  SELECT status INTO resolution_status FROM assembly_resolutions WHERE id = NEW.resolution_id FOR SHARE;\n  IF resolution_status IS DISTINCT FROM 'open' THEN\n    RAISE EXCEPTION 'Vote refusé : le vote de cette résolution n''est pas ouvert.' USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NEW;\nEND\n$guard$",
    'DROP TRIGGER IF EXISTS assembly_secret_ballots_guard ON assembly_secret_ballots',
    'CREATE TRIGGER assembly_secret_ballots_guard BEFORE INSERT OR UPDATE ON assembly_secret_ballots FOR EACH ROW EXECUTE FUNCTION assembly_votes_guard()',
],
}
DROP_GUARDS = {
    'sqlite': [
    'DROP TRIGGER IF EXISTS assembly_resolutions_closed',
    'DROP TRIGGER IF EXISTS assembly_participations_open',
    'DROP TRIGGER IF EXISTS assembly_participations_frozen',
    'DROP TRIGGER IF EXISTS assembly_open_votes_open',
    'DROP TRIGGER IF EXISTS assembly_open_votes_frozen',
    'DROP TRIGGER IF EXISTS assembly_secret_ballots_open',
    'DROP TRIGGER IF EXISTS assembly_secret_ballots_frozen',
],
    'postgresql': [
    'DROP TRIGGER IF EXISTS assembly_participations_guard ON assembly_participations',
    'DROP TRIGGER IF EXISTS assembly_open_votes_guard ON assembly_open_votes',
    'DROP TRIGGER IF EXISTS assembly_secret_ballots_guard ON assembly_secret_ballots',
    'DROP TRIGGER IF EXISTS assembly_resolutions_guard ON assembly_resolutions',
    'DROP FUNCTION IF EXISTS assembly_votes_guard()',
    'DROP FUNCTION IF EXISTS assembly_resolutions_guard()',
],
}


def _guards(statements):
    for sql in statements[op.get_bind().dialect.name]:
        op.execute(sql)


def downgrade():
    _guards(DROP_GUARDS)
    op.drop_table('assembly_secret_ballots')
    with op.batch_alter_table('assembly_proxies', schema=None) as batch_op:
        batch_op.drop_index('uq_assembly_proxies_standing', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_assembly_proxies_holder_id'))
        batch_op.drop_index(batch_op.f('ix_assembly_proxies_giver_id'))
        batch_op.drop_index(batch_op.f('ix_assembly_proxies_assembly_id'))

    op.drop_table('assembly_proxies')
    op.drop_table('assembly_participations')
    with op.batch_alter_table('assembly_open_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_open_votes_resolution_id'))

    op.drop_table('assembly_open_votes')
    with op.batch_alter_table('assembly_attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_attendances_assembly_id'))

    op.drop_table('assembly_attendances')
    with op.batch_alter_table('assembly_voters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_voters_party_id'))
        batch_op.drop_index(batch_op.f('ix_assembly_voters_assembly_id'))

    op.drop_table('assembly_voters')
    with op.batch_alter_table('assembly_resolutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_resolutions_assembly_id'))

    op.drop_table('assembly_resolutions')
    with op.batch_alter_table('assembly_exclusions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_exclusions_party_id'))
        batch_op.drop_index(batch_op.f('ix_assembly_exclusions_assembly_id'))

    op.drop_table('assembly_exclusions')
    with op.batch_alter_table('assemblies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assemblies_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_assemblies_first_id'))

    op.drop_table('assemblies')
