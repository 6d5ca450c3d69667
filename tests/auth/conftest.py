import html
import re

import pytest

from backoffice.auth.services import grant_role, hash_password
from tests.factories import UserFactory

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def password_hash():
    # argon2id costs ~0.25 s a hash here: hash the test password once per run.
    return hash_password(PASSWORD)


@pytest.fixture
def staff(db, organisation, password_hash):
    """A factory of accounts with a password and roles in ``organisation``: ``staff("admin")``."""

    def make(*roles, org=None, **attributes):
        attributes.setdefault("password_hash", password_hash)
        user = UserFactory(**attributes)
        for role in roles:
            grant_role(user, org or organisation, role)
        db.session.flush()
        return user

    return make


def post_login(client, email, password=PASSWORD, **kwargs):
    return client.post("/auth/login", data={"email": email, "password": password}, **kwargs)


def link_in(message):
    """The first http(s) link in a mail's body, as a path (the test client ignores the host)."""
    url = re.search(r"https?://\S+", message.body).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


def page_text(response):
    """The page, with HTML entities decoded (Jinja writes ``n&#39;est``)."""
    return html.unescape(response.get_data(as_text=True))
