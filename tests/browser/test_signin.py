"""Signing in, in a real browser: staff with a password, members with a link from the outbox."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import seed_user

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

PASSWORD = "une phrase assez longue"


def test_staff_member_signs_in_and_lands_on_the_dashboard(live_app, signed_in_page):
    live_app.run(seed_user, "tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD,
                 full_name="Claire Morvan")
    page = signed_in_page("tresoriere@example.org", PASSWORD)
    expect(page).to_have_url(re.compile(r"/o/cpts-test/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("CPTS de Test")
    expect(page.get_by_role("alert")).to_contain_text("Bienvenue, Claire Morvan.")
    page.get_by_role("button", name="Claire Morvan").click()  # the account menu
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_a_wrong_password_is_refused_in_french(live_app, page):
    live_app.run(seed_user, "tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD)
    page.goto("/auth/login")
    page.get_by_label("Adresse e-mail", exact=True).fill("tresoriere@example.org")
    page.get_by_label("Mot de passe", exact=True).fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page).to_have_url(re.compile(r"/auth/login$"))


def test_a_member_signs_in_with_a_link_from_the_outbox_once(live_app, page):
    live_app.run(seed_user, "adherente@example.org", {"cpts-test": ["member"]}, full_name="Anne Adhérente")

    page.goto("/auth/login")
    page.get_by_role("link", name="Adhérent ? Recevoir un lien de connexion par e-mail").click()
    page.get_by_label("Adresse e-mail", exact=True).fill("adherente@example.org")
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_role("alert")).to_contain_text("un e-mail vient de lui être envoyé")

    page.goto("/dev/outbox/")
    page.get_by_role("link", name="Votre lien de connexion à Maillage").click()
    link = page.locator("a[href*='/auth/link/']")
    url = link.get_attribute("href")
    link.click()
    expect(page.get_by_text("adherente@example.org")).to_be_visible()
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Bienvenue, Anne Adhérente.")
    page.get_by_role("button", name="Anne Adhérente").click()  # the account menu
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien ne fonctionne plus")
    expect(page.get_by_text("Ce lien a déjà été utilisé")).to_be_visible()
    page.get_by_role("link", name="Recevoir un nouveau lien").click()
    expect(page).to_have_url(re.compile(r"/auth/link$"))
