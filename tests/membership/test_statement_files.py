"""The treasurer's statement screens with files as banks export them: an unknown layout asks its
columns (proposed) for the account it is for, the statement names its account and file and what
it left out, every unreadable row is listed at once, a batch entry shows its transactions, a
long bank reference never stops a payment from being confirmed."""
import re
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from backoffice.banking.models import BankStatement, BankStatementLine, LineStatus as L
from backoffice.extensions import db
from backoffice.membership.models import MembershipPayment, MembershipStatus

BANK_DATA = Path(__file__).parents[1] / "banking" / "data"
URL = "/o/cpts-test/membership/statements"


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


def upload(client, content, name, **data):
    return client.post(URL, data={"statement": (BytesIO(content), name), **data}, content_type="multipart/form-data")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_unknown_layout_asks_its_columns_then_imports_and_shows_account_file_and_notes(client, treasurer):
    content = (BANK_DATA / "lcl_cp1252.csv").read_bytes()
    response = upload(client, content, "LCL mars 2026.csv")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.location).query)
    page = client.get(response.location).get_data(as_text=True)
    assert "Présentation de fichier inconnue pour le compte « Compte courant »" in page
    assert "Fichier « LCL mars 2026.csv », compte « Compte courant »" in page
    for field, column in (("date", "Date opération"), ("amount", "Montant (EUR)"), ("reference", "Référence")):
        select_html = re.search(rf'<select[^>]*name="{field}".*?</select>', page, re.S).group(0)
        assert re.search(rf'<option selected value="{re.escape(column)}">', select_html), field
    form = {"token": query["token"][0], "account_id": query["account_id"][0], "filename": query["filename"][0],
            "date": "Date opération", "label": "Libellé", "amount": "Montant (EUR)", "debit": "", "credit": "",
            "reference": "Référence"}
    # A column chosen twice is refused in French, nothing imported.
    refused = client.post(f"{URL}/mapping", data={**form, "label": "Date opération"})
    assert refused.status_code == 422 and "est choisie deux fois" in refused.get_data(as_text=True)
    assert count(BankStatement) == 0

    done = client.post(f"{URL}/mapping", data=form, follow_redirects=True).get_data(as_text=True)
    assert ("Relevé « LCL mars 2026.csv » importé dans le compte « Compte courant » : 4 opération(s) nouvelle(s) "
            "sur 4 importée(s). 4 remarque(s) sur le fichier") in done
    listing = client.get(URL).get_data(as_text=True)
    assert re.search(r"<td>Compte courant</td><td>LCL mars 2026.csv", listing)
    assert "Ligne 12 : « Solde au 31/03/2026 1 115,80 » ignorée (solde ou total)." in listing
    # The same layout again: no question.
    again = upload(client, content.replace(b"REMISE CHEQUES 0000013;;+240,00", b"REMISE CHEQUES 0000015;;+90,00"),
                   "LCL avril.csv")
    assert "/statements/review" in again.location


def test_every_unreadable_row_is_listed_on_the_page_and_nothing_is_stored(client, treasurer, organisation):
    from backoffice.banking import services as banking

    columns = ["Date", "Libellé", "Débit", "Crédit"]
    banking.save_csv_mapping(banking.default_account(organisation), {"date": "Date", "label": "Libellé",
                                                                     "debit": "Débit", "credit": "Crédit"}, columns)
    response = upload(client, (BANK_DATA / "unreadable_rows.csv").read_bytes(), "avril.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Rien n&#39;a été importé : 4 lignes du fichier sont illisibles." in page
    for row in ("Ligne 3 : date illisible", "Ligne 4 : montant illisible", "Ligne 5 : opération sans date",
                "Ligne 7 : un débit (10,00) et un crédit (10,00)"):
        assert row in page
    assert (count(BankStatement), count(BankStatementLine)) == (0, 0)


def test_a_batch_entry_shows_its_transactions(client, treasurer):
    content = (BANK_DATA / "camt053_batch.xml").read_bytes().replace(b"<CdtDbtInd>DBIT</CdtDbtInd><Sts>",
                                                                    b"<CdtDbtInd>CRDT</CdtDbtInd><Sts>", 1)
    content = content.replace(b"<Cdtr><Pty>", b"<Dbtr><Pty>").replace(b"</Pty></Cdtr>", b"</Pty></Dbtr>")
    response = upload(client, content, "camt-fevrier.xml", account="")
    assert "/statements/review" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Opération groupée : 2 mouvements" in page
    assert "600,00\u00a0€ — DR CHLOÉ MARCHAND — Aide dermatoscope convention 2026-001" in page
    assert "(réf. DERMATO-2026-002)" in page


def test_a_bank_reference_longer_than_a_payment_keeps_never_stops_the_confirmation(client, treasurer, organisation,
                                                                                  membership):
    from backoffice.banking import services as banking

    columns = ["Date", "Libellé", "Référence", "Montant"]
    banking.save_csv_mapping(banking.default_account(organisation), {"date": "Date", "label": "Libellé",
                                                                     "reference": "Référence", "amount": "Montant"},
                             columns)
    reference = f"/ROC/{membership.payment_reference}/" + "COTISATION-ANNUELLE-CPTS-DR-ANNE-LE-FLOCH-" * 4
    content = (";".join(columns) + f"\n03/02/2026;VIR SEPA RECU DR ANNE LE FLOCH;{reference};50,00\n").encode()
    response = upload(client, content, "releve.csv")
    assert "/statements/review" in response.location
    line = db.session.scalar(select(BankStatementLine))
    assert len(line.reference) == 140 and line.statement.notes[0].startswith("Ligne 2 : référence de ")
    done = client.post(f"{URL}/review", data={"confirm": [str(line.id)],
                                              f"membership_reference_{line.id}": membership.payment_reference},
                       follow_redirects=True)
    assert done.status_code == 200 and "1 paiement(s) enregistré(s)" in done.get_data(as_text=True)
    db.session.expire_all()
    payment = db.session.scalar(select(MembershipPayment))
    assert membership.status is MembershipStatus.PAID and line.status is L.MATCHED
    assert reference.startswith(payment.reference) and len(payment.reference) == 100
    # The books name the piece by the membership's own reference (a piece reference keeps 60).
    from backoffice.accounting.models import JournalEntry
    entry = db.session.get(JournalEntry, payment.accounting_entry_id)
    assert entry.piece_ref == membership.payment_reference


def test_the_treasurer_chooses_the_columns_of_a_known_layout_again(client, treasurer, organisation):
    from backoffice.banking import services as banking

    account = banking.default_account(organisation)
    content = (BANK_DATA / "lcl_cp1252.csv").read_bytes()
    columns = ["Date opération", "Date valeur", "Libellé", "Référence", "Montant (EUR)"]
    banking.save_csv_mapping(account, {"date": "Date valeur", "label": "Libellé", "amount": "Montant (EUR)"}, columns)
    response = upload(client, content, "lcl.csv", remap="y")
    assert "/statements/mapping?" in response.location
    page = client.get(response.location).get_data(as_text=True)
    date_select = re.search(r'<select[^>]*name="date".*?</select>', page, re.S).group(0)
    assert '<option selected value="Date valeur">' in date_select  # what this layout was read with
    query = parse_qs(urlsplit(response.location).query)
    client.post(f"{URL}/mapping", data={"token": query["token"][0], "account_id": query["account_id"][0],
                                        "filename": "lcl.csv", "date": "Date opération", "label": "Libellé",
                                        "amount": "Montant (EUR)", "debit": "", "credit": "", "reference": ""})
    db.session.expire_all()
    [layout] = account.csv_layouts
    assert (layout.mapping["date"], layout.mapping["reference"]) == ("Date opération", None)
    assert db.session.scalar(select(BankStatement)).filename == "lcl.csv"
