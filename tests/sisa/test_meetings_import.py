"""Meetings imported from a treasurer's spreadsheet: reading (titles, totals, numbers as text,
CSV and XLSX), matching attendees by RPPS, ADELI or name, per-line errors, all-or-nothing."""
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.sisa import services
from backoffice.people.importer import read_sheet_date as parse_date
from backoffice.sisa.meetings import parse_duration
from backoffice.sisa.models import SisaAttendance, SisaMeeting

TREASURER_CSV = """Temps de coordination 2025;;;;;
Pôle de Santé du Bocage — feuille de présence;;;;;
Date;Durée;Thème;Type;Participant;RPPS
04/03/2025;1h30;RCP patients diabétiques;RCP;Hélène Brochard;100 0345 6786
;;;;Dr CHEVALIER Paul;
;;;;Soizic Le Goff;
Total;4 h 30;;;;
17/06/2025;"1,5";Protocole plaies chroniques;Protocole;Erwan Fouquet;
;;;;Paul Chevalier;
Total général;;;;;
"""


@pytest.mark.parametrize("text, expected", [
    ("04/03/2025", date(2025, 3, 4)), ("4/3/25", date(2025, 3, 4)), ("2025-03-04", date(2025, 3, 4)),
    ("2025-03-04T00:00:00", date(2025, 3, 4)), ("04.03.2025", date(2025, 3, 4)), ("45720", date(2025, 3, 4)),
    ("mardi 4 mars 2025", date(2025, 3, 4)), ("1er août 2025", date(2025, 8, 1)), ("31/02/2025", None),
    ("bientôt", None),
])
def test_dates_as_treasurers_write_them(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, minutes_column, expected", [
    ("1h30", False, 90), ("1 h 30", False, 90), ("2h", False, 120), ("90 min", False, 90), ("90mn", False, 90),
    ("1:30", False, 90), ("1,5", False, 90), ("1.25", False, 75), ("2", False, 120), ("90", False, 90),
    ("45", True, 45), ("une heure", False, None), ("", False, None),
])
def test_durations_as_treasurers_write_them(text, minutes_column, expected):
    assert parse_duration(text, minutes_column) == expected


def test_a_treasurers_csv_is_read_with_its_titles_and_totals(sisa, associates):
    plan = services.plan_meeting_import(sisa, TREASURER_CSV.encode("cp1252", errors="replace"), "presences.csv")
    assert not plan.has_errors, [line.errors for line in plan.lines]
    assert plan.skipped_lines == [1, 2, 7, 10]
    assert [(m.held_on, m.minutes, m.kind, m.theme) for m in plan.meetings] == [
        (date(2025, 3, 4), 90, "rcp", "RCP patients diabétiques"),
        (date(2025, 6, 17), 90, "protocol", "Protocole plaies chroniques")]
    a = associates
    assert plan.meetings[0].party_ids == [a.helene.id, a.paul.id, a.soizic.id]
    assert plan.meetings[1].party_ids == [a.erwan.id, a.paul.id]


def test_an_xlsx_with_real_dates_and_numbers_as_text(sisa, associates):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Réunions de concertation 2025"])
    sheet.append([])
    sheet.append(["Date de la réunion", "Durée (min)", "Sujet", "Nom", "Prénom", "ADELI"])
    sheet.append([date(2025, 9, 9), "120", "RCP santé mentale", "Le Goff", "Soizic", "531234567"])
    sheet.append([None, None, None, "Brochard", "Hélène", None])
    sheet.append(["TOTAL", "240", None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    plan = services.plan_meeting_import(sisa, buffer.getvalue(), "presences.xlsx")
    assert not plan.has_errors, [line.errors for line in plan.lines]
    assert [(m.held_on, m.minutes, m.party_ids) for m in plan.meetings] == [
        (date(2025, 9, 9), 120, [associates.soizic.id, associates.helene.id])]


def test_every_bad_line_is_named_and_nothing_is_imported(sisa, associates):
    csv = ("Date;Durée;Thème;Participant;RPPS\n"
           "04/03/2025;1h30;RCP diabète;Hélène Brochard;\n"
           ";;;Jean Dupont;\n"                                   # 3: unknown name
           ";;;;10000000008\n"                                   # 4: unknown RPPS
           "12/10/2025;1h;RCP douleur;Soizic Le Goff;\n"         # 5: left on 30/09/2025
           "13/10/2025;une heure;RCP sommeil;Paul Chevalier;\n"  # 6: duration
           ";;;Paul Chevalier;\n")                               # 7: of line 6's refused meeting
    plan = services.plan_meeting_import(sisa, csv.encode(), "presences.csv")
    errors = {line.line: " ".join(line.errors) for line in plan.error_lines}
    assert "participant inconnu « Jean Dupont »" in errors[3]
    assert "RPPS 10000000008" in errors[4]
    assert "Soizic LE GOFF n'était pas associé(e) de la SISA le 12/10/2025" in errors[5]
    assert "durée illisible « une heure »" in errors[6]
    assert set(errors) == {3, 4, 5, 6}
    with pytest.raises(ServiceError, match="Import refusé : 4 lignes en erreur .*Ligne 3"):
        services.apply_meeting_import(sisa, csv.encode(), "presences.csv")
    assert db.session.scalar(select(func.count()).select_from(SisaMeeting)) == 0


def test_the_same_person_twice_and_homonyms_are_errors(sisa, associates):
    from backoffice.organisations.affiliations import Role, affiliate
    from tests.factories import ProfessionalFactory

    twin = ProfessionalFactory(first_name="Paul", last_name="Chevalier", profession="infirmier", rpps=None)
    affiliate(twin, sisa, Role.ASSOCIATE, date(2020, 1, 1))
    csv = ("Date;Durée;Thème;Participant;RPPS\n"
           "04/03/2025;1h30;RCP diabète;Hélène Brochard;\n"
           ";;;Hélène Brochard;\n"
           ";;;Paul Chevalier;\n"
           ";;;Paul Chevalier;10001234565\n")
    errors = {line.line: " ".join(line.errors) for line in services.plan_meeting_import(sisa, csv.encode()).error_lines}
    assert "Hélène BROCHARD est déjà compté(e)" in errors[3]
    assert "désigne 2 associés : indiquez son RPPS" in errors[4]
    assert set(errors) == {3, 4}  # line 5 names him by RPPS


def test_an_import_is_all_or_nothing_and_cannot_come_twice(sisa, associates):
    plan = services.apply_meeting_import(sisa, TREASURER_CSV.encode(), "presences.csv")
    assert len(plan.meetings) == 2
    assert db.session.scalar(select(func.count()).select_from(SisaAttendance)) == 5
    assert services.minutes_by_party(sisa, 2025)[associates.paul.id] == 180
    again = services.plan_meeting_import(sisa, TREASURER_CSV.encode(), "presences.csv")
    assert "la réunion du 04/03/2025 « RCP patients diabétiques » est déjà enregistrée" in again.error_lines[0].errors[0]


def test_a_file_without_a_header_is_refused(sisa):
    with pytest.raises(ServiceError, match="Ligne d'en-tête introuvable"):
        services.plan_meeting_import(sisa, "Bonjour;le monde\n1;2\n".encode(), "x.csv")


def test_a_meeting_ticked_on_screen_keeps_associates_of_that_day_only(sisa, associates):
    a = associates
    meeting = services.save_meeting(sisa, None, held_on=date(2025, 5, 6), minutes=60, kind="rcp",
                                    theme="  RCP   insuffisance cardiaque ", party_ids=[a.helene.id, a.soizic.id])
    assert meeting.theme == "RCP insuffisance cardiaque"
    assert sorted(x.party_id for x in meeting.attendances) == sorted([a.helene.id, a.soizic.id])
    with pytest.raises(ServiceError, match="ne sont pas associés de la SISA le 06/05/2025"):
        services.save_meeting(sisa, meeting, held_on=date(2025, 5, 6), minutes=60, kind="rcp", theme="RCP",
                              party_ids=[a.erwan.id])  # joined on 16/06/2025
    services.save_meeting(sisa, meeting, held_on=date(2025, 5, 6), minutes=90, kind="rcp", theme="RCP",
                          party_ids=[a.helene.id, a.paul.id])
    assert sorted(x.party_id for x in meeting.attendances) == sorted([a.helene.id, a.paul.id])
    assert services.minutes_by_party(sisa, 2025) == {a.helene.id: 90, a.paul.id: 90}


@pytest.mark.parametrize("data, message", [
    (b"", "Le fichier est vide."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Les classeurs Excel 97-2003 (.xls) ne sont pas pris en charge"),
    (b"%PDF-1.4 compte rendu", "Format de fichier inconnu : envoyez un fichier CSV ou XLSX."),
    (b";;\r\n;;\r\n", "Le fichier ne contient aucune ligne."),
])
def test_a_file_that_is_no_spreadsheet_is_refused_in_french(data, message):
    import re

    from backoffice.sisa.meetings import MeetingFileError, read_meeting_rows

    with pytest.raises(MeetingFileError, match=re.escape(message)):
        read_meeting_rows(data, "reunions.xls")
