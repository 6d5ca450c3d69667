"""backoffice.lifecycle on a model of its own: the table, the guard, the history, the lock."""
from datetime import datetime, timezone
from enum import StrEnum

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.lifecycle import (DirectStatusWrite, Lifecycle, LifecycleError, StatusChange, all_transitions,
                                  forbidden_transitions, history, lifecycle_of, move)
from tests.factories import UserFactory


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self):
        return {"draft": "Brouillon", "submitted": "Déposée", "approved": "Accordée", "rejected": "Refusée"}[self.value]


D, S, A, R = Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.REJECTED
ALLOWED = {(D, S), (S, D), (S, A), (S, R)}


class Refused(LifecycleError):
    """A feature's own refusal, which its views catch."""


moves_seen = []
MACHINE = Lifecycle("demande d'aide", {D: {S}, S: {D, A, R}, A: set(), R: set()},
                    noun="la demande", verbs={(D, S): "Déposer", (S, R): "Refuser"}, reason_required={R},
                    on_move=lambda obj, source, target, reason: moves_seen.append((obj.id, source, target, reason)),
                    error=Refused)


class Base(DeclarativeBase):
    """Outside the application's metadata: the migrations do not know this table."""


@MACHINE.bind
class Application(Base):
    __tablename__ = "lifecycle_test_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    status: Mapped[Status] = mapped_column(String(20), default=Status.DRAFT)


@pytest.fixture
def make(organisation):
    Base.metadata.create_all(db.session.connection(), tables=[Application.__table__])
    moves_seen.clear()

    def make(status=D, title="Dermatoscope — cabinet de l'Étang"):
        application = Application(organisation_id=organisation.id, title=title, status=status)
        db.session.add(application)
        db.session.flush()
        return application

    return make


def test_helpers_list_every_pair_once():
    assert set(all_transitions(MACHINE)) == ALLOWED
    assert len(all_transitions(MACHINE)) == len(ALLOWED)
    every = {(s, t) for s in Status for t in Status}
    assert set(forbidden_transitions(MACHINE)) == every - ALLOWED
    assert (D, D) in forbidden_transitions(MACHINE)  # staying in place is a move too


@pytest.mark.parametrize("source, target", sorted(ALLOWED - {(S, R)}))
def test_allowed_moves_change_and_record(make, source, target):
    application = make(status=source)
    user = UserFactory()
    change = move(application, target, by=user)
    assert application.status is target
    assert (change.from_status, change.to_status, change.changed_by_id) == (source.value, target.value, user.id)
    assert (change.subject_table, change.subject_id) == ("lifecycle_test_applications", application.id)
    assert change.organisation_id == application.organisation_id
    assert moves_seen == [(application.id, source, target, None)]


@pytest.mark.parametrize("source, target", forbidden_transitions(MACHINE))
def test_forbidden_moves_are_refused_in_french(make, source, target):
    application = make(status=source)
    with pytest.raises(Refused) as refused:
        move(application, target, reason="motif")
    assert str(refused.value) == (f"Impossible de passer la demande de « {source.label} » à « {target.label} ».")
    assert isinstance(refused.value, ServiceError) and refused.value.field is None
    assert application.status is source and history(application) == [] and moves_seen == []


def test_message_without_a_noun():
    machine = Lifecycle("x", {D: {S}, S: set(), A: set(), R: set()})
    assert machine.refusal(S, D) == "Impossible de passer de « Déposée » à « Brouillon »."
    assert machine.label("approved") == "Accordée"


def test_a_reason_is_required_where_declared(make):
    application = make(status=S)
    with pytest.raises(Refused) as refused:
        move(application, R, reason="   ")
    assert (str(refused.value), refused.value.field) == ("Indiquez un motif pour passer à « Refusée ».", "reason")
    assert application.status is S
    change = move(application, R, reason="  Devis de plus de trois mois  ")
    assert change.reason == "Devis de plus de trois mois"


def test_history_lists_the_moves_oldest_first_with_labels(make):
    application, other = make(), make(title="Autre")
    jeanne = UserFactory()
    move(application, S, by=jeanne)
    move(other, S)
    move(application, D)
    move(application, S, by=jeanne)
    db.session.flush()
    moves = history(application)
    assert [(c.from_status, c.to_status) for c in moves] == [("draft", "submitted"), ("submitted", "draft"),
                                                            ("draft", "submitted")]
    assert [c.changed_by_id for c in moves] == [jeanne.id, None, jeanne.id]
    assert (moves[0].from_label, moves[0].to_label) == ("Brouillon", "Déposée")
    assert all(isinstance(c.changed_at, datetime) for c in moves)
    assert len(history(other)) == 1


def test_the_acting_user_is_recorded_when_by_is_left_out(make):
    from backoffice.audit.services import acting_user_id

    application, user = make(), UserFactory()
    token = acting_user_id.set(user.id)
    try:
        assert move(application, S).changed_by_id == user.id
    finally:
        acting_user_id.reset(token)


def test_writing_the_status_of_a_saved_row_directly_is_refused(make):
    application = make()
    with pytest.raises(DirectStatusWrite):
        application.status = S
    assert application.status is D
    move(application, S)
    with pytest.raises(DirectStatusWrite):
        application.status = A


def test_the_initial_status_is_set_freely_and_a_new_object_can_move_at_once(organisation, make):
    application = Application(organisation_id=organisation.id, title="Neuve", status=D)
    application.status = S  # not saved yet: still choosing its initial status
    db.session.add(application)
    change = move(application, A)  # flushed first, so the change knows its id
    assert change.subject_id == application.id and application.status is A


def test_a_refused_move_inside_a_savepoint_leaves_no_trace(make):
    application = make(status=S)
    with pytest.raises(Refused):
        with db.session.begin_nested():
            move(application, A)
            move(application, D)
    db.session.refresh(application)
    assert application.status == S
    assert db.session.scalar(select(StatusChange).where(StatusChange.subject_table == Application.__tablename__,
                                                StatusChange.subject_id == application.id)) is None


def test_lock_if_status_follows_the_committed_status(make):
    application = make(status=S)
    assert MACHINE.lock_if_status(application.id, S) and MACHINE.lock_if_status(application.id, D, S)
    assert not MACHINE.lock_if_status(application.id, D)
    db.session.execute(db.update(Application).where(Application.id == application.id).values(status=A))
    assert not MACHINE.lock_if_status(application.id, S)


def test_verbs_and_lookups():
    assert MACHINE.verb(D, S) == "Déposer" and MACHINE.verb(S, A) is None
    assert MACHINE.targets("submitted") == {D, A, R} and MACHINE.allows(S, A) and not MACHINE.allows(A, S)
    assert lifecycle_of(Application) is MACHINE
    with pytest.raises(LookupError):
        lifecycle_of(object())


@pytest.mark.parametrize("table, message", [
    ({D: {S}}, "every state needs a row"),                       # S, A, R have no row
    ({D: {"archived"}, S: set(), A: set(), R: set()}, "every state needs a row"),
    ({}, "empty transition table"),
])
def test_malformed_tables_are_refused(table, message):
    with pytest.raises(ValueError, match=message):
        Lifecycle("cassée", table)


def test_verbs_must_name_allowed_moves_and_errors_must_be_lifecycle_errors():
    table = {D: {S}, S: set(), A: set(), R: set()}
    with pytest.raises(ValueError, match="does not allow"):
        Lifecycle("x", table, verbs={(S, D): "Revenir"})
    with pytest.raises(TypeError):
        Lifecycle("x", table, error=ServiceError)
    with pytest.raises(ValueError, match="already governs"):
        MACHINE.bind(Application)


def test_changed_at_is_aware(make):
    application = make()
    change = move(application, S)
    assert change.changed_at.tzinfo is not None and change.changed_at <= datetime.now(timezone.utc)
