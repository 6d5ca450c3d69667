"""Running a data-only migration on the test's own session, as ``flask db upgrade`` would."""
import importlib.util
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations

from backoffice.extensions import db

VERSIONS = Path(__file__).parents[1] / "migrations" / "versions"


def run_data_migration(name, times=2):
    """Run the ``upgrade()`` of the migration whose file ends with ``_<name>.py`` (found whatever
    its number: a migration is renumbered when another lands first) ``times`` times — a second
    run must add nothing — then expire the session so that the rows are read again."""
    (path,) = VERSIONS.glob(f"*_{name}.py")
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with Operations.context(MigrationContext.configure(db.session.connection())):
        for _ in range(times):
            migration.upgrade()
    db.session.expire_all()
