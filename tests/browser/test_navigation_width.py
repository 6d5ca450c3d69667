"""The organisation's menu fits on one line of a 1 280 px wide screen, for every role."""
import pytest

from tests.browser.conftest import seed_organisation, seed_user

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

PASSWORD = "une phrase assez longue"
# Long names, as real ones are: the switcher and the account menu take their width.
ORGANISATION = "CPTS du Pays Blanc et de la Presqu'île guérandaise"
FULL_NAME = "Marie-Hélène Le Goff-Kerbrat"

LAYOUT = """() => {
  const nav = document.querySelector('nav.navbar');
  const items = [...nav.querySelectorAll('.navbar-nav > .nav-item')].filter(i => i.offsetParent !== null);
  const tops = items.map(i => i.getBoundingClientRect().top);
  const [left, right] = [...nav.querySelectorAll('ul.navbar-nav')].map(u => u.getBoundingClientRect());
  return {
    items: items.length,
    toggler: getComputedStyle(nav.querySelector('.navbar-toggler')).display !== 'none',
    spread: Math.max(...tops) - Math.min(...tops),
    overflow: nav.scrollWidth - nav.clientWidth,
    pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    overlap: left && right ? left.right - right.left : 0,
    height: nav.getBoundingClientRect().height,
  };
}"""


def _seed(role):
    seed_organisation("cpts-test", ORGANISATION)
    roles = {"cpts-test": [role]}
    if role == "admin":  # the widest bar: every entry, and a second organisation in the switcher
        roles["sisa-mayenne"] = ["treasurer"]
    return seed_user(f"{role}@example.org", roles, password=PASSWORD, full_name=FULL_NAME)


@pytest.mark.parametrize("role, start", [
    ("admin", "/o/cpts-test/"), ("treasurer", "/o/cpts-test/"), ("board", "/o/cpts-test/"),
    ("accountant", "/o/cpts-test/"), ("member", "/o/cpts-test/espace-adherent/"),
])
def test_the_menu_fits_on_one_line_at_1280_px(live_app, page, signed_in_page, role, start):
    live_app.run(_seed, role)
    page.set_viewport_size({"width": 1280, "height": 800})
    signed_in_page(f"{role}@example.org", PASSWORD)
    page.goto(start)
    layout = page.evaluate(LAYOUT)
    assert not layout["toggler"], layout  # the menu is shown, not folded behind the button
    assert layout["items"] >= 3, layout
    assert layout["spread"] < 4, f"the menu wraps onto a second line: {layout}"
    assert layout["overflow"] <= 0 and layout["pageOverflow"] <= 0, f"the menu overflows: {layout}"
    assert layout["overlap"] <= 0, f"the menu runs under the organisation and account menus: {layout}"
