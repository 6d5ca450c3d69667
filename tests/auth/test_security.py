"""Cookies, CSRF, proxies and the rate-limit storage of production."""

import pytest

from backoffice import create_app, proxy_hops
from backoffice.extensions import db as _db
from config import Production, Testing
from config import sqlalchemy_url
from tests.auth.conftest import page_text

COOKIE_SETTINGS = {
    "SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True, "REMEMBER_COOKIE_HTTPONLY": True,
}


@pytest.fixture
def extra_app(database_url):
    """Build another app on the test database; its engine is disposed afterwards."""
    apps = []

    def build(config=Testing, **overrides):
        app = create_app(config, SQLALCHEMY_DATABASE_URI=sqlalchemy_url(database_url), **overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            _db.engine.dispose()
    from flask import current_app

    # create_app re-binds the shared extensions (the limiter's storage): give them back to the test app.
    from backoffice.extensions import limiter

    limiter.init_app(current_app._get_current_object())


@pytest.mark.parametrize("name, value", COOKIE_SETTINGS.items())
def test_production_cookies_are_secure(name, value):
    assert getattr(Production, name) == value


def test_the_session_cookie_carries_the_production_flags(extra_app):
    app = extra_app(**COOKIE_SETTINGS)
    with app.test_client() as browser:
        browser.post("/auth/link", data={"email": "x@example.org"})  # leaves a message in the session
        cookie = browser.get_cookie("session")
        assert cookie is not None
        assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"


def test_csrf_protects_posts_outside_tests(extra_app):
    app = extra_app(WTF_CSRF_ENABLED=True)
    with app.test_client() as browser:
        refused = browser.post("/auth/login", data={"email": "x@example.org", "password": "y"})
        assert refused.status_code == 400
        assert "Requête invalide" in page_text(refused)
        assert "rechargez la page et réessayez" in page_text(refused)
        form = page_text(browser.get("/auth/login"))
        assert 'name="csrf_token"' in form


def test_rate_limits_use_redis_in_production():
    from limits.storage import RedisStorage, storage_from_string

    settings = Production.settings({"REDIS_URL": "redis://redis.internal:6379/2"})
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/2"
    assert isinstance(storage_from_string(settings["RATELIMIT_STORAGE_URI"]), RedisStorage)
    explicit = Production.settings({"REDIS_URL": "redis://a:6379/0", "RATELIMIT_STORAGE_URI": "redis://b:6379/5"})
    assert explicit["RATELIMIT_STORAGE_URI"] == "redis://b:6379/5"
    assert Testing.settings({"REDIS_URL": "redis://a:6379/0"})["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize("setting, environment, production, expected", [
    (None, None, True, 1),
    (None, None, False, 0),
    (None, "2", True, 2),
    (None, "0", True, 0),
    (3, "2", True, 3),
])
def test_proxy_hops(monkeypatch, setting, environment, production, expected):
    monkeypatch.delenv("PROXY_HOPS", raising=False)
    if environment is not None:
        monkeypatch.setenv("PROXY_HOPS", environment)
    config = {} if setting is None else {"PROXY_HOPS": setting}
    assert proxy_hops(config, production) == expected


def test_behind_one_proxy_the_client_address_and_scheme_are_the_forwarded_ones(extra_app):
    app = extra_app(PROXY_HOPS=1)
    seen = {}

    @app.get("/_probe")
    def probe():
        from flask import request

        seen.update(addr=request.remote_addr, secure=request.is_secure, host=request.host)
        return "ok"

    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    app.test_client().get("/_probe", headers=headers)
    assert seen == {"addr": "203.0.113.7", "secure": True, "host": "localhost"}


def test_without_proxy_forwarded_headers_are_ignored(client, app):
    from flask import request

    with app.test_request_context("/", headers={"X-Forwarded-For": "203.0.113.7"},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert request.remote_addr == "127.0.0.1"
    assert not hasattr(app.wsgi_app, "x_for")
