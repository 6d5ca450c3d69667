"""The assembly from end to end, as its members and its secretary live it: Zoé opens the personal
link of her convocation mail and gives her proxy to Anne; on the day, Anne votes from her phone
(320 px) for herself and for Zoé; the secretary enters the show of hands of the room, where the
online voters are listed apart, closes the vote and the session, and has the minutes made. The
results page, the minutes (the .docx the job produced, as downloaded) and the database say the
same counts."""
import re
from datetime import date
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice.extensions import db
from tests.assemblies.test_minutes import _text as docx_text  # paragraphs, then table cells
from tests.browser.conftest import seed_organisation, seed_user, sign_in
# the payments of the roll post journal entries, which SQLite's reset may not delete: emptied first
from tests.browser.test_membership_journeys import _books_emptied_before_reset  # noqa: F401  (autouse fixture)
from tests.browser.test_membership_journeys import sign_in_with_link

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

ANNE = "anne.lefloch@example.org"
ZOE = "zoe.cwika@example.org"  # « Ćwikła » as tests/assemblies/factories.py writes her address (ł has no ASCII)
SECRETARY, PASSWORD = "secretariat@cpts-test.fr", "Secret-AG-2026!"
PHONE = 320
CODE = r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}"
IN_THE_ROOM = ("Kerjean", "Guérin", "Nédélec", "Thébault", "Mimosas")  # five hands: 3 for, 1 against, 1 abstains


def seed_convened_assembly():
    """The 2026 AGO of the CPTS convened on 21 May, its convocation mails sent (each with its
    voter's personal link); Anne LE FLOCH presides and Yann LE GALL is its secretary, whose
    office staff signs in with a password."""
    from backoffice.assemblies import convocations, services
    from backoffice.organisations.affiliations import Role, affiliate
    from backoffice.organisations.models import Organisation
    from tests.assemblies import factories as f
    from tests.member_portal.conftest import make_grid

    organisation = db.session.get(Organisation, seed_organisation())
    f.roll_world(organisation, make_grid(organisation, 2026))
    assembly = f.assembly(organisation, resolutions=2)
    services.convene(assembly, on=date(2026, 5, 21))
    affiliate(f.voter(assembly, "Le Floch").party, organisation, Role.PRESIDENT, starts_on=date(2025, 1, 1))
    affiliate(f.voter(assembly, "Le Gall").party, organisation, Role.SECRETARY, starts_on=date(2025, 1, 1))
    services.send_convocations(assembly, convocations.voting_link)
    seed_user(SECRETARY, roles={"cpts-test": ["board"]}, password=PASSWORD, full_name="Secrétariat de la CPTS")
    return assembly.id


def open_the_session(assembly_id):
    """The morning of the assembly: five members signed in the room, the session and the vote of
    the first resolution (the accounts, an open ballot) opened by the chair."""
    from backoffice.assemblies import services, voting
    from backoffice.assemblies.models import Assembly

    assembly = db.session.get(Assembly, assembly_id)
    for name in IN_THE_ROOM:
        voting.check_in(assembly, next(v for v in assembly.voters if name.upper() in v.party.display_name.upper()))
    services.open_session(assembly)
    voting.open_vote(assembly.resolutions[0])


def what_the_database_says(assembly_id):
    from backoffice.assemblies import voting
    from backoffice.assemblies.models import Assembly, OpenVote, Proxy

    assembly = db.session.get(Assembly, assembly_id)
    resolution = assembly.resolutions[0]
    tally = voting.tally(resolution)
    quorum = voting.live_quorum(assembly)
    return {
        "status": (assembly.status.value, resolution.status.value),
        "proxies": [(p.giver.party.display_name, p.holder.party.display_name, p.source)
                    for p in db.session.scalars(select(Proxy).where(Proxy.assembly_id == assembly_id))],
        "online": {v.voter.party.display_name: (v.cast_by_id == v.voter_id, v.choice.value, v.receipt)
                   for v in db.session.scalars(select(OpenVote).where(OpenVote.resolution_id == resolution.id))},
        "room": (resolution.room_for, resolution.room_against, resolution.room_abstain),
        "total": (tally.total["for"], tally.total["against"], tally.total["abstain"]),
        "adopted": tally.result.adopted,
        "quorum": (quorum.present, quorum.represented, quorum.counted, quorum.voters, quorum.reached),
    }


def _fits(page, locator):
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_proxy_phone_votes_room_counts_and_minutes_agree(live_app, page, browser):
    assembly_id = live_app.run(seed_convened_assembly)

    # Zoé signs in, opens the personal link of her convocation mail and gives her proxy to Anne
    zoe = browser.new_page(viewport={"width": 390, "height": 800}, base_url=live_app.url)
    zoe.set_default_timeout(15_000)
    sign_in_with_link(zoe, ZOE)
    zoe.goto("/dev/outbox/")
    zoe.get_by_role("row").filter(has_text=ZOE).get_by_role("link", name=re.compile("^Convocation : AGO")).click()
    expect(zoe.get_by_role("heading", level=1)).to_contain_text("Convocation : AGO du 8 juin 2026")
    link = zoe.locator("a[href*='/assemblies/mine/']").get_attribute("href")
    assert "/v/" in link  # her own link, signed
    zoe.goto(urlparse(link).path)
    expect(zoe.get_by_role("heading", name="Assemblée générale ordinaire 2026")).to_be_visible()
    zoe.get_by_label("Donner mon pouvoir à").select_option(label="Anne LE FLOCH")
    zoe.get_by_role("button", name="Donner mon pouvoir").click()
    expect(zoe.get_by_role("alert").filter(has_text="Vous avez donné pouvoir à Anne LE FLOCH.")).to_be_visible()
    expect(zoe.get_by_text("Vous avez donné pouvoir à Anne LE FLOCH : il vote pour vous.")).to_be_visible()
    zoe.close()

    live_app.run(open_the_session, assembly_id)

    # Anne, on her phone: present online, she votes for herself, then with Zoé's proxy
    page.set_viewport_size({"width": PHONE, "height": 640})
    sign_in_with_link(page, ANNE)
    page.get_by_role("link", name="Assemblée générale ordinaire 2026 — voter en ligne").click()
    expect(page.get_by_text("Vous portez 1 pouvoir(s) : Zoé ĆWIKŁA.")).to_be_visible()
    page.get_by_role("button", name="Je suis présent(e) en ligne").click()
    expect(page.get_by_text("Vous êtes inscrit(e) présent(e).")).to_be_visible()
    resolution = page.locator("[id^=resolution-]").first
    _fits(page, resolution.get_by_role("group", name="Mon vote").get_by_role("button", name="Abstention"))
    resolution.get_by_role("group", name="Mon vote").get_by_role("button", name="Pour").click()
    own = page.get_by_role("alert").filter(has_text="Vote enregistré sur la résolution 1")
    expect(own).to_be_visible()
    own_code = re.search(CODE, own.inner_text()).group(0)
    resolution = page.locator("[id^=resolution-]").first
    proxy_group = resolution.get_by_role("group", name="Pouvoir de Zoé ĆWIKŁA")
    _fits(page, proxy_group.get_by_role("button", name="Contre"))
    proxy_group.get_by_role("button", name="Contre").click()
    given = page.get_by_role("alert").filter(has_text="(pouvoir de Zoé ĆWIKŁA) sur la résolution 1")
    expect(given).to_be_visible()
    proxy_code = re.search(CODE, given.inner_text()).group(0)
    expect(page.locator("[id^=resolution-]").first.get_by_role("button")).to_have_count(0)

    # the secretary, on the room's laptop: the two online votes are listed apart, she enters the
    # show of hands of the five in the room, closes the vote, then the session
    secretary = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=live_app.url)
    secretary.set_default_timeout(15_000)
    secretary.on("dialog", lambda dialog: dialog.accept())  # the « Clore… ? » confirmations
    sign_in(secretary, SECRETARY, PASSWORD)
    secretary.goto(f"/o/cpts-test/assemblies/{assembly_id}/session")
    accounts = secretary.locator("section[id^=resolution-]").first
    expect(accounts).to_contain_text("Ont déjà voté en ligne (2) — à ne pas compter à main levée")
    expect(accounts).to_contain_text("Zoé ĆWIKŁA, Anne LE FLOCH")  # by name: Ć is a C
    counts = accounts.get_by_role("form", name="Décomptes de la salle")
    counts.get_by_label("Pour (salle)").fill("3")
    counts.get_by_label("Contre (salle)").fill("1")
    counts.get_by_label("Abstentions (salle)").fill("1")
    counts.get_by_role("button", name="Enregistrer la salle").click()
    expect(secretary.get_by_role("alert").filter(has_text="Décomptes de la salle enregistrés.")).to_be_visible()
    accounts = secretary.locator("section[id^=resolution-]").first
    expect(accounts).to_contain_text("Pour 4 · Contre 2 · Abstentions 1 (en ligne 1/1/0, salle 3/1/1)")
    accounts.get_by_role("button", name="Clore le vote").click()
    expect(secretary.get_by_role("alert").filter(has_text="Vote clos : le résultat est arrêté.")).to_be_visible()
    expect(secretary.locator("section[id^=resolution-]").first).to_contain_text("— Adoptée")
    secretary.goto(f"/o/cpts-test/assemblies/{assembly_id}")
    secretary.get_by_role("button", name="Clore la séance").click()
    expect(secretary.get_by_role("alert").filter(has_text="Séance close.")).to_be_visible()

    # the results page
    secretary.goto(f"/o/cpts-test/assemblies/{assembly_id}/results")
    expect(secretary.get_by_text("6 présents + 1 représenté = 7 sur 8 voix")).to_be_visible()
    row = secretary.get_by_role("row").filter(has_text="1. Approbation des comptes 2025")
    expect(row.locator("td")).to_have_text(["1. Approbation des comptes 2025", "4", "2", "1",
                                            "Majorité simple des suffrages exprimés", "Adoptée"])
    expect(secretary.get_by_role("row")).to_have_count(2)  # the header, and the only resolution voted

    # the minutes, made by the job, downloaded from the task's page
    secretary.goto(f"/o/cpts-test/assemblies/{assembly_id}")
    secretary.get_by_role("button", name="Établir le procès-verbal").click()
    with secretary.expect_download() as download:
        secretary.get_by_role("link", name="Télécharger proces-verbal-ago-2026-06-08.docx").click()
    minutes = docx_text(download.value.path().read_bytes())
    assert "Résolution 1 : Approbation des comptes 2025" in minutes
    assert "Pour : 4 — Contre : 2 — Abstentions : 1." in minutes
    assert "Résolution adoptée." in minutes
    assert "Votants inscrits (à jour de cotisation au 20 mai 2026) : 8." in minutes
    assert "Présents : 6 ; représentés : 1 ; total : 7." in minutes
    assert "Le quorum (2) est atteint" in minutes
    assert "Résolution 2" not in minutes  # never opened: nothing to record
    assert minutes.endswith("Le président\nLe secrétaire\nAnne LE FLOCH\nYann LE GALL")  # who signs
    assert re.search(r"Anne LE FLOCH\n[^\n]*\nEn ligne\nZoé ĆWIKŁA", minutes)  # her presence row, the proxy she carried
    secretary.close()

    # the database says the same
    assert live_app.run(what_the_database_says, assembly_id) == {
        "status": ("minutes_issued", "closed"),
        "proxies": [("Zoé ĆWIKŁA", "Anne LE FLOCH", "online")],
        "online": {"Anne LE FLOCH": (True, "for", own_code), "Zoé ĆWIKŁA": (False, "against", proxy_code)},
        "room": (3, 1, 1),
        "total": (4, 2, 1),
        "adopted": True,
        "quorum": (6, 1, 7, 8, True),
    }

    # and Anne, on her phone, finds the same result and her own vote behind her code
    page.get_by_role("link", name="Résultats et vérification de mes votes").click()
    expect(page.get_by_role("row").filter(has_text="1. Approbation des comptes 2025").locator("td")).to_have_text(
        ["1. Approbation des comptes 2025", "4", "2", "1", "Majorité simple des suffrages exprimés", "Adoptée"])
    page.get_by_label("Mon code de vérification").fill(proxy_code)
    page.get_by_role("button", name="Vérifier").click()
    found = page.get_by_text("Votre vote « Contre » est compté dans la résolution 1.")
    expect(found).to_be_visible()
    _fits(page, found)
