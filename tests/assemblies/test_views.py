"""The board's screens: create an AGO as typed, build its agenda, see the roll with reasons, convene."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from backoffice.assemblies.models import Assembly, AssemblyStatus
from backoffice.extensions import db
from backoffice.tasks.models import Task
from tests.assemblies import factories as f


@pytest.fixture
def board(login_as):
    return login_as("board")


def _form(**overrides):
    values = {"title": "AGO 2026 — CPTS du Pays Blanc", "kind": "ordinary", "held_at": "08/06/2026 18:30",
              "place": "Salle polyvalente, 44250 Saint-Brevin-les-Pins", "video_link": "", "cut_off": "20/05/2026",
              "college_id": "0", "quorum": "1/4", "second_without_quorum": "y", "max_proxies": "2",
              "notice_days": "15", "note": ""}
    return values | overrides


def test_create_as_typed_in_french(client, organisation, board, colleges):
    response = client.post("/o/cpts-test/assemblies/new", data=_form(**{f"weight_{colleges[1].id}": "3"}))
    assert response.status_code == 302
    a = db.session.scalar(select(Assembly))
    assert (a.held_at.hour, a.held_at.minute, a.cut_off) == (18, 30, date(2026, 5, 20))
    assert (a.quorum_numerator, a.quorum_denominator, a.college_weights) == (1, 4, {str(colleges[1].id): 3})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1/4 des votants présents ou représentés" in page and "En préparation" in page


def test_the_list_shows_the_hour_of_the_meeting_as_typed(client, organisation, board):
    """The hour is the meeting's local time: the list read it as UTC and showed 20:30 in June."""
    client.post("/o/cpts-test/assemblies/new", data=_form())
    page = client.get("/o/cpts-test/assemblies/").get_data(as_text=True)
    assert "08/06/2026 18:30" in page and "20:30" not in page


@pytest.mark.parametrize("overrides, message", [
    ({"quorum": "un quart"}, "Quorum attendu sous forme de fraction"),
    ({"held_at": "8 juin"}, "Date et heure attendues"),
    ({"place": "", "video_link": ""}, "Indiquez le lieu de l&#39;assemblée"),
    ({"video_link": "visio"}, "Adresse web attendue"),
])
def test_bad_input_is_shown_again(client, organisation, board, overrides, message):
    response = client.post("/o/cpts-test/assemblies/new", data=_form(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Assembly)) is None


def test_agenda_roll_and_convocation(client, organisation, period, board, outbox, monkeypatch):
    f.roll_world(organisation, period)
    a = f.assembly(organisation, resolutions=0, held_at=f.HELD_AT.replace(year=date.today().year + 1),
                   cut_off=date.today())
    url = f"/o/cpts-test/assemblies/{a.id}"
    response = client.post(f"{url}/resolutions", data={"title": "Approbation des comptes 2025",
                                                      "text": "L'assemblée approuve les comptes.",
                                                      "majority": "two_thirds", "secret": "y"})
    assert response.status_code == 302
    roll = client.get(f"{url}/roll").get_data(as_text=True)
    assert "Provisoire" in roll
    # convening sends the mails and freezes the roll: the button asks first
    assert ('data-confirm="Convoquer les 9 votants ? Les convocations partent par e-mail'
            in client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/convene", data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert a.status is AssemblyStatus.CONVENED
    assert a.resolutions[0].majority.value == "two_thirds" and a.resolutions[0].secret
    task = db.session.get(Task, a.convocation_task_id)
    assert task.status == "done" and task.message.startswith("9 convocation(s) envoyée(s)")  # paid by today
    assert len(outbox()) == 9
    page = client.get(url).get_data(as_text=True)
    assert "Convoquée" in page and "arrêtée à la convocation" in page and "Modifier les réglages" not in page
    assert client.post(f"{url}/edit", data=_form()).status_code == 422  # settings are frozen


def test_roll_shows_why_members_do_not_vote(client, organisation, period, board):
    f.roll_world(organisation, period)
    a = f.assembly(organisation)
    page = client.get(f"/o/cpts-test/assemblies/{a.id}/roll").get_data(as_text=True)
    assert "Cotisation payée après la date limite" in page and "Payée le 21/05/2026" in page
    assert "Cotisation non payée" in page


def test_late_convocation_is_refused_then_confirmed(client, organisation, period, board):
    f.roll_world(organisation, period)
    soon = datetime.combine(date.today() + timedelta(days=5), time(18, 30))
    a = f.assembly(organisation, held_at=soon, cut_off=date.today())
    url = f"/o/cpts-test/assemblies/{a.id}"
    client.post(f"{url}/convene", data={})
    db.session.expire_all()
    assert a.status is AssemblyStatus.DRAFT
    client.post(f"{url}/convene", data={"late_ok": "y"})
    db.session.expire_all()
    assert a.status is AssemblyStatus.CONVENED


def test_other_organisations_assembly_is_404(client, organisation, other_organisation, board):
    a = f.assembly(other_organisation)
    assert client.get(f"/o/cpts-test/assemblies/{a.id}").status_code == 404
    assert client.get(f"/o/cpts-test/assemblies/{a.id}/resolutions/{a.resolutions[0].id}/edit").status_code == 404
