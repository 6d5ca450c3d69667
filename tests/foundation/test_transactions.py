"""backoffice.transactions.after_commit: side effects wait for the real commit."""
import logging

from sqlalchemy import text

from backoffice.transactions import after_commit


def test_runs_once_after_the_commit_and_may_use_the_session(db):
    seen = []
    after_commit(lambda: seen.append(db.session.execute(text("SELECT 42")).scalar()))
    db.session.flush()
    assert seen == []
    db.session.commit()
    assert seen == [42]  # the transaction had ended: the session could run SQL again
    db.session.commit()
    assert seen == [42]


def test_a_released_savepoint_is_not_a_commit(db):
    seen = []
    with db.session.begin_nested():
        after_commit(lambda: seen.append("savepoint"))
    assert seen == []
    db.session.commit()
    assert seen == ["savepoint"]


def test_forgotten_on_rollback(db):
    seen = []
    after_commit(lambda: seen.append("rolled back"))
    db.session.rollback()
    db.session.commit()
    assert seen == []


def test_a_failing_callback_is_logged_and_the_others_still_run(db, caplog):
    seen = []

    def broken():
        raise RuntimeError("Redis is down")

    after_commit(broken)
    after_commit(lambda: seen.append("next"))
    with caplog.at_level(logging.ERROR, logger="backoffice.transactions"):
        db.session.commit()
    assert seen == ["next"]
    assert "Redis is down" in caplog.text


def test_forgotten_with_a_savepoint_that_rolls_back(db):
    seen = []
    after_commit(lambda: seen.append("outer"))
    savepoint = db.session.begin_nested()
    after_commit(lambda: seen.append("refused"))
    savepoint.rollback()
    with db.session.begin_nested():
        with db.session.begin_nested():
            after_commit(lambda: seen.append("inner, released twice"))
    db.session.commit()
    assert seen == ["outer", "inner, released twice"]


def test_registered_before_any_statement(db):
    seen = []
    after_commit(lambda: seen.append("first"))  # no transaction had begun yet
    db.session.commit()
    assert seen == ["first"]


def test_a_savepoint_that_rolls_back_expires_what_core_statements_wrote(db, organisation):
    # A row written with a Core UPDATE and marked on its object with set_committed_value (as the
    # bulk lettering does): SQLAlchemy does not know the object changed in the savepoint.
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    from backoffice.organisations.models import Organisation

    name = organisation.name
    db.session.flush()
    savepoint = db.session.begin_nested()
    db.session.execute(update(Organisation).where(Organisation.id == organisation.id)
                       .values(name="Renommée dans le savepoint").execution_options(synchronize_session=False))
    set_committed_value(organisation, "name", "Renommée dans le savepoint")
    savepoint.rollback()
    assert organisation.name == name


def test_a_released_savepoint_keeps_the_objects_loaded(db, organisation):
    db.session.flush()
    with db.session.begin_nested():
        pass
    assert "name" in organisation.__dict__  # not expired: no reload for every successful savepoint
