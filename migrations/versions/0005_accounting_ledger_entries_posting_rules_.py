"""accounting: ledger, entries, posting rules, exports

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23 13:09:52.658590

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0001'
branch_labels = None
depends_on = None

# The guard triggers as backoffice/accounting/db_guards.py wrote them at this revision, copied
# here: a migration must not change when the application's code does (tests/foundation/
# test_migrations.py checks that no migration imports it).
_PG_GUARDS = (
    """
CREATE OR REPLACE FUNCTION accounting_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
DECLARE
  line_count integer;
  difference numeric;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'draft' THEN
      RAISE EXCEPTION 'Écriture refusée : elle doit être créée en brouillard puis comptabilisée une fois ses lignes saisies.' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.status = 'posted' THEN
      RAISE EXCEPTION 'Écriture comptabilisée : elle ne peut pas être supprimée, seulement contre-passée.' USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status = 'posted' THEN
    IF NEW.status <> 'posted' OR (NEW.organisation_id, NEW.journal_id, NEW.fiscal_year, NEW.number, NEW.entry_date, NEW.piece_ref, NEW.piece_date, NEW.label, NEW.event, NEW.source, NEW.reversal_of_id) IS DISTINCT FROM (OLD.organisation_id, OLD.journal_id, OLD.fiscal_year, OLD.number, OLD.entry_date, OLD.piece_ref, OLD.piece_date, OLD.label, OLD.event, OLD.source, OLD.reversal_of_id) THEN
      RAISE EXCEPTION 'Écriture comptabilisée : elle ne peut plus être modifiée ; passez une écriture de contre-passation.' USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.validated_on IS NOT NULL AND NEW.validated_on IS DISTINCT FROM OLD.validated_on THEN
      RAISE EXCEPTION 'Écriture validée : sa date de validation ne peut plus changer.' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.status = 'posted' THEN
    SELECT count(*), coalesce(sum(debit), 0) - coalesce(sum(credit), 0)
      INTO line_count, difference
      FROM accounting_lines WHERE entry_id = NEW.id;
    IF line_count < 2 OR difference <> 0 THEN
      RAISE EXCEPTION 'Écriture déséquilibrée : le total des débits doit égaler le total des crédits (au moins deux lignes).' USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NEW;
END
$guard$""",
    """DROP TRIGGER IF EXISTS accounting_entries_guard ON accounting_entries""",
    """CREATE TRIGGER accounting_entries_guard BEFORE INSERT OR UPDATE OR DELETE ON accounting_entries
FOR EACH ROW EXECUTE FUNCTION accounting_entries_guard()""",
    """
CREATE OR REPLACE FUNCTION accounting_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
DECLARE
  entry_status text;
  entry_organisation integer;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT status INTO entry_status FROM accounting_entries WHERE id = OLD.entry_id FOR SHARE;
    IF entry_status = 'posted' THEN
      RAISE EXCEPTION 'Écriture comptabilisée : elle ne peut pas être supprimée, seulement contre-passée.' USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NOT ((NEW.entry_id, NEW.organisation_id, NEW.position, NEW.account_id, NEW.auxiliary_id, NEW.label, NEW.debit, NEW.credit) IS DISTINCT FROM (OLD.entry_id, OLD.organisation_id, OLD.position, OLD.account_id, OLD.auxiliary_id, OLD.label, OLD.debit, OLD.credit)) THEN
      RETURN NEW;  -- only the lettering changes: allowed at any time
    END IF;
    SELECT status INTO entry_status FROM accounting_entries WHERE id = OLD.entry_id FOR SHARE;
    IF entry_status = 'posted' THEN
      RAISE EXCEPTION 'Ligne d''une écriture comptabilisée : seul le lettrage peut changer.' USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  SELECT status, organisation_id INTO entry_status, entry_organisation
    FROM accounting_entries WHERE id = NEW.entry_id FOR SHARE;
  IF entry_status = 'posted' THEN
    RAISE EXCEPTION 'Écriture comptabilisée : elle ne peut plus être modifiée ; passez une écriture de contre-passation.' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.organisation_id IS DISTINCT FROM entry_organisation
     OR NEW.organisation_id IS DISTINCT FROM (SELECT organisation_id FROM accounting_accounts WHERE id = NEW.account_id)
     OR (NEW.auxiliary_id IS NOT NULL AND NEW.organisation_id IS DISTINCT FROM
         (SELECT organisation_id FROM accounting_auxiliary_accounts WHERE id = NEW.auxiliary_id)) THEN
    RAISE EXCEPTION 'Ligne refusée : le compte, le compte auxiliaire et l''écriture doivent appartenir à la même organisation.' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$guard$""",
    """DROP TRIGGER IF EXISTS accounting_lines_guard ON accounting_lines""",
    """CREATE TRIGGER accounting_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON accounting_lines
FOR EACH ROW EXECUTE FUNCTION accounting_lines_guard()""",
)

_SQLITE_GUARDS = (
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_insert_draft BEFORE INSERT ON accounting_entries
WHEN NEW.status <> 'draft'
BEGIN SELECT RAISE(ABORT, 'Écriture refusée : elle doit être créée en brouillard puis comptabilisée une fois ses lignes saisies.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_post BEFORE UPDATE ON accounting_entries
WHEN OLD.status = 'draft' AND NEW.status = 'posted' AND (
  (SELECT count(*) FROM accounting_lines WHERE entry_id = NEW.id) < 2
  OR (SELECT coalesce(sum(round(debit * 100)), 0) - coalesce(sum(round(credit * 100)), 0)
      FROM accounting_lines WHERE entry_id = NEW.id) <> 0)
BEGIN SELECT RAISE(ABORT, 'Écriture déséquilibrée : le total des débits doit égaler le total des crédits (au moins deux lignes).'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_frozen BEFORE UPDATE ON accounting_entries
WHEN OLD.status = 'posted' AND (NEW.status IS NOT OLD.status OR NEW.organisation_id IS NOT OLD.organisation_id OR NEW.journal_id IS NOT OLD.journal_id OR NEW.fiscal_year IS NOT OLD.fiscal_year OR NEW.number IS NOT OLD.number OR NEW.entry_date IS NOT OLD.entry_date OR NEW.piece_ref IS NOT OLD.piece_ref OR NEW.piece_date IS NOT OLD.piece_date OR NEW.label IS NOT OLD.label OR NEW.event IS NOT OLD.event OR NEW.source IS NOT OLD.source OR NEW.reversal_of_id IS NOT OLD.reversal_of_id)
BEGIN SELECT RAISE(ABORT, 'Écriture comptabilisée : elle ne peut plus être modifiée ; passez une écriture de contre-passation.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_validated BEFORE UPDATE ON accounting_entries
WHEN OLD.validated_on IS NOT NULL AND NEW.validated_on IS NOT OLD.validated_on
BEGIN SELECT RAISE(ABORT, 'Écriture validée : sa date de validation ne peut plus changer.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_entries_no_delete BEFORE DELETE ON accounting_entries
WHEN OLD.status = 'posted'
BEGIN SELECT RAISE(ABORT, 'Écriture comptabilisée : elle ne peut pas être supprimée, seulement contre-passée.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_lines_insert BEFORE INSERT ON accounting_lines
WHEN (SELECT status FROM accounting_entries WHERE id = NEW.entry_id) = 'posted'
BEGIN SELECT RAISE(ABORT, 'Écriture comptabilisée : elle ne peut plus être modifiée ; passez une écriture de contre-passation.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_lines_organisation BEFORE INSERT ON accounting_lines
WHEN NEW.organisation_id IS NOT (SELECT organisation_id FROM accounting_entries WHERE id = NEW.entry_id)
  OR NEW.organisation_id IS NOT (SELECT organisation_id FROM accounting_accounts WHERE id = NEW.account_id)
  OR (NEW.auxiliary_id IS NOT NULL AND NEW.organisation_id IS NOT
      (SELECT organisation_id FROM accounting_auxiliary_accounts WHERE id = NEW.auxiliary_id))
BEGIN SELECT RAISE(ABORT, 'Ligne refusée : le compte, le compte auxiliaire et l''écriture doivent appartenir à la même organisation.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_lines_update BEFORE UPDATE ON accounting_lines
WHEN (NEW.entry_id IS NOT OLD.entry_id OR NEW.organisation_id IS NOT OLD.organisation_id OR NEW.position IS NOT OLD.position OR NEW.account_id IS NOT OLD.account_id OR NEW.auxiliary_id IS NOT OLD.auxiliary_id OR NEW.label IS NOT OLD.label OR NEW.debit IS NOT OLD.debit OR NEW.credit IS NOT OLD.credit)
  AND ((SELECT status FROM accounting_entries WHERE id = OLD.entry_id) = 'posted' OR (SELECT status FROM accounting_entries WHERE id = NEW.entry_id) = 'posted')
BEGIN SELECT RAISE(ABORT, 'Ligne d''une écriture comptabilisée : seul le lettrage peut changer.'); END""",
    """CREATE TRIGGER IF NOT EXISTS accounting_lines_delete BEFORE DELETE ON accounting_lines
WHEN (SELECT status FROM accounting_entries WHERE id = OLD.entry_id) = 'posted'
BEGIN SELECT RAISE(ABORT, 'Écriture comptabilisée : elle ne peut pas être supprimée, seulement contre-passée.'); END""",
)

_PG_DROP_GUARDS = (
    """DROP TRIGGER IF EXISTS accounting_lines_guard ON accounting_lines""",
    """DROP TRIGGER IF EXISTS accounting_entries_guard ON accounting_entries""",
    """DROP FUNCTION IF EXISTS accounting_lines_guard()""",
    """DROP FUNCTION IF EXISTS accounting_entries_guard()""",
)

_SQLITE_DROP_GUARDS = (
    """DROP TRIGGER IF EXISTS accounting_entries_insert_draft""",
    """DROP TRIGGER IF EXISTS accounting_entries_post""",
    """DROP TRIGGER IF EXISTS accounting_entries_frozen""",
    """DROP TRIGGER IF EXISTS accounting_entries_validated""",
    """DROP TRIGGER IF EXISTS accounting_entries_no_delete""",
    """DROP TRIGGER IF EXISTS accounting_lines_insert""",
    """DROP TRIGGER IF EXISTS accounting_lines_organisation""",
    """DROP TRIGGER IF EXISTS accounting_lines_update""",
    """DROP TRIGGER IF EXISTS accounting_lines_delete""",
)

GUARDS = {"postgresql": _PG_GUARDS, "sqlite": _SQLITE_GUARDS}
DROP_GUARDS = {"postgresql": _PG_DROP_GUARDS, "sqlite": _SQLITE_DROP_GUARDS}


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('accounting_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('collective', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_accounts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_accounts')),
    sa.UniqueConstraint('organisation_id', 'number', name='uq_accounting_accounts_org_number')
    )
    with op.batch_alter_table('accounting_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_accounts_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('accounting_closed_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('month', 'year')", name=op.f('ck_accounting_closed_periods_kind')),
    sa.CheckConstraint('start_date <= end_date', name=op.f('ck_accounting_closed_periods_dates')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_accounting_closed_periods_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_closed_periods_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_closed_periods')),
    sa.UniqueConstraint('organisation_id', 'kind', 'start_date', name='uq_accounting_closed_periods_org_kind_start')
    )
    with op.batch_alter_table('accounting_closed_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_closed_periods_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('accounting_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('fiscal_year', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('fmt', sa.String(length=10), nullable=False),
    sa.Column('report', sa.String(length=20), nullable=True),
    sa.Column('encoding', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_path', sa.String(length=400), nullable=True),
    sa.Column('notice_path', sa.String(length=400), nullable=True),
    sa.Column('output_path', sa.String(length=400), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('byte_count', sa.Integer(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('entries_validated', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_exports_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_accounting_exports_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_exports'))
    )
    with op.batch_alter_table('accounting_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_exports_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('accounting_journals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_journals_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_journals')),
    sa.UniqueConstraint('organisation_id', 'code', name='uq_accounting_journals_org_code')
    )
    with op.batch_alter_table('accounting_journals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_journals_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('accounting_ledgers',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('chart', sa.String(length=20), nullable=False),
    sa.Column('lettering_counter', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_ledgers_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_accounting_ledgers'))
    )
    op.create_table('accounting_sequences',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_sequences_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'fiscal_year', name=op.f('pk_accounting_sequences'))
    )
    op.create_table('accounting_auxiliary_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounting_accounts.id'], name=op.f('fk_accounting_auxiliary_accounts_account_id_accounting_accounts')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_auxiliary_accounts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_accounting_auxiliary_accounts_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_auxiliary_accounts')),
    sa.UniqueConstraint('organisation_id', 'number', name='uq_accounting_aux_org_number'),
    sa.UniqueConstraint('organisation_id', 'party_id', 'account_id', name='uq_accounting_aux_org_party_account')
    )
    with op.batch_alter_table('accounting_auxiliary_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_auxiliary_accounts_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounting_auxiliary_accounts_party_id'), ['party_id'], unique=False)

    op.create_table('accounting_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('piece_ref', sa.String(length=60), nullable=False),
    sa.Column('piece_date', sa.Date(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=120), nullable=True),
    sa.Column('reversal_of_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('validated_on', sa.Date(), nullable=True),
    sa.Column('validated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status = 'draft' OR number IS NOT NULL", name=op.f('ck_accounting_entries_posted_numbered')),
    sa.CheckConstraint("status IN ('draft', 'posted')", name=op.f('ck_accounting_entries_status')),
    sa.CheckConstraint('number IS NULL OR number > 0', name=op.f('ck_accounting_entries_number_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_accounting_entries_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['journal_id'], ['accounting_journals.id'], name=op.f('fk_accounting_entries_journal_id_accounting_journals')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_entries_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reversal_of_id'], ['accounting_entries.id'], name=op.f('fk_accounting_entries_reversal_of_id_accounting_entries')),
    sa.ForeignKeyConstraint(['validated_by_id'], ['users.id'], name=op.f('fk_accounting_entries_validated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_entries')),
    sa.UniqueConstraint('organisation_id', 'fiscal_year', 'number', name='uq_accounting_entries_org_year_number'),
    sa.UniqueConstraint('reversal_of_id', name='uq_accounting_entries_reversal_of_id')
    )
    with op.batch_alter_table('accounting_entries', schema=None) as batch_op:
        batch_op.create_index('ix_accounting_entries_org_date', ['organisation_id', 'entry_date'], unique=False)
        batch_op.create_index('uq_accounting_entries_org_source', ['organisation_id', 'source'], unique=True, postgresql_where=sa.text('source IS NOT NULL'), sqlite_where=sa.text('source IS NOT NULL'))

    op.create_table('accounting_payment_methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounting_accounts.id'], name=op.f('fk_accounting_payment_methods_account_id_accounting_accounts')),
    sa.ForeignKeyConstraint(['journal_id'], ['accounting_journals.id'], name=op.f('fk_accounting_payment_methods_journal_id_accounting_journals')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_payment_methods_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_payment_methods')),
    sa.UniqueConstraint('organisation_id', 'method', name='uq_accounting_payment_methods_org_method')
    )
    with op.batch_alter_table('accounting_payment_methods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_payment_methods_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('accounting_posting_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('debit_account_id', sa.Integer(), nullable=True),
    sa.Column('credit_account_id', sa.Integer(), nullable=True),
    sa.Column('journal_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credit_account_id'], ['accounting_accounts.id'], name=op.f('fk_accounting_posting_rules_credit_account_id_accounting_accounts')),
    sa.ForeignKeyConstraint(['debit_account_id'], ['accounting_accounts.id'], name=op.f('fk_accounting_posting_rules_debit_account_id_accounting_accounts')),
    sa.ForeignKeyConstraint(['journal_id'], ['accounting_journals.id'], name=op.f('fk_accounting_posting_rules_journal_id_accounting_journals')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_posting_rules_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_posting_rules')),
    sa.UniqueConstraint('organisation_id', 'event', name='uq_accounting_posting_rules_org_event')
    )
    with op.batch_alter_table('accounting_posting_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounting_posting_rules_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('accounting_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('auxiliary_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('debit', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('credit', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('lettering_code', sa.String(length=8), nullable=True),
    sa.Column('lettering_date', sa.Date(), nullable=True),
    sa.CheckConstraint('(debit > 0 AND credit = 0) OR (credit > 0 AND debit = 0)', name=op.f('ck_accounting_lines_debit_xor_credit')),
    sa.CheckConstraint('(lettering_code IS NULL) = (lettering_date IS NULL)', name=op.f('ck_accounting_lines_lettering_pair')),
    sa.CheckConstraint('debit >= 0 AND credit >= 0', name=op.f('ck_accounting_lines_amounts_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['accounting_accounts.id'], name=op.f('fk_accounting_lines_account_id_accounting_accounts')),
    sa.ForeignKeyConstraint(['auxiliary_id'], ['accounting_auxiliary_accounts.id'], name=op.f('fk_accounting_lines_auxiliary_id_accounting_auxiliary_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['accounting_entries.id'], name=op.f('fk_accounting_lines_entry_id_accounting_entries')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounting_lines_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounting_lines'))
    )
    with op.batch_alter_table('accounting_lines', schema=None) as batch_op:
        batch_op.create_index('ix_accounting_lines_aux_lettering', ['auxiliary_id', 'lettering_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounting_lines_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_accounting_lines_org_account', ['organisation_id', 'account_id'], unique=False)
        batch_op.create_index('ix_accounting_lines_org_lettering', ['organisation_id', 'lettering_code'], unique=False)

    # ### end Alembic commands ###
    install_guards()


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    remove_guards()
    with op.batch_alter_table('accounting_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_accounting_lines_org_lettering')
        batch_op.drop_index('ix_accounting_lines_org_account')
        batch_op.drop_index(batch_op.f('ix_accounting_lines_entry_id'))
        batch_op.drop_index('ix_accounting_lines_aux_lettering')

    op.drop_table('accounting_lines')
    with op.batch_alter_table('accounting_posting_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_posting_rules_organisation_id'))

    op.drop_table('accounting_posting_rules')
    with op.batch_alter_table('accounting_payment_methods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_payment_methods_organisation_id'))

    op.drop_table('accounting_payment_methods')
    with op.batch_alter_table('accounting_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_accounting_entries_org_source', postgresql_where=sa.text('source IS NOT NULL'), sqlite_where=sa.text('source IS NOT NULL'))
        batch_op.drop_index('ix_accounting_entries_org_date')

    op.drop_table('accounting_entries')
    with op.batch_alter_table('accounting_auxiliary_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_auxiliary_accounts_party_id'))
        batch_op.drop_index(batch_op.f('ix_accounting_auxiliary_accounts_organisation_id'))

    op.drop_table('accounting_auxiliary_accounts')
    op.drop_table('accounting_sequences')
    op.drop_table('accounting_ledgers')
    with op.batch_alter_table('accounting_journals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_journals_organisation_id'))

    op.drop_table('accounting_journals')
    with op.batch_alter_table('accounting_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_exports_organisation_id'))

    op.drop_table('accounting_exports')
    with op.batch_alter_table('accounting_closed_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_closed_periods_organisation_id'))

    op.drop_table('accounting_closed_periods')
    with op.batch_alter_table('accounting_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounting_accounts_organisation_id'))

    op.drop_table('accounting_accounts')
    # ### end Alembic commands ###


def install_guards():
    """The triggers that keep posted entries balanced and untouchable (see accounting/db_guards.py)."""
    for statement in GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)


def remove_guards():
    for statement in DROP_GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)
