"""After the session: the minutes as a durable document made by a job, the results export, and a
second convocation when the quorum failed."""
import io
from datetime import date, datetime

import pytest
from docx import Document

from backoffice.assemblies import minutes, services, voting
from backoffice.assemblies.models import AssemblyError, AssemblyStatus, Choice
from backoffice.extensions import db
from backoffice.organisations.affiliations import Role, affiliate
from backoffice.tasks.models import Task
from tests.assemblies import factories as f


def _held(ag, present=("Le Floch", "Guérin")):
    voting.give_proxy(ag, f.voter(ag, "Ćwikła"), f.voter(ag, "Le Floch"))
    services.open_session(ag)
    for name in present:
        voting.check_in(ag, f.voter(ag, name))
    for r in ag.resolutions:
        voting.open_vote(r)
        anne = f.voter(ag, "Le Floch")
        voting.cast(r, anne, anne, Choice.FOR)
        if not r.secret:
            voting.set_room_counts(r, 1, 1, 0)
        voting.close_vote(r)
    services.close_session(ag)
    return ag


def _text(data):
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_minutes_job_issues_a_durable_document(client, login_as, organisation, ag):
    affiliate(f.voter(ag, "Le Floch").party, organisation, Role.PRESIDENT, starts_on=date(2025, 1, 1))
    affiliate(f.voter(ag, "Le Gall").party, organisation, Role.SECRETARY, starts_on=date(2025, 1, 1))
    _held(ag)
    login_as("board")
    response = client.post(f"/o/cpts-test/assemblies/{ag.id}/minutes")
    assert response.status_code == 302
    db.session.expire_all()
    task = db.session.query(Task).filter_by(kind="assemblies.minutes").one()
    assert task.status == "done", task.message
    assert ag.status is AssemblyStatus.MINUTES_ISSUED
    document = minutes.current_minutes(ag)
    assert document.number == "2026-0001" or document.number.endswith("-0001")
    text = _text(document.abspath().read_bytes())
    assert "Résolution 1 : Approbation des comptes 2025" in text
    assert "Pour : 2 — Contre : 1 — Abstentions : 0." in text  # Anne online + the room's 1/1
    assert "Le quorum (2) est atteint" in text and "Anne LE FLOCH" in text and "Yann LE GALL" in text
    assert "Zoé ĆWIKŁA" in text  # the proxy Anne carried, on the attendance sheet
    page = client.get(f"/o/cpts-test/assemblies/{ag.id}").get_data(as_text=True)
    assert "Procès-verbal n°" in page


def test_results_export(client, login_as, ag):
    _held(ag)
    login_as("treasurer")
    client.post(f"/o/cpts-test/assemblies/{ag.id}/results/export", data={"file_format": "csv"})
    task = db.session.query(Task).filter_by(kind="assemblies.results").one()
    db.session.refresh(task)
    content = task.result_abspath().read_text(encoding="utf-8-sig")
    assert content.splitlines()[0] == "Résolution;Titre;Règle;Vote;Pour;Contre;Abstentions;Résultat"
    assert "2;Rapport moral;Majorité simple des suffrages exprimés;secret;1;0;0;Adoptée" in content


def test_second_convocation_after_a_failed_quorum(organisation, ag):
    _held(ag, present=())  # nobody signed in: quorum 2 of 8 not reached
    assert not voting.live_quorum(ag).reached
    second = services.second_convocation(ag, datetime(2026, 6, 22, 18, 30))
    assert (second.convocation, second.first_id, second.status, second.quorum_label) == (
        2, ag.id, AssemblyStatus.DRAFT, "Sans quorum")
    assert [r.title for r in second.resolutions] == [r.title for r in ag.resolutions]
    assert second.resolutions[1].secret
    with pytest.raises(AssemblyError, match="existe déjà"):
        services.second_convocation(ag, datetime(2026, 6, 29, 18, 30))


def test_no_second_convocation_when_the_quorum_was_reached(ag):
    _held(ag)
    with pytest.raises(AssemblyError, match="était atteint"):
        services.second_convocation(ag, datetime(2026, 6, 22, 18, 30))


def test_published_board_is_verified_from_the_csv_alone(client, login_as, ag):
    from tests.assemblies.verify_board import verify

    services.open_session(ag)
    r = ag.resolutions[1]
    voting.open_vote(r)
    for name, choice in [("Le Floch", Choice.FOR), ("Guérin", Choice.AGAINST), ("Le Gall", Choice.FOR),
                         ("Nédélec", Choice.ABSTAIN)]:
        v = f.voter(ag, name)
        voting.cast(r, v, v, choice)
    voting.close_vote(r)
    text = f.board_csv(client, login_as, ag, r)
    assert verify(text) == (True, {"for": 2, "against": 1, "abstain": 1}, "Chaîne vérifiée.")
    lines = text.splitlines(keepends=True)
    assert not verify("".join(lines[:2] + lines[3:]))[0]                       # a ballot removed
    assert not verify("".join(lines[:-2] + lines[-1:]))[0]                     # the last ballot removed
    altered = text.replace(";Contre;against;", ";Pour;for;")
    assert altered != text and not verify(altered)[0]                          # a choice altered


def test_the_minutes_pdf_is_made_by_the_job_and_read_by_the_voters(client, login_as, organisation, ag,
                                                                   pdf_renditions):
    """Real LibreOffice: the job keeps the Word minutes and their PDF; once issued, a voter finds the
    PDF on his page and downloads it; a member who was not on the roll cannot."""
    from backoffice.documents import generated
    from tests.assemblies.test_voting_views import _member_login
    from tests.conftest import pdf_text
    from tests.factories import ProfessionalFactory, UserFactory

    _held(ag)
    anne = f.voter(ag, "Le Floch")
    _member_login(login_as, anne)
    assert "Procès-verbal n°" not in client.get(f"/o/cpts-test/assemblies/mine/{ag.id}").get_data(as_text=True)
    login_as("board")
    client.post(f"/o/cpts-test/assemblies/{ag.id}/minutes")
    db.session.expire_all()
    document = minutes.current_minutes(ag)
    assert document.has_pdf and generated.verify(document)
    assert document.pdf_filename == f"proces-verbal-ago-{ag.held_at:%Y-%m-%d}.pdf"
    words = pdf_text(document.pdf_abspath().read_bytes())
    assert "Approbation des comptes 2025" in words and "Pour : 2 — Contre : 1 — Abstentions : 0." in words
    board_page = client.get(f"/o/cpts-test/assemblies/{ag.id}").get_data(as_text=True)
    assert document.pdf_filename in board_page and document.filename in board_page

    _member_login(login_as, anne)
    page = client.get(f"/o/cpts-test/assemblies/mine/{ag.id}").get_data(as_text=True)
    link = f"/o/cpts-test/documents/files/{document.id}/pdf"
    assert link in page and f"Procès-verbal n° {document.number} (PDF)" in page
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == document.pdf_abspath().read_bytes()

    # a member of the organisation who was not on the roll (login_as gives him the member role)
    login_as("member", user=UserFactory(party_id=ProfessionalFactory(last_name="Horsliste").id))
    assert client.get(link).status_code == 403
