"""banking: bank accounts (the organisations' IBAN/BIC become each one's default account),
statements and lines moved out of membership (ids and data kept; a statement belongs to an
account), lines matched to any target (bank_line_matches), payees' bank details

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Data: one default account « Compte courant » (journal BQ, account 512) per organisation that has
an IBAN, a BIC, a remembered CSV mapping or statements; the mapping moves onto it. Statement
lines keep their ids; a suggested or confirmed membership becomes the line's suggestion
(``memberships``), a confirmed payment its match (``membership_payments``); debits that were
set aside automatically are open again (debits can be matched now).
"""
import contextlib

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


@contextlib.contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds a table to drop a column (batch mode): dropping ``organisations`` with
    foreign keys on would delete, by cascade, every row that points to it (memberships, periods…).
    The pragma only changes outside a transaction: end it, switch, begin again."""
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



def upgrade():
    op.create_table('bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('journal_code', sa.String(length=10), nullable=False),
    sa.Column('ledger_account', sa.String(length=10), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('statement_csv_mapping', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("ledger_account LIKE '512%'", name=op.f('ck_bank_accounts_ledger_account_512')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_accounts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_accounts')),
    sa.UniqueConstraint('organisation_id', 'iban', name='uq_bank_accounts_org_iban'),
    sa.UniqueConstraint('organisation_id', 'name', name='uq_bank_accounts_org_name')
    )
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_accounts_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('uq_bank_accounts_org_default', ['organisation_id'], unique=True, sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.create_table('payee_bank_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('holder_name', sa.String(length=70), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_payee_bank_details_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_payee_bank_details_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_bank_details')),
    sa.UniqueConstraint('organisation_id', 'party_id', name='uq_payee_bank_details_org_party')
    )
    with op.batch_alter_table('payee_bank_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payee_bank_details_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payee_bank_details_party_id'), ['party_id'], unique=False)

    op.create_table('bank_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('new_line_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], name=op.f('fk_bank_statements_bank_account_id_bank_accounts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bank_statements_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_statements_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statements'))
    )
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_statements_bank_account_id'), ['bank_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_statements_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('bank_statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('label', sa.String(length=500), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=True),
    sa.Column('counterparty', sa.String(length=200), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('unmatched', 'suggested', 'matched', 'ignored', name='linestatus', native_enum=False, length=20), nullable=False),
    sa.Column('suggested_kind', sa.String(length=40), nullable=True),
    sa.Column('suggested_id', sa.Integer(), nullable=True),
    sa.Column('match_rule', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_accounts.id'], name=op.f('fk_bank_statement_lines_bank_account_id_bank_accounts')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_statement_lines_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['bank_statements.id'], name=op.f('fk_bank_statement_lines_statement_id_bank_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statement_lines')),
    sa.UniqueConstraint('bank_account_id', 'fingerprint', name='uq_bank_statement_lines_account_fingerprint')
    )
    with op.batch_alter_table('bank_statement_lines', schema=None) as batch_op:
        batch_op.create_index('ix_bank_statement_lines_org_status', ['organisation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_statement_lines_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index('ix_bank_statement_lines_suggested', ['suggested_kind', 'suggested_id'], unique=False)

    op.create_table('bank_line_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('matched_by_id', sa.Integer(), nullable=True),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_bank_line_matches_amount_not_zero')),
    sa.ForeignKeyConstraint(['line_id'], ['bank_statement_lines.id'], name=op.f('fk_bank_line_matches_line_id_bank_statement_lines')),
    sa.ForeignKeyConstraint(['matched_by_id'], ['users.id'], name=op.f('fk_bank_line_matches_matched_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_line_matches_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_line_matches')),
    sa.UniqueConstraint('line_id', 'target_kind', 'target_id', name='uq_bank_line_matches_line_target')
    )
    with op.batch_alter_table('bank_line_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_line_matches_line_id'), ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_line_matches_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_bank_line_matches_target', ['target_kind', 'target_id'], unique=False)

    _copy_data()

    with op.batch_alter_table('membership_statement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_statement_lines_import_id'))
        batch_op.drop_index(batch_op.f('ix_membership_statement_lines_membership_id'))
        batch_op.drop_index(batch_op.f('ix_membership_statement_lines_org_status'))

    op.drop_table('membership_statement_lines')
    with op.batch_alter_table('membership_statement_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_statement_imports_organisation_id'))

    op.drop_table('membership_statement_imports')
    with op.batch_alter_table('membership_settings', schema=None) as batch_op:
        batch_op.drop_column('statement_csv_mapping')

    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('bic')
        batch_op.drop_column('iban')



def _execute(sql, **params):
    op.get_bind().execute(sa.text(sql), params)


def _reset_sequences(*tables):
    """PostgreSQL: rows were copied with their ids; the next id follows the largest."""
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            _execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                     f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")


def _copy_data():
    _execute("""
        INSERT INTO bank_accounts (organisation_id, name, iban, bic, journal_code, ledger_account, is_default, active,
                                   statement_csv_mapping, created_at, updated_at)
        SELECT o.id, 'Compte courant', NULLIF(o.iban, ''), NULLIF(o.bic, ''), 'BQ', '512', :yes, :yes,
               s.statement_csv_mapping, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM organisations o LEFT JOIN membership_settings s ON s.organisation_id = o.id
        WHERE NULLIF(o.iban, '') IS NOT NULL OR NULLIF(o.bic, '') IS NOT NULL OR s.statement_csv_mapping IS NOT NULL
           OR EXISTS (SELECT 1 FROM membership_statement_imports i WHERE i.organisation_id = o.id)""", yes=True)
    _execute("""
        INSERT INTO bank_statements (id, organisation_id, bank_account_id, filename, file_format, line_count,
                                     new_line_count, created_by_id, created_at, updated_at)
        SELECT i.id, i.organisation_id, a.id, i.filename, i.file_format, i.line_count, i.new_line_count,
               i.created_by_id, i.created_at, i.updated_at
        FROM membership_statement_imports i
        JOIN bank_accounts a ON a.organisation_id = i.organisation_id AND a.is_default = :yes""", yes=True)
    _execute("""
        INSERT INTO bank_statement_lines (id, organisation_id, bank_account_id, statement_id, booked_on, amount, label,
                                          reference, counterparty, fingerprint, status, suggested_kind, suggested_id,
                                          match_rule, created_at, updated_at)
        SELECT l.id, l.organisation_id, s.bank_account_id, l.import_id, l.booked_on, l.amount, l.label, l.reference,
               l.counterparty, l.fingerprint,
               CASE WHEN l.amount < 0 AND l.status = 'ignored' THEN 'unmatched'
                    WHEN l.status = 'matched' AND l.payment_id IS NULL THEN 'suggested'
                    ELSE l.status END,
               CASE WHEN l.membership_id IS NOT NULL THEN 'memberships' END, l.membership_id, l.match_rule,
               l.created_at, l.updated_at
        FROM membership_statement_lines l JOIN bank_statements s ON s.id = l.import_id""")
    _execute("""
        INSERT INTO bank_line_matches (organisation_id, line_id, target_kind, target_id, amount, matched_by_id,
                                       matched_at)
        SELECT l.organisation_id, l.id, 'membership_payments', l.payment_id, l.amount, p.created_by_id, l.updated_at
        FROM membership_statement_lines l JOIN membership_payments p ON p.id = l.payment_id
        WHERE l.status = 'matched'""")
    _reset_sequences("bank_statements", "bank_statement_lines")


def downgrade():
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('iban', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('bic', sa.String(length=11), nullable=True))

    with op.batch_alter_table('membership_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statement_csv_mapping', sa.JSON(), nullable=True))

    op.create_table('membership_statement_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('new_line_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_membership_statement_imports_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_statement_imports_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_statement_imports'))
    )
    with op.batch_alter_table('membership_statement_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_statement_imports_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('membership_statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('label', sa.String(length=500), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=True),
    sa.Column('counterparty', sa.String(length=200), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=True),
    sa.Column('match_rule', sa.String(length=20), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['membership_statement_imports.id'], name=op.f('fk_membership_statement_lines_import_id_membership_statement_imports')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_statement_lines_membership_id_memberships')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_membership_statement_lines_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['membership_payments.id'], name=op.f('fk_membership_statement_lines_payment_id_membership_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_statement_lines')),
    sa.UniqueConstraint('organisation_id', 'fingerprint', name=op.f('uq_membership_statement_lines_org_fingerprint'))
    )
    with op.batch_alter_table('membership_statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_statement_lines_org_status'), ['organisation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_statement_lines_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_statement_lines_import_id'), ['import_id'], unique=False)

    _copy_data_back()

    with op.batch_alter_table('bank_line_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_line_matches_target')
        batch_op.drop_index(batch_op.f('ix_bank_line_matches_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_bank_line_matches_line_id'))

    op.drop_table('bank_line_matches')
    with op.batch_alter_table('bank_statement_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_statement_lines_suggested')
        batch_op.drop_index(batch_op.f('ix_bank_statement_lines_statement_id'))
        batch_op.drop_index('ix_bank_statement_lines_org_status')

    op.drop_table('bank_statement_lines')
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_statements_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_bank_statements_bank_account_id'))

    op.drop_table('bank_statements')
    with op.batch_alter_table('payee_bank_details', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payee_bank_details_party_id'))
        batch_op.drop_index(batch_op.f('ix_payee_bank_details_organisation_id'))

    op.drop_table('payee_bank_details')
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_bank_accounts_org_default', sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))
        batch_op.drop_index(batch_op.f('ix_bank_accounts_organisation_id'))

    op.drop_table('bank_accounts')


def _copy_data_back():
    _execute("""
        UPDATE organisations SET
            iban = (SELECT a.iban FROM bank_accounts a WHERE a.organisation_id = organisations.id AND a.is_default = :yes),
            bic = (SELECT a.bic FROM bank_accounts a WHERE a.organisation_id = organisations.id AND a.is_default = :yes)
        """, yes=True)
    _execute("""
        UPDATE membership_settings SET statement_csv_mapping = (
            SELECT a.statement_csv_mapping FROM bank_accounts a
            WHERE a.organisation_id = membership_settings.organisation_id AND a.is_default = :yes)""", yes=True)
    _execute("""
        INSERT INTO membership_statement_imports (id, organisation_id, filename, file_format, line_count, new_line_count,
                                                  created_by_id, created_at, updated_at)
        SELECT id, organisation_id, filename, file_format, line_count, new_line_count, created_by_id, created_at,
               updated_at FROM bank_statements""")
    _execute("""
        INSERT INTO membership_statement_lines (id, organisation_id, import_id, booked_on, amount, label, reference,
                                                counterparty, fingerprint, status, membership_id, match_rule,
                                                payment_id, created_at, updated_at)
        SELECT l.id, l.organisation_id, l.statement_id, l.booked_on, l.amount, l.label, l.reference, l.counterparty,
               l.fingerprint,
               CASE WHEN l.status = 'matched' AND m.target_id IS NULL THEN 'ignored'
                    WHEN l.amount < 0 AND l.status <> 'matched' THEN 'ignored' ELSE l.status END,
               CASE WHEN l.suggested_kind = 'memberships' THEN l.suggested_id END, l.match_rule, m.target_id,
               l.created_at, l.updated_at
        FROM bank_statement_lines l
        LEFT JOIN bank_line_matches m ON m.line_id = l.id AND m.target_kind = 'membership_payments'""")
    _reset_sequences("membership_statement_imports", "membership_statement_lines")
