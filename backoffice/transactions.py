"""Side effects that must wait until the database transaction has committed.

A job enqueued before its rows are committed may look for them and find nothing; a mail sent
from a transaction that rolls back announces what never happened. ``after_commit(fn)`` runs
``fn()`` once the current transaction has committed, after it has ended (so ``fn`` may use the
session again), and forgets it if the transaction rolls back. Inside a savepoint
(``begin_nested``), ``fn`` follows the savepoint: forgotten if it rolls back, else handed to the
enclosing transaction — releasing a savepoint is not a commit.
"""
import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from backoffice.extensions import db

log = logging.getLogger(__name__)

# Keys of ``Session.info``: {transaction: [callback, …]} and the transactions that committed.
_CALLBACKS = "maillage.after_commit.callbacks"
_COMMITTED = "maillage.after_commit.committed"


def after_commit(fn, session=None):
    """Run ``fn()`` once the current transaction of ``session`` (default: ``db.session``) commits."""
    session = session if session is not None else db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_CALLBACKS, {}).setdefault(transaction, []).append(fn)


@event.listens_for(Session, "after_commit")
def _committed(session):
    # Called for a released savepoint too, while it is still the session's innermost transaction.
    # No SQL may be emitted here: the callbacks wait for the transaction's end.
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction in session.info.get(_CALLBACKS, ()):
        session.info.setdefault(_COMMITTED, set()).add(transaction)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction):
    callbacks = session.info.get(_CALLBACKS, {}).pop(transaction, None)
    committed = transaction in session.info.get(_COMMITTED, ())
    session.info.get(_COMMITTED, set()).discard(transaction)
    if not callbacks or not committed:
        return  # nothing to do, or rolled back: forgotten
    if transaction.parent is not None:  # a released savepoint: the enclosing transaction decides
        session.info[_CALLBACKS].setdefault(transaction.parent, []).extend(callbacks)
        return
    for fn in callbacks:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the commit succeeded: a side effect never undoes it
            log.exception("after-commit callback %r failed", fn)
