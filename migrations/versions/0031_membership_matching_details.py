"""membership matching: the organisation's own reference scheme, member numbers, and what
matching found on each statement line

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03

``membership_settings.reference_scheme``: the association's own transfer reference built from
the member number (``COT{year}/{number:05}``), None for the generated references (ADH26-7KQ4M).
``memberships.member_number``: the association's member number (from its workbook), searched by
matching. ``bank_statement_lines.match_details``: what the suggesting feature found (flags,
candidates, the kind of a line that is no membership, whether it is pre-ticked).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('membership_settings', sa.Column('reference_scheme', sa.String(length=40), nullable=True))
    op.add_column('memberships', sa.Column('member_number', sa.String(length=30), nullable=True))
    op.create_index('ix_memberships_org_member_number', 'memberships', ['organisation_id', 'member_number'])
    op.add_column('bank_statement_lines', sa.Column('match_details', sa.JSON(), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+), not batch rebuilds: memberships and statement lines are
    # pointed at by payments and matches, which SQLite's foreign keys refuse to see dropped.
    op.drop_column('bank_statement_lines', 'match_details')
    op.drop_index('ix_memberships_org_member_number', table_name='memberships')
    op.drop_column('memberships', 'member_number')
    op.drop_column('membership_settings', 'reference_scheme')
