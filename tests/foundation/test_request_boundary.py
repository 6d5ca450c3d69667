"""The request boundary: one commit at the end of a request that succeeded, a rollback otherwise.

The views below live on an application of their own (the shared one may not gain routes after
its first request, and its route table is checked by test_authorization.py). In the usual test
transaction its requests commit or roll back a savepoint; the ``no_db_transaction`` test at the
end proves real commits and rollbacks on the database.
"""
import pytest
from flask import Blueprint, abort, flash, redirect
from sqlalchemy import delete, func, select

from backoffice import create_app
from backoffice.extensions import db as _db
from backoffice.mail.models import OutboxMessage
from backoffice.organisations.models import Organisation, OrganisationKind
from backoffice.transactions import after_commit
from config import Testing

SUBJECT = "Frontière de requête — essai"

seen = []  # what the after-commit callbacks of the views did


def _write(tag):
    """A row the request adds and flushes (it exists inside the transaction)."""
    message = OutboxMessage(sender="maillage@example.org", recipient="élise.lefèvre@example.org",
                            subject=SUBJECT, body=tag)
    _db.session.add(message)
    _db.session.flush()
    after_commit(lambda: seen.append(tag))
    return message


boundary = Blueprint("boundary", __name__)


@boundary.route("/essai/<int:status>", methods=["GET", "POST"])
def answer(status):
    _write(f"statut {status}")
    return "Réponse", status


@boundary.route("/essai/redirection", methods=["POST"])
def redirected():
    _write("redirection")
    return redirect("/essai/200")


@boundary.route("/essai/exception", methods=["POST"])
def explode():
    _write("exception")
    raise RuntimeError("an internal error, in English")


@boundary.route("/essai/abandon", methods=["POST"])
def aborted():
    _write("abort 404")
    abort(404)


@boundary.route("/essai/commit-refuse", methods=["POST"])
def commit_fails():
    _write("refusé au commit")
    flash("Enregistré.", "success")
    # A second organisation with a taken slug, left to the commit's flush: the commit fails.
    _db.session.add(Organisation(slug=_db.session.scalar(select(Organisation.slug).limit(1)),
                                 name="Doublon", kind=OrganisationKind.CPTS))
    return "Enregistré", 200


@pytest.fixture(scope="module")
def boundary_app(app):
    """An application like the shared one (same database), with the views above."""
    other = create_app(Testing, **{key: app.config[key] for key in (
        "SQLALCHEMY_DATABASE_URI", "STORAGE_DIR", "REDIS_URL", "RQ_CONNECTION", "RQ_QUEUE_PREFIX")})
    other.register_blueprint(boundary)
    yield other
    with other.app_context():
        _db.engine.dispose()


@pytest.fixture
def boundary_client(boundary_app, organisation):
    seen.clear()
    _db.session.commit()  # the test's organisation, as another request would have saved it
    return boundary_app.test_client()


def written(tag=None):
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.subject == SUBJECT)
    if tag is not None:
        query = query.where(OutboxMessage.body == tag)
    _db.session.rollback()  # see what the requests' sessions left on the connection
    return _db.session.scalar(query)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("status", [200, 201, 204, 302])
def test_a_success_commits_and_then_runs_the_after_commit_callbacks(boundary_client, method, status):
    response = boundary_client.open(f"/essai/{status}", method=method)
    assert response.status_code == status
    assert written(f"statut {status}") == 1
    assert seen == [f"statut {status}"]


def test_the_redirection_after_a_saved_form_commits(boundary_client):
    response = boundary_client.post("/essai/redirection")
    assert response.status_code == 302
    assert written("redirection") == 1 and seen == ["redirection"]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422, 500, 503])
def test_an_error_answer_rolls_back_and_runs_no_callback(boundary_client, status):
    response = boundary_client.post(f"/essai/{status}")
    assert response.status_code == status
    assert written() == 0 and seen == []


def test_an_aborted_view_rolls_back(boundary_client):
    assert boundary_client.post("/essai/abandon").status_code == 404
    assert written() == 0 and seen == []


def test_an_exception_escaping_a_view_rolls_back(boundary_client):
    with pytest.raises(RuntimeError):  # Testing propagates exceptions to the test client
        boundary_client.post("/essai/exception")
    assert written() == 0 and seen == []


def test_an_exception_becomes_the_french_500_page_and_rolls_back(boundary_app, boundary_client, monkeypatch):
    monkeypatch.setitem(boundary_app.config, "PROPAGATE_EXCEPTIONS", False)
    response = boundary_client.post("/essai/exception")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Une erreur inattendue s&#39;est produite" in page
    assert "English" not in page and "RuntimeError" not in page
    assert written() == 0 and seen == []


def test_a_failing_commit_answers_500_rolls_back_and_forgets_the_flash(boundary_client):
    response = boundary_client.post("/essai/commit-refuse")
    assert response.status_code == 500 and "Erreur interne" in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"  # the replacement page has the headers too
    assert written() == 0 and seen == []
    with boundary_client.session_transaction() as session:
        assert "_flashes" not in session  # « Enregistré » would be shown on the next page


@pytest.mark.no_db_transaction
def test_real_commits_and_rollbacks(boundary_app):
    """Without the test transaction: the database itself keeps the success and not the error."""
    client = boundary_app.test_client()
    seen.clear()
    try:
        assert client.post("/essai/200").status_code == 200
        assert client.post("/essai/422").status_code == 422
        with pytest.raises(RuntimeError):
            client.post("/essai/exception")
        with _db.engine.connect() as connection:  # another connection sees only what was committed
            bodies = connection.scalars(select(OutboxMessage.body).where(OutboxMessage.subject == SUBJECT)).all()
        assert bodies == ["statut 200"] and seen == ["statut 200"]
    finally:
        with _db.engine.begin() as connection:
            connection.execute(delete(OutboxMessage).where(OutboxMessage.subject == SUBJECT))
