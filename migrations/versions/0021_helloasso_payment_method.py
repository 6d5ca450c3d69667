"""accounting: HelloAsso is a payment method; books set up before it get its rule (517 in BQ)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

Data only: new books get the rule from rules.DEFAULT_PAYMENT_RULES; existing ones get it here,
when they still have an active 517 account and BQ journal (otherwise the settings page shows the
method without an account, for the treasurer to complete, as for any other method).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("""
        INSERT INTO accounting_payment_methods (organisation_id, method, account_id, journal_id, created_at, updated_at)
        SELECT l.organisation_id, 'helloasso', a.id, j.id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM accounting_ledgers l
        JOIN accounting_accounts a ON a.organisation_id = l.organisation_id AND a.number = '517' AND a.active
        JOIN accounting_journals j ON j.organisation_id = l.organisation_id AND j.code = 'BQ' AND j.active
        WHERE NOT EXISTS (SELECT 1 FROM accounting_payment_methods m
                          WHERE m.organisation_id = l.organisation_id AND m.method = 'helloasso')
    """))


def downgrade():
    op.execute(sa.text("DELETE FROM accounting_payment_methods WHERE method = 'helloasso'"))
