"""Organisation templates: upload checked by the engine, render_document, revert, logo."""
import io
import zipfile

import docx
import pytest

from backoffice.documents import services
from backoffice.documents.errors import DocumentError
from backoffice.documents.models import DocumentTemplate
from backoffice.extensions import db
from tests.documents.test_engine import make_docx, png_bytes
from tests.factories import DocumentTemplateFactory


def text_of(data):
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def receipt_context(**overrides):
    from backoffice.documents.samples import membership_receipt_context

    return membership_receipt_context(**overrides)


def upload(client, organisation, data, kind="membership_receipt", filename="modele.docx"):
    return client.post(f"/o/{organisation.slug}/documents/templates/{kind}",
                       data={"template": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


GOOD = make_docx(["Reçu {{ receipt.number }} pour {{ member.last_name }}, {{ amount|money }}."])


def test_render_document_uses_the_default_template(organisation):
    data = services.render_document(organisation, "membership_receipt", receipt_context())
    text = text_of(data)
    assert "Attestation d'adhésion" in text and "Le Goff" in text and "35,00\u00a0€" in text


def test_uploaded_template_replaces_the_default(client, login_as, organisation, other_organisation):
    user = login_as("treasurer")
    response = upload(client, organisation, GOOD)
    assert response.status_code == 302
    row = db.session.query(DocumentTemplate).one()
    assert (row.organisation_id, row.kind, row.filename, row.uploaded_by_id) == (
        organisation.id, "membership_receipt", "modele.docx", user.id)
    assert row.abspath().read_bytes() == GOOD
    assert text_of(services.render_document(organisation, "membership_receipt", receipt_context())) == \
        "Reçu 2026-0042 pour Le Goff, 35,00\u00a0€."
    # the other organisation keeps the default
    assert "Attestation d'adhésion" in text_of(
        services.render_document(other_organisation, "membership_receipt", receipt_context()))
    page = client.get(f"/o/{organisation.slug}/documents/templates").text
    assert "Modèle de l'organisation" in page and "modele.docx" in page


def test_broken_tag_is_refused_with_the_tag_named(client, login_as, organisation):
    login_as("treasurer")
    response = upload(client, organisation, make_docx(["Reçu {{ receipt.number } pour vous."]))
    assert response.status_code == 422
    assert "receipt.number" in response.text and "Erreur dans le modèle" in response.text
    assert db.session.query(DocumentTemplate).count() == 0


def test_unknown_variable_is_refused(client, login_as, organisation):
    login_as("treasurer")
    response = upload(client, organisation, make_docx(["{{ membre.nom }}"]))
    assert response.status_code == 422
    assert "variable inconnue « membre »" in response.text
    assert db.session.query(DocumentTemplate).count() == 0


def test_malicious_template_is_refused_at_upload(client, login_as, organisation):
    login_as("admin")
    response = upload(client, organisation, make_docx(["{{ ''.__class__.__mro__ }}"]))
    assert response.status_code == 422
    assert "interdite" in response.text or "interdit" in response.text
    assert db.session.query(DocumentTemplate).count() == 0


def test_malicious_template_is_refused_at_render_too(app, organisation):
    """Even if it reached the storage some other way (an older version, a restored backup)."""
    from pathlib import Path

    data = make_docx(["{{ ''.__class__.__mro__ }}"])
    folder = Path(app.config["STORAGE_DIR"]) / str(organisation.id) / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evil.docx").write_bytes(data)
    DocumentTemplateFactory(organisation=organisation, filename="evil.docx",
                            path=f"{organisation.id}/templates/evil.docx", size=len(data))
    with pytest.raises(DocumentError) as error:
        services.render_document(organisation, "membership_receipt", receipt_context())
    assert "object" not in str(error.value)  # no leak of what the sandbox protects


def test_not_a_docx_is_refused(client, login_as, organisation):
    login_as("treasurer")
    response = upload(client, organisation, b"%PDF-1.4 not a word file", filename="modele.pdf")
    assert response.status_code == 422 and ".docx" in response.text
    response = upload(client, organisation, b"not a zip", filename="modele.docx")
    assert response.status_code == 422 and "document Word" in response.text


def test_revert_to_default(client, login_as, organisation):
    login_as("treasurer")
    upload(client, organisation, GOOD)
    path = db.session.query(DocumentTemplate).one().abspath()
    response = client.post(f"/o/{organisation.slug}/documents/templates/membership_receipt/revert")
    assert response.status_code == 302
    assert db.session.query(DocumentTemplate).count() == 0 and not path.exists()
    assert "Attestation d'adhésion" in text_of(
        services.render_document(organisation, "membership_receipt", receipt_context()))


def test_second_upload_replaces_the_first(client, login_as, organisation):
    login_as("treasurer")
    upload(client, organisation, GOOD)
    first = db.session.query(DocumentTemplate).one().abspath()
    upload(client, organisation, make_docx(["Deuxième : {{ member.first_name }}"]), filename="v2.docx")
    row = db.session.query(DocumentTemplate).one()
    assert row.filename == "v2.docx" and not first.exists()
    assert text_of(services.render_document(organisation, "membership_receipt", receipt_context())) == "Deuxième : Léa"


def test_downloads_of_templates(client, login_as, organisation):
    login_as("treasurer")
    with client.get(f"/o/{organisation.slug}/documents/templates/membership_receipt/default.docx") as response:
        assert response.status_code == 200
        assert response.data == services.document_kind("membership_receipt").default_path.read_bytes()
        assert response.mimetype == services.DOCX_MIMETYPE
    assert client.get(f"/o/{organisation.slug}/documents/templates/membership_receipt/current.docx").status_code == 404
    upload(client, organisation, GOOD)
    with client.get(f"/o/{organisation.slug}/documents/templates/membership_receipt/current.docx") as response:
        assert response.data == GOOD
    assert client.get(f"/o/{organisation.slug}/documents/templates/nope/default.docx").status_code == 404


@pytest.mark.parametrize("role,status", [("admin", 200), ("treasurer", 200), ("board", 403), ("accountant", 403),
                                         ("member", 403)])
def test_templates_page_permissions(client, login_as, organisation, role, status):
    login_as(role)
    assert client.get(f"/o/{organisation.slug}/documents/templates").status_code == status
    assert upload(client, organisation, GOOD).status_code in ((302,) if status == 200 else (403,))


def test_templates_page_lists_the_kinds(client, login_as, organisation):
    login_as("admin")
    page = client.get(f"/o/{organisation.slug}/documents/templates").text
    assert "Attestation d&#39;adhésion" in page and "Fiche annuaire" in page
    assert "Modèle par défaut" in page


def test_logo_of_the_organisation_goes_into_the_document(app, organisation):
    from pathlib import Path

    folder = Path(app.config["STORAGE_DIR"]) / str(organisation.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logo.png").write_bytes(png_bytes())
    try:
        data = services.render_document(organisation, "membership_receipt", receipt_context(logo=None) | {})
        # the service fills "logo" only when the caller did not: here the caller said None
        assert not [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("word/media/")]
        context = receipt_context()
        del context["logo"]
        data = services.render_document(organisation, "membership_receipt", context)
        assert [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("word/media/")]
    finally:
        (folder / "logo.png").unlink()


def test_pdf_needs_libreoffice(organisation, monkeypatch):
    from backoffice.documents.errors import PdfConversionError

    monkeypatch.setattr("shutil.which", lambda *args, **kwargs: None)  # a server without LibreOffice
    with pytest.raises(PdfConversionError, match="LibreOffice"):
        services.render_document(organisation, "membership_receipt", receipt_context(), pdf=True)


def test_bulk_zip_streams_one_document_per_item(organisation):
    calls = []
    items = [(f"recu-{n}", receipt_context(receipt={"number": f"2026-{n:04d}"})) for n in range(1, 13)]
    buffer = io.BytesIO()
    count = services.render_documents_zip(organisation, "membership_receipt", items, buffer,
                                          progress=lambda done, total, message: calls.append((done, total, message)))
    assert count == 12
    archive = zipfile.ZipFile(buffer)
    assert archive.namelist() == [f"recu-{n}.docx" for n in range(1, 13)]
    assert "Reçu n° 2026-0007" in text_of(archive.read("recu-7.docx"))
    assert calls[-1][:2] == (12, 12) and calls[0][0] == 10
    assert calls[-1][2] == "Attestation d'adhésion : 12 documents produits"


def test_unknown_kind(organisation):
    with pytest.raises(DocumentError, match="inconnu"):
        services.render_document(organisation, "nope", {})


@pytest.mark.skipif(not __import__("shutil").which("soffice"), reason="LibreOffice is not installed")
def test_bulk_zip_in_pdf(organisation):
    items = [("recu-1", receipt_context()), ("recu-1", receipt_context(receipt={"number": "2026-0002"}))]
    buffer = io.BytesIO()
    calls = []
    count = services.render_documents_zip(organisation, "membership_receipt", items, buffer, pdf=True,
                                          progress=lambda *args: calls.append(args))
    archive = zipfile.ZipFile(buffer)
    assert count == 2 and archive.namelist() == ["recu-1.pdf", "recu-1 (2).pdf"]
    assert all(archive.read(name).startswith(b"%PDF") for name in archive.namelist())
    assert calls[-1][:2] == (2, 2)
