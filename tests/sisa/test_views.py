"""The SISA screens through HTTP: a treasurer records the year and simulates; refusals come back
in French with 422; an associate sees his own hours; a CPTS has no such pages."""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.sisa import services
from backoffice.sisa.models import SisaAttendance, SisaIncome, SisaMeeting, SisaScenario
from tests.factories import UserFactory


def _body(response):
    return response.get_data(as_text=True)


def test_the_treasurer_records_income_deductions_keys_and_simulates(client, login_as, sisa, associates):
    login_as("treasurer", org=sisa)
    base = "/o/sisa-test/sisa"
    assert client.get(f"{base}/").headers["Location"].endswith("/sisa/2025/")
    response = client.post(f"{base}/2025/recettes", data={"kind": "advance", "label": "Avance ACI 2025",
                                                         "received_on": "30/04/2025", "amount": "41 280,00"})
    assert response.status_code == 302
    assert db.session.scalar(select(SisaIncome.amount)) == Decimal("41280.00")
    response = client.post(f"{base}/2025/retenues", data={"kind": "accountant", "label": "Cabinet comptable",
                                                          "amount": "", "percentage": "5"})
    assert response.status_code == 302
    page = _body(client.get(f"{base}/2025/"))
    assert "41\u202f280,00\u00a0€" in page and "39\u202f216,00\u00a0€" in page  # 41 280 − 5 %
    response = client.post(f"{base}/2025/scenarios", data={"name": "Règlement intérieur", "copy_from": "0"})
    scenario = db.session.scalar(select(SisaScenario))
    assert response.headers["Location"].endswith(f"/sisa/scenarios/{scenario.id}")
    response = client.post(f"/o/sisa-test/sisa/scenarios/{scenario.id}", data={
        "keys-0-label": "Part égale", "keys-0-percentage": "100", "keys-0-basis": "equal",
        "keys-0-prorate_presence": "y"})
    assert response.status_code == 302
    page = _body(client.get(f"{base}/2025/simulation?scenario={scenario.id}"))
    assert "Hélène BROCHARD" in page and "Erwan FOUQUET" in page
    assert "39\u202f216,00\u00a0€" in page


def test_keys_that_do_not_add_up_are_refused_with_their_total(client, login_as, sisa, associates):
    login_as("treasurer", org=sisa)
    scenario = services.create_scenario(sisa, 2025, "Variante")
    response = client.post(f"/o/sisa-test/sisa/scenarios/{scenario.id}", data={
        "keys-0-label": "Part égale", "keys-0-percentage": "30", "keys-0-basis": "equal",
        "keys-1-label": "Temps", "keys-1-percentage": "60", "keys-1-basis": "hours"})
    assert response.status_code == 422
    assert "totalisent 90 % au lieu de 100 %" in _body(response)
    assert db.session.get(SisaScenario, scenario.id).keys == []


def test_a_bad_iban_is_refused_under_its_field(client, login_as, sisa, associates):
    login_as("treasurer", org=sisa)
    response = client.post(f"/o/sisa-test/sisa/associes/{associates.paul.id}?annee=2025",
                           data={"capital_share": "150", "iban": "FR76 3000 4000 0312 3456 7890 144", "bic": ""})
    assert response.status_code == 422
    assert "L&#39;IBAN « FR76 3000 4000 0312 3456 7890 144 » est invalide" in _body(response)
    response = client.post(f"/o/sisa-test/sisa/associes/{associates.paul.id}?annee=2025",
                           data={"capital_share": "150", "iban": "FR76 3000 4000 0312 3456 7890 143", "bic": ""})
    assert response.status_code == 302
    assert "FR76 … 0143" in _body(client.get("/o/sisa-test/sisa/2025/associes")).replace("</code>", "")


def test_an_associate_sees_his_own_hours_only(client, login_as, sisa, associates):
    meeting = SisaMeeting(organisation_id=sisa.id, held_on=date(2025, 3, 4), duration_minutes=90, kind="rcp",
                          theme="Parcours insuffisance cardiaque")
    meeting.attendances = [SisaAttendance(party_id=associates.helene.id)]
    other = SisaMeeting(organisation_id=sisa.id, held_on=date(2025, 5, 6), duration_minutes=60, kind="protocol",
                        theme="Protocole plaies chroniques")
    other.attendances = [SisaAttendance(party_id=associates.paul.id)]
    db.session.add_all([meeting, other])
    login_as("member", org=sisa, user=UserFactory(party=associates.helene))
    page = _body(client.get("/o/sisa-test/sisa/mon-espace?annee=2025"))
    assert "Parcours insuffisance cardiaque" in page and "1 h 30" in page
    assert "Protocole plaies chroniques" not in page
    assert client.get("/o/sisa-test/sisa/2025/simulation").status_code == 403


def test_a_cpts_has_no_sisa_pages(client, login_as, organisation):
    login_as("treasurer")
    response = client.get("/o/cpts-test/sisa/2025/")
    assert response.status_code == 404
    assert "ne servent pas aux organisations de type" in _body(response)


def test_a_new_sisa_counts_in_french(client, login_as, sisa):
    """French puts 0 in the singular: « 0 associé », « 0 réunion » (the pages wrote « 0 associés »)."""
    login_as("treasurer", org=sisa)
    assert "2026 (entrées et sorties : rôles « Associé(e) » des paramètres de la SISA). 0 associé.</p>" in \
        _body(client.get("/o/sisa-test/sisa/2026/associes"))
    assert "0 réunion en 2026 ;" in _body(client.get("/o/sisa-test/sisa/2026/reunions"))


def test_the_treasurer_ticks_a_meeting_on_screen(client, login_as, sisa, associates):
    login_as("treasurer", org=sisa)
    page = _body(client.get("/o/sisa-test/sisa/2025/reunions/nouvelle"))
    assert "MSP de Lassay-les-Châteaux" in page and 'name="attendees"' in page
    response = client.post("/o/sisa-test/sisa/2025/reunions/nouvelle", data={
        "held_on": "06/05/2025", "duration": "1h30", "kind": "rcp", "theme": "RCP insuffisance cardiaque",
        "attendees": [str(associates.helene.id), str(associates.paul.id)]})
    assert response.status_code == 302
    meeting = db.session.scalar(select(SisaMeeting))
    assert (meeting.duration_minutes, len(meeting.attendances)) == (90, 2)
    assert "RCP insuffisance cardiaque" in _body(client.get("/o/sisa-test/sisa/2025/reunions"))
    response = client.post(f"/o/sisa-test/sisa/reunions/{meeting.id}", data={
        "held_on": "06/05/2025", "duration": "une heure", "kind": "rcp", "theme": "RCP",
        "attendees": [str(associates.helene.id)]})
    assert response.status_code == 422
    assert "Durée illisible « une heure »" in _body(response)
    db.session.expire_all()
    assert len(db.session.get(SisaMeeting, meeting.id).attendances) == 2


def test_the_treasurer_imports_a_spreadsheet_after_its_preview(client, login_as, sisa, associates):
    import io

    from tests.sisa.test_meetings_import import TREASURER_CSV

    login_as("treasurer", org=sisa)
    response = client.post("/o/sisa-test/sisa/reunions/import", data={
        "file": (io.BytesIO(TREASURER_CSV.encode("utf-8")), "presences-2025.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    preview = response.headers["Location"]
    page = _body(client.get(preview))
    assert 'id="count-meetings">2<' in page and 'id="count-attendances">5<' in page
    assert db.session.scalar(select(func.count()).select_from(SisaMeeting)) == 0  # the preview writes nothing
    response = client.post(preview)
    assert response.headers["Location"].endswith("/sisa/2025/reunions")
    assert db.session.scalar(select(func.count()).select_from(SisaMeeting)) == 2
    assert client.get(preview).status_code == 404  # the stored file is gone


def test_a_blocked_import_shows_its_lines_and_imports_nothing(client, login_as, sisa, associates):
    import io

    login_as("treasurer", org=sisa)
    csv = "Date;Durée;Thème;Participant\n04/03/2025;1h;RCP;Jean Dupont\n"
    response = client.post("/o/sisa-test/sisa/reunions/import", data={
        "file": (io.BytesIO(csv.encode()), "presences.csv")}, content_type="multipart/form-data")
    preview = response.headers["Location"]
    assert "Ligne 2 : participant inconnu « Jean Dupont »" in _body(client.get(preview))
    response = client.post(preview)
    assert response.headers["Location"].endswith(preview)
    assert db.session.scalar(select(func.count()).select_from(SisaMeeting)) == 0
