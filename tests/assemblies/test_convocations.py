"""Convocations as documents: a Word convocation per voter (agenda, place, video link, his
personal voting link, the proxy form), each kept as a durable document, zipped for printing by a
job; the personal link takes its voter, and only him, to his page of the assembly."""
import io
import re
import zipfile
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select

from backoffice.assemblies import convocations, services
from backoffice.assemblies.documents import CONVOCATION_KIND
from backoffice.auth.models import User
from backoffice.documents.models import GeneratedDocument
from backoffice.extensions import db
from backoffice.organisations.affiliations import Role, affiliate
from backoffice.tasks.models import Task
from tests.assemblies import factories as f
from tests.factories import UserFactory

FIRST = ["Anne", "Zoé", "Loïc", "Maëlle", "Yann", "Océane", "Hervé", "Gwenaëlle"]
LAST = ["Le Floch", "Ćwikła", "Kerjean", "Guérin", "Nédélec"]


def forty_voters(organisation, period):
    """A roll of 40 paid members (8 first names × 5 family names) and two who do not vote."""
    members = [f.member(organisation, period, first, last) for first in FIRST for last in LAST]
    f.member(organisation, period, "Thị", "Ngô", paid_on=None)
    f.member(organisation, period, "Loïc", "d'Arvor", paid_on=date(2026, 5, 21))
    return members


@pytest.fixture
def convened(organisation, period):
    forty_voters(organisation, period)
    affiliate(f.member(organisation, period, "Pierre", "Président").party, organisation, Role.PRESIDENT,
              starts_on=date(2025, 1, 1))
    a = f.assembly(organisation, resolutions=3, video_link="https://visio.example.org/ag-2026")
    services.update_resolution(a.resolutions[2], secret=True)
    services.convene(a, on=date(2026, 5, 21))
    return a


def _text(data):
    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs)


def _run_job(client, login_as, assembly):
    login_as("treasurer")
    response = client.post(f"/o/cpts-test/assemblies/{assembly.id}/convocations/documents")
    assert response.status_code == 302
    db.session.expire_all()
    task = db.session.scalar(select(Task).where(Task.kind == "assemblies.convocation_documents")
                             .order_by(Task.id.desc()))
    assert task.status == "done", task.message
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    return task


def test_one_word_convocation_per_voter_in_one_zip(client, login_as, organisation, convened):
    assert len(convened.voters) == 41  # the 40 and the president
    task = _run_job(client, login_as, convened)
    assert task.message.startswith("41 convocation(s) Word à imprimer")
    assert "Attention" not in task.message  # convened 18 days ahead, the statutes ask 15
    with zipfile.ZipFile(task.result_abspath()) as archive:
        names = archive.namelist()
        assert len(names) == 41 and all(name.endswith(".docx") for name in names)
        texts = {name: _text(archive.read(name)) for name in names}
    links = set()
    for voter in convened.voters:
        name = convocations.convocation_filename(voter)
        text = texts[name]
        assert f"{voter.party.display_name}\n" in text and f"Je soussigné(e) {voter.party.display_name}," in text
        link = re.search(r"https?://\S+/assemblies/mine/\d+/v/\S+", text).group(0)
        assert convocations.voter_id_from_token(convened, link.rsplit("/", 1)[1]) == voter.id
        links.add(link)
    assert len(links) == 41  # personal: one link per voter
    sample = texts[convocations.convocation_filename(f.voter(convened, "Ćwikła"))]
    assert "Convocation à l'assemblée générale ordinaire" in sample
    assert "le 8 juin 2026 à 18 h 30, Salle des fêtes, Saint-Brevin." in sample
    assert "visioconférence : https://visio.example.org/ag-2026" in sample
    assert "1. Approbation des comptes 2025" in sample and "3. Grille des cotisations 2027" in sample
    assert "Vote à bulletin secret" in sample
    assert "Pouvoir" in sample and "« Bon pour pouvoir »" in sample and "au plus 2 pouvoir(s)" in sample
    assert "Le président, Pierre PRÉSIDENT" in sample
    assert "Thị NGÔ" not in "\n".join(texts.values())


def test_each_convocation_is_a_durable_document_and_a_second_run_supersedes(client, login_as, organisation,
                                                                           convened):
    _run_job(client, login_as, convened)
    current = convocations.current_convocations(convened)
    assert set(current) == {v.id for v in convened.voters}
    loic = next(v for v in convened.voters if v.party.display_name == "Loïc KERJEAN")
    document = current[loic.id]
    assert document.kind == CONVOCATION_KIND and document.subject_type == "assembly_voters"
    assert "Loïc KERJEAN" in _text(document.abspath().read_bytes())
    _run_job(client, login_as, convened)
    rows = db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.kind == CONVOCATION_KIND)).all()
    assert len(rows) == 82
    assert convocations.current_convocations(convened)[document.subject_id].version == 2


def test_late_convocation_is_told_on_the_task(client, login_as, organisation, period):
    f.roll_world(organisation, period)
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 6, 1), late_ok=True)
    task = _run_job(client, login_as, a)
    assert ("Attention : Convocation envoyée 7 jours avant l'assemblée du 8 juin 2026 : les statuts demandent "
            "15 jours.") in task.message


def test_no_printing_before_the_roll_is_frozen(client, login_as, organisation, period):
    f.roll_world(organisation, period)
    a = f.assembly(organisation)
    login_as("board")
    response = client.post(f"/o/cpts-test/assemblies/{a.id}/convocations/documents", follow_redirects=True)
    assert "une fois la liste des votants arrêtée" in response.get_data(as_text=True)
    assert db.session.scalar(select(Task).where(Task.kind == "assemblies.convocation_documents")) is None


def test_the_convocation_mail_carries_the_personal_link(organisation, period, outbox):
    f.roll_world(organisation, period)
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    services.send_convocations(a, convocations.voting_link)
    db.session.commit()
    anne = f.voter(a, "Le Floch")
    mail = next(m for m in outbox() if m.recipient == anne.party.email)
    assert f"Votre espace adhérent, pour voter en ligne et donner pouvoir : {convocations.voting_link(anne)}" \
        in mail.body


def test_the_personal_link_opens_its_voter_page_only(client, login_as, organisation, period):
    f.roll_world(organisation, period)
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    anne, zoe = f.voter(a, "Le Floch"), f.voter(a, "Ćwikła")
    path = convocations.voting_link(anne).split("localhost", 1)[1]
    user = db.session.scalar(select(User).where(User.party_id == anne.party_id)) or UserFactory(party_id=anne.party_id)
    login_as("member", user=user)
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/assemblies/mine/{a.id}")
    other = db.session.scalar(select(User).where(User.party_id == zoe.party_id)) or UserFactory(party_id=zoe.party_id)
    login_as("member", user=other)
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "Ce lien de vote est celui de Anne LE FLOCH" in page
    assert client.get(path[:-3] + "xyz").status_code == 404  # an altered token opens nothing


def test_a_member_downloads_his_own_convocation_only(client, login_as, organisation, period):
    f.roll_world(organisation, period)
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    db.session.commit()
    _run_job(client, login_as, a)
    anne, zoe = f.voter(a, "Le Floch"), f.voter(a, "Ćwikła")
    mine, theirs = (convocations.current_convocation(v) for v in (anne, zoe))
    user = db.session.scalar(select(User).where(User.party_id == anne.party_id)) or UserFactory(party_id=anne.party_id)
    login_as("member", user=user)
    page = client.get(f"/o/cpts-test/assemblies/mine/{a.id}").get_data(as_text=True)
    assert f"/files/{mine.id}" in page and "Ma convocation, avec le pouvoir à imprimer" in page
    response = client.get(f"/o/cpts-test/documents/files/{mine.id}")
    assert response.status_code == 200 and "Anne LE FLOCH" in _text(response.data)
    assert client.get(f"/o/cpts-test/documents/files/{theirs.id}").status_code == 403


def test_the_attendance_sheet_lists_the_roll_with_the_proxies(client, login_as, organisation, convened):
    from backoffice.assemblies import voting
    from backoffice.assemblies.documents import ATTENDANCE_SHEET_KIND
    from backoffice.documents import generated

    voters = convened.voters
    voting.give_proxy(convened, voters[0], voters[1])
    voting.give_proxy(convened, voters[2], voters[1])
    voting.check_in(convened, voters[1])
    db.session.commit()
    login_as("board")
    response = client.post(f"/o/cpts-test/assemblies/{convened.id}/attendance/sheet")
    assert response.status_code == 302
    db.session.expire_all()
    task = db.session.scalar(select(Task).where(Task.kind == "assemblies.attendance_sheet"))
    assert task.status == "done", task.message
    document = generated.current_document(organisation, ATTENDANCE_SHEET_KIND, convened)
    doc = Document(io.BytesIO(document.abspath().read_bytes()))
    roll_rows = [[c.text for c in row.cells] for row in doc.tables[0].rows][1:]
    assert len(roll_rows) == 41
    holder = next(r for r in roll_rows if r[0] == voters[1].party.display_name)
    assert holder[3] == f"{voters[0].party.display_name}, {voters[2].party.display_name}" and holder[4] == "En salle"
    proxy_rows = [[c.text for c in row.cells] for row in doc.tables[1].rows][1:]
    assert len(proxy_rows) == 2 and all(r[1] == voters[1].party.display_name and r[2] == "Papier" for r in proxy_rows)
    assert "41 votants inscrits" in "\n".join(p.text for p in doc.paragraphs)
