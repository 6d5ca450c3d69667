"""The day of the assembly through the screens: paper proxy, sign-in, votes on a phone, the room's
counts, closing, results and a member checking his receipt."""
import re

from sqlalchemy import select

from backoffice.assemblies import voting
from backoffice.assemblies.models import OpenVote, ResolutionStatus
from backoffice.auth.models import User
from backoffice.extensions import db
from tests.assemblies import factories as f
from tests.factories import UserFactory


def _member_login(login_as, voter):
    """Sign in with the member account that came with the voter's membership."""
    user = db.session.scalar(select(User).where(User.party_id == voter.party_id))
    return login_as("member", user=user or UserFactory(party_id=voter.party_id))


def test_a_hybrid_assembly(client, login_as, organisation, ag):
    url = f"/o/cpts-test/assemblies/{ag.id}"
    anne, zoe, maelle = f.voter(ag, "Le Floch"), f.voter(ag, "Ćwikła"), f.voter(ag, "Guérin")
    staff = login_as("treasurer")
    # the secretary types a paper proxy; a second one over the cap of the holder is refused in French
    assert client.post(f"{url}/proxies", data={"giver": zoe.id, "holder": anne.id}).status_code == 302
    page = client.post(f"{url}/proxies", data={"giver": anne.id, "holder": maelle.id})
    assert page.status_code == 422 and "porte des pouvoirs" in page.get_data(as_text=True)
    client.post(f"{url}/open")
    assert client.post(f"{url}/attendance/{maelle.id}").status_code == 302
    assert "Maëlle GUÉRIN" in client.get(f"{url}/attendance?q=guerin").get_data(as_text=True)
    r1 = ag.resolutions[0]
    client.post(f"{url}/resolutions/{r1.id}/open-vote")
    # Anne, on her phone, signs in online and votes for herself and for Zoé
    _member_login(login_as, anne)
    page = client.get(f"/o/cpts-test/assemblies/mine/{ag.id}").get_data(as_text=True)
    assert "Pouvoir de Zoé ĆWIKŁA" in page
    client.post(f"/o/cpts-test/assemblies/mine/{ag.id}/check-in")
    client.post(f"/o/cpts-test/assemblies/mine/{ag.id}/resolutions/{r1.id}/vote", data={"right": anne.id, "choice": "for"})
    response = client.post(f"/o/cpts-test/assemblies/mine/{ag.id}/resolutions/{r1.id}/vote",
                           data={"right": zoe.id, "choice": "against"}, follow_redirects=True)
    receipt = re.findall(r"pouvoir de Zoé ĆWIKŁA\) sur la résolution 1\. Votre code de vérification : "
                         r"([0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4})", response.get_data(as_text=True))[0]
    again = client.post(f"/o/cpts-test/assemblies/mine/{ag.id}/resolutions/{r1.id}/vote",
                        data={"right": zoe.id, "choice": "for"}, follow_redirects=True)
    assert "déjà enregistré" in again.get_data(as_text=True)
    assert db.session.scalar(select(OpenVote.receipt).where(OpenVote.voter_id == zoe.id)) == receipt
    # the secretary sees who voted online, enters the show of hands and closes
    login_as("treasurer", user=staff)
    session = client.get(f"{url}/session").get_data(as_text=True)
    assert "Zoé ĆWIKŁA, Anne LE FLOCH" in session  # by name
    client.post(f"{url}/resolutions/{r1.id}/room-counts", data={"room_for": "3", "room_against": "0", "room_abstain": "1"})
    client.post(f"{url}/resolutions/{r1.id}/close-vote")
    db.session.expire_all()
    assert r1.status is ResolutionStatus.CLOSED
    t = voting.tally(r1)
    assert (t.total["for"], t.total["against"], t.total["abstain"], t.result.adopted) == (4, 1, 1, True)
    results = client.get(f"{url}/results").get_data(as_text=True)
    assert "Adoptée" in results
    # Anne checks Zoé's receipt from the members' results page
    _member_login(login_as, anne)
    check = client.get(f"/o/cpts-test/assemblies/mine/{ag.id}/results?resolution={r1.id}&code={receipt.lower()}")
    assert "Votre vote « Contre » est compté" in check.get_data(as_text=True)


def test_member_not_on_the_roll_gets_404(client, login_as, organisation, ag, period):
    outsider = next(e for e in ag.exclusions)
    login_as("member", user=UserFactory(party_id=outsider.party_id))
    assert client.get(f"/o/cpts-test/assemblies/mine/{ag.id}").status_code == 404
    assert client.get("/o/cpts-test/assemblies/mine").status_code == 200


def test_member_gives_and_revokes_a_proxy_online(client, login_as, ag):
    anne, yann = f.voter(ag, "Le Floch"), f.voter(ag, "Le Gall")
    _member_login(login_as, anne)
    client.post(f"/o/cpts-test/assemblies/mine/{ag.id}/proxy", data={"holder": yann.id})
    assert voting.proxy_given_by(anne).holder_id == yann.id
    page = client.get(f"/o/cpts-test/assemblies/mine/{ag.id}").get_data(as_text=True)
    assert "Vous avez donné pouvoir à <strong>Yann LE GALL</strong>" in page
    client.post(f"/o/cpts-test/assemblies/mine/{ag.id}/proxy/revoke")
    db.session.expire_all()
    assert voting.proxy_given_by(anne) is None


def test_projected_quorum_screen_refreshes_itself(client, login_as, ag):
    login_as("board")
    voting.check_in(ag, f.voter(ag, "Le Floch"))
    voting.check_in(ag, f.voter(ag, "Guérin"))
    page = client.get(f"/o/cpts-test/assemblies/{ag.id}/quorum").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "2 / 8" in page and "Quorum atteint (2 requis)" in page
    assert "2 présents, 0 représenté</p>" in page  # French: 0 and 1 take the singular


def test_the_projected_screen_agrees_in_number(client, login_as, ag):
    login_as("board")
    voting.check_in(ag, f.voter(ag, "Le Floch"))
    page = client.get(f"/o/cpts-test/assemblies/{ag.id}/quorum").get_data(as_text=True)
    assert "1 présent, 0 représenté</p>" in page and "1 présents" not in page


def test_after_the_session_the_member_page_says_the_votes_are_over(client, login_as, ag):
    """A closed assembly said « Aucun vote ouvert pour l'instant » under an empty « Mon pouvoir »."""
    from sqlalchemy import update

    from backoffice.assemblies.models import Assembly, AssemblyStatus

    _member_login(login_as, f.voter(ag, "Le Floch"))
    page = client.get(f"/o/cpts-test/assemblies/mine/{ag.id}").get_data(as_text=True)
    assert "Mon pouvoir" in page and "Aucun vote ouvert pour l'instant." in page
    db.session.execute(update(Assembly).where(Assembly.id == ag.id).values(status=AssemblyStatus.CLOSED))
    db.session.expire_all()
    page = client.get(f"/o/cpts-test/assemblies/mine/{ag.id}").get_data(as_text=True)
    assert "La séance est close : les votes sont terminés." in page
    assert "Mon pouvoir" not in page and "pour l'instant" not in page


def test_the_proxies_list_is_paginated_and_searched(app, client, login_as, ag, monkeypatch):
    """Hundreds of paper proxies: the list comes a page at a time, the last one typed first, and a
    name (without its accents) finds the proxies it gives or holds."""
    anne, zoe, loic, maelle, yann = (f.voter(ag, name) for name in ("Le Floch", "Ćwikła", "Kerjean", "Guérin", "Le Gall"))
    for giver, holder in ((zoe, anne), (loic, anne), (yann, maelle)):
        voting.give_proxy(ag, giver, holder)
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    login_as("treasurer")
    url = f"/o/cpts-test/assemblies/{ag.id}/proxies"

    def givers(page):
        return re.findall(r"<tr>\s*<td>([^<]+)</td>", page)

    first = client.get(url).get_data(as_text=True)
    assert givers(first) == ["Yann LE GALL", "Loïc KERJEAN"] and "3 résultats" in first
    assert givers(client.get(f"{url}?page=2").get_data(as_text=True)) == ["Zoé ĆWIKŁA"]
    assert givers(client.get(f"{url}?q=guerin").get_data(as_text=True)) == ["Yann LE GALL"]  # the holder
    assert givers(client.get(f"{url}?q=Ćwikła").get_data(as_text=True)) == ["Zoé ĆWIKŁA"]  # the giver
    assert "Aucun pouvoir ne correspond à « Dupont »." in client.get(f"{url}?q=Dupont").get_data(as_text=True)
