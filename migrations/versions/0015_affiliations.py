"""organisations: affiliations (party, organisation, role, from, to) replace the president and treasurer columns

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

The president and treasurer named on each organisation become affiliations starting on the day
the organisation was created (the earliest day the rows know: receipts and slips issued since then
keep their signatory), then the two columns go.
"""
import contextlib
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

ROLES = ('president', 'vice_president', 'secretary', 'treasurer', 'board_member', 'associate', 'manager',
         'coordinator', 'contact')


@contextlib.contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds a table to drop a column (batch mode): dropping ``organisations`` with
    foreign keys on would delete, by cascade, every row that points to it (memberships, bank
    accounts…). The pragma only changes outside a transaction: end it, switch, begin again."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    bind.exec_driver_sql('BEGIN')
    try:
        yield
    finally:
        bind.exec_driver_sql('COMMIT')
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')
        bind.exec_driver_sql('BEGIN')


def _as_date(value):
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else (value or date.today())


def upgrade():
    # Read the officers first, then rebuild ``organisations`` (SQLite), then create affiliations.
    organisations = sa.table('organisations', sa.column('id', sa.Integer), sa.column('president_id', sa.Integer),
                             sa.column('treasurer_id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)))
    connection = op.get_bind()
    now = datetime.now().astimezone()
    rows = []
    for org in connection.execute(sa.select(organisations)).all():
        for role, party_id in (('president', org.president_id), ('treasurer', org.treasurer_id)):
            if party_id is not None:
                rows.append(dict(organisation_id=org.id, party_id=party_id, role=role,
                                 starts_on=_as_date(org.created_at), ends_on=None, created_at=now, updated_at=now))
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_organisations_president_id_parties', type_='foreignkey')
        batch_op.drop_constraint('fk_organisations_treasurer_id_parties', type_='foreignkey')
        batch_op.drop_column('treasurer_id')
        batch_op.drop_column('president_id')

    affiliations = op.create_table(
        'affiliations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.Enum(*ROLES, name='affiliationrole', native_enum=False, length=20), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_affiliations_dates')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_affiliations_organisation_id_organisations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_affiliations_party_id_parties')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_affiliations')),
    )
    with op.batch_alter_table('affiliations', schema=None) as batch_op:
        batch_op.create_index('ix_affiliations_org_role', ['organisation_id', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_affiliations_party_id'), ['party_id'], unique=False)
    if rows:
        op.bulk_insert(affiliations, rows)


def downgrade():
    connection = op.get_bind()
    today = date.today()
    officers = connection.execute(sa.text(
        "SELECT organisation_id, role, party_id FROM affiliations WHERE role IN ('president', 'treasurer') "
        "AND starts_on <= :today AND (ends_on IS NULL OR ends_on >= :today) ORDER BY starts_on"),
        {"today": today}).all()
    with op.batch_alter_table('affiliations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_affiliations_party_id'))
        batch_op.drop_index('ix_affiliations_org_role')
    op.drop_table('affiliations')
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('president_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('treasurer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_organisations_president_id_parties', 'parties', ['president_id'], ['id'])
        batch_op.create_foreign_key('fk_organisations_treasurer_id_parties', 'parties', ['treasurer_id'], ['id'])
    for organisation_id, role, party_id in officers:
        connection.execute(sa.text(f"UPDATE organisations SET {role}_id = :party WHERE id = :org"),
                           {"party": party_id, "org": organisation_id})
