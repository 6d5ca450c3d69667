"""people: the column mapping (and profession choices) an organisation chose for an import layout

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

One new table.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('people_import_layouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('layout', sa.String(length=500), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('professions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_people_import_layouts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people_import_layouts')),
    sa.UniqueConstraint('organisation_id', 'layout', name='uq_people_import_layouts_org_layout')
    )
    with op.batch_alter_table('people_import_layouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_import_layouts_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('people_import_layouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_import_layouts_organisation_id'))
    op.drop_table('people_import_layouts')
