"""A member votes online from his phone (320 px wide): from his member page to the assembly in
session, reads the accounts attached to the resolution, votes for himself and for the proxy he
carries, notes each verification code shown, and finds his vote counted on the results page."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from tests.browser.conftest import seed_organisation
# the payments of the roll post journal entries, which SQLite's reset may not delete: emptied first
from tests.browser.test_membership_journeys import _books_emptied_before_reset  # noqa: F401  (autouse fixture)
from tests.browser.test_membership_journeys import sign_in_with_link

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

ANNE = "anne.lefloch@example.org"  # as tests/assemblies/factories.py writes her address
WIDTH = 320
CODE = r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}"
ACCOUNTS_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def seed_assembly_in_session():
    """The 2026 AGO of the CPTS in session, its first resolution (the accounts, with their PDF)
    open to the vote; Zoé gave her proxy to Anne before the session."""
    from backoffice.assemblies import attachments, services, voting
    from backoffice.organisations.models import Organisation
    from tests.assemblies import factories as f
    from tests.member_portal.conftest import make_grid

    organisation = db.session.get(Organisation, seed_organisation())
    f.roll_world(organisation, make_grid(organisation, 2026))
    assembly = f.assembly(organisation, resolutions=2)
    attachments.add_document(assembly.resolutions[0], "Comptes annuels 2025", "comptes-2025.pdf", ACCOUNTS_PDF)
    services.convene(assembly, on=date(2026, 5, 21))
    voting.give_proxy(assembly, f.voter(assembly, "Ćwikła"), f.voter(assembly, "Le Floch"))
    services.open_session(assembly)
    voting.open_vote(assembly.resolutions[0])
    return assembly.id


def open_votes(assembly_id):
    """``{voter's name: (choice, receipt)}`` of the first resolution, as the database holds them."""
    from backoffice.assemblies.models import Assembly, OpenVote

    resolution = db.session.get(Assembly, assembly_id).resolutions[0]
    return {v.voter.party.display_name: (v.choice.value, v.receipt)
            for v in db.session.scalars(select(OpenVote).where(OpenVote.resolution_id == resolution.id))}


def close_first_vote(assembly_id):
    from backoffice.assemblies import voting
    from backoffice.assemblies.models import Assembly

    voting.close_vote(db.session.get(Assembly, assembly_id).resolutions[0])


def _on_screen(page, locator):
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box  # nothing to scroll sideways to
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_member_votes_from_his_phone_and_finds_his_vote_counted(live_app, page):
    assembly_id = live_app.run(seed_assembly_in_session)
    page.set_viewport_size({"width": WIDTH, "height": 640})
    sign_in_with_link(page, ANNE)

    # from his member page to the assembly in session
    page.get_by_role("link", name="Assemblée générale ordinaire 2026 — voter en ligne").click()
    expect(page.get_by_role("heading", name="Assemblée générale ordinaire 2026")).to_be_visible()
    accounts = page.get_by_role("link", name="Comptes annuels 2025")
    expect(accounts).to_be_visible()
    with page.expect_download() as download:
        accounts.click()
    assert download.value.suggested_filename == "comptes-2025.pdf"

    # his own vote: the verification code is shown, on screen
    resolution = page.locator("[id^=resolution-]").first
    expect(resolution).to_contain_text("Approbation des comptes 2025")
    own = resolution.get_by_role("group", name="Mon vote")
    _on_screen(page, own.get_by_role("button", name="Abstention"))
    own.get_by_role("button", name="Pour").click()
    alert = page.get_by_role("alert").filter(has_text="Vote enregistré sur la résolution 1")
    expect(alert).to_be_visible()
    mine = re.search(CODE, alert.inner_text()).group(0)
    _on_screen(page, alert)
    expect(resolution).to_contain_text("Mon vote : enregistré.")

    # then Zoé's, whose proxy he carries
    resolution.get_by_role("group", name="Pouvoir de Zoé ĆWIKŁA").get_by_role("button", name="Contre").click()
    alert = page.get_by_role("alert").filter(has_text="(pouvoir de Zoé ĆWIKŁA) sur la résolution 1")
    expect(alert).to_be_visible()
    proxy = re.search(CODE, alert.inner_text()).group(0)
    expect(resolution).to_contain_text("Pouvoir de Zoé ĆWIKŁA : enregistré.")
    expect(resolution.get_by_role("button")).to_have_count(0)  # nothing left to vote on it

    assert live_app.run(open_votes, assembly_id) == {"Anne LE FLOCH": ("for", mine), "Zoé ĆWIKŁA": ("against", proxy)}

    # once the chair closes the vote, his code finds his vote on the results page
    live_app.run(close_first_vote, assembly_id)
    page.get_by_role("link", name="Résultats et vérification de mes votes").click()
    page.get_by_label("Mon code de vérification").fill(mine)
    page.get_by_role("button", name="Vérifier").click()
    found = page.get_by_text("Votre vote « Pour » est compté dans la résolution 1.")
    expect(found).to_be_visible()
    _on_screen(page, found)
