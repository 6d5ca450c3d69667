"""assemblies: paper ballots of a secret vote chained into its box, the chair's casting vote
declared in the room

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03

``assembly_secret_ballots.paper`` marks the tellers' totals chained when a secret vote closes;
``assembly_resolutions.casting_vote`` is the chair's casting vote declared in the room, frozen
with the rest of a closed resolution (the guard of backoffice/assemblies/db_guards.py, its SQL
copied as it is at this revision).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

GUARD = {
    "postgresql": ["\nCREATE OR REPLACE FUNCTION assembly_resolutions_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$\nBEGIN\n  IF OLD.status = 'closed' AND (NEW.status, NEW.room_for, NEW.room_against, NEW.room_abstain, NEW.final_hash, NEW.title, NEW.text, NEW.majority, NEW.secret, NEW.assembly_id, NEW.casting_vote) IS DISTINCT FROM (OLD.status, OLD.room_for, OLD.room_against, OLD.room_abstain, OLD.final_hash, OLD.title, OLD.text, OLD.majority, OLD.secret, OLD.assembly_id, OLD.casting_vote) THEN\n    RAISE EXCEPTION 'Vote clos : le résultat de cette résolution ne peut plus changer.' USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NEW;\nEND\n$guard$"],
    "sqlite": ["DROP TRIGGER IF EXISTS assembly_resolutions_closed",
               "CREATE TRIGGER IF NOT EXISTS assembly_resolutions_closed BEFORE UPDATE ON assembly_resolutions\nWHEN OLD.status = 'closed' AND (NEW.status IS NOT OLD.status OR NEW.room_for IS NOT OLD.room_for OR NEW.room_against IS NOT OLD.room_against OR NEW.room_abstain IS NOT OLD.room_abstain OR NEW.final_hash IS NOT OLD.final_hash OR NEW.title IS NOT OLD.title OR NEW.text IS NOT OLD.text OR NEW.majority IS NOT OLD.majority OR NEW.secret IS NOT OLD.secret OR NEW.assembly_id IS NOT OLD.assembly_id OR NEW.casting_vote IS NOT OLD.casting_vote)\nBEGIN SELECT RAISE(ABORT, 'Vote clos : le résultat de cette résolution ne peut plus changer.'); END"],
}
OLD_GUARD = {
    "postgresql": ["\nCREATE OR REPLACE FUNCTION assembly_resolutions_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$\nBEGIN\n  IF OLD.status = 'closed' AND (NEW.status, NEW.room_for, NEW.room_against, NEW.room_abstain, NEW.final_hash, NEW.title, NEW.text, NEW.majority, NEW.secret, NEW.assembly_id) IS DISTINCT FROM (OLD.status, OLD.room_for, OLD.room_against, OLD.room_abstain, OLD.final_hash, OLD.title, OLD.text, OLD.majority, OLD.secret, OLD.assembly_id) THEN\n    RAISE EXCEPTION 'Vote clos : le résultat de cette résolution ne peut plus changer.' USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NEW;\nEND\n$guard$"],
    "sqlite": ["DROP TRIGGER IF EXISTS assembly_resolutions_closed",
               "CREATE TRIGGER IF NOT EXISTS assembly_resolutions_closed BEFORE UPDATE ON assembly_resolutions\nWHEN OLD.status = 'closed' AND (NEW.status IS NOT OLD.status OR NEW.room_for IS NOT OLD.room_for OR NEW.room_against IS NOT OLD.room_against OR NEW.room_abstain IS NOT OLD.room_abstain OR NEW.final_hash IS NOT OLD.final_hash OR NEW.title IS NOT OLD.title OR NEW.text IS NOT OLD.text OR NEW.majority IS NOT OLD.majority OR NEW.secret IS NOT OLD.secret OR NEW.assembly_id IS NOT OLD.assembly_id)\nBEGIN SELECT RAISE(ABORT, 'Vote clos : le résultat de cette résolution ne peut plus changer.'); END"],
}


def upgrade():
    # add_column, not batch_alter_table: SQLite's batch mode copies the table and loses its triggers.
    op.add_column('assembly_secret_ballots', sa.Column('paper', sa.Boolean(), server_default=sa.false(),
                                                       nullable=False))
    op.add_column('assembly_resolutions', sa.Column('casting_vote', sa.Enum('for', 'against', 'abstain',
                                                                            name='choice', native_enum=False,
                                                                            length=10), nullable=True))
    for sql in GUARD[op.get_bind().dialect.name]:
        op.execute(sql)


def downgrade():
    for sql in OLD_GUARD[op.get_bind().dialect.name]:
        op.execute(sql)
    with op.batch_alter_table('assembly_resolutions', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('casting_vote')
    with op.batch_alter_table('assembly_secret_ballots', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('paper')
