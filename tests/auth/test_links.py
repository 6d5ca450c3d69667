"""Members sign in with a single-use link sent by e-mail."""
import time

import pytest
from itsdangerous import TimestampSigner

from backoffice.auth import services
from tests.auth.conftest import link_in, page_text, post_login
from tests.factories import UserFactory

SENT = "Si un compte actif correspond à cette adresse, un e-mail vient de lui être envoyé."


@pytest.fixture
def member(db, organisation):
    user = UserFactory(email="adherente@example.org", full_name="Anne Adhérente")
    services.grant_role(user, organisation, "member")
    db.session.flush()
    return user


def request_link(client, email):
    return client.post("/auth/link", data={"email": email}, follow_redirects=True)


def test_a_member_receives_a_link_and_signs_in_once(client, member, outbox):
    answer = request_link(client, "Adherente@Example.org ")
    assert SENT in page_text(answer)
    assert "valable 15 minutes" in page_text(answer)
    [mail] = outbox("adherente@example.org")
    assert mail.subject == "Votre lien de connexion à Maillage"
    assert "Bonjour Anne Adhérente" in mail.body
    link = link_in(mail)
    assert link.startswith("/auth/link/")

    # Opening the link does not use it up: it asks for a click.
    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "adherente@example.org" in page_text(confirm)
    assert client.get(link).status_code == 200

    signed_in = client.post(link)
    assert signed_in.status_code == 302
    with client.session_transaction() as session:
        assert session["_user_id"] == str(member.id)
    assert member.last_login_at is not None

    client.post("/auth/logout")
    reused = client.post(link)
    assert reused.status_code == 400
    assert "Ce lien a déjà été utilisé" in page_text(reused)
    assert 'href="/auth/link"' in page_text(reused)  # invites to ask for a new one
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize("email", ["inconnu@example.org", "desactive@example.org"])
def test_the_answer_is_the_same_for_an_address_without_active_account(client, member, outbox, email, db):
    UserFactory(email="desactive@example.org", active=False)
    known = request_link(client, member.email)
    unknown = request_link(client, email)
    assert known.status_code == unknown.status_code == 200
    assert page_text(known) == page_text(unknown)
    assert outbox(email) == []
    assert len(outbox()) == 1


def test_the_same_work_is_done_for_an_unknown_address(app, member, monkeypatch):
    rendered = []
    real = services._link_mail
    monkeypatch.setattr(services, "_link_mail", lambda *a, **k: rendered.append(a[1:]) or real(*a, **k))
    with app.test_request_context():
        services.request_signin_link(member.email)
        services.request_signin_link("inconnu@example.org")
    assert rendered == [("signin", "auth.link_signin", "auth/mail/signin_link.txt")] * 2


def _token_made_at(user, seconds_ago, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - seconds_ago)
        return services.make_token(user, "signin")


def test_an_expired_link_is_refused(client, member, monkeypatch, app):
    with app.test_request_context():
        fresh = _token_made_at(member, 14 * 60, monkeypatch)
        stale = _token_made_at(member, 15 * 60 + 2, monkeypatch)
    assert client.get(f"/auth/link/{fresh}").status_code == 200
    response = client.post(f"/auth/link/{stale}")
    assert response.status_code == 400
    assert "Ce lien a expiré." in page_text(response)
    assert "Recevoir un nouveau lien" in page_text(response)


@pytest.mark.parametrize("forge", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
    lambda token: "n-importe-quoi",
])
def test_a_forged_link_is_refused(client, member, app, forge):
    with app.test_request_context():
        token = services.make_token(member, "signin")
    response = client.post(f"/auth/link/{forge(token)}")
    assert response.status_code == 400
    assert "Ce lien n'est pas valable" in page_text(response)


def test_a_link_of_another_kind_is_refused(client, member, app):
    with app.test_request_context():
        reset_token = services.make_token(member, "reset")
    response = client.post(f"/auth/link/{reset_token}")
    assert response.status_code == 400
    assert "n'est pas valable" in page_text(response)


def test_a_password_sign_in_voids_the_links_sent_before(client, staff, app):
    user = staff("board")
    with app.test_request_context():
        token = services.make_token(user, "signin")
    assert post_login(client, user.email).status_code == 302
    client.post("/auth/logout")
    assert "déjà été utilisé" in page_text(client.post(f"/auth/link/{token}"))


def test_a_deactivated_account_cannot_use_its_link(client, member, app):
    with app.test_request_context():
        token = services.make_token(member, "signin")
    member.active = False
    response = client.post(f"/auth/link/{token}")
    assert response.status_code == 400
    assert "désactivé" in page_text(response)


def test_send_signin_link_is_a_service_for_other_features(app, member, outbox, db):
    with app.test_request_context():
        services.send_signin_link(member)
    assert outbox(member.email) == []  # queued: it leaves once the caller commits
    db.session.commit()
    [mail] = outbox(member.email)
    assert "/auth/link/" in mail.body
    assert "valable 15 minutes" in mail.body


def test_link_request_page_is_linked_from_login_and_french(client):
    html = page_text(client.get("/auth/link"))
    assert "Recevoir un lien de connexion" in html
    assert "Adresse e-mail" in html


def test_a_signed_in_user_opening_another_account_link_switches_account(client, member, login_as, app):
    login_as("admin")
    with app.test_request_context():
        token = services.make_token(member, "signin")
    client.post(f"/auth/link/{token}")
    with client.session_transaction() as session:
        assert session["_user_id"] == str(member.id)
