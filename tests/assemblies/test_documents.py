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
