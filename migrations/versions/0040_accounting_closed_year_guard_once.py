"""accounting: the closed-year guard of the lines looks up a lettered line's entry once — an
UPDATE that keeps the line in its entry (lettering, the closing's letters) checks that entry, not
the same entry as OLD and as NEW; the rule is unchanged (PostgreSQL only: SQLite's triggers are
the same)

The function's SQL is copied from backoffice/accounting/db_guards.py (``closed_year_statements``)
as it is at this revision; the downgrade puts back 0024's.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-04

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

GUARD = """CREATE OR REPLACE FUNCTION accounting_closed_year_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF TG_TABLE_NAME = 'accounting_entries' THEN
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = OLD.organisation_id AND p.kind = 'year' AND OLD.entry_date BETWEEN p.start_date AND p.end_date)) OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = NEW.organisation_id AND p.kind = 'year' AND NEW.entry_date BETWEEN p.start_date AND p.end_date)) THEN
      RAISE EXCEPTION 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.' USING ERRCODE = 'check_violation';
    END IF;
  ELSIF TG_OP = 'UPDATE' AND NEW.entry_id = OLD.entry_id THEN
    -- The line stays in its entry (lettering, the closing's own letters): one entry to look up,
    -- not the same one twice — the closing letters tens of thousands of lines in one UPDATE.
    IF EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = NEW.entry_id) THEN
      RAISE EXCEPTION 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.' USING ERRCODE = 'check_violation';
    END IF;
  ELSE
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = OLD.entry_id)) OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = NEW.entry_id)) THEN
      RAISE EXCEPTION 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.' USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$guard$"""

PREVIOUS_GUARD = """CREATE OR REPLACE FUNCTION accounting_closed_year_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF TG_TABLE_NAME = 'accounting_entries' THEN
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = OLD.organisation_id AND p.kind = 'year' AND OLD.entry_date BETWEEN p.start_date AND p.end_date)) OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = NEW.organisation_id AND p.kind = 'year' AND NEW.entry_date BETWEEN p.start_date AND p.end_date)) THEN
      RAISE EXCEPTION 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.' USING ERRCODE = 'check_violation';
    END IF;
  ELSE
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = OLD.entry_id)) OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p ON p.organisation_id = e.organisation_id AND p.kind = 'year' AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = NEW.entry_id)) THEN
      RAISE EXCEPTION 'Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée.' USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$guard$"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PREVIOUS_GUARD)
