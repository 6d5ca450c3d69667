"""assemblies: the sealed inbox of online secret ballots, emptied into the chained box by the close

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03

A secret ballot written in the same transaction as its voter's participation shared its ``xmin``
on PostgreSQL: ``assembly_sealed_ballots`` holds it sealed until the close chains the whole inbox,
shuffled, in one transaction. Its guards (insert only while the vote is open, no update) are the
SQL of backoffice/assemblies/db_guards.py as it is at this revision, copied.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

GUARD = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS assembly_sealed_ballots_guard ON assembly_sealed_ballots",
        "CREATE TRIGGER assembly_sealed_ballots_guard BEFORE INSERT OR UPDATE ON assembly_sealed_ballots "
        "FOR EACH ROW EXECUTE FUNCTION assembly_votes_guard()",
    ],
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS assembly_sealed_ballots_open BEFORE INSERT ON assembly_sealed_ballots\n"
        "WHEN (SELECT status FROM assembly_resolutions WHERE id = NEW.resolution_id) IS NOT 'open'\n"
        "BEGIN SELECT RAISE(ABORT, 'Vote refusé : le vote de cette résolution n''est pas ouvert.'); END",
        "CREATE TRIGGER IF NOT EXISTS assembly_sealed_ballots_frozen BEFORE UPDATE ON assembly_sealed_ballots\n"
        "BEGIN SELECT RAISE(ABORT, 'Un bulletin enregistré ne peut plus être modifié.'); END",
    ],
}


def upgrade():
    op.create_table('assembly_sealed_ballots',
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['resolution_id'], ['assembly_resolutions.id'], name=op.f('fk_assembly_sealed_ballots_resolution_id_assembly_resolutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resolution_id', 'token', name=op.f('pk_assembly_sealed_ballots'))
    )
    for sql in GUARD[op.get_bind().dialect.name]:
        op.execute(sql)


def downgrade():
    # The triggers go with their table.
    op.drop_table('assembly_sealed_ballots')
