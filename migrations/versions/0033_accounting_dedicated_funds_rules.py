"""accounting: the fonds dédiés are events of the posting rules; books set up before them get their rules

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04

Data only: new books get the rules from rules.DEFAULT_RULES; existing ones get them here, from
their chart's defaults (associations: D 6894 / C 194 carried, D 194 / C 7894 used; the general
chart: D 741 / C 487, then D 487 / C 741), in OD. As ``settings._default_rule`` does, an account
or journal the organisation no longer has (or has deactivated) stays empty, for the settings page
to complete. The defaults are written out here, not imported: a later change of the defaults
must not change what this migration did.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

EVENTS = ("dedicated_funds_carried", "dedicated_funds_used")
DEFAULTS = (
    ("pca_2025", "dedicated_funds_carried", "6894", "194"),
    ("pca_2025", "dedicated_funds_used", "194", "7894"),
    ("pcg", "dedicated_funds_carried", "741", "487"),
    ("pcg", "dedicated_funds_used", "487", "741"),
)


def upgrade():
    for chart, event, debit, credit in DEFAULTS:
        op.execute(sa.text("""
            INSERT INTO accounting_posting_rules (organisation_id, event, debit_account_id, credit_account_id,
                                                  journal_id, created_at, updated_at)
            SELECT l.organisation_id, :event,
                   (SELECT a.id FROM accounting_accounts a
                    WHERE a.organisation_id = l.organisation_id AND a.number = :debit AND a.active),
                   (SELECT a.id FROM accounting_accounts a
                    WHERE a.organisation_id = l.organisation_id AND a.number = :credit AND a.active),
                   (SELECT j.id FROM accounting_journals j
                    WHERE j.organisation_id = l.organisation_id AND j.code = 'OD' AND j.active),
                   CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
            FROM accounting_ledgers l
            WHERE l.chart = :chart
              AND NOT EXISTS (SELECT 1 FROM accounting_posting_rules r
                              WHERE r.organisation_id = l.organisation_id AND r.event = :event)
        """).bindparams(event=event, debit=debit, credit=credit, chart=chart))


def downgrade():
    op.execute(sa.text("DELETE FROM accounting_posting_rules WHERE event IN ('dedicated_funds_carried', "
                       "'dedicated_funds_used')"))
