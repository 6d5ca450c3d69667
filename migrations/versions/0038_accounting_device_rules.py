"""accounting: devices bought by in-kind grant programmes are events of the posting rules; books set up before them get their rules

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-04

Data only: new books get the rules from rules.DEFAULT_RULES; existing ones get them here, the
same in both charts: ``device_purchased`` D 2154 / C 404 (the supplier) in OD, ``device_paid``
D 404 / C the treasury of the payment method, ``device_depreciation`` D 6811 / C 28154 in OD. As
``settings._default_rule`` does, an account or journal the organisation no longer has (or has
deactivated) stays empty, for the settings page to complete. The defaults are written out here,
not imported: a later change of the defaults must not change what this migration did.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

EVENTS = ("device_purchased", "device_paid", "device_depreciation")
# event: (debit account, credit account, journal); None where the payment method decides.
DEFAULTS = {
    "device_purchased": ("2154", "404", "OD"),
    "device_paid": ("404", None, None),
    "device_depreciation": ("6811", "28154", "OD"),
}


def upgrade():
    for event, (debit, credit, journal) in DEFAULTS.items():
        op.execute(sa.text("""
            INSERT INTO accounting_posting_rules (organisation_id, event, debit_account_id, credit_account_id,
                                                  journal_id, created_at, updated_at)
            SELECT l.organisation_id, :event,
                   (SELECT a.id FROM accounting_accounts a
                    WHERE a.organisation_id = l.organisation_id AND a.number = :debit AND a.active),
                   (SELECT a.id FROM accounting_accounts a
                    WHERE a.organisation_id = l.organisation_id AND a.number = :credit AND a.active),
                   (SELECT j.id FROM accounting_journals j
                    WHERE j.organisation_id = l.organisation_id AND j.code = :journal AND j.active),
                   CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
            FROM accounting_ledgers l
            WHERE NOT EXISTS (SELECT 1 FROM accounting_posting_rules r
                              WHERE r.organisation_id = l.organisation_id AND r.event = :event)
        """).bindparams(event=event, debit=debit, credit=credit, journal=journal))


def downgrade():
    op.execute(sa.text("DELETE FROM accounting_posting_rules WHERE event IN "
                       "('device_purchased', 'device_paid', 'device_depreciation')"))
