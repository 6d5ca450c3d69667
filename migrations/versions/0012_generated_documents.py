"""documents: generated documents and their number sequences

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_sequences',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_document_sequences_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'kind', 'year', name=op.f('pk_document_sequences'))
    )
    op.create_table('generated_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject_type', sa.String(length=60), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=True),
    sa.Column('status', sa.Enum('pending', 'generated', 'signed', 'superseded', 'failed', name='documentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('mimetype', sa.String(length=120), nullable=True),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'failed') OR (path IS NOT NULL AND sha256 IS NOT NULL)", name=op.f('ck_generated_documents_stored_has_file')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_generated_documents_version_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_generated_documents_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_generated_documents_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_generated_documents_signed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['generated_documents.id'], name=op.f('fk_generated_documents_superseded_by_id_generated_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_generated_documents_task_id_tasks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generated_documents')),
    sa.UniqueConstraint('organisation_id', 'kind', 'number', 'version', name='uq_generated_documents_number'),
    sa.UniqueConstraint('organisation_id', 'kind', 'subject_type', 'subject_id', 'version', name='uq_generated_documents_lineage_version')
    )
    with op.batch_alter_table('generated_documents', schema=None) as batch_op:
        batch_op.create_index('uq_generated_documents_current', ['organisation_id', 'kind', 'subject_type', 'subject_id'], unique=True, postgresql_where=sa.text("status IN ('generated', 'signed')"), sqlite_where=sa.text("status IN ('generated', 'signed')"))



def downgrade():
    with op.batch_alter_table('generated_documents', schema=None) as batch_op:
        batch_op.drop_index('uq_generated_documents_current', postgresql_where=sa.text("status IN ('generated', 'signed')"), sqlite_where=sa.text("status IN ('generated', 'signed')"))

    op.drop_table('generated_documents')
    op.drop_table('document_sequences')
