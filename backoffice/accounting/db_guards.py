"""Database triggers that keep the books balanced and posted entries untouchable.

Why triggers on a *draft → posted* switch, rather than a check at commit:

* Balance is a property of several rows (the lines of one entry), so a row CHECK cannot
  express it, and a per-row trigger on the lines would see the entry half-inserted.
  PostgreSQL could defer a constraint trigger to the commit, but SQLite has no deferred
  triggers, and a Python ``before_commit`` hook is bypassed by any raw SQL or other client.
* So an entry is inserted as ``draft`` (the only status an INSERT accepts), its lines are
  inserted, and it becomes ``posted`` by an UPDATE that the trigger refuses unless the entry
  has at least two lines whose debits and credits are equal. Once posted, triggers refuse:
  deleting the entry, changing any of its columns (except the validation stamp, set once),
  adding, deleting or changing a line — except the lettering columns of a line, which the
  treasurer sets and clears at any time. Line ``CHECK`` constraints make each line a debit *or*
  a credit, never negative. The same rules run on PostgreSQL (PL/pgSQL) and on SQLite (``WHEN``
  triggers; amounts compared in cents because SQLite stores NUMERIC as REAL).
* Every report, the FEC and the trial balance read **posted** entries only. A draft is
  invisible and holds no number; the services post in the same transaction as they insert,
  so a draft never survives a request.
* On PostgreSQL the line triggers lock the entry row (``FOR SHARE``), so a line cannot be
  slipped into an entry while another transaction posts it.

* A **closed fiscal year** (a ``kind = 'year'`` row of ``accounting_closed_periods``) is
  frozen whole: a trigger refuses inserting, changing or deleting an entry dated in it (its
  date before or after the change), and inserting, changing — the lettering included, which
  the FEC of the year shows — or deleting a line of such an entry; another refuses changing or
  deleting the closed-year row itself (a closing is irreversible). The closing
  (``backoffice.accounting.closing``) validates and numbers the year's entries *before* it
  inserts that row. A closed *month* only refuses new postings (``books.check_open``).

* The **totals kept in advance** (``accounting_account_totals``: debit and credit per fiscal
  year, month, account and auxiliary account) are added to by a trigger *after* the
  *draft → posted* switch, from the entry's own lines, in the posting's transaction. That switch
  is the one door of every posting (one by one, batches, reversals, AN, raw SQL alike), and the
  guards above make a posted entry's lines unchangeable and the entry undeletable: nothing else
  can move a total. A trigger rather than Python in ``posting._post`` so that no path, present
  or future, can post around it. (Maintenance that deletes posted entries under ``suspended``
  deletes their totals too.) ``totals_statements(dialect)``.

``statements(dialect)`` is used both by ``create_all`` (through ``attach``) and by the
migration, so tests and production run the same triggers (the closed-year triggers are also
listed apart in ``closed_year_statements`` for the migration that added them).
"""
import contextlib

from sqlalchemy import DDL, event

_ENTRY_FROZEN_COLUMNS = (
    "organisation_id", "journal_id", "fiscal_year", "number", "entry_date", "piece_ref",
    "piece_date", "label", "event", "source", "reversal_of_id",
)
_LINE_FROZEN_COLUMNS = (
    "entry_id", "organisation_id", "position", "account_id", "auxiliary_id", "label", "debit",
    "credit",
)

MSG_NOT_DRAFT = "Écriture refusée : elle doit être créée en brouillard puis comptabilisée une fois ses lignes saisies."
MSG_UNBALANCED = "Écriture déséquilibrée : le total des débits doit égaler le total des crédits (au moins deux lignes)."
MSG_POSTED_FROZEN = "Écriture comptabilisée : elle ne peut plus être modifiée ; passez une écriture de contre-passation."
MSG_VALIDATED = "Écriture validée : sa date de validation ne peut plus changer."
MSG_POSTED_DELETE = "Écriture comptabilisée : elle ne peut pas être supprimée, seulement contre-passée."
MSG_LINE_FROZEN = "Ligne d'une écriture comptabilisée : seul le lettrage peut changer."
MSG_LINE_ORGANISATION = "Ligne refusée : le compte, le compte auxiliaire et l'écriture doivent appartenir à la même organisation."
MSG_CLOSED_YEAR = "Exercice clôturé : aucune écriture ne peut y être passée, modifiée ou lettrée."
MSG_CLOSING_FINAL = "Clôture d'exercice définitive : elle ne peut être ni modifiée ni supprimée."

# "Is this (organisation, date) in a closed fiscal year?", for the triggers.
_IN_CLOSED_YEAR = ("EXISTS (SELECT 1 FROM accounting_closed_periods p WHERE p.organisation_id = {org} "
                   "AND p.kind = 'year' AND {day} BETWEEN p.start_date AND p.end_date)")
_ENTRY_IN_CLOSED_YEAR = ("EXISTS (SELECT 1 FROM accounting_entries e JOIN accounting_closed_periods p "
                         "ON p.organisation_id = e.organisation_id AND p.kind = 'year' "
                         "AND e.entry_date BETWEEN p.start_date AND p.end_date WHERE e.id = {entry})")


def _q(message):
    """A SQL string literal."""
    return "'" + message.replace("'", "''") + "'"


def _pg_tuple(prefix, columns):
    return "(" + ", ".join(f"{prefix}.{column}" for column in columns) + ")"


def _sqlite_changed(columns):
    return " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in columns)


def _pg_statements():
    entry_frozen = f"{_pg_tuple('NEW', _ENTRY_FROZEN_COLUMNS)} IS DISTINCT FROM {_pg_tuple('OLD', _ENTRY_FROZEN_COLUMNS)}"
    line_frozen = f"{_pg_tuple('NEW', _LINE_FROZEN_COLUMNS)} IS DISTINCT FROM {_pg_tuple('OLD', _LINE_FROZEN_COLUMNS)}"
    return [
        f"""
CREATE OR REPLACE FUNCTION accounting_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
DECLARE
  line_count integer;
  difference numeric;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'draft' THEN
      RAISE EXCEPTION {_q(MSG_NOT_DRAFT)} USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.status = 'posted' THEN
      RAISE EXCEPTION {_q(MSG_POSTED_DELETE)} USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status = 'posted' THEN
    IF NEW.status <> 'posted' OR {entry_frozen} THEN
      RAISE EXCEPTION {_q(MSG_POSTED_FROZEN)} USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.validated_on IS NOT NULL AND NEW.validated_on IS DISTINCT FROM OLD.validated_on THEN
      RAISE EXCEPTION {_q(MSG_VALIDATED)} USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.status = 'posted' THEN
    SELECT count(*), coalesce(sum(debit), 0) - coalesce(sum(credit), 0)
      INTO line_count, difference
      FROM accounting_lines WHERE entry_id = NEW.id;
    IF line_count < 2 OR difference <> 0 THEN
      RAISE EXCEPTION {_q(MSG_UNBALANCED)} USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NEW;
END
$guard$""",
        "DROP TRIGGER IF EXISTS accounting_entries_guard ON accounting_entries",
        """CREATE TRIGGER accounting_entries_guard BEFORE INSERT OR UPDATE OR DELETE ON accounting_entries
FOR EACH ROW EXECUTE FUNCTION accounting_entries_guard()""",
        f"""
CREATE OR REPLACE FUNCTION accounting_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
DECLARE
  entry_status text;
  entry_organisation integer;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT status INTO entry_status FROM accounting_entries WHERE id = OLD.entry_id FOR SHARE;
    IF entry_status = 'posted' THEN
      RAISE EXCEPTION {_q(MSG_POSTED_DELETE)} USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NOT ({line_frozen}) THEN
      RETURN NEW;  -- only the lettering changes: allowed at any time
    END IF;
    SELECT status INTO entry_status FROM accounting_entries WHERE id = OLD.entry_id FOR SHARE;
    IF entry_status = 'posted' THEN
      RAISE EXCEPTION {_q(MSG_LINE_FROZEN)} USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  SELECT status, organisation_id INTO entry_status, entry_organisation
    FROM accounting_entries WHERE id = NEW.entry_id FOR SHARE;
  IF entry_status = 'posted' THEN
    RAISE EXCEPTION {_q(MSG_POSTED_FROZEN)} USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.organisation_id IS DISTINCT FROM entry_organisation
     OR NEW.organisation_id IS DISTINCT FROM (SELECT organisation_id FROM accounting_accounts WHERE id = NEW.account_id)
     OR (NEW.auxiliary_id IS NOT NULL AND NEW.organisation_id IS DISTINCT FROM
         (SELECT organisation_id FROM accounting_auxiliary_accounts WHERE id = NEW.auxiliary_id)) THEN
    RAISE EXCEPTION {_q(MSG_LINE_ORGANISATION)} USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$guard$""",
        "DROP TRIGGER IF EXISTS accounting_lines_guard ON accounting_lines",
        """CREATE TRIGGER accounting_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON accounting_lines
FOR EACH ROW EXECUTE FUNCTION accounting_lines_guard()""",
    ]


def _closed_year_conditions():
    """The entry's old and new date, the line's old and new entry: in a closed year?"""
    return (_IN_CLOSED_YEAR.format(org="OLD.organisation_id", day="OLD.entry_date"),
            _IN_CLOSED_YEAR.format(org="NEW.organisation_id", day="NEW.entry_date"),
            _ENTRY_IN_CLOSED_YEAR.format(entry="OLD.entry_id"), _ENTRY_IN_CLOSED_YEAR.format(entry="NEW.entry_id"))


def _pg_closed_year_statements():
    """``(on the entries and lines, on the closed periods)``."""
    entry_old, entry_new, line_old, line_new = _closed_year_conditions()
    return [
        f"""
CREATE OR REPLACE FUNCTION accounting_closed_year_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF TG_TABLE_NAME = 'accounting_entries' THEN
    IF (TG_OP <> 'INSERT' AND {entry_old}) OR (TG_OP <> 'DELETE' AND {entry_new}) THEN
      RAISE EXCEPTION {_q(MSG_CLOSED_YEAR)} USING ERRCODE = 'check_violation';
    END IF;
  ELSIF TG_OP = 'UPDATE' AND NEW.entry_id = OLD.entry_id THEN
    -- The line stays in its entry (lettering, the closing's own letters): one entry to look up,
    -- not the same one twice — the closing letters tens of thousands of lines in one UPDATE.
    IF {line_new} THEN
      RAISE EXCEPTION {_q(MSG_CLOSED_YEAR)} USING ERRCODE = 'check_violation';
    END IF;
  ELSE
    IF (TG_OP <> 'INSERT' AND {line_old}) OR (TG_OP <> 'DELETE' AND {line_new}) THEN
      RAISE EXCEPTION {_q(MSG_CLOSED_YEAR)} USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$guard$""",
        "DROP TRIGGER IF EXISTS accounting_entries_closed_year ON accounting_entries",
        """CREATE TRIGGER accounting_entries_closed_year BEFORE INSERT OR UPDATE OR DELETE ON accounting_entries
FOR EACH ROW EXECUTE FUNCTION accounting_closed_year_guard()""",
        "DROP TRIGGER IF EXISTS accounting_lines_closed_year ON accounting_lines",
        """CREATE TRIGGER accounting_lines_closed_year BEFORE INSERT OR UPDATE OR DELETE ON accounting_lines
FOR EACH ROW EXECUTE FUNCTION accounting_closed_year_guard()""",
    ], [
        f"""
CREATE OR REPLACE FUNCTION accounting_closings_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF OLD.kind = 'year' THEN
    RAISE EXCEPTION {_q(MSG_CLOSING_FINAL)} USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$guard$""",
        "DROP TRIGGER IF EXISTS accounting_closed_periods_final ON accounting_closed_periods",
        """CREATE TRIGGER accounting_closed_periods_final BEFORE UPDATE OR DELETE ON accounting_closed_periods
FOR EACH ROW EXECUTE FUNCTION accounting_closings_guard()""",
    ]


def _sqlite_closed_year_statements():
    """``(on the entries and lines, on the closed periods)``."""
    entry_old, entry_new, line_old, line_new = _closed_year_conditions()
    refuse = f"BEGIN SELECT RAISE(ABORT, {_q(MSG_CLOSED_YEAR)}); END"
    final = f"BEGIN SELECT RAISE(ABORT, {_q(MSG_CLOSING_FINAL)}); END"
    return [
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_closed_year_insert BEFORE INSERT ON accounting_entries
WHEN {entry_new}
{refuse}""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_closed_year_update BEFORE UPDATE ON accounting_entries
WHEN {entry_old} OR {entry_new}
{refuse}""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_closed_year_delete BEFORE DELETE ON accounting_entries
WHEN {entry_old}
{refuse}""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_lines_closed_year_insert BEFORE INSERT ON accounting_lines
WHEN {line_new}
{refuse}""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_lines_closed_year_update BEFORE UPDATE ON accounting_lines
WHEN {line_old} OR {line_new}
{refuse}""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_lines_closed_year_delete BEFORE DELETE ON accounting_lines
WHEN {line_old}
{refuse}""",
    ], [
        f"""CREATE TRIGGER IF NOT EXISTS accounting_closed_periods_final_update BEFORE UPDATE ON accounting_closed_periods
WHEN OLD.kind = 'year'
{final}""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_closed_periods_final_delete BEFORE DELETE ON accounting_closed_periods
WHEN OLD.kind = 'year'
{final}""",
    ]


_SQLITE_CLOSED_YEAR_TRIGGERS = (
    "accounting_entries_closed_year_insert", "accounting_entries_closed_year_update",
    "accounting_entries_closed_year_delete", "accounting_lines_closed_year_insert",
    "accounting_lines_closed_year_update", "accounting_lines_closed_year_delete",
    "accounting_closed_periods_final_update", "accounting_closed_periods_final_delete",
)


def closed_year_statements(dialect_name):
    """The SQL of the closed-year guards alone (part of ``statements``): ``(on the entries and
    lines, on the closed periods)``."""
    if dialect_name == "postgresql":
        return _pg_closed_year_statements()
    if dialect_name == "sqlite":
        return _sqlite_closed_year_statements()
    raise NotImplementedError(f"no accounting guards for {dialect_name}")


_TOTALS_COLUMNS = "organisation_id, month, fiscal_year, account_id, auxiliary_key"


def _pg_totals_statements():
    return [
        f"""
CREATE OR REPLACE FUNCTION accounting_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $keep$
BEGIN
  INSERT INTO accounting_account_totals AS t ({_TOTALS_COLUMNS}, debit, credit)
    SELECT NEW.organisation_id, date_trunc('month', NEW.entry_date)::date, NEW.fiscal_year, l.account_id,
           coalesce(l.auxiliary_id, 0), sum(l.debit), sum(l.credit)
      FROM accounting_lines l WHERE l.entry_id = NEW.id
      GROUP BY l.account_id, coalesce(l.auxiliary_id, 0)
  ON CONFLICT ({_TOTALS_COLUMNS})
  DO UPDATE SET debit = t.debit + EXCLUDED.debit, credit = t.credit + EXCLUDED.credit;
  RETURN NULL;
END
$keep$""",
        "DROP TRIGGER IF EXISTS accounting_entries_totals ON accounting_entries",
        """CREATE TRIGGER accounting_entries_totals AFTER UPDATE ON accounting_entries
FOR EACH ROW WHEN (OLD.status = 'draft' AND NEW.status = 'posted') EXECUTE FUNCTION accounting_totals_keep()""",
    ]


def _sqlite_totals_statements():
    # SQLite keeps NUMERIC as REAL: every addition is rounded back to the cent.
    return [
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_totals AFTER UPDATE ON accounting_entries
WHEN OLD.status = 'draft' AND NEW.status = 'posted'
BEGIN
  INSERT INTO accounting_account_totals ({_TOTALS_COLUMNS}, debit, credit)
    SELECT NEW.organisation_id, date(NEW.entry_date, 'start of month'), NEW.fiscal_year, account_id,
           coalesce(auxiliary_id, 0), round(sum(debit), 2), round(sum(credit), 2)
      FROM accounting_lines WHERE entry_id = NEW.id
      GROUP BY account_id, coalesce(auxiliary_id, 0)
  ON CONFLICT ({_TOTALS_COLUMNS})
  DO UPDATE SET debit = round(debit + excluded.debit, 2), credit = round(credit + excluded.credit, 2);
END""",
    ]


def refill_totals_statements(dialect_name):
    """The totals recomputed from the posted lines (the migration's back-fill, and the end of
    a maintenance under ``suspended``)."""
    if dialect_name == "postgresql":
        month, debit, credit = "date_trunc('month', e.entry_date)::date", "sum(l.debit)", "sum(l.credit)"
    elif dialect_name == "sqlite":
        month, debit, credit = "date(e.entry_date, 'start of month')", "round(sum(l.debit), 2)", "round(sum(l.credit), 2)"
    else:
        raise NotImplementedError(f"no accounting totals for {dialect_name}")
    return [
        "DELETE FROM accounting_account_totals",
        f"""INSERT INTO accounting_account_totals ({_TOTALS_COLUMNS}, debit, credit)
SELECT e.organisation_id, {month}, e.fiscal_year, l.account_id, coalesce(l.auxiliary_id, 0), {debit}, {credit}
FROM accounting_lines l JOIN accounting_entries e ON e.id = l.entry_id
WHERE e.status = 'posted'
GROUP BY e.organisation_id, {month}, e.fiscal_year, l.account_id, coalesce(l.auxiliary_id, 0)""",
    ]


def totals_statements(dialect_name):
    """The SQL of the trigger that keeps ``accounting_account_totals`` (see the docstring)."""
    if dialect_name == "postgresql":
        return _pg_totals_statements()
    if dialect_name == "sqlite":
        return _sqlite_totals_statements()
    raise NotImplementedError(f"no accounting totals for {dialect_name}")


def drop_totals_statements(dialect_name):
    if dialect_name == "postgresql":
        return ["DROP TRIGGER IF EXISTS accounting_entries_totals ON accounting_entries",
                "DROP FUNCTION IF EXISTS accounting_totals_keep()"]
    return ["DROP TRIGGER IF EXISTS accounting_entries_totals"]


def _ledger_statements(dialect_name):
    if dialect_name == "postgresql":
        return _pg_statements()
    if dialect_name == "sqlite":
        return _sqlite_statements()
    raise NotImplementedError(f"no accounting guards for {dialect_name}")


def _sqlite_statements():
    entry_status = "(SELECT status FROM accounting_entries WHERE id = {ref}.entry_id)"
    return [
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_insert_draft BEFORE INSERT ON accounting_entries
WHEN NEW.status <> 'draft'
BEGIN SELECT RAISE(ABORT, {_q(MSG_NOT_DRAFT)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_post BEFORE UPDATE ON accounting_entries
WHEN OLD.status = 'draft' AND NEW.status = 'posted' AND (
  (SELECT count(*) FROM accounting_lines WHERE entry_id = NEW.id) < 2
  OR (SELECT coalesce(sum(round(debit * 100)), 0) - coalesce(sum(round(credit * 100)), 0)
      FROM accounting_lines WHERE entry_id = NEW.id) <> 0)
BEGIN SELECT RAISE(ABORT, {_q(MSG_UNBALANCED)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_frozen BEFORE UPDATE ON accounting_entries
WHEN OLD.status = 'posted' AND (NEW.status IS NOT OLD.status OR {_sqlite_changed(_ENTRY_FROZEN_COLUMNS)})
BEGIN SELECT RAISE(ABORT, {_q(MSG_POSTED_FROZEN)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_validated BEFORE UPDATE ON accounting_entries
WHEN OLD.validated_on IS NOT NULL AND NEW.validated_on IS NOT OLD.validated_on
BEGIN SELECT RAISE(ABORT, {_q(MSG_VALIDATED)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_entries_no_delete BEFORE DELETE ON accounting_entries
WHEN OLD.status = 'posted'
BEGIN SELECT RAISE(ABORT, {_q(MSG_POSTED_DELETE)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_lines_insert BEFORE INSERT ON accounting_lines
WHEN {entry_status.format(ref='NEW')} = 'posted'
BEGIN SELECT RAISE(ABORT, {_q(MSG_POSTED_FROZEN)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_lines_organisation BEFORE INSERT ON accounting_lines
WHEN NEW.organisation_id IS NOT (SELECT organisation_id FROM accounting_entries WHERE id = NEW.entry_id)
  OR NEW.organisation_id IS NOT (SELECT organisation_id FROM accounting_accounts WHERE id = NEW.account_id)
  OR (NEW.auxiliary_id IS NOT NULL AND NEW.organisation_id IS NOT
      (SELECT organisation_id FROM accounting_auxiliary_accounts WHERE id = NEW.auxiliary_id))
BEGIN SELECT RAISE(ABORT, {_q(MSG_LINE_ORGANISATION)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_lines_update BEFORE UPDATE ON accounting_lines
WHEN ({_sqlite_changed(_LINE_FROZEN_COLUMNS)})
  AND ({entry_status.format(ref='OLD')} = 'posted' OR {entry_status.format(ref='NEW')} = 'posted')
BEGIN SELECT RAISE(ABORT, {_q(MSG_LINE_FROZEN)}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS accounting_lines_delete BEFORE DELETE ON accounting_lines
WHEN {entry_status.format(ref='OLD')} = 'posted'
BEGIN SELECT RAISE(ABORT, {_q(MSG_POSTED_DELETE)}); END""",
    ]


_SQLITE_TRIGGERS = (
    "accounting_entries_insert_draft", "accounting_entries_post", "accounting_entries_frozen",
    "accounting_entries_validated", "accounting_entries_no_delete", "accounting_lines_insert",
    "accounting_lines_organisation", "accounting_lines_update", "accounting_lines_delete",
)


def statements(dialect_name):
    """The SQL that installs the guards (and the totals' trigger) on ``dialect_name``
    (``postgresql`` or ``sqlite``)."""
    on_books, on_closings = closed_year_statements(dialect_name)
    return _ledger_statements(dialect_name) + on_books + on_closings + totals_statements(dialect_name)


def drop_statements(dialect_name):
    if dialect_name == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS accounting_closed_periods_final ON accounting_closed_periods",
            "DROP TRIGGER IF EXISTS accounting_lines_closed_year ON accounting_lines",
            "DROP TRIGGER IF EXISTS accounting_entries_closed_year ON accounting_entries",
            "DROP FUNCTION IF EXISTS accounting_closings_guard()",
            "DROP FUNCTION IF EXISTS accounting_closed_year_guard()",
            "DROP TRIGGER IF EXISTS accounting_lines_guard ON accounting_lines",
            "DROP TRIGGER IF EXISTS accounting_entries_guard ON accounting_entries",
            "DROP FUNCTION IF EXISTS accounting_lines_guard()",
            "DROP FUNCTION IF EXISTS accounting_entries_guard()",
        ] + drop_totals_statements(dialect_name)
    return ([f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS + _SQLITE_CLOSED_YEAR_TRIGGERS]
            + drop_totals_statements(dialect_name))


def _escape(sql):
    # DDL() applies %-formatting to its text.
    return sql.replace("%", "%%")


def attach(entries_table, lines_table, closed_periods_table, totals_table):
    """Install the guards when ``create_all`` creates the lines table (the later of the two)
    and the closed periods table; the totals' trigger once every table exists (it reads the
    lines and writes the totals, whichever ``create_all`` makes last)."""
    for dialect in ("postgresql", "sqlite"):
        for sql in totals_statements(dialect):
            event.listen(totals_table.metadata, "after_create", DDL(_escape(sql)).execute_if(dialect=dialect))
        on_books, on_closings = closed_year_statements(dialect)
        for sql in _ledger_statements(dialect) + on_books:
            event.listen(lines_table, "after_create", DDL(_escape(sql)).execute_if(dialect=dialect))
        for sql in on_closings:
            event.listen(closed_periods_table, "after_create", DDL(_escape(sql)).execute_if(dialect=dialect))


@contextlib.contextmanager
def suspended(connection):
    """Maintenance only (emptying a test or development database): the guards are lifted
    inside the block, on ``connection``'s transaction, and restored at its end.

    PostgreSQL: ``SET LOCAL session_replication_role = replica`` (needs a superuser; TRUNCATE
    does not fire the guards anyway). SQLite: the triggers are dropped and re-created in the
    same transaction (SQLite's DDL is transactional). The totals kept in advance are recomputed
    at the end, from what the maintenance left. Never use it in the application."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield
        connection.exec_driver_sql("SET LOCAL session_replication_role = origin")
    else:
        for statement in drop_statements(dialect):
            connection.exec_driver_sql(statement)
        yield
        for statement in statements(dialect):
            connection.exec_driver_sql(statement)
    for statement in refill_totals_statements(dialect):
        connection.exec_driver_sql(statement)
