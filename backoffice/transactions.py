"""One transaction per request, and side effects that must wait until it has committed.

**The request boundary** (:func:`register_transaction_boundary`, as Indico does): views and
services never commit; they flush when they need an id. At the end of each request the
application commits once if the response is not an error (status below 400: a page, a file, or
the redirection that follows a successful form) and rolls back otherwise — a 4xx or 5xx answer,
a form re-rendered with 422, an exception escaping the view. A commit that fails is rolled back
and answered with the French 500 page, never with the page that claimed success. Jobs commit
through ``jobs/_runner.py``; command-line commands and the mail worker are boundaries of their
own and commit themselves.

**After the commit**:

A job enqueued before its rows are committed may look for them and find nothing; a mail sent
from a transaction that rolls back announces what never happened. ``after_commit(fn)`` runs
``fn()`` once the current transaction has committed, after it has ended (so ``fn`` may use the
session again), and forgets it if the transaction rolls back. Inside a savepoint
(``begin_nested``), ``fn`` follows the savepoint: forgotten if it rolls back, else handed to the
enclosing transaction — releasing a savepoint is not a commit.

**After a rollback**: ``on_rollback(fn)`` is the mirror, for what was done outside the database
before the transaction ended (a file written to disk): ``fn()`` runs when the current
transaction — or the savepoint it was registered in — rolls back, and is forgotten once the
outermost transaction commits. ``fn`` must not use the session (it runs while it unwinds).

**A savepoint that rolls back expires every object of the session.** SQLAlchemy expires only
the objects it flushed itself inside the savepoint; a row written with a Core statement (the
bulk lettering of ``accounting.lettering``, the objects it marks with ``set_committed_value``)
is put back by the database while the session's object still shows the value written, and the
next step reads a lettering code no line carries. Everything was flushed when the savepoint
began, so nothing unsaved is lost: the objects are re-read when next used.
"""
import logging

from flask import render_template
from flask import session as flask_session
from sqlalchemy import event
from sqlalchemy.orm import Session

from backoffice.extensions import db

log = logging.getLogger(__name__)

# Keys of ``Session.info``: {transaction: [callback, …]} and the transactions that committed.
_CALLBACKS = "maillage.after_commit.callbacks"
_COMMITTED = "maillage.after_commit.committed"
_ROLLBACK_CALLBACKS = "maillage.on_rollback.callbacks"


def after_commit(fn, session=None):
    """Run ``fn()`` once the current transaction of ``session`` (default: ``db.session``) commits."""
    session = session if session is not None else db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_CALLBACKS, {}).setdefault(transaction, []).append(fn)


def on_rollback(fn, session=None):
    """Run ``fn()`` if the current transaction (or savepoint) of ``session`` rolls back."""
    session = session if session is not None else db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_ROLLBACK_CALLBACKS, {}).setdefault(transaction, []).append(fn)


@event.listens_for(Session, "after_commit")
def _committed(session):
    # Called for a released savepoint too, while it is still the session's innermost transaction.
    # No SQL may be emitted here: the callbacks wait for the transaction's end.
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction in session.info.get(_CALLBACKS, ()) or transaction in session.info.get(_ROLLBACK_CALLBACKS, ()):
        session.info.setdefault(_COMMITTED, set()).add(transaction)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction):
    callbacks = session.info.get(_CALLBACKS, {}).pop(transaction, None)
    undo = session.info.get(_ROLLBACK_CALLBACKS, {}).pop(transaction, None)
    committed = transaction in session.info.get(_COMMITTED, ())
    session.info.get(_COMMITTED, set()).discard(transaction)
    if undo:
        if not committed:
            _run_all(undo, "on-rollback")
        elif transaction.parent is not None:  # a released savepoint: the enclosing one may still roll back
            session.info[_ROLLBACK_CALLBACKS].setdefault(transaction.parent, []).extend(undo)
    if not callbacks or not committed:
        return  # nothing to do, or rolled back: forgotten
    if transaction.parent is not None:  # a released savepoint: the enclosing transaction decides
        session.info[_CALLBACKS].setdefault(transaction.parent, []).extend(callbacks)
        return
    _run_all(callbacks, "after-commit")


@event.listens_for(Session, "after_soft_rollback")
def _expire_after_savepoint_rollback(session, previous_transaction):
    if previous_transaction.nested:  # an outermost rollback expires everything already
        session.expire_all()


def _run_all(callbacks, kind):
    for fn in callbacks:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the transaction has ended: one failure must not stop the others
            log.exception("%s callback %r failed", kind, fn)


def register_transaction_boundary(app):
    """Commit each request's transaction once at its end if it succeeded, else roll it back.

    An ``after_request`` handler (it runs even when an unhandled exception became the 500
    page) decides from the status; a ``teardown_request`` handler rolls back when an exception
    escaped without a response (``PROPAGATE_EXCEPTIONS``, as in tests). Flask-SQLAlchemy's own
    teardown only removes the session: without this, nothing would ever be committed.
    Registered last so that it runs before the other ``after_request`` handlers (they run in
    reverse order) and the security headers are set on a replacement 500 page too.
    """

    @app.after_request
    def commit_or_roll_back(response):
        session = _request_session()
        if session is None:
            return response
        if response.status_code >= 400:
            session.rollback()
            return response
        try:
            session.commit()
        except Exception:  # noqa: BLE001 - the user must not be told that it worked
            session.rollback()
            log.exception("the request's commit failed: rolled back, answered 500")
            flask_session.pop("_flashes", None)  # « Enregistré » would be a lie on the next page
            return app.make_response((render_template("errors/error.html", code=500), 500))
        return response

    @app.teardown_request
    def roll_back_on_exception(exc):
        session = _request_session()
        if exc is not None and session is not None:
            session.rollback()


def _request_session():
    """The request's session if it was used (no session is created for a static file)."""
    if not db.session.registry.has():
        return None
    session = db.session()
    return session if session.in_transaction() else None
