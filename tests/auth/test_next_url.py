"""``next`` after signing in: a path of this site, never a way out of it."""
import pytest

from backoffice.auth.permissions import is_local_path
from tests.auth.conftest import post_login

# Each of these leads a browser (or a proxy that decodes) somewhere else, or hides what it is.
OFF_SITE = [
    "/\t/evil.example",          # browsers drop the tab: //evil.example
    "/\n/evil.example",
    "/\r\n/evil.example/",
    "\t//evil.example",
    "/%09/evil.example",         # the same tab, percent-encoded
    "/%0a/evil.example",
    "/%2F/evil.example",         # an encoded second slash
    "https://evil.example/",
    "http:evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    " /o/cpts-test/",
    "/\uff0fevil.example",       # ／ fullwidth solidus: NFKC makes it //
    "/\uff3cevil.example",       # ＼ fullwidth backslash
    "/\u200b/evil.example",      # zero-width space
    "/\u202e/elpmaxe.live",      # right-to-left override
    "/\u2028/evil.example",      # line separator
    "/\x00/evil.example",
    "",
    None,
]
LOCAL = [
    "/o/cpts-test/users/",
    "/o/cpts-test/people/?q=Le%20Floch&kind=professional",
    "/o/cpts-test/people/?q=Lefèvre Hélène",
    "/o/cpts-test/membership/?next=%2Fo%2Fcpts-test%2F",
    "/",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_anything_but_a_local_path_is_refused(target):
    assert not is_local_path(target)


@pytest.mark.parametrize("target", LOCAL)
def test_local_paths_are_accepted(target):
    assert is_local_path(target)


@pytest.mark.parametrize("target", ["/\t/evil.example", "/%09/evil", "https://x", "//x", "/\\x",
                                    "javascript:alert(1)", "/\uff0f/x"])
def test_signing_in_never_redirects_off_site(client, staff, target):
    user = staff("admin")
    response = post_login(client, user.email, query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/o/cpts-test/"


def test_signing_in_follows_a_local_next(client, staff):
    user = staff("admin")
    response = post_login(client, user.email, query_string={"next": "/o/cpts-test/users/?q=H%C3%A9l%C3%A8ne"})
    assert response.headers["Location"] == "/o/cpts-test/users/?q=H%C3%A9l%C3%A8ne"
