"""accounting: a retired device leaves the books — account 675 and the posting rule device_disposed for books set up before them

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-04

Data only. New books get 675 *Valeurs comptables des éléments d'actif cédés* from the charts and
the rule from rules.DEFAULT_RULES; existing books get them here, the same in both charts:
``device_disposed`` D 675 / C 2154 in OD (the disposal's third line, D 28154, is the credit
account of ``device_depreciation``). An organisation that already has a 675 keeps it (label and
all); as 0038 does, an account or journal it has deactivated leaves the rule's side empty for the
settings page to complete. The defaults are written out, not imported: a later change of the
defaults must not change what this migration did.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

EVENT, DEBIT, CREDIT, JOURNAL = "device_disposed", "675", "2154", "OD"
LABEL = "Valeurs comptables des éléments d'actif cédés"


def upgrade():
    op.execute(sa.text("""
        INSERT INTO accounting_accounts (organisation_id, number, label, collective, active, created_at, updated_at)
        SELECT l.organisation_id, :number, :label, :collective, :active, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM accounting_ledgers l
        WHERE NOT EXISTS (SELECT 1 FROM accounting_accounts a
                          WHERE a.organisation_id = l.organisation_id AND a.number = :number)
    """).bindparams(number=DEBIT, label=LABEL, collective=False, active=True))
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
    """).bindparams(event=EVENT, debit=DEBIT, credit=CREDIT, journal=JOURNAL))


def downgrade():
    # The account stays: entries may use it, and an organisation may have had it before.
    op.execute(sa.text("DELETE FROM accounting_posting_rules WHERE event = 'device_disposed'"))
