"""The demo's in-kind programme: one dermatoscope of the Pays Blanc lent to a practice, with its
custody convention, its purchase and payment in the books; a second seed adds nothing."""
from sqlalchemy import func, select

from backoffice import demo
from backoffice.extensions import db
from backoffice.grants import custody, devices
from backoffice.grants.models import DeviceStatus, GrantDevice
from backoffice.organisations.models import Organisation


def test_the_demo_lends_a_device_in_kind_with_its_convention(monkeypatch):
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    pays_blanc = db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-pays-blanc"))
    [device] = devices.devices(pays_blanc)
    assert device.status is DeviceStatus.LENT and device.programme.in_kind and device.paid_on is not None
    holder = device.current_custody
    assert holder.site is not None and holder.application.status.value == "approved"
    document = custody.current_custody_agreement(holder)
    assert document is not None and document.is_stored and document.sha256
    demo.seed()
    assert db.session.scalar(select(func.count()).select_from(GrantDevice)) == 1
