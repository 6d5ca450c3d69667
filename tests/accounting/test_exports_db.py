"""Exports from the database: FEC read back against the trial balance, CSV/XLSX, history,
errors that write nothing, the command line and the export job."""
import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.accounting import exporting, reporting, services
from backoffice.accounting.fec import FEC_COLUMNS
from tests.accounting.fec_reader import read_fec
from backoffice.accounting.models import ExportRecord, JournalEntry
from backoffice.accounting.services import AccountingError, EntryLineSpec
from backoffice.extensions import db


@pytest.fixture
def out(tmp_path):
    """An empty folder for the exported files (``tmp_path`` may hold the test's STORAGE_DIR)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def year_of_books(books, member, other_member, post_fee):
    """A small but varied year: fees due and paid by each method, a grant, a reversal, a manual
    entry with a label that looks like a formula, bank fees, a subsidy."""
    post_fee("50.00", paid=True, method="transfer", day=date(2026, 1, 15))
    post_fee("30.00", paid=True, method="cheque", day=date(2026, 2, 3), party=other_member)
    unpaid = post_fee("50.00", day=date(2026, 3, 1), party=other_member)
    services.reverse_entry(unpaid, entry_date=date(2026, 3, 5))
    services.post_event(books, "grant_committed", amount=Decimal("850.00"), entry_date=date(2026, 4, 2), party=member,
                        piece_ref="CONV-2026-01", label="Dermatoscope – convention")
    services.post_event(books, "grant_paid", amount=Decimal("850.00"), entry_date=date(2026, 5, 2), party=member,
                        piece_ref="CONV-2026-01", label="Dermatoscope – versement")
    services.post_event(books, "subsidy_received", amount=Decimal("12000.00"), entry_date=date(2026, 6, 1),
                        piece_ref="ARS-FIR", label="Subvention ARS (FIR)")
    services.post_event(books, "bank_fees", amount=Decimal("12.40"), entry_date=date(2026, 6, 30),
                        piece_ref="REL-06", label="Frais | tenue de compte\tjuin")
    services.post_entry(books, "OD", date(2026, 7, 1), "FAC-9", "=HYPERLINK(\"http://x\")", [
        EntryLineSpec("6226", debit=Decimal("600.00")), EntryLineSpec("512", credit=Decimal("600.00"))])
    # Another year, never exported with 2026.
    services.post_event(books, "bank_fees", amount=Decimal("1.00"), entry_date=date(2025, 12, 31), piece_ref="X",
                        label="Frais 2025")
    return books


def test_fec_from_the_database_matches_the_trial_balance(year_of_books, out):
    record = exporting.export_to_path(year_of_books, 2026, "fec", out)
    path = out / "812345676FEC20261231.txt"
    assert record.filename == path.name and path.is_file()
    assert record.output_path == str(path.resolve())
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    frame = read_fec(path)
    assert tuple(frame.columns) == FEC_COLUMNS
    trial = reporting.trial_balance(year_of_books, date(2026, 1, 1), date(2026, 12, 31)).by_account()
    totals = frame.groupby("CompteNum").agg({"Debit": "sum", "Credit": "sum"})
    assert set(totals.index) == set(trial)
    for number, row in totals.iterrows():
        assert (row["Debit"], row["Credit"]) == (trial[number].debit, trial[number].credit), number
    # One fiscal year, numbered 1..n without gap; an open year: provisional, nothing validated.
    numbers = sorted({int(n) for n in frame["EcritureNum"]})
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == 11
    assert set(frame["ValidDate"]) == {""}
    assert frame["EcritureDate"].str.startswith("2026").all()
    # Auxiliary accounts only on collective accounts; text fields cleaned.
    aux_lines = frame[frame["CompAuxNum"] != ""]
    assert set(aux_lines["CompteNum"]) == {"411", "467"}
    assert "Frais   tenue de compte juin" in set(frame["EcritureLib"])
    assert "=HYPERLINK(\"http://x\")" in set(frame["EcritureLib"])  # a data file: no spreadsheet quote
    # Lettering travels with the lines.
    assert set(frame.loc[frame["CompteNum"] == "411", "EcritureLet"]) == {"AA", "AB", "AC"}
    # A provisional export never validates an entry.
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.organisation_id == year_of_books.id, JournalEntry.validated_on.is_not(None))) == 0
    assert record.entries_validated == 0 and record.line_count == len(frame)
    assert not record.definitive and "provisoire" in record.message
    notice = exporting.absolute(record.notice_path).read_text(encoding="utf-8")
    assert record.sha256 in notice and "812345676" in notice and "du 01/01/2026 au 31/12/2026" in notice
    assert "FEC PROVISOIRE" in notice and "heure de Paris" in notice
    # The command line and the copy to a folder put the notice beside the file.
    assert (out / "812345676FEC20261231_notice.txt").read_text(encoding="utf-8") == notice
    stored = exporting.absolute(record.stored_path)
    assert stored.read_bytes() == path.read_bytes()


def test_provisional_fecs_validate_nothing(year_of_books, out):
    first = exporting.export_to_path(year_of_books, 2026, "fec", out / "a.txt")
    second = exporting.export_to_path(year_of_books, 2026, "fec", out / "b.txt")
    assert (first.entries_validated, second.entries_validated) == (0, 0)
    assert first.sha256 == second.sha256
    assert (out / "a_notice.txt").is_file()


def test_fec_in_latin_9(books, out):
    services.post_event(books, "bank_fees", amount=Decimal("3.50"), entry_date=date(2026, 2, 1), piece_ref="R",
                        label="Frais de tenue de compte – février")
    record = exporting.export_to_path(books, 2026, "fec", out / "fec.txt", encoding="iso-8859-15")
    assert "Frais de tenue de compte - février" in (out / "fec.txt").read_bytes().decode("iso-8859-15")
    assert "2 caractère(s) écrit(s) sous leur équivalent ISO-8859-15" in record.message
    notice = exporting.absolute(record.notice_path).read_text(encoding="utf-8")
    assert "2 caractère(s) absent(s) de l'ISO-8859-15" in notice
    services.post_event(books, "bank_fees", amount=Decimal("3.50"), entry_date=date(2025, 2, 1), piece_ref="R",
                        label="Frais de tenue de compte (février, 5 €)")
    record = exporting.export_to_path(books, 2025, "fec", out / "fec.txt", encoding="iso-8859-15")
    assert record.encoding == "iso8859-15"
    assert "(février, 5 €)" in (out / "fec.txt").read_bytes().decode("iso-8859-15")


@pytest.mark.parametrize("fmt, kwargs, message", [
    ("fec", dict(year=2024), "Aucune écriture du 01/01/2024 au 31/12/2024"),
    ("csv", dict(year=2024), "Aucune écriture"),
    ("xlsx", dict(year=2024), "Aucune écriture"),
    ("pdf", dict(year=2026), "Format d'export inconnu"),
    ("csv", dict(year=2026, report="bilan"), "État inconnu"),
    ("fec", dict(year=2026, encoding="cp1252"), "Encodage « cp1252 » impossible pour un export FEC"),
    ("fec", dict(year=2026, start=date(2026, 2, 1)), "exercice entier"),
])
def test_bad_exports_write_nothing(year_of_books, out, fmt, kwargs, message):
    year = kwargs.pop("year")
    with pytest.raises(AccountingError, match=message):
        exporting.export_to_path(year_of_books, year, fmt, out, **kwargs)
    assert list(out.iterdir()) == []
    assert db.session.scalar(select(func.count()).select_from(ExportRecord)) == 0


def test_fec_needs_a_valid_siren(year_of_books, out):
    year_of_books.siren = "123456789"
    with pytest.raises(AccountingError, match="SIREN .* absent ou invalide"):
        exporting.export_to_path(year_of_books, 2026, "fec", out)
    assert list(out.iterdir()) == []
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.validated_on.is_not(None))) == 0


def test_csv_journal_in_french_conventions(year_of_books, out):
    record = exporting.export_to_path(year_of_books, 2026, "csv", out, report="journal")
    data = (out / record.filename).read_bytes()
    assert record.filename == "cpts-test-journal-20260101-20261231.csv"
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].startswith("Code journal;Journal;N° écriture;Date;Compte")
    assert "OD;Opérations diverses;1;15/01/2026;411;Adhérents et usagers;A" in text
    assert ";50,00;0,00;AA;15/01/2026;" in text
    assert "'=HYPERLINK" in text  # neutralised against formula injection
    assert record.line_count == len(lines) - 2  # header and final empty string
    assert record.sha256 == hashlib.sha256(data).hexdigest()


def test_csv_in_windows_1252_and_ledger_and_balance(year_of_books, out):
    record = exporting.export_to_path(year_of_books, 2026, "csv", out / "gl.csv", report="ledger",
                                      encoding="cp1252")
    text = (out / "gl.csv").read_bytes().decode("cp1252")
    assert text.startswith("Compte;Libellé compte;Date;Journal")
    assert "Total compte 411" in text and "Total général" in text
    assert record.encoding == "cp1252"
    exporting.export_to_path(year_of_books, 2026, "csv", out / "bal.csv", report="balance")
    balance = (out / "bal.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    assert balance[0] == "Compte;Libellé;Total débit;Total crédit;Solde débiteur;Solde créditeur"
    assert balance[-2].startswith(";Total;")
    total_debit, total_credit = balance[-2].split(";")[2:4]
    assert total_debit == total_credit


def test_csv_for_a_period(year_of_books, out):
    record = exporting.export_to_path(year_of_books, 2026, "csv", out, report="journal",
                                      start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert record.filename == "cpts-test-journal-20260101-20260131.csv"
    assert record.line_count == 4  # fee due and paid in January


def test_xlsx_three_sheets(year_of_books, out):
    from openpyxl import load_workbook

    record = exporting.export_to_path(year_of_books, 2026, "xlsx", out)
    workbook = load_workbook(out / record.filename, read_only=True)
    assert workbook.sheetnames == ["Journal", "Grand livre", "Balance"]
    journal = list(workbook["Journal"].iter_rows(values_only=True))
    assert journal[0][:5] == ("Code journal", "Journal", "N° écriture", "Date", "Compte")
    assert journal[1][11] == 50 and journal[1][4] == "411"
    assert any(row[10] == "=HYPERLINK(\"http://x\")" for row in journal[1:])  # a string cell, no apostrophe
    balance = list(workbook["Balance"].iter_rows(values_only=True))
    assert balance[-1][1] == "Total" and balance[-1][2] == balance[-1][3]
    workbook.close()
    assert record.sha256 == hashlib.sha256((out / record.filename).read_bytes()).hexdigest()


def test_cli_export(year_of_books, runner, out):
    result = runner.invoke(args=["accounting", "export", "--org", "cpts-test", "--year", "2026", "--format", "fec",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "812345676FEC20261231.txt").is_file()
    assert "SHA-256" in result.output
    result = runner.invoke(args=["accounting", "export", "--org", "cpts-test", "--year", "2026", "--format", "csv",
                                 "--output", str(out / "j.csv"), "--encoding", "cp1252", "--report", "ledger"])
    assert result.exit_code == 0, result.output
    assert (out / "j.csv").read_bytes().decode("cp1252").startswith("Compte;")


@pytest.mark.parametrize("args, message", [
    (["--org", "inconnue", "--year", "2026", "--format", "fec"], "Organisation inconnue : inconnue"),
    (["--org", "cpts-test", "--year", "2024", "--format", "csv"], "Aucune écriture"),
])
def test_cli_errors(year_of_books, runner, out, args, message):
    result = runner.invoke(args=["accounting", "export", *args, "--output", str(out)])
    assert result.exit_code == 1 and message in result.output
    assert list(out.iterdir()) == []


def test_cli_init(runner, organisation):
    result = runner.invoke(args=["accounting", "init", "--org", "cpts-test"])
    assert result.exit_code == 0 and "Plan comptable des associations" in result.output


def test_export_job_runs_inline_and_keeps_the_history(year_of_books, client, login_as):
    login_as("accountant")
    response = client.post("/o/cpts-test/accounting/exports", data={"year": "2026", "fmt": "fec", "report": "journal",
                                                                    "encoding": "utf-8"})
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    record = db.session.scalar(select(ExportRecord))
    assert record.filename == "812345676FEC20261231.txt" and record.task_id is not None
    from backoffice.tasks.models import Task

    task = db.session.get(Task, record.task_id)
    assert task.status == "done" and task.result_filename == record.filename
    assert task.result_abspath().read_bytes() == exporting.absolute(record.stored_path).read_bytes()
    page = client.get("/o/cpts-test/accounting/exports")
    assert record.sha256.encode() in page.data
    assert "provisoire" in page.get_data(as_text=True) and "2026 (ouvert : FEC provisoire)" in page.get_data(as_text=True)
    with client.get(f"/o/cpts-test/accounting/exports/{record.id}/file") as download:
        assert download.status_code == 200 and download.data.startswith(b"JournalCode\tJournalLib")
    with client.get(f"/o/cpts-test/accounting/exports/{record.id}/notice") as notice:
        assert "NOTICE DESCRIPTIVE" in notice.data.decode("utf-8")


def test_export_form_refuses_an_empty_year(books, client, login_as):
    login_as("treasurer")
    response = client.post("/o/cpts-test/accounting/exports", data={"year": str(date.today().year), "fmt": "csv",
                                                                    "report": "journal", "encoding": "utf-8"})
    assert response.status_code == 422
    assert "Aucune écriture" in response.data.decode()


def test_ledger_carries_lettering_and_the_balance_brought_into_a_period(year_of_books, out):
    exporting.export_to_path(year_of_books, 2026, "csv", out / "gl.csv", report="ledger",
                             start=date(2026, 2, 1), end=date(2026, 12, 31))
    rows = [line.split(";") for line in (out / "gl.csv").read_bytes().decode("utf-8-sig").split("\r\n") if line]
    assert rows[0][-3:] == ["Solde", "Lettrage", "Date lettrage"]
    # January's fee and its payment balance each other: no balance carried on 411.
    assert not any(row[0] == "411" and row[6] == "Solde au 01/02/2026" for row in rows)
    bank = next(row for row in rows if row[0] == "512" and row[6] == "Solde au 01/02/2026")
    assert bank[9] == "50,00"  # January's transfer, carried
    lettered = [row for row in rows if row[0] == "411" and row[10]]
    assert lettered and all(row[11].endswith("/2026") for row in lettered)


def test_auxiliary_balance_and_ledger(year_of_books, out, member, other_member):
    from openpyxl import load_workbook

    exporting.export_to_path(year_of_books, 2026, "csv", out / "ba.csv", report="aux_balance")
    rows = [line.split(";") for line in (out / "ba.csv").read_bytes().decode("utf-8-sig").split("\r\n") if line]
    assert rows[0] == list(exporting.AUX_BALANCE_HEADER)
    by_aux = {row[1]: row for row in rows[1:-1]}
    assert {row[0] for row in rows[1:-1]} == {"411", "467"}
    marie = next(row for row in rows[1:-1] if row[0] == "411" and "Marie" in row[2])
    assert marie[3:] == ["0,00", "0,00", "50,00", "50,00", "0,00", "0,00"]  # no AN yet; paid
    assert rows[-1][2] == "Total" and rows[-1][7] == rows[-1][8] == "0,00"  # every account settled
    record = exporting.export_to_path(year_of_books, 2026, "xlsx", out / "gla.xlsx", report="aux_ledger")
    assert record.filename == "cpts-test-grand-livre-auxiliaire-20260101-20261231.xlsx"
    sheet = list(load_workbook(out / "gla.xlsx", read_only=True)["Grand livre auxiliaire"].iter_rows(values_only=True))
    assert sheet[0] == exporting.AUX_LEDGER_HEADER
    totals = [row for row in sheet if row[7] and str(row[7]).startswith("Total compte")]
    assert {row[0] for row in totals} == {"411", "467"} and len(totals) == len(by_aux)
    assert sheet[-1][7] == "Total général"
