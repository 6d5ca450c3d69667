"""Each action of a device's page refused by its own form (a missing holder, an unreadable date, an
empty reason, a choice not offered, an expired form) or by the service answers 422: the page
again, the refused form as typed with its French message under its field, nothing written."""
import html
import re
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select

from backoffice.accounting.models import JournalEntry
from backoffice.extensions import db
from backoffice.forms import DATE_ERROR, EXPIRED, REQUIRED
from backoffice.grants import devices, services
from backoffice.grants.forms import HOLDER_MISSING
from backoffice.grants.models import GrantDevice, GrantDeviceCustody, ProgrammeMode
from backoffice.lifecycle import StatusChange
from tests.factories import SiteFactory
from tests.grants.factories import dermatoscope_programme, submitted

NOT_OFFERED = "N'est pas un choix valide."            # WTForms' own messages, in French (Babel locale fr)
NOT_A_NUMBER = "Choix non valide, ne peut pas être converti."


def _url(endpoint, **values):
    return url_for(endpoint, org="cpts-test", **values)


@pytest.fixture
def device(organisation):
    """A dermatoscope bought on 16/03/2026, in stock, for an in-kind programme with one approved application."""
    programme = dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND)
    approved = submitted(organisation, programme, site=SiteFactory(name="Cabinet médical du Croisic"))
    services.approve(approved, on=date(2026, 3, 20))
    return devices.create_device(programme, equipment_kind="Dermatoscope", serial_number="HD30-2026-0042",
                                 purchased_on=date(2026, 3, 16), purchase_amount="749,90", supplier="Medisafe France")


@pytest.fixture
def lent(device):
    application = devices.holders(device.programme)[0]
    devices.lend(device, application, on=date(2026, 4, 1))
    return device


def _written(device):
    db.session.expire_all()
    row = db.session.get(GrantDevice, device.id)
    return (row.status, row.paid_on, row.retired_on,
            *(db.session.scalar(select(func.count()).select_from(model))
              for model in (GrantDeviceCustody, StatusChange, JournalEntry)))


def _error_under(page, field_id):
    """The messages under the field ``field_id`` of the page (its invalid-feedback)."""
    found = re.search(rf'<div class="invalid-feedback" id="{field_id}-err">(.*?)</div>', page, re.S)
    return re.findall(r'<p class="mb-0">(.*?)</p>', html.unescape(found.group(1))) if found else []


def _post(client, device, endpoint, data):
    db.session.commit()  # the setup's mails are delivered (inline in tests) before the form is sent
    before = _written(device)
    response = client.post(_url(endpoint, device_id=device.id), data=data)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert _written(device) == before  # nothing written
    return response.get_data(as_text=True)


@pytest.mark.parametrize("data, field_id, message", [
    ({"site_id": "0", "on": "01/04/2026"}, "lend-application", HOLDER_MISSING),
    ({"application_id": "0", "site_id": "0", "on": "01/04/2026"}, "lend-application", HOLDER_MISSING),
    ({"application_id": "la demande", "site_id": "0", "on": "01/04/2026"}, "lend-application", NOT_A_NUMBER),
    ({"application_id": "{app}", "site_id": "999999", "on": "01/04/2026"}, "lend-site", NOT_OFFERED),
    ({"application_id": "{app}", "site_id": "0", "on": "31/02/2026"}, "lend-on", DATE_ERROR),
    # refused by the service: its message under the field it names
    ({"application_id": "{app}", "site_id": "0", "on": "01/03/2026"}, "lend-on",
     "La date ne peut pas précéder le 16/03/2026."),
])
def test_a_refused_loan_says_what_is_wrong_under_its_field(client, login_as, device, data, field_id, message):
    application = devices.holders(device.programme)[0]
    data = {name: value.format(app=application.id) for name, value in data.items()}
    login_as("treasurer")
    page = _post(client, device, "grants.lend_device", data)
    assert _error_under(page, field_id) == [message]
    assert "Date invalide" not in page or message == DATE_ERROR
    if "on" in data:
        assert f'value="{data["on"]}"' in page  # as typed


def test_a_transfer_without_a_holder_is_refused_under_the_holder(client, login_as, lent):
    login_as("treasurer")
    page = _post(client, lent, "grants.transfer_device", {"site_id": "0", "on": "15/06/2026"})
    assert _error_under(page, "lend-application") == [HOLDER_MISSING]
    assert 'value="15/06/2026"' in page


def test_a_transfer_to_the_same_practice_is_refused_under_the_practice(client, login_as, lent):
    custody = lent.current_custody
    login_as("treasurer")
    page = _post(client, lent, "grants.transfer_device", {
        "application_id": custody.application_id, "site_id": custody.site_id, "on": "15/06/2026"})
    assert _error_under(page, "lend-site") == [
        "Le matériel est déjà au cabinet Cabinet médical du Croisic chez ce bénéficiaire."]


def test_a_return_on_an_unreadable_day_is_refused_as_typed(client, login_as, lent):
    login_as("treasurer")
    page = _post(client, lent, "grants.return_device", {"on": "le 3 juin", "reason": "Départ en retraite"})
    assert _error_under(page, "return-on") == [DATE_ERROR]
    assert 'value="le 3 juin"' in page and 'value="Départ en retraite"' in page


@pytest.mark.parametrize("data, field_id, message", [
    ({"on": "20/06/2026", "reason": "   "}, "retire-reason", REQUIRED),
    ({"on": "20/06/2026", "reason": "Cassé " * 100}, "retire-reason", "Le champ ne peut pas contenir plus de 500 caractères."),
    ({"on": "2026-13-01", "reason": "Cassé lors d'une chute"}, "retire-on", DATE_ERROR),
])
def test_a_refused_retirement_says_what_is_wrong_under_its_field(client, login_as, lent, data, field_id, message):
    login_as("treasurer")
    page = _post(client, lent, "grants.retire_device", data)
    assert _error_under(page, field_id) == [message]


def test_a_supplier_payment_on_an_unreadable_day_is_refused_as_typed(client, login_as, device):
    login_as("treasurer")
    page = _post(client, device, "grants.pay_device", {"paid_on": "30/02/2026"})
    assert _error_under(page, "pay-on") == [DATE_ERROR]
    assert 'value="30/02/2026"' in page


def test_a_supplier_payment_before_the_purchase_is_refused_under_its_date(client, login_as, device):
    login_as("treasurer")
    page = _post(client, device, "grants.pay_device", {"paid_on": "02/03/2026"})
    assert _error_under(page, "pay-on") == ["Le paiement ne peut pas précéder l'achat."]


@pytest.fixture
def form_checks_csrf(app, monkeypatch):
    """The forms check their CSRF token themselves (the global check, which answers 400 before the
    view, off): what a view does with a form refused for it."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", False)


@pytest.mark.parametrize("endpoint, data", [
    ("grants.pay_device", {"paid_on": "20/03/2026"}),
    ("grants.retire_device", {"on": "20/03/2026", "reason": "Cassé"}),
    ("grants.lend_device", {"application_id": "{app}", "site_id": "0", "on": "01/04/2026"}),
])
def test_an_expired_form_says_so_and_nothing_is_written(client, login_as, device, form_checks_csrf, endpoint, data):
    application = devices.holders(device.programme)[0]
    data = {name: value.format(app=application.id) for name, value in data.items()} | {"csrf_token": "expiré"}
    login_as("treasurer")
    page = html.unescape(_post(client, device, endpoint, data))
    assert EXPIRED in page and "CSRF" not in page and "Date invalide" not in page


def test_an_expired_purchase_form_says_so(client, login_as, device, form_checks_csrf):
    login_as("treasurer")
    response = client.post(_url("grants.new_device", programme_id=device.programme_id), data={
        "equipment_kind": "Dermatoscope", "serial_number": "HD30-2026-0043", "purchased_on": "16/03/2026",
        "purchase_amount": "749,90", "supplier": "Medisafe France", "csrf_token": "expiré"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert EXPIRED in page and "CSRF" not in page and 'value="HD30-2026-0043"' in page
    assert db.session.scalar(select(func.count()).select_from(GrantDevice)) == 1


def test_the_page_offers_today_in_each_date_field(client, login_as, lent):
    login_as("treasurer")
    page = client.get(_url("grants.device", device_id=lent.id)).get_data(as_text=True)
    today = date.today().isoformat()
    for field_id in ("lend-on", "return-on", "retire-on"):
        assert re.search(rf'id="{field_id}"[^>]*value="{today}"|value="{today}"[^>]*id="{field_id}"', page), field_id
    assert _error_under(page, "lend-application") == []

