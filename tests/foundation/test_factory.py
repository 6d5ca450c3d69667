import pytest

from backoffice import create_app
from config import Production, Testing


def test_testing_config(app):
    assert app.testing
    assert create_app(Testing).testing


def test_production_refuses_to_start_without_settings(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL, REDIS_URL, SECRET_KEY"):
        create_app(Production)


def test_production_refuses_a_weak_secret(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@localhost/x")
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6379/0")
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)


def test_production_names_the_one_missing_setting(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@localhost/x")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(RuntimeError) as excinfo:
        create_app(Production)
    assert "REDIS_URL" in str(excinfo.value)
    assert "DATABASE_URL" not in str(excinfo.value)


def test_unknown_route_is_a_french_404(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_unknown_organisation_is_404(client, login_as):
    login_as("admin")
    assert client.get("/o/inconnue/").status_code == 404


def test_security_headers(client):
    response = client.get("/auth/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_load_bootstrap_locally(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "/bootstrap/static/" in html
    assert "cdn" not in html.lower()


def test_production_starts_with_its_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@localhost/x")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    app = create_app(Production)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert not app.debug


def test_production_refuses_the_development_secret(monkeypatch):
    from config import DEVELOPMENT_SECRET_KEY

    monkeypatch.setenv("DATABASE_URL", "postgresql://x@localhost/x")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)


def test_every_audited_model_reads_well_in_the_audit_trail(app):
    """The trail stores ``str(row)`` as its summary: a model without ``__str__`` would show ``<Model 12>``."""
    from backoffice.extensions import db

    unreadable = [
        mapper.class_.__name__ for mapper in db.Model.registry.mappers
        if getattr(mapper.class_, "__audited__", False)
        and not any("__str__" in vars(klass) for klass in mapper.class_.__mro__ if klass.__module__.startswith("backoffice"))
    ]
    assert unreadable == []


def test_development_links_follow_the_port_of_the_development_server():
    from config import Development

    assert Development.settings({})["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert Development.settings({"PORT": "8042"})["PUBLIC_BASE_URL"] == "http://127.0.0.1:8042"
    assert Development.settings({"PORT": "8042", "PUBLIC_BASE_URL": "https://cpts.example"})[
        "PUBLIC_BASE_URL"] == "https://cpts.example"


def test_run_dev_asks_the_redis_of_redis_url():
    from pathlib import Path

    script = (Path(__file__).parents[2] / "scripts" / "run-dev.sh").read_text()
    assert "redis-cli -h 127.0.0.1" not in script and "${REDIS_URL:-redis://127.0.0.1:6379/0}" in script
