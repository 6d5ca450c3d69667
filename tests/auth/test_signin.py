"""Staff sign-in with a password: messages, lock-out, rehash, rate limit."""
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from backoffice.auth import services
from backoffice.models import utcnow
from tests.auth.conftest import PASSWORD, page_text, post_login

GENERIC = "Adresse e-mail ou mot de passe incorrect."


def flashed_error(response):
    text = page_text(response)
    start = text.index('class="alert alert-danger')
    return text[start:text.index("</div>", start)]


def test_staff_signs_in_and_lands_on_the_dashboard(client, staff, organisation):
    user = staff("treasurer")
    nonce = user.login_nonce
    response = post_login(client, user.email.upper())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/o/cpts-test/")
    assert user.last_login_at is not None
    assert user.login_nonce != nonce  # links sent before this sign-in are void
    dashboard = client.get(response.headers["Location"])
    assert dashboard.status_code == 200
    assert "Bienvenue" in page_text(dashboard)


def test_next_parameter_is_followed_inside_the_site_only(client, staff):
    user = staff("admin")
    inside = post_login(client, user.email, query_string={"next": "/o/cpts-test/users/"})
    assert inside.headers["Location"].endswith("/o/cpts-test/users/")
    client.post("/auth/logout")
    outside = post_login(client, user.email, query_string={"next": "//evil.example/"})
    assert outside.headers["Location"].endswith("/o/cpts-test/")


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "inactive", "no_password"])
def test_every_failure_gives_the_same_message(client, staff, case):
    attributes = {"active": False} if case == "inactive" else {"password_hash": None} if case == "no_password" else {}
    user = staff("board", **attributes)
    email = "personne@example.org" if case == "unknown_email" else user.email
    password = "mauvais mot de passe" if case == "wrong_password" else PASSWORD
    response = post_login(client, email, password)
    assert response.status_code == 200
    assert GENERIC in flashed_error(response)
    assert "verrouillé pendant 15 minutes" in flashed_error(response)
    assert "_user_id" not in _session(client)


def _session(client):
    with client.session_transaction() as session:
        return dict(session)


class CountingHasher(PasswordHasher):
    """Counts the expensive calls instead of making them."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def hash(self, password, **kwargs):
        self.calls.append("hash")
        return "$argon2id$not-a-real-hash"

    def verify(self, hash, password):
        self.calls.append("verify")
        raise VerifyMismatchError()


@pytest.mark.parametrize("email", ["personne@example.org", "known"])
def test_one_expensive_hash_whether_or_not_the_account_exists(app, staff, monkeypatch, email):
    user = staff("board")
    hasher = CountingHasher()
    monkeypatch.setattr(services, "_hasher", hasher)
    with pytest.raises(services.AuthError):
        services.authenticate(user.email if email == "known" else email, "mauvais mot de passe")
    assert len(hasher.calls) == 1


def test_lock_out_after_repeated_failures_then_unlock_after_the_delay(client, staff, app, monkeypatch):
    user = staff("treasurer")
    now = utcnow()
    monkeypatch.setattr(services, "utcnow", lambda: now)
    for _ in range(app.config["MAX_FAILED_LOGINS"] - 1):
        post_login(client, user.email, "mauvais mot de passe")
    assert user.failed_logins == app.config["MAX_FAILED_LOGINS"] - 1
    assert user.locked_until is None
    post_login(client, user.email, "mauvais mot de passe")
    assert services._aware(user.locked_until) == now + timedelta(minutes=app.config["LOCKOUT_MINUTES"])

    # Locked: even the right password is refused, with the same message.
    monkeypatch.setattr(services, "utcnow", lambda: now + timedelta(minutes=14, seconds=59))
    refused = post_login(client, user.email)
    assert GENERIC in flashed_error(refused)
    assert "_user_id" not in _session(client)

    monkeypatch.setattr(services, "utcnow", lambda: now + timedelta(minutes=15, seconds=1))
    accepted = post_login(client, user.email)
    assert accepted.status_code == 302
    assert _session(client)["_user_id"] == str(user.id)
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_success_resets_the_failure_count(client, staff):
    user = staff("treasurer")
    post_login(client, user.email, "mauvais mot de passe")
    assert user.failed_logins == 1
    post_login(client, user.email)
    assert user.failed_logins == 0


def test_an_old_hash_is_upgraded_at_sign_in(client, staff):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user = staff("treasurer", password_hash=weak.hash(PASSWORD))
    old_hash = user.password_hash
    assert post_login(client, user.email).status_code == 302
    assert user.password_hash != old_hash
    assert not services._hasher.check_needs_rehash(user.password_hash)
    assert services._hasher.verify(user.password_hash, PASSWORD)


def test_a_deactivated_account_loses_its_open_session(client, login_as):
    user = login_as("admin")
    assert client.get("/o/cpts-test/").status_code == 200
    user.active = False
    response = client.get("/o/cpts-test/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_logout(client, staff):
    user = staff("board")
    post_login(client, user.email)
    response = client.post("/auth/logout")
    assert response.headers["Location"].endswith("/auth/login")
    assert "_user_id" not in _session(client)


def test_login_page_offers_the_link_to_members(client):
    html = page_text(client.get("/auth/login"))
    assert "Adhérent ? Recevoir un lien de connexion par e-mail" in html
    assert 'href="/auth/link"' in html
    assert 'href="/auth/password/forgot"' in html


# --- rate limits ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/auth/login", "/auth/link", "/auth/password/forgot"])
def test_the_eleventh_attempt_in_a_minute_is_refused(client, path):
    # An invalid form: the limit counts posts, and no password gets hashed.
    for attempt in range(10):
        assert client.post(path, data={"email": "pas-une-adresse"}).status_code == 200, attempt
    response = client.post(path, data={"email": "pas-une-adresse"})
    assert response.status_code == 429
    assert "Trop de tentatives en peu de temps" in page_text(response)
    assert "Retry-After" in response.headers
    assert client.get(path).status_code == 200  # reading the page is not limited


def test_limits_are_counted_per_form(client):
    for _ in range(10):
        client.post("/auth/login", data={"email": "x"})
    assert client.post("/auth/login", data={"email": "x"}).status_code == 429
    assert client.post("/auth/link", data={"email": "x"}).status_code == 200


def test_counts_do_not_leak_into_the_next_test(client):
    # Runs after the tests above have exhausted the limit: the fixture reset it.
    assert client.post("/auth/login", data={"email": "x"}).status_code == 200
