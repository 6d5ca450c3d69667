"""assemblies: documents attached to a resolution (accounts, budget, reports) for the voters

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03

``assembly_resolution_documents``: a PDF, JPEG or PNG uploaded on a resolution, stored under
``STORAGE_DIR/<organisation id>/assemblies/`` (``stored_name``) with its SHA-256; listed in the
convocations and downloadable by the assembly's voters.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assembly_resolution_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=60), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=120), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_assembly_resolution_documents_size_positive')),
    sa.ForeignKeyConstraint(['resolution_id'], ['assembly_resolutions.id'],
                            name=op.f('fk_assembly_resolution_documents_resolution_id_assembly_resolutions'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                            name=op.f('fk_assembly_resolution_documents_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_resolution_documents')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_assembly_resolution_documents_stored_name'))
    )
    with op.batch_alter_table('assembly_resolution_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_resolution_documents_resolution_id'), ['resolution_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('assembly_resolution_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_resolution_documents_resolution_id'))
    op.drop_table('assembly_resolution_documents')
