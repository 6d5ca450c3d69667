"""Database triggers: a vote is recorded only while its resolution is open, and never changed.

On ``assembly_participations``, ``assembly_open_votes``, ``assembly_secret_ballots`` and
``assembly_sealed_ballots`` (the inbox the close empties into the box, while still open): an
INSERT is refused unless the resolution's status is ``open`` (on PostgreSQL the resolution row
is read ``FOR SHARE``, so a vote cannot slip in while another transaction closes it), and any
UPDATE is refused (the ballot box is append-only). A closed resolution's counts and final hash
cannot change either. Deletes are left to the cascades (emptying a test or demo database).

``statements(dialect)`` serves ``create_all`` (through ``attach``) and the migration alike.
"""
from sqlalchemy import DDL, event

VOTE_TABLES = ("assembly_participations", "assembly_open_votes", "assembly_secret_ballots", "assembly_sealed_ballots")
RESOLUTION_FROZEN = ("status", "room_for", "room_against", "room_abstain", "final_hash", "title", "text",
                     "majority", "secret", "assembly_id", "casting_vote")
MSG_NOT_OPEN = "Vote refusé : le vote de cette résolution n'est pas ouvert."
MSG_FROZEN = "Un bulletin enregistré ne peut plus être modifié."
MSG_CLOSED = "Vote clos : le résultat de cette résolution ne peut plus changer."


def _q(message):
    return "'" + message.replace("'", "''") + "'"


def _pg_votes_function():
    return f"""
CREATE OR REPLACE FUNCTION assembly_votes_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
DECLARE
  resolution_status text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION {_q(MSG_FROZEN)} USING ERRCODE = 'check_violation';
  END IF;
  SELECT status INTO resolution_status FROM assembly_resolutions WHERE id = NEW.resolution_id FOR SHARE;
  IF resolution_status IS DISTINCT FROM 'open' THEN
    RAISE EXCEPTION {_q(MSG_NOT_OPEN)} USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$guard$"""


def _for_table(dialect_name, table):
    """The statements that guard ``table`` (a vote table or the resolutions) on ``dialect_name``."""
    if dialect_name == "postgresql":
        if table == "assembly_resolutions":
            frozen = (f"({', '.join('NEW.' + c for c in RESOLUTION_FROZEN)}) IS DISTINCT FROM "
                      f"({', '.join('OLD.' + c for c in RESOLUTION_FROZEN)})")
            return [f"""
CREATE OR REPLACE FUNCTION assembly_resolutions_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF OLD.status = 'closed' AND {frozen} THEN
    RAISE EXCEPTION {_q(MSG_CLOSED)} USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$guard$""", "DROP TRIGGER IF EXISTS assembly_resolutions_guard ON assembly_resolutions",
                    """CREATE TRIGGER assembly_resolutions_guard BEFORE UPDATE ON assembly_resolutions
FOR EACH ROW EXECUTE FUNCTION assembly_resolutions_guard()"""]
        return [_pg_votes_function(), f"DROP TRIGGER IF EXISTS {table}_guard ON {table}",
                f"CREATE TRIGGER {table}_guard BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION assembly_votes_guard()"]
    if dialect_name != "sqlite":
        raise NotImplementedError(f"no assembly guards for {dialect_name}")
    if table == "assembly_resolutions":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in RESOLUTION_FROZEN)
        return [f"""CREATE TRIGGER IF NOT EXISTS assembly_resolutions_closed BEFORE UPDATE ON assembly_resolutions
WHEN OLD.status = 'closed' AND ({changed})
BEGIN SELECT RAISE(ABORT, {_q(MSG_CLOSED)}); END"""]
    return [f"""CREATE TRIGGER IF NOT EXISTS {table}_open BEFORE INSERT ON {table}
WHEN (SELECT status FROM assembly_resolutions WHERE id = NEW.resolution_id) IS NOT 'open'
BEGIN SELECT RAISE(ABORT, {_q(MSG_NOT_OPEN)}); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {table}_frozen BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, {_q(MSG_FROZEN)}); END"""]


def statements(dialect_name):
    """Every statement that installs the guards (the migration runs them)."""
    return [sql for table in ("assembly_resolutions",) + VOTE_TABLES for sql in _for_table(dialect_name, table)]


def drop_statements(dialect_name):
    if dialect_name == "postgresql":
        return ([f"DROP TRIGGER IF EXISTS {t}_guard ON {t}" for t in VOTE_TABLES]
                + ["DROP TRIGGER IF EXISTS assembly_resolutions_guard ON assembly_resolutions",
                   "DROP FUNCTION IF EXISTS assembly_votes_guard()", "DROP FUNCTION IF EXISTS assembly_resolutions_guard()"])
    return (["DROP TRIGGER IF EXISTS assembly_resolutions_closed"]
            + [f"DROP TRIGGER IF EXISTS {t}_{suffix}" for t in VOTE_TABLES for suffix in ("open", "frozen")])


def attach(*tables):
    """Install each table's guards when ``create_all`` creates it."""
    for table in tables:
        for dialect in ("postgresql", "sqlite"):
            for sql in _for_table(dialect, table.name):
                event.listen(table, "after_create", DDL(sql.replace("%", "%%")).execute_if(dialect=dialect))
