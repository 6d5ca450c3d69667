"""Work-arounds for the shared fixtures: keep view commits inside the test's transaction, fresh storage.

Flask-SQLAlchemy's ``Session.get_bind`` returns the engine for every mapped
table and ignores the session's ``bind``, so the root fixture's session talks
to the engine directly and a view's ``commit()`` really commits (the next test
then finds the previous test's rows). This fixture rebinds the test session to
the test's connection. Remove it once ``tests/conftest.py`` does the same.
"""
import pytest
from flask_sqlalchemy.session import Session


class BoundSession(Session):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@pytest.fixture(autouse=True)
def _session_bound_to_test_transaction(request, db):
    bind = db.session.session_factory.kw.get("bind")
    if "no_db_transaction" in request.keywords or bind is None or isinstance(db.session(), BoundSession):
        yield
        return
    db.session.remove()
    db.session = db._make_scoped_session({"bind": bind, "join_transaction_mode": "create_savepoint", "class_": BoundSession})
    yield


@pytest.fixture(autouse=True)
def _storage_per_test(app, tmp_path, monkeypatch):
    """A fresh STORAGE_DIR per test: ids are reused after each rollback, files would not be."""
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
