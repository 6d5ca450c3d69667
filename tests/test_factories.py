"""Every model has a factory (in tests/factories.py, or a feature's tests/<pkg>/factories.py),
and each one makes a row the database takes (its constraints and triggers, on SQLite and
PostgreSQL)."""
import importlib
import inspect
from pathlib import Path

import factory
import pytest
from sqlalchemy import inspect as sa_inspect

from backoffice.extensions import db
from tests import factories

MODULES = [factories] + [importlib.import_module(f"tests.{path.parent.name}.factories")
                         for path in sorted(Path(__file__).parent.glob("*/factories.py"))]
FACTORIES = {cls._meta.model: cls for module in MODULES for _, cls in inspect.getmembers(module, inspect.isclass)
             if issubclass(cls, factory.alchemy.SQLAlchemyModelFactory) and not cls._meta.abstract}


def _models():
    return sorted((mapper.class_ for mapper in db.Model.registry.mappers), key=lambda m: m.__name__)


def test_every_model_has_a_factory(app):
    # A polymorphic base (Party) is covered by the factories of its kinds.
    missing = [model.__name__ for model in _models()
               if model not in FACTORIES and not any(issubclass(other, model) for other in FACTORIES)]
    assert not missing, f"models without a factory in tests/factories.py: {missing}"


@pytest.mark.parametrize("factory_class", sorted(FACTORIES.values(), key=lambda f: f.__name__),
                         ids=lambda f: f.__name__)
def test_the_factory_makes_a_row_the_database_takes(factory_class):
    row = factory_class()
    assert sa_inspect(row).persistent and row in db.session
    db.session.expire(row)               # read back what the database stored
    assert sa_inspect(row).identity is not None
    second = factory_class()             # sequences: a second row breaks no unique constraint
    assert sa_inspect(second).identity != sa_inspect(row).identity
