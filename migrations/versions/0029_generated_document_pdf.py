"""documents: the PDF rendition of a generated document's version, kept beside its Word file

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03

``generated_documents.pdf_path`` / ``pdf_size`` / ``pdf_sha256``: the PDF that the job made from
the version's Word file with LibreOffice (members are handed the PDF: receipts, minutes), stored
and fingerprinted like the Word file. NULL when no PDF was made (LibreOffice missing).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not batch_alter_table: SQLite's batch mode would copy the table for nothing.
    op.add_column('generated_documents', sa.Column('pdf_path', sa.String(length=300), nullable=True))
    op.add_column('generated_documents', sa.Column('pdf_size', sa.BigInteger(), nullable=True))
    op.add_column('generated_documents', sa.Column('pdf_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('generated_documents', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('pdf_sha256')
        batch_op.drop_column('pdf_size')
        batch_op.drop_column('pdf_path')
