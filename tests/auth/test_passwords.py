"""Choosing a password: invitation, forgotten password, change, strength."""
import pytest

from backoffice.auth import services
from backoffice.auth.models import User
from tests.auth.conftest import PASSWORD, link_in, page_text, post_login

NEW = "une phrase assez longue"


@pytest.mark.parametrize("password, message", [
    ("court", "au moins 12 caractères"),
    ("a" * 201, "ne peut pas dépasser 200 caractères"),
    ("abababababababab", "trop répétitif"),
    ("Jeanne@Example.org", "ne doit pas être votre adresse e-mail"),
])
def test_weak_passwords_are_refused(password, message):
    with pytest.raises(services.AccountError, match=message):
        services.check_password_strength(password, "jeanne@example.org")


def test_a_long_enough_password_is_accepted():
    services.check_password_strength("douze caract", "jeanne@example.org")


def invite(client, **data):
    data = {"email": "nouvelle@example.org", "full_name": "Nina Nouvelle", "role": "treasurer", **data}
    return client.post("/o/cpts-test/users/invite", data=data)


def test_an_invited_staff_member_chooses_a_password_and_is_signed_in(client, login_as, outbox, organisation, db):
    login_as("admin")
    response = invite(client)
    assert response.status_code == 302
    user = services.find_user_by_email("nouvelle@example.org")
    assert user.password_hash is None
    assert user.roles_in(organisation) == {"treasurer"}
    [mail] = outbox("nouvelle@example.org")
    assert mail.subject == "Invitation à rejoindre CPTS de Test sur Maillage"
    assert "valable 7 jours" in mail.body
    link = link_in(mail)
    assert link.startswith("/auth/invitation/")

    client.post("/auth/logout")
    page = client.get(link)
    assert page.status_code == 200 and "nouvelle@example.org" in page_text(page)

    short = client.post(link, data={"password": "court", "confirm": "court"})
    assert "au moins 12 caractères" in page_text(short)
    mismatch = client.post(link, data={"password": NEW, "confirm": NEW + "x"})
    assert "ne sont pas identiques" in page_text(mismatch)
    same_as_email = client.post(link, data={"password": "nouvelle@example.org", "confirm": "nouvelle@example.org"})
    assert "ne doit pas être votre adresse e-mail" in page_text(same_as_email)
    assert user.password_hash is None

    done = client.post(link, data={"password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/o/cpts-test/")
    with client.session_transaction() as session:
        assert session["_user_id"] == str(user.id)
    client.post("/auth/logout")
    assert "déjà été utilisé" in page_text(client.get(link))
    assert post_login(client, "nouvelle@example.org", NEW).status_code == 302


def test_forgotten_password(client, staff, outbox):
    user = staff("treasurer")
    answer = client.post("/auth/password/forgot", data={"email": user.email}, follow_redirects=True)
    assert "un e-mail vient de lui être envoyé" in page_text(answer)
    assert "valable 1 heure" in page_text(answer)
    unknown = client.post("/auth/password/forgot", data={"email": "inconnu@example.org"}, follow_redirects=True)
    assert page_text(unknown) == page_text(answer)
    [mail] = outbox()
    assert mail.recipient == user.email
    link = link_in(mail)
    assert link.startswith("/auth/password/reset/")
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    client.post("/auth/logout")
    assert post_login(client, user.email, PASSWORD).status_code == 200  # the old one no longer works
    assert post_login(client, user.email, NEW).status_code == 302


def test_an_expired_invitation_asks_for_a_new_one(client, app, db, monkeypatch):
    user = services.create_user("tardive@example.org", "Tardive")
    db.session.flush()
    with app.test_request_context():
        token = services.make_token(user, "invitation")
    monkeypatch.setitem(app.config, "INVITATION_LINK_MAX_AGE", -1)
    response = client.get(f"/auth/invitation/{token}")
    assert response.status_code == 400
    assert "Ce lien a expiré." in page_text(response)
    assert "renvoyer l'invitation" in page_text(response)


def test_change_own_password(client, staff):
    user = staff("board")
    post_login(client, user.email)
    assert client.get("/auth/password").status_code == 200
    wrong = client.post("/auth/password", data={"current_password": "faux", "password": NEW, "confirm": NEW})
    assert "Le mot de passe actuel est incorrect." in page_text(wrong)
    weak = client.post("/auth/password", data={"current_password": PASSWORD, "password": "court", "confirm": "court"})
    assert "au moins 12 caractères" in page_text(weak)
    done = client.post("/auth/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert services._hasher.verify(user.password_hash, NEW)


def test_a_member_without_password_may_choose_one(client, login_as, db):
    user = login_as("member")
    assert user.password_hash is None
    html = page_text(client.get("/auth/password"))
    assert "pas encore de mot de passe" in html
    done = client.post("/auth/password", data={"password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert db.session.get(User, user.id).password_hash
