"""In kind, without HTTP: devices bought (D 2154 / C 404), paid (D 404 / C 512), lent, transferred,
returned, retired through their lifecycle, depreciated at year-end (D 6811 / C 28154) in amounts
that sum exactly to the cost, and counted in the programme's envelope."""
from datetime import date
from decimal import Decimal

import docx
import pytest
from sqlalchemy import func, select

from backoffice.accounting.models import JournalEntry
from backoffice.documents import generated
from backoffice.extensions import db
from backoffice.grants import custody as custodies
from backoffice.grants import devices, services
from backoffice.grants.models import (DEVICE_LIFECYCLE, DeviceStatus, GrantDevice, GrantLifecycleError,
                                      ProgrammeMode)
from backoffice.grants.services import GrantError
from backoffice.lifecycle import all_transitions, forbidden_transitions, history, move
from backoffice.tasks.models import Task
from tests.factories import GrantDeviceFactory, SiteFactory
from tests.grants.factories import dermatoscope_programme, submitted

D = DeviceStatus
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def in_kind(organisation):
    return dermatoscope_programme(organisation, name="Dermatoscopes prêtés 2026", mode=ProgrammeMode.IN_KIND)


def _buy(programme, serial="HD30-2026-0042", amount="749,90", on=date(2026, 3, 16), **values):
    return devices.create_device(programme, equipment_kind="Dermatoscope", equipment_model="HEINE DELTA 30",
                                 serial_number=serial, purchased_on=on, purchase_amount=amount,
                                 supplier=values.pop("supplier", "Medisafe France"),
                                 invoice_reference=values.pop("invoice_reference", "FA-2026-0311"), **values)


def _approved(organisation, programme, **kwargs):
    application = submitted(organisation, programme, **kwargs)
    services.approve(application, on=date(2026, 3, 20))
    return application


def _shape(entry):
    return entry.journal.code, [(line.account.number, "D" if line.debit else "C", line.amount,
                                 line.auxiliary.party.display_name if line.auxiliary else None) for line in entry.lines]


def _entry(organisation, source):
    return db.session.scalar(select(JournalEntry).where(JournalEntry.organisation_id == organisation.id,
                                                        JournalEntry.source == source))


# --- lifecycle -------------------------------------------------------------------------------

@pytest.mark.parametrize("source, target", all_transitions(DEVICE_LIFECYCLE))
def test_allowed_move_is_recorded_with_who_and_when(organisation, login_as, source, target):
    user = login_as("treasurer")
    device = GrantDeviceFactory(programme=dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND),
                                status=source)
    move(device, target, by=user, reason="Écran fêlé")
    [change] = history(device)
    assert (change.from_status, change.to_status, change.changed_by_id) == (source.value, target.value, user.id)
    assert change.changed_at is not None and change.organisation_id == organisation.id


@pytest.mark.parametrize("source, target", forbidden_transitions(DEVICE_LIFECYCLE))
def test_forbidden_move_is_refused_in_french(organisation, source, target):
    device = GrantDeviceFactory(programme=dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND),
                                status=source)
    with pytest.raises(GrantLifecycleError, match="Impossible de passer le matériel de « "):
        move(device, target, reason="Motif")
    assert device.status is source and history(device) == []


def test_retiring_needs_a_reason(organisation, in_kind):
    device = _buy(in_kind)
    with pytest.raises(GrantLifecycleError, match="Indiquez un motif"):
        devices.retire(device, "  ", on=date(2026, 6, 1))
    assert device.status is D.IN_STOCK and device.retired_on is None


# --- purchase and payment ---------------------------------------------------------------------

def test_purchase_and_payment_post_through_the_posting_rules(organisation, in_kind):
    device = _buy(in_kind, invoice=("Facture Medisafe.pdf", PDF))
    purchase = _entry(organisation, f"grant_devices:{device.id}:purchase")
    assert _shape(purchase) == ("OD", [("2154", "D", Decimal("749.90"), None),
                                       ("404", "C", Decimal("749.90"), "Medisafe France")])
    assert (device.invoice_filename, device.invoice_content_type) == ("Facture Medisafe.pdf", "application/pdf")
    assert devices.invoice_path(device).read_bytes() == PDF
    devices.record_device_payment(device, paid_on=date(2026, 4, 2))
    payment = _entry(organisation, f"grant_devices:{device.id}:payment")
    assert _shape(payment) == ("BQ", [("404", "D", Decimal("749.90"), "Medisafe France"),
                                      ("512", "C", Decimal("749.90"), None)])
    assert purchase.lines[1].lettering_code and purchase.lines[1].lettering_code == payment.lines[0].lettering_code
    with pytest.raises(GrantError, match="déjà payé"):
        devices.record_device_payment(device, paid_on=date(2026, 4, 3))


def test_a_supplier_typed_differently_is_the_same_auxiliary_account(organisation, in_kind):
    first = _buy(in_kind, serial="A-1", supplier="Médisafe France")
    second = _buy(in_kind, serial="A-2", supplier="  MEDISAFE   france ")
    assert first.supplier_id == second.supplier_id


@pytest.mark.parametrize("values, field, message", [
    (dict(serial="  hd30-2026-0042 "), "serial_number", "Le numéro de série HD30-2026-0042 est déjà celui d'un matériel"),
    (dict(serial="B-1", amount="0,00"), "purchase_amount", "Le prix d'achat doit être supérieur à zéro."),
    (dict(serial="B-2", amount="5 500,00"), "purchase_amount", "il dépasserait l'enveloppe du programme"),
    (dict(serial="B-3", invoice=("facture.docx", b"PK\x03\x04 pas un pdf")), "invoice", "n'est ni un PDF"),
    (dict(serial=" "), "serial_number", "Indiquez le numéro de série."),
])
def test_bad_purchases_are_refused_and_change_nothing(organisation, in_kind, values, field, message):
    _buy(in_kind, amount="749,90")
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    with pytest.raises(GrantError, match=message) as error:
        with db.session.begin_nested():
            _buy(in_kind, **values)
    assert error.value.field == field
    assert db.session.scalar(select(func.count()).select_from(GrantDevice)) == 1
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == count


def test_a_money_programme_buys_no_device(organisation, programme):
    with pytest.raises(GrantError, match="passez-le « en nature »"):
        _buy(programme)


def test_the_envelope_of_an_in_kind_programme_counts_the_purchases(organisation, in_kind):
    first = _buy(in_kind, serial="C-1", amount="749,90")
    _buy(in_kind, serial="C-2", amount="1 250,10")
    devices.record_device_payment(first, paid_on=date(2026, 4, 2))
    budget = services.budget(in_kind)
    assert (budget.granted, budget.paid, budget.committed, budget.remaining) == (
        Decimal("2000.00"), Decimal("749.90"), Decimal("1250.10"), Decimal("4000.00"))
    with pytest.raises(GrantError, match="matériel acheté : il reste « en nature »"):
        services.update_programme(in_kind, mode=ProgrammeMode.GRANT)


def test_an_in_kind_approval_commits_no_money(organisation, in_kind):
    application = _approved(organisation, in_kind)
    assert _entry(organisation, f"grant_applications:{application.id}:commitment") is None


# --- custody ------------------------------------------------------------------------------------

def test_lent_transferred_returned_lent_again_then_retired_keeps_every_holder(organisation, in_kind, login_as):
    user = login_as("treasurer")
    croisic = SiteFactory(name="Cabinet médical du Croisic", commune="Le Croisic")
    batz = SiteFactory(name="MSP de Batz-sur-Mer", commune="Batz-sur-Mer")
    first = _approved(organisation, in_kind, site=croisic)
    second = _approved(organisation, in_kind, site=batz)
    device = _buy(in_kind)
    devices.lend(device, first, on=date(2026, 4, 1), by=user)
    assert device.status is D.LENT and device.current_custody.site == croisic
    with pytest.raises(GrantError, match="déjà au cabinet Cabinet médical du Croisic"):
        devices.transfer(device, first, site=croisic, on=date(2026, 5, 1))
    devices.transfer(device, second, site=batz, on=date(2026, 6, 15), by=user)
    devices.return_device(device, on=date(2026, 9, 30), by=user, reason="Départ en retraite")
    assert device.status is D.RETURNED and device.current_custody is None
    devices.lend(device, first, on=date(2026, 10, 5), by=user)
    devices.retire(device, "Tombé, optique cassée", on=date(2026, 11, 20), by=user)
    assert [(c.site.name, c.started_on, c.ended_on, c.end_reason) for c in device.custodies] == [
        ("Cabinet médical du Croisic", date(2026, 4, 1), date(2026, 6, 15), "transferred"),
        ("MSP de Batz-sur-Mer", date(2026, 6, 15), date(2026, 9, 30), "returned"),
        ("Cabinet médical du Croisic", date(2026, 10, 5), date(2026, 11, 20), "retired"),
    ]
    assert [(h.to_status, h.changed_by_id) for h in history(device)] == [
        ("lent", user.id), ("transferred", user.id), ("returned", user.id), ("lent", user.id), ("retired", user.id)]
    assert history(device)[-1].reason == "Tombé, optique cassée" and device.retired_on == date(2026, 11, 20)


def test_a_device_is_lent_only_to_an_approved_application_of_its_programme(organisation, in_kind, programme):
    device = _buy(in_kind)
    waiting = submitted(organisation, in_kind)
    with pytest.raises(GrantError, match=f"la demande {waiting.reference} est « Déposée »"):
        devices.lend(device, waiting, on=date(2026, 4, 1))
    elsewhere = _approved(organisation, programme)
    with pytest.raises(GrantError, match="Choisissez une demande de ce programme"):
        devices.lend(device, elsewhere, on=date(2026, 4, 1))
    with pytest.raises(GrantError, match="La date ne peut pas précéder le 16/03/2026"):
        devices.lend(device, _approved(organisation, in_kind), on=date(2026, 3, 1))
    assert device.status is D.IN_STOCK and device.custodies == []


def test_custody_convention_issued_by_a_job_versions_kept(app, organisation, in_kind):
    from backoffice.tasks.services import start_task
    from jobs.grants import grant_custody

    application = _approved(organisation, in_kind, site=SiteFactory(name="Cabinet médical du Croisic",
                                                                     commune="Le Croisic"))
    device = _buy(in_kind)
    custody = devices.lend(device, application, on=date(2026, 4, 1))

    def issue():
        task = start_task(organisation=organisation, user=None, kind="grants.custody", label="Mise à disposition",
                          job=grant_custody, params={"custody_id": custody.id})
        db.session.commit()
        db.session.expire_all()
        return db.session.get(Task, task.id)

    task = issue()
    assert task.status.value == "done", task.message
    first = custodies.current_custody_agreement(custody)
    text = "\n".join(p.text for p in docx.Document(str(first.abspath())).paragraphs)
    assert "Convention de mise à disposition de matériel" in text
    assert "Cabinet médical du Croisic (Le Croisic)" in text and application.applicant.display_name in text
    cells = [c.text for t in docx.Document(str(first.abspath())).tables for row in t.rows for c in row.cells]
    assert "HD30-2026-0042" in cells and "749,90\u00a0€" in cells
    assert first.number == "2026-0001" and generated.verify(first)
    issue()
    assert [(d.version, d.status.value) for d in custodies.custody_agreement_versions(custody)] == [
        (2, "generated"), (1, "superseded")]
    assert first.abspath().is_file() and generated.verify(first)


# --- depreciation -------------------------------------------------------------------------------

def test_days_360_counts_months_of_thirty_days():
    assert devices.days_360(date(2026, 1, 1), date(2027, 1, 1)) == 360
    assert devices.days_360(date(2026, 3, 16), date(2027, 1, 1)) == 285
    assert devices.days_360(date(2026, 1, 31), date(2026, 3, 1)) == 31  # 31 counts as 30


def test_first_year_is_prorata_temporis_then_full_years(organisation, in_kind):
    device = _buy(in_kind, amount="749,90", on=date(2026, 3, 16))
    # 749,90 / 3 years = 249,966… a year; 2026 from 16 March: 285 days of 360.
    assert [(a.year, a.amount, a.net_value) for a in devices.depreciation_schedule(device)] == [
        (2026, Decimal("197.89"), Decimal("552.01")),
        (2027, Decimal("249.97"), Decimal("302.04")),
        (2028, Decimal("249.96"), Decimal("52.08")),
        (2029, Decimal("52.08"), Decimal("0.00")),
    ]


@pytest.mark.parametrize("amount, purchased_on, years, start_month", [
    ("749,90", date(2026, 3, 16), 3, 1),
    ("1 000,00", date(2026, 1, 1), 3, 1),     # whole years: 333,33 + 333,33 + 333,34
    ("999,99", date(2026, 12, 31), 3, 1),     # one day in the first year
    ("100,01", date(2028, 2, 29), 4, 1),      # a leap day
    ("2 345,67", date(2026, 8, 20), 5, 7),    # a fiscal year from July to June
    ("0,07", date(2026, 5, 5), 3, 1),         # fewer cents than days
    ("12 000,00", date(2026, 6, 30), 1, 1),
])
def test_the_whole_life_sums_exactly_to_the_cost(organisation, amount, purchased_on, years, start_month):
    organisation.fiscal_year_start_month = start_month
    programme = dermatoscope_programme(organisation, mode=ProgrammeMode.IN_KIND, depreciation_years=years,
                                       envelope=Decimal("20000.00"))
    device = _buy(programme, amount=amount, on=purchased_on)
    schedule = devices.depreciation_schedule(device)
    assert sum(a.amount for a in schedule) == device.purchase_amount
    assert all(a.amount > 0 for a in schedule) and schedule[-1].net_value == Decimal("0.00")
    assert all(a.cumulated <= device.purchase_amount for a in schedule)
    assert len(schedule) <= years + 1
    posted = [devices.post_depreciation(device, a.year) for a in schedule]
    assert sum(e.total for e in posted) == device.purchase_amount


def test_depreciation_is_posted_once_per_device_and_year(organisation, in_kind):
    device = _buy(in_kind)
    other = _buy(in_kind, serial="HD30-2026-0043", amount="1 080,00", on=date(2026, 1, 1))
    entries = devices.post_programme_depreciation(in_kind, 2026)
    assert sorted(e.total for e in entries) == [Decimal("197.89"), Decimal("360.00")]
    entry = _entry(organisation, f"grant_devices:{device.id}:depreciation:2026")
    assert _shape(entry) == ("OD", [("6811", "D", Decimal("197.89"), None), ("28154", "C", Decimal("197.89"), None)])
    assert entry.entry_date == date(2026, 12, 31)
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    again = devices.post_programme_depreciation(in_kind, 2026)
    assert {e.id for e in again} == {e.id for e in entries}
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == count
    assert devices.pending_depreciation(organisation, 2026) == []
    assert set(devices.pending_depreciation(organisation, 2027)) == {device, other}
    assert devices.post_depreciation(other, 2029) is None  # bought on 1 January: fully depreciated in 2028


def test_a_retired_device_stops_being_depreciated(organisation, in_kind):
    device = _buy(in_kind, amount="1 080,00", on=date(2026, 1, 1))
    devices.retire(device, "Volé au cabinet", on=date(2026, 7, 1))
    # Half a year: 1 080 / 3 × 180/360.
    assert [(a.year, a.amount) for a in devices.depreciation_schedule(device)] == [(2026, Decimal("180.00"))]
    assert devices.post_depreciation(device, 2027) is None


def _device_balance(organisation, device, number):
    """Debit minus credit of account ``number`` over the entries of ``device``."""
    from backoffice.accounting.models import Account, JournalLine

    return db.session.scalar(
        select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id).join(Account, JournalLine.account_id == Account.id)
        .where(JournalEntry.organisation_id == organisation.id, Account.number == number,
               JournalEntry.source.like(f"grant_devices:{device.id}:%")))


def test_retiring_takes_the_device_off_the_books_at_its_net_book_value(organisation, in_kind):
    device = _buy(in_kind, amount="1 080,00", on=date(2025, 1, 1))
    devices.post_depreciation(device, 2025)  # 360,00 at the end of 2025; 2026 not posted yet
    devices.retire(device, "Tombé, optique cassée", on=date(2026, 7, 1))
    # First the complement of 2026 up to the retirement (half a year: 180,00), on that day.
    annuity = _entry(organisation, f"grant_devices:{device.id}:depreciation:2026")
    assert (annuity.total, annuity.entry_date) == (Decimal("180.00"), date(2026, 7, 1))
    disposal = _entry(organisation, f"grant_devices:{device.id}:disposal")
    assert _shape(disposal) == ("OD", [("28154", "D", Decimal("540.00"), None), ("675", "D", Decimal("540.00"), None),
                                       ("2154", "C", Decimal("1080.00"), None)])
    assert disposal.entry_date == date(2026, 7, 1) and disposal.event == "device_disposed"
    assert sum(l.debit for l in disposal.lines) == sum(l.credit for l in disposal.lines) == Decimal("1080.00")
    assert _device_balance(organisation, device, "2154") == 0
    assert _device_balance(organisation, device, "28154") == 0
    assert _device_balance(organisation, device, "675") == Decimal("540.00")
    # Once per device: posting it again is the same entry, and no annuity follows the retirement.
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    assert devices.post_disposal(device).id == disposal.id
    assert devices.post_programme_depreciation(in_kind, 2026) == [annuity]
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == count
    assert devices.pending_depreciation(organisation, 2026) == []


def test_a_device_retired_the_day_it_was_bought_leaves_at_its_cost(organisation, in_kind):
    device = _buy(in_kind, amount="749,90", on=date(2026, 3, 16))
    devices.retire(device, "Livré cassé, non remplacé", on=date(2026, 3, 16))
    assert _entry(organisation, f"grant_devices:{device.id}:depreciation:2026") is None
    disposal = _entry(organisation, f"grant_devices:{device.id}:disposal")
    assert _shape(disposal) == ("OD", [("675", "D", Decimal("749.90"), None), ("2154", "C", Decimal("749.90"), None)])
    assert _device_balance(organisation, device, "2154") == 0


def test_the_closing_checklist_warns_of_devices_not_depreciated(organisation, in_kind):
    from backoffice.accounting import services as accounting

    def check():
        return next(c for c in accounting.closing_checklist(organisation, 2026) if c.key == "grants_depreciation")

    assert all(c.key != "grants_depreciation" for c in accounting.closing_checklist(organisation, 2026))
    device = _buy(in_kind)
    warning = check()
    assert (warning.count, warning.blocking, warning.endpoint) == (1, False, "grants.devices_index")
    assert warning.message.startswith("1 matériel(s) prêté(s) non amorti(s) pour l'exercice")
    devices.post_depreciation(device, 2026)
    assert check().ok and check().message == "Le matériel prêté est amorti pour l'exercice."
