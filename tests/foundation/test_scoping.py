"""Every model says how it belongs to an organisation, and get_or_404 checks it."""
import pytest
from flask import g
from sqlalchemy.orm import RelationshipProperty
from werkzeug.exceptions import NotFound

from backoffice.auth.permissions import get_or_404
from backoffice.extensions import db
from backoffice.models import UnscopedModelError, import_all_models, organisation_id_of, scope_of


def _models():
    import_all_models()  # at collection time, before any app exists
    return sorted((mapper.class_ for mapper in db.Model.registry.mappers), key=lambda cls: cls.__name__)


@pytest.mark.parametrize("model", _models(), ids=lambda cls: cls.__name__)
def test_every_model_declares_its_scope(app, model):
    scope = scope_of(model)  # raises for a model that says nothing
    if scope == "through":
        relationship = model.__mapper__.relationships.get(model.__scoped_through__)
        assert isinstance(relationship, RelationshipProperty), (
            f"{model.__name__}.__scoped_through__ = {model.__scoped_through__!r} is not one of its relationships")
        assert not relationship.uselist, f"{model.__name__}.{model.__scoped_through__} must lead to one parent"
        assert scope_of(relationship.mapper.class_) in ("column", "through"), (
            f"{model.__name__}'s parent {relationship.mapper.class_.__name__} is not scoped by organisation")
    elif scope == "global":
        assert not hasattr(model, "organisation_id"), f"{model.__name__} has organisation_id yet says it is global"


class _Undeclared:
    """A model that forgot to say how it is scoped."""


class _Parent:
    organisation_id = None

    def __init__(self, organisation_id):
        self.organisation_id = organisation_id


class _Child:
    __scoped_through__ = "parent"

    def __init__(self, parent):
        self.parent = parent


class _GrandChild:
    __scoped_through__ = "child"

    def __init__(self, child):
        self.child = child


def test_a_child_row_reaches_its_organisation_through_its_parents():
    assert organisation_id_of(_GrandChild(_Child(_Parent(42)))) == 42
    assert organisation_id_of(_Child(None)) is None


def test_an_undeclared_model_is_a_programming_error_not_a_404(organisation):
    g.organisation = organisation
    with pytest.raises(UnscopedModelError, match="_Undeclared has no organisation_id"):
        get_or_404(_Undeclared, 1)


def test_a_global_model_is_refused_by_get_or_404(organisation):
    from backoffice.people.models import Professional

    g.organisation = organisation
    with pytest.raises(UnscopedModelError, match="Professional is not scoped by organisation"):
        get_or_404(Professional, 1)


def test_get_or_404_checks_a_child_through_its_parent(organisation, other_organisation, monkeypatch):
    rows = {1: _Child(_Parent(organisation.id)), 2: _Child(_Parent(other_organisation.id)), 3: _Child(None)}
    monkeypatch.setattr(db.session, "get", lambda model, ident: rows.get(ident))
    g.organisation = organisation
    assert get_or_404(_Child, 1) is rows[1]
    for ident in (2, 3, 4):  # another organisation's, attached to none, missing
        with pytest.raises(NotFound):
            get_or_404(_Child, ident)


def test_get_or_404_answers_404_for_another_organisations_row(organisation, other_organisation):
    from backoffice.tasks.models import Task
    from tests.factories import TaskFactory

    theirs, ours = TaskFactory(organisation=other_organisation), TaskFactory(organisation=organisation)
    g.organisation = organisation
    assert get_or_404(Task, ours.id) is ours
    with pytest.raises(NotFound):
        get_or_404(Task, theirs.id)
