"""In-kind programmes: the devices the organisation buys and lends, their holders, their books.

A device (``GrantDevice``) of an in-kind programme is the organisation's asset:

* its purchase posts ``device_purchased`` D 2154 / C 404 (the supplier's auxiliary account),
  source ``grant_devices:<id>:purchase``, and its payment ``device_paid`` D 404 / C 512, source
  ``grant_devices:<id>:payment`` (lettered against the purchase on 404 by the accounting module);
* it moves through ``DEVICE_LIFECYCLE`` (in stock → lent → transferred → returned → lent again,
  or retired), every move a ``status_changes`` row (who, when, why); each holder is a
  ``GrantDeviceCustody`` row — a practice and the beneficiary of an approved application of the
  programme — with its *convention de mise à disposition* (``backoffice.grants.custody``);
* it is depreciated straight-line at each year-end, ``device_depreciation`` D 6811 / C 28154,
  source ``grant_devices:<id>:depreciation:<year>`` (once per device and year), the amounts of
  its whole life summing exactly to its cost (:func:`depreciation_schedule`);
* its retirement takes it off the books (:func:`post_disposal`): the annuity of the year up to
  the retirement date, then D 28154 (what was depreciated) / D 675 (the net book value) /
  C 2154 (the cost), source ``grant_devices:<id>:disposal``.

The purchases count in the programme's envelope (``services.budget``); a purchase is checked
against it under the programme's lock, as approvals are.

Services flush and never commit; refusals are ``GrantError`` (French, ``field``).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from backoffice import uploads
from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.formatting import format_date_short, format_money
from backoffice.grants.models import (GRANTED_STATUSES, DeviceStatus, GrantApplication, GrantDevice,
                                      GrantDeviceCustody)
from backoffice.grants.services import GrantError, _actor_id, _today, lock_programme
from backoffice.lifecycle import move
from backoffice.models import ZERO
from backoffice.money import clean_amount

D = DeviceStatus
CENT = Decimal("0.01")


def _accounting():
    from backoffice.accounting import services as accounting

    return accounting


def _guarded(posting, *args, **kwargs):
    """``posting(*args, **kwargs)``, the accounting's refusal turned into a ``GrantError``."""
    from backoffice.accounting.errors import AccountingError

    try:
        return posting(*args, **kwargs)
    except AccountingError as exc:
        raise GrantError(f"Écriture comptable impossible : {exc}") from exc


def _post(organisation, event, **kwargs):
    return _guarded(_accounting().post_event, organisation, event, **kwargs)


def _source(device, *qualifiers):
    return _accounting().posting_source(GrantDevice, device.id, *qualifiers)


# --------------------------------------------------------------------------------------------
# Purchase
# --------------------------------------------------------------------------------------------

def _clean_serial(serial_number):
    serial = " ".join((serial_number or "").split()).upper()
    if not serial:
        raise GrantError("Indiquez le numéro de série.", field="serial_number")
    return serial[:80]


def _folded(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold().strip()


def supplier_named(name):
    """The supplier (a structure of the directory) called ``name``, created when there is none:
    its purchases and payments go on its auxiliary account of 404."""
    from backoffice.people.models import Structure
    from backoffice.people.services import PeopleError, save_structure

    name = " ".join((name or "").split())
    if not name:
        raise GrantError("Indiquez le fournisseur.", field="supplier")
    wanted = _folded(name)
    for structure in db.session.scalars(select(Structure).where(func.lower(Structure.name) == name.lower())):
        return structure
    for structure in db.session.scalars(select(Structure).where(Structure.name.is_not(None))):
        if _folded(structure.name) == wanted:  # « Médisafe » is « MEDISAFE »
            return structure
    try:
        return save_structure(name=name, structure_type="autre")
    except PeopleError as exc:
        raise GrantError(str(exc), field="supplier") from exc


def purchases_total(programme, *, paid_only=False) -> Decimal:
    """What the programme's devices cost (those paid to the supplier only, with ``paid_only``)."""
    query = select(func.coalesce(func.sum(GrantDevice.purchase_amount), 0)).where(
        GrantDevice.programme_id == programme.id)
    if paid_only:
        query = query.where(GrantDevice.paid_on.is_not(None))
    return Decimal(db.session.scalar(query) or 0).quantize(CENT)


def create_device(programme, *, equipment_kind, serial_number, purchased_on, purchase_amount, supplier,
                  equipment_model=None, invoice_reference=None, invoice=None, user=None) -> GrantDevice:
    """A device bought for the in-kind ``programme``, in stock, its purchase posted (D 2154 / C 404).

    ``supplier`` is a party or a name (``supplier_named``); ``invoice`` is ``(filename, data)``
    of the purchase invoice. Refused: a programme that is not in kind, a serial number the
    organisation already has, an amount that is not positive or that the envelope cannot take
    (checked under the programme's lock)."""
    if not programme.in_kind:
        raise GrantError("Ce programme verse des aides : passez-le « en nature » pour y acheter du matériel.")
    serial = _clean_serial(serial_number)
    try:
        amount = clean_amount(purchase_amount, what="Le prix d'achat", field="purchase_amount")
    except ServiceError as exc:  # the money module's French message, under our field
        raise GrantError(str(exc), field="purchase_amount") from exc
    if purchased_on is None:
        raise GrantError("Indiquez la date d'achat.", field="purchased_on")
    if not (equipment_kind or "").strip():
        raise GrantError("Indiquez le type de matériel.", field="equipment_kind")
    other = db.session.scalar(select(GrantDevice).where(GrantDevice.organisation_id == programme.organisation_id,
                                                        GrantDevice.serial_number == serial))
    if other is not None:
        raise GrantError(f"Le numéro de série {serial} est déjà celui d'un matériel ({other.programme.name}).",
                         field="serial_number")
    locked = lock_programme(programme.id)
    spent = purchases_total(locked)
    if spent + amount > locked.envelope:
        raise GrantError(f"Achat refusé : il dépasserait l'enveloppe du programme ({format_money(locked.envelope)}, "
                         f"déjà {format_money(spent)} d'achats ; reste {format_money(locked.envelope - spent)}).",
                         field="purchase_amount")
    party = supplier if hasattr(supplier, "display_name") else supplier_named(supplier)
    device = GrantDevice(organisation_id=locked.organisation_id, programme=locked, status=D.IN_STOCK,
                         equipment_kind=equipment_kind.strip()[:120],
                         equipment_model=(equipment_model or "").strip()[:200] or None, serial_number=serial,
                         purchased_on=purchased_on, purchase_amount=amount, supplier=party,
                         invoice_reference=(invoice_reference or "").strip()[:60] or None, created_by_id=_actor_id(user))
    db.session.add(device)
    db.session.flush()
    if invoice is not None:
        attach_invoice(device, *invoice)
    _post(locked.organisation, "device_purchased", amount=amount, party=party, entry_date=purchased_on,
          piece_ref=device.invoice_reference or f"MAT-{device.id}",
          label=f"Achat {device.equipment_kind} n° {serial} — {party.display_name}"[:200],
          source=_source(device, "purchase"))
    return device


def attach_invoice(device, filename, data, *, field="invoice"):
    """Keep the purchase invoice (PDF, JPEG or PNG by content, ``attachments.max_bytes()`` at most)."""
    from backoffice.grants import attachments

    stored = uploads.store_upload(attachments.folder(device.organisation_id), f"device-{device.id}-invoice", filename,
                                  data, limit=attachments.max_bytes(), error=GrantError, field=field, default="facture")
    device.invoice_filename, device.invoice_content_type = stored["filename"], stored["content_type"]
    device.invoice_size, device.invoice_sha256 = stored["size"], stored["sha256"]
    device.invoice_stored_name = stored["stored_name"]
    db.session.flush()
    return device


def invoice_path(device):
    from backoffice.grants import attachments

    return attachments.folder(device.organisation_id) / device.invoice_stored_name


def record_device_payment(device, *, paid_on=None):
    """The supplier paid for ``device`` (D 404 / C 512), once."""
    if device.paid_on is not None:
        raise GrantError(f"Ce matériel est déjà payé (le {format_date_short(device.paid_on)}).")
    paid_on = paid_on or _today()
    if paid_on < device.purchased_on:
        raise GrantError("Le paiement ne peut pas précéder l'achat.", field="paid_on")
    _post(device.programme.organisation, "device_paid", amount=device.purchase_amount, party=device.supplier,
          entry_date=paid_on, piece_ref=device.invoice_reference or f"MAT-{device.id}",
          label=f"Paiement {device.equipment_kind} n° {device.serial_number} — {device.supplier.display_name}"[:200],
          source=_source(device, "payment"))
    device.paid_on = paid_on
    db.session.flush()
    return device


def devices(organisation, programme=None) -> list[GrantDevice]:
    query = select(GrantDevice).where(GrantDevice.organisation_id == organisation.id)
    if programme is not None:
        query = query.where(GrantDevice.programme_id == programme.id)
    return list(db.session.scalars(query.order_by(GrantDevice.programme_id, GrantDevice.serial_number)))


# --------------------------------------------------------------------------------------------
# Custody: lent, transferred, returned, retired
# --------------------------------------------------------------------------------------------

def holders(programme) -> list[GrantApplication]:
    """The applications of ``programme`` whose beneficiary may hold a device: approved ones."""
    return list(db.session.scalars(select(GrantApplication).where(
        GrantApplication.programme_id == programme.id, GrantApplication.status.in_(GRANTED_STATUSES))
        .order_by(GrantApplication.id)))


def lent_to(organisation, party) -> list[GrantDeviceCustody]:
    """The custodies of ``party`` (the beneficiary) in ``organisation``, current ones first then
    the most recent: what the member's space shows him, and only him."""
    rows = db.session.scalars(select(GrantDeviceCustody).join(GrantDeviceCustody.device).join(
        GrantDeviceCustody.application).where(GrantDevice.organisation_id == organisation.id,
                                              GrantApplication.applicant_id == party.id)
        .order_by(GrantDeviceCustody.ended_on.is_not(None), GrantDeviceCustody.started_on.desc(),
                  GrantDeviceCustody.id.desc()))
    return list(rows)


def _check_holder(device, application):
    if application is None or application.programme_id != device.programme_id:
        raise GrantError("Choisissez une demande de ce programme.", field="application_id")
    if application.status not in GRANTED_STATUSES:
        raise GrantError(f"Le matériel se prête au bénéficiaire d'une demande accordée ; la demande "
                         f"{application.reference} est « {application.status.label} ».", field="application_id")


def _check_day(device, on, field="on"):
    custody = device.current_custody
    earliest = custody.started_on if custody is not None else device.purchased_on
    if on < earliest:
        raise GrantError(f"La date ne peut pas précéder le {format_date_short(earliest)}.", field=field)
    if on > _today():
        raise GrantError("La date ne peut pas être dans le futur.", field=field)


def _holder_text(application, site):
    return f"{application.applicant.display_name}" + (f" ({site.name})" if site is not None else "")


def _new_custody(device, application, site, on, user):
    custody = GrantDeviceCustody(device=device, application=application, site=site, started_on=on,
                                 created_by_id=_actor_id(user))
    db.session.add(custody)
    return custody


def _end_custody(device, on, reason):
    custody = device.current_custody
    if custody is not None:
        custody.ended_on, custody.end_reason = on, reason
    return custody


def lend(device, application, *, site=None, on=None, by=None) -> GrantDeviceCustody:
    """Lend a device in stock (or back from a practice) to the beneficiary of ``application`` for
    the practice ``site`` (default: the application's); a custody convention is then issued."""
    on = on or _today()
    _check_holder(device, application)
    _check_day(device, on)
    site = site or application.site
    move(device, D.LENT, by=by, reason=f"Prêté à {_holder_text(application, site)}")
    custody = _new_custody(device, application, site, on, by)
    db.session.flush()
    return custody


def transfer(device, application, *, site, on=None, by=None) -> GrantDeviceCustody:
    """Move a lent device to another practice (and its beneficiary): the current custody ends,
    a new one starts, with its own convention; the previous holders stay in the history."""
    on = on or _today()
    _check_holder(device, application)
    current = device.current_custody
    if site is None:
        raise GrantError("Choisissez le cabinet qui reçoit le matériel.", field="site_id")
    if current is not None and current.site_id == site.id and current.application_id == application.id:
        raise GrantError(f"Le matériel est déjà au cabinet {site.name} chez ce bénéficiaire.", field="site_id")
    _check_day(device, on)
    move(device, D.TRANSFERRED, by=by, reason=f"Transféré à {_holder_text(application, site)}")
    _end_custody(device, on, "transferred")
    custody = _new_custody(device, application, site, on, by)
    db.session.flush()
    return custody


def return_device(device, *, on=None, by=None, reason=None):
    """The practice gives the device back: it is in the organisation's hands again."""
    on = on or _today()
    _check_day(device, on)
    move(device, D.RETURNED, by=by, reason=reason)
    _end_custody(device, on, "returned")
    db.session.flush()
    return device


def retire(device, reason, *, on=None, by=None):
    """The device leaves the inventory (broken, lost, disposed of): its custody ends, its
    depreciation stops at ``on`` and it leaves the books (:func:`post_disposal`)."""
    on = on or _today()
    _check_day(device, on)
    move(device, D.RETIRED, by=by, reason=reason)
    _end_custody(device, on, "retired")
    device.retired_on = on
    db.session.flush()
    post_disposal(device)
    return device


# --------------------------------------------------------------------------------------------
# Straight-line depreciation
# --------------------------------------------------------------------------------------------

def days_360(start: date, end: date) -> int:
    """Days from ``start`` to ``end`` counted as months of 30 days (the European 30/360 basis).

    Why 360 and not 365: the French tax administration accepts the year of 360 days for the
    *prorata temporis* of straight-line depreciation (BOI-BIC-AMT-20-10-50), it is what the
    accountants' software uses, and with it every full year gets exactly the same annuity
    whatever the leap years — cost / years — so the schedule reads as the accountant expects."""
    d1, d2 = min(start.day, 30), min(end.day, 30)
    return (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Annuity:
    """One fiscal year of a device's depreciation: the year (that it starts in), its amount,
    what is depreciated at its end, and the net book value left."""

    year: int
    amount: Decimal
    cumulated: Decimal
    net_value: Decimal


def depreciation_schedule(device, years=None) -> list[Annuity]:
    """The straight-line annuities of ``device`` over ``years`` (default: its programme's),
    *prorata temporis* from its purchase date on the 30/360 basis, one per fiscal year of the
    organisation, stopping at its retirement.

    Each year's amount is the difference of the cumulated depreciation rounded to the cent, so
    the amounts of the whole life sum **exactly** to the cost (never more), the rounding
    falling into the last year."""
    years = years or device.programme.depreciation_years
    cost = device.purchase_amount
    organisation = device.programme.organisation
    end_of_life = _add_years(device.purchased_on, years)
    total_days = 360 * years
    stop = min(end_of_life, device.retired_on) if device.retired_on else end_of_life
    schedule, cumulated = [], ZERO
    year = organisation.fiscal_year_of(device.purchased_on)
    while True:
        _, last_day = organisation.fiscal_year_bounds(year)
        if last_day >= end_of_life and stop == end_of_life:
            reached = cost
        else:
            until = min(date.fromordinal(last_day.toordinal() + 1), stop)
            share = Decimal(days_360(device.purchased_on, until)) / total_days
            reached = min(cost, (cost * share).quantize(CENT, rounding=ROUND_HALF_UP))
        amount = reached - cumulated
        cumulated = reached
        schedule.append(Annuity(year, amount, cumulated, cost - cumulated))
        if last_day >= stop:
            return [a for a in schedule if a.amount > 0]
        year += 1


def depreciation_for(device, year) -> Decimal:
    return next((a.amount for a in depreciation_schedule(device) if a.year == year), ZERO)


def posted_depreciation(device, year):
    from backoffice.accounting.models import JournalEntry

    return db.session.scalar(select(JournalEntry).where(JournalEntry.organisation_id == device.organisation_id,
                                                        JournalEntry.source == _source(device, "depreciation", year)))


def post_depreciation(device, year):
    """The annuity of fiscal ``year`` of ``device`` (D 6811 / C 28154), dated the year's last day;
    once per device and year (posting it again returns the same entry). None when the year has
    no annuity (bought later, fully depreciated, retired before)."""
    amount = depreciation_for(device, year)
    if not amount:
        return None
    organisation = device.programme.organisation
    _, last_day = organisation.fiscal_year_bounds(year)
    # The annuity of the year a device is retired is the complement up to its retirement,
    # posted that day (with the disposal), not at a year-end that may not have come yet.
    entry_date = min(last_day, device.retired_on) if device.retired_on else last_day
    return _post(organisation, "device_depreciation", amount=amount, entry_date=entry_date,
                 piece_ref=f"AMORT-{year}-{device.id}",
                 label=f"Amortissement {year} — {device.equipment_kind} n° {device.serial_number}"[:200],
                 source=_source(device, "depreciation", year))


def depreciated_on_books(device) -> Decimal:
    """What the books hold as the device's accumulated depreciation: its depreciation entries
    posted and not reversed (not the schedule, which a late retirement may have shortened)."""
    from backoffice.accounting.models import JournalEntry, JournalLine

    reversal = aliased(JournalEntry)
    total = db.session.scalar(select(func.coalesce(func.sum(JournalLine.credit), 0)).join(
        JournalEntry, JournalLine.entry_id == JournalEntry.id).where(
        JournalEntry.organisation_id == device.organisation_id,
        JournalEntry.source.like(f"{_source(device, 'depreciation')}:%"),
        JournalEntry.reversal_of_id.is_(None),
        ~select(reversal.id).where(reversal.reversal_of_id == JournalEntry.id).exists()))
    return Decimal(total or 0).quantize(CENT)


def post_disposal(device):
    """Take the retired ``device`` off the books (*sortie d'immobilisation*), once: the annuity of
    its retirement year first (up to the retirement date, if not posted yet), then one entry on
    the retirement date, D 28154 its accumulated depreciation / D 675 its net book value
    (*valeur comptable des éléments d'actif cédés*) / C 2154 its cost, so that 2154 and 28154
    of the device are back to zero. A zero side (nothing depreciated yet, or fully
    depreciated) has no line. Posting again returns the same entry."""
    accounting = _accounting()
    organisation = device.programme.organisation
    on = device.retired_on
    year = organisation.fiscal_year_of(on)
    if posted_depreciation(device, year) is None:
        post_depreciation(device, year)
    depreciated = depreciated_on_books(device)
    net_value = device.purchase_amount - depreciated
    _, _, depreciation_account = _guarded(accounting.event_accounts, organisation, "device_depreciation")
    journal, net_value_account, asset_account = _guarded(accounting.event_accounts, organisation, "device_disposed")
    lines = [accounting.EntryLineSpec(depreciation_account, debit=depreciated)] if depreciated else []
    if net_value > 0:
        lines.append(accounting.EntryLineSpec(net_value_account, debit=net_value))
    lines.append(accounting.EntryLineSpec(asset_account, credit=device.purchase_amount))
    return _guarded(accounting.post_entry, organisation, journal, on, f"SORTIE-{device.id}",
                    f"Sortie de l'actif — {device.equipment_kind} n° {device.serial_number}"[:200], lines,
                    source=_source(device, "disposal"), event="device_disposed")


def post_programme_depreciation(programme, year) -> list:
    """Every annuity of fiscal ``year`` of the programme's devices (the year-end task);
    returns the entries (those already posted included)."""
    return [entry for device in devices(programme.organisation, programme)
            if (entry := post_depreciation(device, year)) is not None]


def pending_depreciation(organisation, year) -> list[GrantDevice]:
    """The devices whose annuity of fiscal ``year`` is not posted yet (the closing checklist)."""
    _, last_day = organisation.fiscal_year_bounds(year)
    rows = db.session.scalars(select(GrantDevice).where(GrantDevice.organisation_id == organisation.id,
                                                        GrantDevice.purchased_on <= last_day))
    return [d for d in rows if depreciation_for(d, year) and posted_depreciation(d, year) is None]


def closing_checks(organisation, year):
    """The accounting's year-end checklist item of in-kind programmes (through
    ``FEATURE.closing_checks``): a warning counting the devices whose annuity of ``year`` is not
    posted; nothing for an organisation that never bought one."""
    from backoffice.accounting.services import ClosingCheck

    if not db.session.scalar(select(func.count()).select_from(GrantDevice)
                             .where(GrantDevice.organisation_id == organisation.id)):
        return []
    count = len(pending_depreciation(organisation, year))
    if count:
        return [ClosingCheck("grants_depreciation", "Amortissement du matériel prêté", count,
                             f"{count} matériel(s) prêté(s) non amorti(s) pour l'exercice : passez les amortissements "
                             "depuis la page du programme avant la clôture.", False, "grants.devices_index")]
    return [ClosingCheck("grants_depreciation", "Amortissement du matériel prêté", 0,
                         "Le matériel prêté est amorti pour l'exercice.", False, "grants.devices_index")]


def device_history(device):
    """The device's moves (who, when, why), oldest first, and its holders."""
    from backoffice.lifecycle import history

    return history(device), list(device.custodies)


