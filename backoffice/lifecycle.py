"""State machines: one transition table per model, one way to change a status, one history.

Declare the machine next to the model, bind it to the model, and change the status only with
:func:`move` — writing the status attribute of a saved row directly raises
:class:`DirectStatusWrite` (setting it on a new object, before its first flush, is the initial
status and is allowed)::

    class GrantStatus(StrEnum):
        DRAFT = "draft"; SUBMITTED = "submitted"; REJECTED = "rejected"

        @property
        def label(self):                                  # the French label users read
            return {"draft": "Brouillon", "submitted": "Déposée", "rejected": "Refusée"}[self.value]

    GRANT_LIFECYCLE = Lifecycle("grant", {
        GrantStatus.DRAFT: {GrantStatus.SUBMITTED},
        GrantStatus.SUBMITTED: {GrantStatus.REJECTED},
        GrantStatus.REJECTED: set(),
    }, noun="la demande", verbs={(GrantStatus.DRAFT, GrantStatus.SUBMITTED): "Déposer"},
       reason_required={GrantStatus.REJECTED})

    @GRANT_LIFECYCLE.bind
    class GrantApplication(db.Model): ...                # has id, organisation_id and status

    move(application, GrantStatus.SUBMITTED, by=current_user)
    history(application)   # [StatusChange(from_status='draft', to_status='submitted', changed_by_id=…)]

What :func:`move` promises:

* a move the table does not allow raises :class:`LifecycleError` (a ``ServiceError``) with a
  French message built from the states' labels: « Impossible de passer la demande de « Refusée »
  à « Déposée ». » (without ``noun``: « Impossible de passer de « … » à « … ». »). A move to the
  current status is a move like any other: refused unless the table lists it;
* a target in ``reason_required`` needs a ``reason`` (error under the field ``reason``);
* every move adds a :class:`StatusChange` row (table ``status_changes``: subject table and id,
  organisation, from, to, who, when, reason) in the caller's transaction: it commits or rolls
  back with the change itself. ``by`` is the user who decided; left out, it is the acting user
  (the signed-in user of a request, the requesting user of a job), or none for the system;
* ``on_move(obj, source, target, reason)`` given to the machine runs right after each move
  (timestamps that go with a status, for instance).

For decisions that race with another process (a worker finishing while a user cancels), lock
the row first with :meth:`Lifecycle.lock_if_status`, then re-read it and move it.

Tests: :func:`all_transitions` and :func:`forbidden_transitions` give the ``(source, target)``
pairs of a machine for ``pytest.mark.parametrize``.
"""
from __future__ import annotations

import contextvars
from datetime import datetime
from enum import Enum
from itertools import product

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, event, inspect, select, update
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.models import UnscopedModelError, organisation_id_of, utcnow


class LifecycleError(ServiceError):
    """A status change the lifecycle refuses; the message is French, ready for the user."""


class DirectStatusWrite(RuntimeError):
    """Code wrote a governed status attribute instead of calling :func:`move` (a bug, not a user error)."""


class StatusChange(db.Model):
    """One move of one object: who moved it from which status to which, when, and why."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_subject", "subject_table", "subject_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_table: Mapped[str] = mapped_column(String(80))
    subject_id: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                        index=True)
    from_status: Mapped[str] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self):
        return (f"<StatusChange {self.subject_table}#{self.subject_id} {self.from_status} → {self.to_status}"
                f" by {self.changed_by_id}>")

    @property
    def lifecycle(self) -> Lifecycle:
        return _BY_TABLE[self.subject_table]

    @property
    def from_label(self) -> str:
        return self.lifecycle.label(self.from_status)

    @property
    def to_label(self) -> str:
        return self.lifecycle.label(self.to_status)


# Machines by the model class (or table name) they govern, filled by Lifecycle.bind.
_BY_MODEL: dict[type, Lifecycle] = {}
_BY_TABLE: dict[str, Lifecycle] = {}
# The object whose status move() is writing right now (the guard lets that one write through).
_moving = contextvars.ContextVar("lifecycle_moving", default=None)


class Lifecycle:
    """A transition table: ``{state: {states it may move to}}``, over one enum of states.

    ``noun`` (« l'adhésion ») names the subject in refusals; ``labels`` overrides the states'
    French labels (default: each state's ``label``); ``verbs`` labels transitions for buttons
    (``{(source, target): "Annuler"}``); ``reason_required`` lists the targets that need a reason;
    ``on_move(obj, source, target, reason)`` runs after each move; ``error`` is the
    :class:`LifecycleError` subclass raised (so a feature's views catch their own errors).
    ``history=False`` keeps the table and its refusals but records no ``status_changes`` row:
    only for rows that are their own record of who and when (a journal entry carries its author,
    time and number, and there are hundreds of thousands of them).
    """

    def __init__(self, name, transitions, *, status_attr="status", noun=None, labels=None, verbs=None,
                 reason_required=(), on_move=None, error=LifecycleError, history=True):
        self.name = name
        self.transitions = {source: frozenset(targets) for source, targets in transitions.items()}
        states = list(self.transitions)
        if not states:
            raise ValueError(f"lifecycle {name}: empty transition table")
        self.states = type(states[0])
        unknown = {t for targets in self.transitions.values() for t in targets} - set(states)
        missing = set(self.states) - set(states) if issubclass(self.states, Enum) else set()
        if unknown or missing:
            raise ValueError(f"lifecycle {name}: every state needs a row ({sorted(map(str, unknown | missing))})")
        for pair in verbs or {}:
            if pair[1] not in self.transitions.get(pair[0], ()):
                raise ValueError(f"lifecycle {name}: a verb for {pair}, which the table does not allow")
        if not issubclass(error, LifecycleError):
            raise TypeError("error must derive from LifecycleError")
        self.status_attr = status_attr
        self.noun = noun
        self.labels = dict(labels or {})
        self.verbs = dict(verbs or {})
        self.reason_required = frozenset(reason_required)
        self.on_move = on_move
        self.error = error
        self.records_history = history
        self.model = None

    def __repr__(self):
        return f"<Lifecycle {self.name}>"

    # --- the table -------------------------------------------------------------------------
    def state(self, value):
        """``value`` as a state (from its stored string too)."""
        return self.states(value)

    def label(self, state) -> str:
        """The French label of ``state``."""
        state = self.state(state)
        return self.labels.get(state) or getattr(state, "label", None) or str(state)

    def targets(self, source) -> frozenset:
        """The states ``source`` may move to."""
        return self.transitions[self.state(source)]

    def allows(self, source, target) -> bool:
        return self.state(target) in self.targets(source)

    def verb(self, source, target) -> str | None:
        """The French label of the transition (a button's text), if the machine names it."""
        return self.verbs.get((self.state(source), self.state(target)))

    def refusal(self, source, target) -> str:
        """The French message refusing ``source → target``."""
        subject = f"{self.noun} " if self.noun else ""
        return f"Impossible de passer {subject}de « {self.label(source)} » à « {self.label(target)} »."

    # --- the model ---------------------------------------------------------------------------
    def bind(self, model):
        """Govern ``model``'s status attribute (usable as a class decorator); returns ``model``."""
        if self.model is not None:
            raise ValueError(f"lifecycle {self.name} already governs {self.model.__name__}")
        self.model = model
        _BY_MODEL[model] = self
        _BY_TABLE[model.__tablename__] = self
        event.listen(getattr(model, self.status_attr), "set", self._guard, raw=True)
        return model

    def _guard(self, state, value, oldvalue, initiator):
        if state.has_identity and _moving.get() is not state.obj():
            raise DirectStatusWrite(f"{type(state.obj()).__name__}.{self.status_attr} of a saved row is changed "
                                    f"only by backoffice.lifecycle.move() (lifecycle {self.name})")

    def current(self, obj):
        value = getattr(obj, self.status_attr)
        return None if value is None else self.state(value)

    def can_move(self, obj, target) -> bool:
        current = self.current(obj)
        return current is not None and self.allows(current, target)

    def move(self, obj, target, *, by=None, reason=None) -> StatusChange | None:
        """Move ``obj`` to ``target`` (see the module's docstring); returns the recorded change
        (None for a machine without history)."""
        target = self.state(target)
        if inspect(obj).has_identity is False:  # a new object: its id (and default status) come with the flush
            db.session.flush()
        source = self.current(obj)
        if source is None or target not in self.transitions[source]:
            raise self.error(self.refusal(source, target) if source is not None
                             else f"Statut initial inconnu : impossible de passer à « {self.label(target)} ».")
        reason = (reason or "").strip() or None
        if target in self.reason_required and reason is None:
            raise self.error(f"Indiquez un motif pour passer à « {self.label(target)} ».", field="reason")
        token = _moving.set(obj)
        try:
            setattr(obj, self.status_attr, target)
        finally:
            _moving.reset(token)
        change = None
        if self.records_history:
            change = StatusChange(subject_table=obj.__tablename__, subject_id=obj.id,
                                  organisation_id=_organisation_id(obj),
                                  from_status=source.value, to_status=target.value, changed_by_id=_user_id(by),
                                  changed_at=utcnow(), reason=reason)
            db.session.add(change)
        if self.on_move is not None:
            self.on_move(obj, source, target, reason)
        return change

    def lock_if_status(self, subject_id: int, *statuses) -> bool:
        """Lock the row ``subject_id`` if its latest committed status is one of ``statuses``.

        For decisions that race with another process (a worker finishing, a user cancelling):
        call it, then re-read the row and move it in the same transaction. It is a no-op
        ``UPDATE … SET status = status WHERE status IN (…)`` rather than ``SELECT … FOR UPDATE``
        because it also takes SQLite's write lock, and PostgreSQL re-checks the condition on the
        newest row after waiting for a concurrent writer. The lock lasts until the caller's
        commit or rollback: whichever transaction takes it first decides, the other sees its
        result. The session's objects are not touched (re-read them after).
        """
        column = getattr(self.model, self.status_attr)
        result = db.session.execute(
            update(self.model).where(self.model.id == subject_id, column.in_([self.state(s) for s in statuses]))
            .values({self.status_attr: column}).execution_options(synchronize_session=False))
        return result.rowcount == 1


def _user_id(by):
    if by is not None:
        return by.id
    from backoffice.audit.services import _current_user_id  # the user the audit trail stamps too

    return _current_user_id()


def lifecycle_of(obj_or_model) -> Lifecycle:
    """The machine that governs this object's (or model's) status."""
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    for cls in model.__mro__:
        if cls in _BY_MODEL:
            return _BY_MODEL[cls]
    raise LookupError(f"no lifecycle governs {model.__name__}")


def move(obj, target, *, by=None, reason=None) -> StatusChange | None:
    """Move ``obj`` to ``target`` through its model's lifecycle (see the module's docstring)."""
    return lifecycle_of(obj).move(obj, target, by=by, reason=reason)


def history(obj) -> list[StatusChange]:
    """The recorded moves of ``obj``, oldest first."""
    return list(db.session.scalars(select(StatusChange).where(
        StatusChange.subject_table == obj.__tablename__, StatusChange.subject_id == obj.id)
        .order_by(StatusChange.changed_at, StatusChange.id)))


# --- tests ------------------------------------------------------------------------------------
def all_transitions(machine: Lifecycle) -> list[tuple]:
    """Every allowed ``(source, target)`` pair, in the states' order (for ``pytest.mark.parametrize``)."""
    return [(s, t) for s, t in product(machine.transitions, repeat=2) if t in machine.transitions[s]]


def forbidden_transitions(machine: Lifecycle) -> list[tuple]:
    """Every refused ``(source, target)`` pair, staying in place included."""
    return [(s, t) for s, t in product(machine.transitions, repeat=2) if t not in machine.transitions[s]]


def _organisation_id(obj):
    """The organisation a moved row belongs to, through its parents for a child row (an
    assembly's resolution): its history goes with the organisation. None for a row of none."""
    try:
        return organisation_id_of(obj)
    except UnscopedModelError:
        return None
