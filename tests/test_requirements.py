"""requirements.txt is a real lock of what the application imports, and nothing for development.

Read from the installed packages' metadata (the venv ``make install`` built from the lock):
every third-party module imported by the application comes from a package named in
``requirements.in``; ``requirements.txt`` pins exactly those packages and their dependencies;
tests and tools live in ``requirements-dev.txt``.
"""
import ast
import importlib.metadata as metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
APPLICATION = ("backoffice", "jobs", "migrations", "config.py")
OUR_PACKAGES = {"backoffice", "jobs", "config", "migrations"}


def requirement_lines(name):
    lines = (line.split("#")[0].strip() for line in (ROOT / name).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("-r")]


def pins(name):
    return {canonicalize_name(line.split("==")[0]): line.split("==")[1] for line in requirement_lines(name)}


def top_level_imports(paths):
    modules = set()
    for base in paths:
        base = ROOT / base
        for path in [base] if base.is_file() else base.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in OUR_PACKAGES}


def closure(requirements):
    """Names of ``requirements`` and, recursively, of what they require (markers and extras honoured)."""
    seen, stack = set(), [Requirement(r) for r in requirements]
    while stack:
        requirement = stack.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(requirement.name) or []:
            dependency = Requirement(line)
            environments = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if dependency.marker is None or any(dependency.marker.evaluate(env) for env in environments):
                stack.append(dependency)
    return seen


def test_every_module_the_application_imports_comes_from_a_declared_package():
    declared = {canonicalize_name(Requirement(line).name) for line in requirement_lines("requirements.in")}
    providers = metadata.packages_distributions()
    missing = {module: providers.get(module) for module in top_level_imports(APPLICATION)
               if not declared & {canonicalize_name(d) for d in providers.get(module, [])}}
    assert missing == {}, "imported but not in requirements.in"


def test_requirements_txt_pins_exactly_requirements_in_and_its_dependencies():
    locked = pins("requirements.txt")
    needed = closure(requirement_lines("requirements.in"))
    assert sorted(needed - set(locked)) == [], "needed but not pinned in requirements.txt"
    assert sorted(set(locked) - needed) == [], "pinned in requirements.txt but needed by nothing in requirements.in"


def test_the_installed_versions_are_the_locked_ones():
    locked = {**pins("requirements.txt"), **pins("requirements-dev.txt")}
    assert {name: metadata.version(name) for name in locked} == locked


def test_development_tools_stay_out_of_the_runtime_lock():
    locked = pins("requirements.txt")
    assert {"pytest", "honcho", "playwright", "hypothesis", "factory-boy"} & set(locked) == set()
    assert closure(f"{name}=={version}" for name, version in pins("requirements-dev.txt").items()) <= (
        set(locked) | set(pins("requirements-dev.txt"))), "a development tool's dependency is not pinned"


#: Runtime packages the application uses without importing them, and how.
USED_WITHOUT_IMPORT = {
    "gunicorn": "the Procfile's web process",
    "psycopg": "SQLAlchemy's PostgreSQL driver, named by the postgresql+psycopg:// URL (config.py)",
}


def _modules_of(package):
    providers = metadata.packages_distributions()
    return {module for module, distributions in providers.items()
            if package in {canonicalize_name(d) for d in distributions}}


def test_every_declared_package_is_used_by_the_application():
    """A package in requirements.in that nothing imports is dead weight in every deployment
    (a test-only one belongs in requirements-dev.txt)."""
    imported = top_level_imports(APPLICATION)
    declared = {canonicalize_name(Requirement(line).name) for line in requirement_lines("requirements.in")}
    unused = sorted(name for name in declared - set(USED_WITHOUT_IMPORT) if not _modules_of(name) & imported)
    assert unused == [], "declared in requirements.in but imported by nothing in the application"
    assert set(USED_WITHOUT_IMPORT) <= declared, "USED_WITHOUT_IMPORT names a package requirements.in lacks"


def test_every_development_package_is_used():
    """A pin of requirements-dev.txt is imported by the tests, benchmarks or scripts, or is
    needed by one that is (a plugin's dependency), or runs a tool (honcho)."""
    dev = pins("requirements-dev.txt")
    imported = top_level_imports(("tests", "bench", "scripts"))
    direct = {name for name in dev if _modules_of(name) & imported} | {"honcho", "pytest-playwright"}
    needed = closure(f"{name}=={dev[name]}" for name in direct)
    assert sorted(set(dev) - needed) == [], "pinned in requirements-dev.txt but used by nothing"
