"""The member's space: he applies with a photo of his quote, sees why he may not yet submit,
submits, signs his convention online; nobody else sees his application or his files."""
import html
import io
from datetime import date

from flask import url_for
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.grants import services
from backoffice.grants.models import GrantApplication, GrantAttachment, GrantStatus
from tests.factories import ProfessionalFactory, SiteFactory, UserFactory
from tests.grants.factories import dermatoscope_programme, paid_member, submitted

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _url(endpoint, **values):
    return url_for(endpoint, org="cpts-test", **values)


def _member(login_as, party):
    return login_as("member", user=UserFactory(party_id=party.id, email=f"compte-{party.id}@example.org"))


def test_member_applies_submits_and_signs(app, client, login_as, organisation, monkeypatch):
    monkeypatch.setattr(services, "_today", lambda: date(2026, 3, 2))
    programme = dermatoscope_programme(organisation, required_documents={"quote": "submitted"},
                                       closes_on=None)
    party = paid_member(organisation, first_name="Maëlys", last_name="Le Gall")
    SiteFactory(name="Cabinet de Batz-sur-Mer", commune="Batz-sur-Mer")
    _member(login_as, party)
    page = client.get(_url("grants.member.apply", programme_id=programme.id)).get_data(as_text=True)
    assert "Adhérent à jour" in page and "Indiquez la date à laquelle vous avez suivi" in page
    response = client.post(_url("grants.member.apply", programme_id=programme.id), data={
        "site_id": 0, "equipment_kind": "Dermatoscope", "equipment_model": "DermLite DL5",
        "quoted_price": "750", "amount_requested": "600,00", "training_on": "2026-02-03",
        "quote": (io.BytesIO(JPEG), "IMG_2041.jpeg")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    application = db.session.scalar(select(GrantApplication).where(GrantApplication.applicant_id == party.id))
    assert [a.content_type for a in application.attachments] == ["image/jpeg"]
    response = client.post(_url("grants.member.submit", application_id=application.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert application.status is GrantStatus.SUBMITTED
    services.approve(application)
    from backoffice.grants import agreements

    agreements.issue_agreement(application)
    page = client.get(_url("grants.member.show", application_id=application.id)).get_data(as_text=True)
    assert "Signer en ligne" in page
    assert "IMG_2041.jpeg</a>\n      <small class=\"text-muted\">68 octets ·" in page  # not « 0 Ko »
    refused = client.post(_url("grants.member.sign", application_id=application.id))
    assert refused.status_code == 422 and "Cochez" in refused.get_data(as_text=True)
    response = client.post(_url("grants.member.sign", application_id=application.id), data={"accept": "oui"},
                           environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert response.status_code == 302
    db.session.expire_all()
    assert application.status is GrantStatus.AGREEMENT_SIGNED and application.signed_ip == "198.51.100.23"


def test_a_non_pdf_quote_is_refused_and_nothing_is_saved(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, closes_on=None, opens_on=None)
    party = paid_member(organisation)
    _member(login_as, party)
    response = client.post(_url("grants.member.apply", programme_id=programme.id), data={
        "site_id": 0, "equipment_kind": "Dermatoscope", "quoted_price": "750", "amount_requested": "600",
        "quote": (io.BytesIO(b"MZ\x90\x00 un executable"), "devis.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "« devis.pdf » n'est ni un PDF, ni une image JPEG ou PNG." in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(GrantApplication)) is None


def test_files_and_pages_are_the_applicants_and_staffs_only(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation)
    application = submitted(organisation, programme)
    from backoffice.grants import attachments

    row = attachments.add_attachment(application, "quote", "devis.jpg", JPEG)
    db.session.flush()
    other = paid_member(organisation)
    _member(login_as, other)
    assert client.get(_url("grants.attachment", attachment_id=row.id)).status_code == 404
    assert client.get(_url("grants.member.show", application_id=application.id)).status_code == 404
    _member(login_as, application.applicant)
    response = client.get(_url("grants.attachment", attachment_id=row.id))
    assert response.status_code == 200 and response.data == JPEG
    login_as("board")
    assert client.get(_url("grants.attachment", attachment_id=row.id)).status_code == 200
    login_as("treasurer", org=None)
    from tests.factories import OrganisationFactory

    login_as("treasurer", org=OrganisationFactory(slug="cpts-voisine"))
    assert client.get(_url("grants.attachment", attachment_id=row.id)).status_code == 404
    assert db.session.get(GrantAttachment, row.id) is not None
    ProfessionalFactory()  # noqa: the directory stays untouched


def test_beneficiary_reports_a_quarter_once(app, client, login_as, organisation, monkeypatch):
    from backoffice.grants import agreements, payments
    from backoffice.grants.models import GrantFollowUp

    monkeypatch.setattr(services, "_today", lambda: date(2026, 7, 3))
    programme = dermatoscope_programme(organisation)
    application = submitted(organisation, programme)
    services.approve(application)
    agreements.issue_agreement(application)
    agreements.sign_by_scan(application, "convention.pdf", b"%PDF-1.4\n%%EOF\n")
    payments.record_payment(application, paid_on=date(2026, 5, 12))
    _member(login_as, application.applicant)
    form = {"year": "2026", "quarter": "2", "screenings": "31", "referrals": "3"}
    assert client.post(_url("grants.member.follow_up", application_id=application.id), data=form).status_code == 302
    again = client.post(_url("grants.member.follow_up", application_id=application.id), data=form)
    assert again.status_code == 422
    assert "Le trimestre T2 2026 est déjà déclaré (31 dépistages)." in html.unescape(again.get_data(as_text=True))
    future = client.post(_url("grants.member.follow_up", application_id=application.id), data=form | {"quarter": "4"})
    assert future.status_code == 422 and "pas encore commencé" in html.unescape(future.get_data(as_text=True))
    assert [(f.quarter, f.screenings) for f in db.session.scalars(select(GrantFollowUp))] == [(2, 31)]


def test_the_beneficiary_sees_the_device_lent_to_him_and_downloads_only_his_convention(app, client, login_as,
                                                                                        organisation):
    from backoffice.grants import custody as custodies
    from backoffice.grants import devices
    from backoffice.grants.models import ProgrammeMode
    from tests.factories import OrganisationFactory

    programme = dermatoscope_programme(organisation, name="Dermatoscopes prêtés 2026", mode=ProgrammeMode.IN_KIND)
    croisic = SiteFactory(name="Cabinet médical du Croisic", commune="Le Croisic")
    mine = submitted(organisation, programme, site=croisic)
    theirs = submitted(organisation, programme)
    for application in (mine, theirs):
        services.approve(application, on=date(2026, 3, 20))
    device = devices.create_device(programme, equipment_kind="Dermatoscope", equipment_model="HEINE DELTA 30",
                                   serial_number="hd30-2026-0042", purchased_on=date(2026, 3, 16),
                                   purchase_amount="749,90", supplier="Medisafe France")
    other_device = devices.create_device(programme, equipment_kind="Dermatoscope", serial_number="DL5-0007",
                                         purchased_on=date(2026, 3, 16), purchase_amount="690,00",
                                         supplier="Medisafe France")
    convention = custodies.issue_custody_agreement(devices.lend(device, mine, on=date(2026, 4, 1)))
    theirs_convention = custodies.issue_custody_agreement(devices.lend(other_device, theirs, on=date(2026, 4, 2)))
    db.session.flush()

    _member(login_as, mine.applicant)
    home = client.get(_url("grants.member.index")).get_data(as_text=True)
    assert "Le matériel qui m&#39;est prêté (1)" in home or "Le matériel qui m'est prêté (1)" in home
    response = client.get(_url("grants.member.devices_lent"))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and 'name="viewport"' in page  # the phone-sized layout of base.html
    assert "HEINE DELTA 30" in page and "HD30-2026-0042" in page and "Cabinet médical du Croisic" in page
    assert "du 01/04/2026" in page and "749,90\u00a0€" in page
    assert f"convention de mise à disposition n° {convention.number}" in page
    assert "DL5-0007" not in page  # the other beneficiary's device
    download = client.get(url_for("documents.download_document", org="cpts-test", document_id=convention.id))
    assert download.status_code == 200 and download.data == convention.abspath().read_bytes()
    assert client.get(url_for("documents.download_document", org="cpts-test",
                              document_id=theirs_convention.id)).status_code == 403

    _member(login_as, theirs.applicant)
    page = client.get(_url("grants.member.devices_lent")).get_data(as_text=True)
    assert "DL5-0007" in page and "HD30-2026-0042" not in page
    assert client.get(url_for("documents.download_document", org="cpts-test",
                              document_id=convention.id)).status_code == 403
    # A member who holds no device sees none; staff of another organisation get nothing.
    _member(login_as, paid_member(organisation))
    assert "Aucun matériel ne vous est prêté." in client.get(_url("grants.member.devices_lent")).get_data(as_text=True)
    login_as("treasurer", org=OrganisationFactory(slug="cpts-voisine"))
    assert client.get(url_for("documents.download_document", org="cpts-test",
                              document_id=convention.id)).status_code == 404


def test_the_application_page_says_what_the_programme_gives(app, client, login_as, organisation):
    """Without a ceiling the page said « Aide au plus : aucun. », which reads as « no aid at all »."""
    from backoffice.grants.models import ProgrammeMode

    with_ceiling = dermatoscope_programme(organisation)
    in_kind = dermatoscope_programme(organisation, name="Dermatoscopes prêtés", mode=ProgrammeMode.IN_KIND,
                                     ceiling_amount=None, ceiling_rate=None)
    unlimited = dermatoscope_programme(organisation, name="Sans plafond", ceiling_amount=None, ceiling_rate=None)
    _member(login_as, paid_member(organisation))

    def page(programme):
        return html.unescape(client.get(_url("grants.member.apply", programme_id=programme.id)).get_data(as_text=True))

    assert "Aide au plus : 600,00\u00a0€ ou 80 % du devis (le plus bas des deux)." in page(with_ceiling)
    assert "prêté à votre cabinet, sous convention de mise à disposition" in page(in_kind)
    assert "Aide au plus" not in page(in_kind) and "Aide au plus" not in page(unlimited)
