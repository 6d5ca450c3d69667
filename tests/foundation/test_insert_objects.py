"""``models.insert_objects``: new rows of one model written with one statement (a workbook
import's thousands), the same rows, defaults, foreign keys and audit rows as a flush, the
objects then in the session as loaded rows."""
from datetime import date

from sqlalchemy import event, inspect, select

from backoffice.audit.models import AuditEntry
from backoffice.audit.services import record_bulk_creates
from backoffice.extensions import db
from backoffice.models import insert_objects
from backoffice.organisations.models import Affiliation, AffiliationRole
from tests.factories import ProfessionalFactory

ROLES = [AffiliationRole.CONTACT, AffiliationRole.BOARD_MEMBER, AffiliationRole.CONTACT]


def affiliations(organisation, parties):
    # The relationships only, as services write them: the foreign keys come from them.
    return [Affiliation(organisation=organisation, party=party, role=role, starts_on=date(2026, 1, 5 + n),
                        ends_on=date(2026, 12, 31) if n == 1 else None)
            for n, (party, role) in enumerate(zip(parties, ROLES))]


def written(organisation):
    """The rows and audit rows of ``organisation``'s affiliations, ids, times and its name left out."""
    rows = db.session.execute(select(Affiliation.__table__).where(Affiliation.organisation_id == organisation.id)
                              .order_by(Affiliation.id)).mappings().all()
    ids = [row["id"] for row in rows]
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.table_name == "affiliations",
                                                        AuditEntry.row_id.in_(ids)).order_by(AuditEntry.row_id))
    return ([{key: value for key, value in row.items() if key not in ("id", "organisation_id", "created_at",
                                                                        "updated_at")} for row in rows],
            [(entry.action, ids.index(entry.row_id), entry.summary.replace(organisation.name, "…"), entry.user_id,
              entry.before,
              {key: value for key, value in entry.after.items() if key not in ("id", "organisation_id")})
             for entry in audit])


def test_inserted_objects_are_the_rows_and_audit_rows_a_flush_writes(organisation, other_organisation):
    parties = ProfessionalFactory.create_batch(3)
    db.session.add_all(affiliations(other_organisation, parties))
    db.session.flush()

    statements = []
    listener = lambda *args, **kwargs: statements.append(args[1])  # noqa: E731 - before_execute: one per execute
    objects = affiliations(organisation, parties)
    event.listen(db.engine, "before_execute", listener)
    try:
        insert_objects(objects)
    finally:
        event.remove(db.engine, "before_execute", listener)
    db.session.add_all(objects)
    record_bulk_creates(objects)

    assert len(statements) == 1
    assert [o.id for o in objects] == sorted(o.id for o in objects)  # in the objects' order
    rows, audit = written(organisation)
    assert (rows, audit) == written(other_organisation)
    assert rows[1]["role"] == "board_member" and rows[1]["ends_on"] == date(2026, 12, 31)
    assert rows[0]["party_id"] == parties[0].id and audit[0][0] == "create"
    # In the session as rows it had loaded: nothing left to flush, the relationships kept.
    assert all(inspect(o).persistent for o in objects) and not db.session.new and not db.session.dirty
    assert objects[2].party is parties[2] and objects[0].created_at is not None


def test_a_savepoint_that_rolls_back_forgets_the_inserted_objects(organisation):
    # Their rows are taken back: kept in the session, an object would stand for a row that does
    # not exist, and on SQLite its id is the next row's (« another instance with key … »).
    parties = ProfessionalFactory.create_batch(3)
    db.session.flush()
    savepoint = db.session.begin_nested()
    inserted = insert_objects(affiliations(organisation, parties))
    db.session.add_all(inserted)
    assert all(obj in db.session for obj in inserted)
    savepoint.rollback()
    assert not any(obj in db.session for obj in inserted)
    again = insert_objects(affiliations(organisation, parties))
    db.session.add_all(again)
    db.session.flush()
    assert len(db.session.scalars(select(Affiliation).where(Affiliation.organisation_id == organisation.id)).all()) == 3


def test_a_released_savepoint_keeps_them(organisation):
    parties = ProfessionalFactory.create_batch(2)
    db.session.flush()
    with db.session.begin_nested():
        inserted = insert_objects(affiliations(organisation, parties[:2]))
        db.session.add_all(inserted)
    assert all(obj in db.session for obj in inserted)
