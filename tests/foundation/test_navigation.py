"""Every entry of an organisation's menu opens for the role that sees it."""
import re

import pytest

NAV = re.compile(r'<a class="(?:nav-link|dropdown-item)" href="(/o/[^"]+)"')  # drop-downs: Administration


def _menu_links(html):
    menu = html.split('id="nav-main"', 1)[1].split("</nav>", 1)[0]
    return NAV.findall(menu)


@pytest.mark.parametrize("role, start", [
    ("admin", "/o/cpts-test/"),
    ("treasurer", "/o/cpts-test/"),
    ("board", "/o/cpts-test/"),
    ("accountant", "/o/cpts-test/"),
    ("member", "/o/cpts-test/espace-adherent/"),
])
def test_menu_links_open(client, login_as, organisation, role, start):
    login_as(role)
    page = client.get(start)
    assert page.status_code == 200
    links = _menu_links(page.get_data(as_text=True))
    assert links, "the menu shows no entry"
    for link in links:
        assert client.get(link).status_code == 200, link
    if role == "member":
        assert "/o/cpts-test/" not in links  # no dashboard entry for members: it would answer 403
