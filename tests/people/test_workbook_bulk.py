"""The commit of a workbook writes its memberships a run at a time (``membership.bulk``): the
database it leaves is the one the row-by-row path (membership's services one call per row)
leaves — every table, row for row, journal numbers and lettering codes included — and the
number of SQL statements does not grow with the rows."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import DateTime, Integer, event, select
from sqlalchemy.engine.interfaces import ExecuteStyle

from backoffice.extensions import db
from backoffice.membership import services as membership
from backoffice.membership.models import CategoryKind, Membership, MembershipStatus
from backoffice.people import services
from backoffice.people.models import Professional
from tests.people.helpers import rpps
from tests.people.test_workbook_memberships import period  # noqa: F401 - the fixture: 2026 and its grid
from tests.people.workbooks import HEADER, workbook_rows, workbook_xlsx

# Integer columns that hold the id of a row of another table without a foreign key.
SOFT_REFERENCES = {"fee_due_entry_id": "accounting_entries", "accounting_entry_id": "accounting_entries",
                   "auxiliary_key": "accounting_auxiliary_accounts"}  # the kept totals' (0: none)
RANDOM_COLUMNS = {"login_nonce", "token"}  # a fresh secret each time, whichever path


@pytest.fixture
def directory(organisation, period):
    """What the books hold before the import: Yann Le Goff, a member in 2025 who still owes
    10 € of it (an open line on his account, another fiscal year), and Anne Riou, already a
    member for 2026, unpaid. The grid has a first-year rate (the newcomers' category)."""
    membership.set_fee_category(period, "Première adhésion", Decimal("20.00"), CategoryKind.FIRST_YEAR)
    last_year = membership.period_for_year(organisation, 2025)
    membership.set_fee_category(last_year, "Médecin", Decimal("50.00"), CategoryKind.PHYSICIAN)
    yann = Professional(civility="M.", first_name="Yann", last_name="Le Goff", profession="medecin_generaliste",
                        rpps=rpps(2), email="yann.legoff@example.fr")
    anne = Professional(civility="Mme", first_name="Anne", last_name="Riou", profession="chirurgien_dentiste",
                        rpps=rpps(4), email="anne.riou@example.fr")
    db.session.add_all([yann, anne])
    db.session.flush()
    old = membership.create_membership(organisation, yann, last_year, joined_on=date(2025, 3, 1))
    membership.record_payment(old, Decimal("40.00"), "cheque", date(2025, 3, 1), reference="0001")
    membership.create_membership(organisation, anne, period, joined_on=date(2026, 1, 5))
    return yann, anne


def many_rows(count):
    """``count`` more members, as a treasurer types them (sub-headings every 20 rows)."""
    rows = []
    for n in range(count):
        if n % 20 == 0:
            rows.append([f"Secteur {n // 20 + 1}"])
        paid = n % 3 != 0
        rows.append([f"B-{n:03d}", "Mme" if n % 2 else "M.", f"Nom{n:03d}", "Anne", ["IDE", "MK", "SF"][n % 3],
                     rpps(100 + n), f"membre{n}@example.fr", "", "44350", "Guérande",
                     "30,00 €" if n % 4 else 30, (datetime(2026, 1 + n % 12, 1 + n % 28) if n % 2 else
                                                 f"{1 + n % 28:02d}/{1 + n % 12:02d}/2026") if paid else "",
                     ["Chèque", "Virement", "HelloAsso", "Espèces"][n % 4] if paid else "", ""])
    return rows


def workbook(count=0):
    rows = workbook_rows()
    return workbook_xlsx(rows[:-2] + many_rows(count) + rows[-2:])


def ids_by_rank(table, before):
    """``{id: rank}`` of the rows of ``table`` made since ``before`` (its ids then): both paths
    insert in the same order, so the n-th new row of a table is the same row."""
    new = sorted(row_id for row_id in db.session.scalars(select(table.c.id)) if row_id not in before)
    return {row_id: rank for rank, row_id in enumerate(new)}


def snapshot(before):
    """Every table's rows, ids of new rows replaced by their rank, timestamps and secrets left
    out, random payment references replaced by the rank of their membership."""
    tables = {t.name: t for t in db.metadata.sorted_tables}
    ranks = {name: ids_by_rank(t, before[name]) for name, t in tables.items() if "id" in t.c}

    def ref(table_name, value):
        if value is None or table_name not in ranks:
            return value
        return ("new", ranks[table_name][value]) if value in ranks[table_name] else ("old", value)

    references = {m.payment_reference: f"REF{ranks['memberships'].get(m.id, m.id)}"
                  for m in db.session.scalars(select(Membership))}

    def text(value):
        for reference, placeholder in references.items():
            value = value.replace(reference, placeholder)
        return value

    def value_of(name, column, value, row):
        """A column's value with the ids of new rows replaced by their rank (None: left out)."""
        if isinstance(column.type, DateTime) or column.key in RANDOM_COLUMNS:
            return None
        if column.key == "id" and name in ranks:
            return ref(name, value)
        if column.foreign_keys and isinstance(column.type, Integer):
            return ref(next(iter(column.foreign_keys)).column.table.name, value)
        if column.key in SOFT_REFERENCES:
            return ref(SOFT_REFERENCES[column.key], value)
        if column.key == "subject_id" and "subject_table" in table_of(name).c:
            return ref(row["subject_table"], value)
        if name == "accounting_entries" and column.key == "source" and value:
            table_name, row_id, *rest = value.split(":")  # posting_source: "<table>:<id>[:…]"
            return table_name, ref(table_name, int(row_id)), tuple(rest)
        if column.key == "idempotency_key":
            # A hash of the person's id: compared as present or not (re-imports test its use).
            return value is not None
        if name == "accounting_auxiliary_accounts" and column.key == "number" and value:
            # A000042: the letter and the party's id (which PostgreSQL's sequences do not
            # give back at a rollback: the n-th new party has another id the second time).
            return value[0], ref("parties", int(value[1:7])), value[7:]
        if isinstance(value, str):
            return text(value)
        return value

    def table_of(name):
        return tables[name]

    def audited(name, values):
        """The before or after of an audit row, its values compared as the table's own."""
        if values is None:
            return None
        table = tables[name]
        return tuple(sorted((key, value_of(name, table.c[key], value, values) if key in table.c else value)
                            for key, value in values.items()))

    result = {}
    for name, table in tables.items():
        rows = []
        for row in db.session.execute(select(table)).mappings():
            if name == "audit_entries":
                # Who did what to which row, and every value it recorded (the summary names the
                # row with its ids, compared through the values instead).
                rows.append((row["table_name"], row["action"], ref(row["table_name"], row["row_id"]),
                             row["organisation_id"], row["user_id"], audited(row["table_name"], row["after"]),
                             audited(row["table_name"], row["before"])))
                continue
            values = {column.key: value_of(name, column, row[column.key], row) for column in table.c
                      if not (isinstance(column.type, DateTime) or column.key in RANDOM_COLUMNS)}
            rows.append(tuple(sorted(values.items(), key=lambda item: item[0])))
        result[name] = sorted(rows, key=repr)
    return result


def test_the_bulk_commit_leaves_the_database_the_row_by_row_path_leaves(organisation, period, directory):
    data = workbook(45)
    db.session.commit()  # the directory as it was (a savepoint of the test's transaction)
    tables = {t.name: t for t in db.metadata.sorted_tables if "id" in t.c}
    before = {name: set(db.session.scalars(select(t.c.id))) for name, t in tables.items()}

    services.apply_people_import(data, "adherents-2026.xlsx", organisation=organisation, period=period,
                                 one_by_one=True)
    db.session.flush()
    one_by_one = snapshot(before)
    db.session.rollback()

    plan = services.apply_people_import(data, "adherents-2026.xlsx", organisation=organisation, period=period)
    db.session.flush()
    bulk = snapshot(before)

    # The sheet's own 8 people (Anne already a member) and the 45 more, a third of them unpaid.
    assert plan.membership_done == {"created": 7 + 45, "payments": 4 + sum(1 for n in range(45) if n % 3),
                                    "changed": 0}
    differing = {name: (set(one_by_one[name]) ^ set(bulk[name])) for name in one_by_one
                 if one_by_one[name] != bulk[name]}
    assert {name: sorted(rows, key=repr)[:2] for name, rows in differing.items()} == {}
    # What the rows say, so that the comparison compares something: states, entries, lettering.
    states = {m.party.rpps: m.status for m in db.session.scalars(select(Membership).where(
        Membership.period_id == period.id))}
    assert states[rpps(2)] is MembershipStatus.PAID and states[rpps(3)] is MembershipStatus.EXEMPT
    assert states[rpps(4)] is MembershipStatus.PAID  # her existing membership paid by the row (one by one)
    assert states[rpps(100)] is MembershipStatus.AWAITING_PAYMENT and states[rpps(101)] is MembershipStatus.PAID
    lettered = [dict(line) for line in bulk["accounting_lines"] if dict(line)["lettering_code"]]
    assert len(lettered) >= 2 * 30 and len({line["lettering_code"] for line in lettered}) >= 30
    assert len(bulk["status_changes"]) >= 30 and len(bulk["accounting_entries"]) >= 52 + 34


class Executions:
    """SQL statements as SQLAlchemy executes them (``before_execute``: an executemany is one).
    On SQLite, an INSERT … RETURNING of many rows is run by the driver a row at a time (no
    column guarantees the order of RETURNING there), so the cursor-level count
    (``count_queries``) grows with the rows even when the code sends one statement."""

    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


class ServerStatements(Executions):
    """Statements as the server receives them (``before_cursor_execute``): an executemany is
    one per parameter set for PostgreSQL (a round trip each in psycopg's pipeline), where an
    ORM flush of a thousand changed rows is a thousand statements."""

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        # The batches of an INSERT of many rows (``insertmanyvalues``) are one statement each.
        self.count += len(parameters) if context.execute_style is ExecuteStyle.EXECUTEMANY else 1


def statements_for(count_queries, organisation, period, count):
    data = workbook(count)
    executions, server = Executions(), ServerStatements()
    event.listen(db.engine, "before_execute", executions)
    event.listen(db.engine, "before_cursor_execute", server)
    try:
        with count_queries() as counter:
            plan = services.apply_people_import(data, "adherents.xlsx", organisation=organisation, period=period)
    finally:
        event.remove(db.engine, "before_execute", executions)
        event.remove(db.engine, "before_cursor_execute", server)
    db.session.rollback()
    return executions.count, counter.count, server.count, plan.membership_done["created"]


def test_the_statements_of_a_commit_do_not_grow_with_its_rows(count_queries, organisation, period):
    db.session.commit()
    few, few_cursor, few_server, created_few = statements_for(count_queries, organisation, period, 20)
    many, many_cursor, many_server, created_many = statements_for(count_queries, organisation, period, 200)
    assert created_many - created_few == 180
    # The 8 rows of the treasurer's own sheet that go one by one (a person twice, an exemption)
    # cost the same in both files; 180 more members cost no more statements.
    assert many <= few + 5, (few, many)
    if db.engine.dialect.name == "postgresql":  # RETURNING of many rows in one statement there
        assert many_cursor <= few_cursor + 5, (few_cursor, many_cursor)
        # Nor an UPDATE per row sent as an executemany (the entries' numbers, the lettering,
        # the memberships' and payments' entries, their statuses).
        assert many_server <= few_server + 5, (few_server, many_server)


class BoundValues(Executions):
    """Values sent to the server as parameters (``before_cursor_execute``), but for the payments
    of the memberships found, loaded by their ids (``selectinload``: an index lookup each, which
    no plan turns into a scan)."""

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if "WHERE membership_payments.membership_id IN" not in statement:
            self.count += len(parameters or ())


def preview_again(organisation, period, count):
    """The bound values of the preview of a ``count``-member workbook once it is committed."""
    data = workbook(count)
    services.apply_people_import(data, "adherents.xlsx", organisation=organisation, period=period)
    values = BoundValues()
    event.listen(db.engine, "before_cursor_execute", values)
    try:
        plan = services.plan_people_import(data, "adherents.xlsx", organisation, period)
    finally:
        event.remove(db.engine, "before_cursor_execute", values)
    db.session.rollback()
    assert plan.count("unchanged") >= count
    return values.count


def test_the_preview_of_a_committed_file_sends_no_parameter_per_row_to_postgresql(organisation, period):
    # The people and memberships a file names are looked up by chunks of hundreds: as hundreds
    # of parameters, the same statement run again soon is a prepared statement for psycopg, whose
    # generic plan compares every row with each parameter (seconds at 5,000 people); the values
    # are written in the statement instead (``models.among``). SQLite binds them as before.
    db.session.commit()
    few, many = preview_again(organisation, period, 20), preview_again(organisation, period, 200)
    if db.engine.dialect.name == "postgresql":
        assert many <= few + 5, (few, many)
    else:
        assert many > few + 180 * 2, (few, many)  # an RPPS and an e-mail per person at least


def test_among_finds_the_rows_of_its_values_written_out(organisation):
    from sqlalchemy import func

    from backoffice.models import among

    people = [Professional(first_name="Siobhan", last_name="O'Brien", profession="ide", email="S.O'Brien@example.fr"),
              Professional(first_name="Anne", last_name="Riou", profession="ide", email="anne\\riou@example.fr"),
              Professional(first_name="Marc", last_name="Le Gall", profession="ide", email="marc@example.fr")]
    db.session.add_all(people)
    db.session.flush()
    found = db.session.scalars(select(Professional.id).where(
        among(func.lower(Professional.email), ["s.o'brien@example.fr", "anne\\riou@example.fr", "nobody@example.fr"])))
    assert sorted(found) == sorted([people[0].id, people[1].id])
    assert list(db.session.scalars(select(Professional.id).where(among(Professional.id, [people[2].id])))) \
        == [people[2].id]


def test_a_refused_row_in_a_run_names_its_line_and_imports_nothing(organisation, period):
    rows = [HEADER, ["A-1", "Mme", "Morvan", "Claire", "IDE", rpps(1), "claire@example.fr", "", "44350", "Guérande",
                     "0", "15/01/2026", "Virement", ""]]
    from tests.people.helpers import xlsx_bytes

    with pytest.raises(services.ImportRejected, match=r"Ligne 2 \(Claire MORVAN\)"):
        services.apply_people_import(xlsx_bytes(rows), "a.xlsx", organisation=organisation, period=period)
    assert db.session.scalar(select(Professional.id).where(Professional.rpps == rpps(1))) is None
