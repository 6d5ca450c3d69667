"""Documents attached to resolutions (the accounts, the budget, the reports): uploaded by the board,
checked by their content, listed in the convocation mail and Word, read by the voters from their
page; kept once the convocations are out."""
import hashlib
import html
import io
import zipfile
from datetime import date

import pytest
from docx import Document
from sqlalchemy import func, select

from backoffice.assemblies import attachments, convocations, services
from backoffice.assemblies.models import AssemblyError, ResolutionDocument
from backoffice.extensions import db
from tests.assemblies import factories as f
from tests.assemblies.test_voting_views import _member_login
from tests.factories import ProfessionalFactory, UserFactory

# A real, small PDF (as a scanner or a spreadsheet's « export as PDF » writes it) and a PNG.
ACCOUNTS_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
BUDGET_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(30)


@pytest.fixture
def draft(organisation, period):
    f.roll_world(organisation, period)
    return f.assembly(organisation, resolutions=3)


def _upload(client, assembly, resolution, title, filename, data):
    """The board's upload form, followed to the page that says what happened (unescaped text)."""
    response = client.post(f"/o/cpts-test/assemblies/{assembly.id}/resolutions/{resolution.id}/documents",
                           data={"title": title, "file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data", follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def _count():
    return db.session.scalar(select(func.count()).select_from(ResolutionDocument))


def test_the_board_attaches_documents_checked_by_their_content(client, login_as, draft):
    accounts, _, budget = draft.resolutions
    login_as("board")
    page = _upload(client, draft, accounts, "Comptes annuels 2025", "comptes-2025.pdf", ACCOUNTS_PDF)
    assert "« Comptes annuels 2025 » est joint à la résolution 1." in page
    _upload(client, draft, budget, "Budget prévisionnel 2027", "budget 2027", BUDGET_PNG)  # a phone photo, no extension
    # a text file named .pdf, an empty file, a file without title: refused in French, nothing stored
    fake = _upload(client, draft, accounts, "Rapport financier", "rapport.pdf", b"Rapport financier 2025\n")
    assert "« rapport.pdf » n'est ni un PDF, ni une image JPEG ou PNG." in fake
    empty = _upload(client, draft, accounts, "Rapport financier", "rapport.pdf", b"")
    assert "Le fichier est vide." in empty or "Choisissez un fichier." in empty
    untitled = _upload(client, draft, accounts, "", "rapport.pdf", ACCOUNTS_PDF)
    assert "Donnez un titre au document." in untitled
    assert _count() == 2

    [pdf] = accounts.documents
    [png] = budget.documents
    assert (pdf.filename, pdf.content_type, pdf.size) == ("comptes-2025.pdf", "application/pdf", len(ACCOUNTS_PDF))
    assert (png.filename, png.content_type) == ("budget 2027.png", "image/png")
    assert attachments.path_of(pdf).read_bytes() == ACCOUNTS_PDF
    assert pdf.sha256 == hashlib.sha256(ACCOUNTS_PDF).hexdigest()
    show = client.get(f"/o/cpts-test/assemblies/{draft.id}").get_data(as_text=True)
    assert "Comptes annuels 2025" in show and "Budget prévisionnel 2027" in show
    response = client.get(f"/o/cpts-test/assemblies/{draft.id}/documents/{pdf.id}")
    assert response.status_code == 200 and response.data == ACCOUNTS_PDF and response.mimetype == "application/pdf"


def test_too_large_a_document_is_refused(client, login_as, app, monkeypatch, draft):
    monkeypatch.setitem(app.config, "ASSEMBLY_DOCUMENT_MAX_BYTES", 1024 * 1024)
    login_as("board")
    big = ACCOUNTS_PDF + b"0" * (1024 * 1024)
    page = _upload(client, draft, draft.resolutions[0], "Comptes annuels 2025", "comptes.pdf", big)
    assert "Fichier trop volumineux (1,0 Mo) : 1 Mo au plus." in page
    assert _count() == 0


def test_the_convocations_list_the_documents_and_the_voters_read_them(client, login_as, organisation, draft, outbox):
    accounts = draft.resolutions[0]
    attachments.add_document(accounts, "Comptes annuels 2025", "comptes-2025.pdf", ACCOUNTS_PDF)
    attachments.add_document(accounts, "Rapport financier 2025", "rapport.pdf", ACCOUNTS_PDF)
    services.convene(draft, on=date(2026, 5, 21))
    services.send_convocations(draft, convocations.voting_link)
    db.session.commit()
    anne = f.voter(draft, "Le Floch")
    mail = next(m for m in outbox() if m.recipient == anne.party.email)
    assert ("1. Approbation des comptes 2025\n   Document joint : Comptes annuels 2025 (comptes-2025.pdf)\n"
            "   Document joint : Rapport financier 2025 (rapport.pdf)\n2. Rapport moral") in mail.body
    assert "Les documents joints se lisent et se téléchargent dans votre espace adhérent" in mail.body

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        convocations.issue_convocations(draft, archive)
    with zipfile.ZipFile(buffer) as archive:
        word = Document(io.BytesIO(archive.read(convocations.convocation_filename(anne))))
    text = "\n".join(p.text for p in word.paragraphs)
    assert "Documents joints : « Comptes annuels 2025 », « Rapport financier 2025 » — à lire" in text
    assert text.count("Documents joints") == 1  # the resolutions without documents say nothing

    first = accounts.documents[0]
    _member_login(login_as, anne)
    page = client.get(f"/o/cpts-test/assemblies/mine/{draft.id}").get_data(as_text=True)
    link = f"/o/cpts-test/assemblies/mine/{draft.id}/documents/{first.id}"
    assert "Documents de l'ordre du jour" in page and link in page
    response = client.get(link)
    assert response.status_code == 200 and response.data == ACCOUNTS_PDF
    assert 'filename=comptes-2025.pdf' in response.headers["Content-Disposition"]
    # a member of the organisation who is not on this roll reads nothing
    login_as("member", user=UserFactory(party_id=ProfessionalFactory(last_name="Horsliste").id))
    assert client.get(link).status_code == 404


def test_once_convened_the_documents_stay_and_none_is_added_in_session(client, login_as, draft):
    accounts = draft.resolutions[0]
    kept = attachments.add_document(accounts, "Comptes annuels 2025", "comptes.pdf", ACCOUNTS_PDF)
    withdrawn = attachments.add_document(accounts, "Ancienne version", "brouillon.pdf", ACCOUNTS_PDF)
    path = attachments.path_of(withdrawn)
    attachments.remove_document(withdrawn)  # in preparation: the board may withdraw one
    assert not path.exists() and accounts.documents == [kept]
    services.convene(draft, on=date(2026, 5, 21))
    with pytest.raises(AssemblyError, match="les documents envoyés aux votants restent joints"):
        attachments.remove_document(kept)
    late = attachments.add_document(accounts, "Rapport du commissaire aux comptes", "rapport.pdf", ACCOUNTS_PDF)
    assert late in accounts.documents  # convened, not open yet: a late report may still be added
    db.session.commit()
    login_as("board")
    client.post(f"/o/cpts-test/assemblies/{draft.id}/documents/{kept.id}/delete")
    assert attachments.path_of(kept).is_file() and _count() == 2
    services.open_session(draft)
    with pytest.raises(AssemblyError, match="avant l'ouverture de la séance"):
        attachments.add_document(accounts, "Trop tard", "x.pdf", ACCOUNTS_PDF)


def test_another_organisations_document_is_not_found(client, login_as, draft, other_organisation):
    document = attachments.add_document(draft.resolutions[0], "Comptes annuels 2025", "comptes.pdf", ACCOUNTS_PDF)
    db.session.commit()
    login_as("board", org=other_organisation)
    assert client.get(f"/o/cpts-autre/assemblies/{draft.id}/documents/{document.id}").status_code == 404


def _failed_first(draft, documents):
    """``draft`` with ``documents`` ({resolution index: [(title, filename, data)]}) attached,
    convened and held with nobody present: its quorum failed."""
    from backoffice.assemblies import voting

    for index, rows in documents.items():
        for title, filename, data in rows:
            attachments.add_document(draft.resolutions[index], title, filename, data)
    services.convene(draft, on=date(2026, 5, 21))
    services.open_session(draft)
    services.close_session(draft)
    assert not voting.live_quorum(draft).reached
    return draft


def test_a_second_convocation_carries_the_documents_in_files_of_its_own(draft):
    from datetime import datetime

    first = _failed_first(draft, {0: [("Comptes annuels 2025", "comptes-2025.pdf", ACCOUNTS_PDF),
                                      ("Rapport financier 2025", "rapport financier.pdf", ACCOUNTS_PDF + b"%v2\n")],
                                  2: [("Budget prévisionnel 2027", "budget 2027.png", BUDGET_PNG)]})
    second = services.second_convocation(first, datetime(2026, 6, 22, 18, 30))
    assert second.documents_not_copied == []
    copied = {r.position: [(d.title, d.filename, d.content_type, d.size, d.sha256) for d in r.documents]
              for r in second.resolutions}
    assert copied == {r.position: [(d.title, d.filename, d.content_type, d.size, d.sha256) for d in r.documents]
                      for r in first.resolutions}
    assert copied[2] == [] and len(copied[1]) == 2
    originals = [d for r in first.resolutions for d in r.documents]
    copies = [d for r in second.resolutions for d in r.documents]
    assert {d.stored_name for d in copies}.isdisjoint(d.stored_name for d in originals)
    assert all(attachments.path_of(c).read_bytes() == attachments.path_of(o).read_bytes()
               for o, c in zip(originals, copies))
    assert copies[0].resolution_id == second.resolutions[0].id  # the second's resolution, not the first's
    # the second's convocation lists them (its voters read the copies)
    _, body = services.convocation_mail(second, first.voters[0], "https://exemple.fr/lien")
    assert "   Document joint : Budget prévisionnel 2027 (budget 2027.png)" in body

    # the board withdraws the copy from the second in preparation: the first's file stays
    accounts_copy = copies[0]
    copy_path = attachments.path_of(accounts_copy)
    attachments.remove_document(accounts_copy)
    assert not copy_path.exists()
    assert attachments.readable(originals[0]) == ACCOUNTS_PDF
    assert _count() == 5


def test_a_lost_or_altered_file_is_not_copied_and_the_board_is_told(client, login_as, draft):
    first = _failed_first(draft, {0: [("Comptes annuels 2025", "comptes-2025.pdf", ACCOUNTS_PDF),
                                      ("Rapport financier 2025", "rapport.pdf", ACCOUNTS_PDF + b"%v2\n")],
                                  1: [("Rapport moral 2025", "rapport-moral.pdf", ACCOUNTS_PDF + b"%moral\n")]})
    accounts, report = first.resolutions[0].documents
    attachments.path_of(accounts).unlink()  # lost in a restore
    attachments.path_of(report).write_bytes(ACCOUNTS_PDF + b"%edited by hand\n")  # changed on the disk
    db.session.commit()
    login_as("board")
    response = client.post(f"/o/cpts-test/assemblies/{first.id}/second", data={"held_at": "22/06/2026 18:30"},
                           follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "Seconde convocation créée avec le même ordre du jour et ses documents" in page
    assert ("Le fichier de « Comptes annuels 2025 » (résolution 1) est introuvable ou altéré : joignez-le à nouveau "
            "à la seconde convocation.") in page
    assert "Le fichier de « Rapport financier 2025 » (résolution 1) est introuvable ou altéré" in page
    second = services.second_of(first)
    assert [[d.title for d in r.documents] for r in second.resolutions] == [[], ["Rapport moral 2025"], []]
    # in preparation, the board attaches the accounts again to the second
    attachments.add_document(second.resolutions[0], "Comptes annuels 2025", "comptes-2025.pdf", ACCOUNTS_PDF)
