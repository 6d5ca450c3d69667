"""In kind through HTTP: the treasurer sets a programme in kind, records a purchase with its
invoice, lends the device, has its custody convention issued, transfers it, posts the year's
depreciation; refusals come back as typed (422) and change nothing."""
import io
from datetime import date
from decimal import Decimal

from flask import url_for
from sqlalchemy import func, select

from backoffice.accounting.models import JournalEntry
from backoffice.extensions import db
from backoffice.grants import devices, services
from backoffice.grants.models import DeviceStatus, GrantDevice, ProgrammeMode
from tests.factories import SiteFactory
from tests.grants.factories import dermatoscope_programme, submitted

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _url(endpoint, **values):
    return url_for(endpoint, org="cpts-test", **values)


def _purchase_form(**overrides):
    form = {"equipment_kind": "Dermatoscope", "equipment_model": "HEINE DELTA 30", "serial_number": "hd30-2026-0042",
            "purchased_on": "16/03/2026", "purchase_amount": "749,90 €", "supplier": "Medisafe France",
            "invoice_reference": "FA-2026-0311",
            "invoice": (io.BytesIO(PDF), "Facture Medisafe mars.pdf")}
    form.update(overrides)
    return form


def test_the_programme_form_sets_a_programme_in_kind(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation)
    login_as("treasurer")
    form = {"name": programme.name, "envelope": "6 000,00", "mode": "in_kind", "depreciation_years": "5",
            "one_per": "professional", "doc_quote": "", "doc_training_certificate": "", "doc_signed_agreement": "",
            "doc_invoice": "", "requires_membership": "y"}
    response = client.post(_url("grants.edit_programme", programme_id=programme.id), data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(programme)
    assert (programme.mode, programme.depreciation_years) == (ProgrammeMode.IN_KIND, 5)
    page = client.get(response.location).get_data(as_text=True)
    assert "Matériel prêté (programme en nature)" in page and "l'amortit sur 5 an(s)" in page


def test_treasurer_buys_lends_and_transfers_a_device(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND)
    croisic = SiteFactory(name="Cabinet médical du Croisic", commune="Le Croisic")
    batz = SiteFactory(name="MSP de Batz-sur-Mer", commune="Batz-sur-Mer")
    first = submitted(organisation, programme, site=croisic)
    second = submitted(organisation, programme, site=batz)
    services.approve(first, on=date(2026, 3, 20))
    services.approve(second, on=date(2026, 3, 20))
    login_as("treasurer")

    response = client.post(_url("grants.new_device", programme_id=programme.id), data=_purchase_form(),
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    device = db.session.scalar(select(GrantDevice))
    assert (device.serial_number, device.purchase_amount) == ("HD30-2026-0042", Decimal("749.90"))
    page = client.get(response.location).get_data(as_text=True)
    assert "achat comptabilisé (D 2154 / C 404)" in page and "Facture Medisafe mars.pdf" in page
    assert "197,89\u00a0€" in page  # the first annuity of the plan
    assert 'data-confirm="Sortir ce matériel de l\'inventaire ? C\'est définitif."' in page  # cannot be undone
    invoice = client.get(_url("grants.device_invoice", device_id=device.id))
    assert invoice.status_code == 200 and invoice.data == PDF

    response = client.post(_url("grants.lend_device", device_id=device.id),
                           data={"application_id": first.id, "site_id": croisic.id, "on": "01/04/2026"})
    assert response.status_code == 302
    db.session.refresh(device)
    assert device.status is DeviceStatus.LENT

    response = client.post(_url("grants.custody_agreement", device_id=device.id))
    assert response.status_code == 302
    task_page = client.get(response.location).get_data(as_text=True)
    assert "Terminée" in task_page and "mise-a-disposition-hd30-2026-0042-" in task_page

    response = client.post(_url("grants.transfer_device", device_id=device.id),
                           data={"application_id": second.id, "site_id": batz.id, "on": "15/06/2026"})
    assert response.status_code == 302
    page = client.get(_url("grants.device", device_id=device.id)).get_data(as_text=True)
    assert "MSP de Batz-sur-Mer" in page and "au 15/06/2026 (transféré)" in page
    assert "Convention n° 2026-0001, version 1" in page  # the first holder's convention stays listed

    listing = client.get(_url("grants.devices_index")).get_data(as_text=True)
    assert "HD30-2026-0042" in listing and "Transféré" in listing
    budget = client.get(_url("grants.programme", programme_id=programme.id)).get_data(as_text=True)
    assert "749,90\u00a0€" in budget and "Matériel acheté, non payé" in budget


def test_a_second_device_with_the_same_serial_comes_back_as_typed(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND)
    devices.create_device(programme, equipment_kind="Dermatoscope", serial_number="HD30-2026-0042",
                          purchased_on=date(2026, 3, 16), purchase_amount="749,90", supplier="Medisafe")
    login_as("treasurer")
    entries = db.session.scalar(select(func.count()).select_from(JournalEntry))
    response = client.post(_url("grants.new_device", programme_id=programme.id),
                           data=_purchase_form(serial_number=" HD30-2026-0042", purchase_amount="812,00"),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Le numéro de série HD30-2026-0042 est déjà celui d&#39;un matériel" in page and 'value="812,00"' in page
    assert db.session.scalar(select(func.count()).select_from(GrantDevice)) == 1
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == entries


def test_lending_to_an_application_not_approved_is_refused(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND)
    waiting = submitted(organisation, programme)
    device = devices.create_device(programme, equipment_kind="Dermatoscope", serial_number="HD30-1",
                                   purchased_on=date(2026, 3, 16), purchase_amount="749,90", supplier="Medisafe")
    login_as("treasurer")
    response = client.post(_url("grants.lend_device", device_id=device.id),
                           data={"application_id": waiting.id, "site_id": 0, "on": "01/04/2026"})
    assert response.status_code == 422
    assert "est « Déposée »" in response.get_data(as_text=True)
    db.session.refresh(device)
    assert device.status is DeviceStatus.IN_STOCK and device.custodies == []


def test_the_depreciation_button_posts_the_year_once(app, client, login_as, organisation):
    programme = dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND)
    devices.create_device(programme, equipment_kind="Dermatoscope", serial_number="HD30-1",
                          purchased_on=date(2026, 3, 16), purchase_amount="749,90", supplier="Medisafe")
    login_as("treasurer")
    url = _url("grants.depreciation", programme_id=programme.id)
    response = client.post(url, data={"year": "2026"}, follow_redirects=True)
    assert "Amortissements 2026 : 1 matériel(s), 197,89\u00a0€." in response.get_data(as_text=True)
    client.post(url, data={"year": "2026"})
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.source.like("grant_devices:%:depreciation:2026"))) == 1
    response = client.post(url, data={"year": "deux mille"})
    assert response.status_code == 303
