"""Staff screens of in-kind programmes: the devices, their holders, their year-end depreciation
(``/o/<org>/aides/materiels/…``). Imported by ``views`` so its routes join the ``grants``
blueprint; thin like the others (load, authorise, validate, call ``devices``, redirect).
"""
import io
from datetime import date

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.errors import act_or_refuse, show_refusal
from backoffice.extensions import db
from backoffice.formatting import format_money
from backoffice.forms import EXPIRED, csrf_refused
from backoffice.grants import custody as custodies
from backoffice.grants import devices, forms
from backoffice.grants.models import (DEVICE_LIFECYCLE, HELD_STATUSES, DeviceStatus, GrantApplication, GrantDevice,
                                      GrantProgramme)
from backoffice.grants.services import GrantError, programmes
from backoffice.grants.views import APPLY, MANAGE, VIEW, _site_choices, _sites, _start, bp, member_bp
from backoffice.people.models import Party, Site


@bp.route("/materiels")
@permission_required(VIEW)
def devices_index():
    in_kind = [p for p in programmes(g.organisation) if p.in_kind]
    return render_template("grants/devices.html", devices=devices.devices(g.organisation), programmes=in_kind)


def _device_form_page(programme, form, status=200):
    return render_template("grants/device_form.html", programme=programme, form=form), status


@bp.route("/programmes/<int:programme_id>/materiels/nouveau", methods=["GET", "POST"])
@permission_required(MANAGE)
def new_device(programme_id):
    programme = get_or_404(GrantProgramme, programme_id)
    if not programme.in_kind:
        abort(404)
    form = forms.DeviceForm()
    if request.method == "GET":
        form.equipment_kind.data = form.equipment_kind.data or programme.equipment_kind
    elif form.validate_on_submit():
        invoice = None
        if form.invoice.data and form.invoice.data.filename:
            from backoffice.grants.attachments import max_bytes

            invoice = (form.invoice.data.filename, form.invoice.data.read(max_bytes() + 1))
        try:
            with db.session.begin_nested():
                device = devices.create_device(
                    programme, equipment_kind=form.equipment_kind.data, equipment_model=form.equipment_model.data,
                    serial_number=form.serial_number.data, purchased_on=form.purchased_on.data,
                    purchase_amount=form.purchase_amount.amount, supplier=form.supplier.data,
                    invoice_reference=form.invoice_reference.data, invoice=invoice, user=current_user)
        except GrantError as error:
            return _device_form_page(programme, form, show_refusal(error, form))
        flash(f"{device} enregistré : achat comptabilisé (D 2154 / C 404).", "success")
        return redirect(url_for("grants.device", device_id=device.id))
    if csrf_refused(form):
        show_refusal(GrantError(EXPIRED))
    return _device_form_page(programme, form, 422 if form.errors else 200)


def _render_device(device, status=200, **refused):
    """The device's page; ``refused`` is the form sent and refused (``lend_form=form``…), shown
    again as typed with its errors, in place of the blank one."""
    moves, holders = devices.device_history(device)
    today = date.today()
    blank = {"lend_form": lambda: _lend_form(device, formdata=None, on=today),
             "return_form": lambda: forms.DeviceDateForm(formdata=None, on=today),
             "retire_form": lambda: forms.RetireForm(formdata=None, on=today),
             "payment_form": lambda: forms.DevicePaymentForm(formdata=None, paid_on=today)}
    page_forms = {name: refused[name] if name in refused else build() for name, build in blank.items()}
    agreements = {c.id: custodies.custody_agreement_versions(c) for c in holders}
    schedule = devices.depreciation_schedule(device)
    return render_template(
        "grants/device.html", device=device, moves=moves, holders=holders, lifecycle=DEVICE_LIFECYCLE,
        D=DeviceStatus, held=device.status in HELD_STATUSES, agreements=agreements, schedule=schedule,
        posted={a.year for a in schedule if devices.posted_depreciation(device, a.year)}, **page_forms), status


@bp.route("/materiels/<int:device_id>")
@permission_required(VIEW)
def device(device_id):
    return _render_device(get_or_404(GrantDevice, device_id))


@bp.route("/materiels/<int:device_id>/facture")
@permission_required(VIEW)
def device_invoice(device_id):
    row = get_or_404(GrantDevice, device_id)
    if not row.invoice_stored_name:
        abort(404)
    path = devices.invoice_path(row)
    if not path.is_file():
        abort(404)
    return send_file(io.BytesIO(path.read_bytes()), mimetype=row.invoice_content_type, as_attachment=True,
                     download_name=row.invoice_filename, max_age=0)


def _refuse(device, error):
    """A request refused before any service call: the message, and the page again (422)."""
    show_refusal(error)
    return _render_device(device, 422)


def _holder_from(form, device):
    application = db.session.get(GrantApplication, form.application_id.data or 0)
    if application is not None and application.organisation_id != device.organisation_id:
        application = None
    site = db.session.get(Site, form.site_id.data) if form.site_id.data else None
    return application, site


def _lend_form(device, **kwargs):
    form = forms.LendForm(**kwargs)
    form.application_id.choices = [(a.id, f"{a.reference} — {a.applicant.display_name}")
                                   for a in devices.holders(device.programme)]
    form.site_id.choices = list(_site_choices(_sites()).items())
    return form


def _device_action(device_id, name, make_form, service, success):
    """A device's action from its page: the form ``make_form(device)`` (``name`` in the template)
    validated, then ``service(device, form)`` in a savepoint. A refused form, or a refusal of the
    service, shows the page again (422) with that form as typed and its French errors under its
    fields (an expired form is said above); else ``success`` is flashed."""
    device = get_or_404(GrantDevice, device_id)
    form = make_form(device)

    def render(row, status):
        return _render_device(row, status, **{name: form})

    if not form.validate_on_submit():
        if csrf_refused(form):
            show_refusal(GrantError(EXPIRED))
        return render(device, 422)
    return act_or_refuse(lambda: service(device, form), success, row=device, render=render, form=form,
                         target=url_for("grants.device", device_id=device.id))


def _hand_over(device_id, service, success):
    """Lend or transfer the device (``service``: ``devices.lend`` or ``devices.transfer``) to the
    holder chosen on the lend form."""
    def call(device, form):
        application, site = _holder_from(form, device)
        return service(device, application, site=site, on=form.on.data)

    return _device_action(device_id, "lend_form", _lend_form, call, success)


@bp.route("/materiels/<int:device_id>/pret", methods=["POST"])
@permission_required(MANAGE)
def lend_device(device_id):
    return _hand_over(device_id, devices.lend, "Matériel prêté : émettez la convention de mise à disposition.")


@bp.route("/materiels/<int:device_id>/transfert", methods=["POST"])
@permission_required(MANAGE)
def transfer_device(device_id):
    return _hand_over(device_id, devices.transfer,
                      "Matériel transféré : émettez la nouvelle convention de mise à disposition.")


@bp.route("/materiels/<int:device_id>/retour", methods=["POST"])
@permission_required(MANAGE)
def return_device(device_id):
    return _device_action(device_id, "return_form", lambda device: forms.DeviceDateForm(),
                          lambda device, form: devices.return_device(device, on=form.on.data, reason=form.reason.data),
                          "Retour du matériel enregistré.")


@bp.route("/materiels/<int:device_id>/sortie", methods=["POST"])
@permission_required(MANAGE)
def retire_device(device_id):
    return _device_action(device_id, "retire_form", lambda device: forms.RetireForm(),
                          lambda device, form: devices.retire(device, form.reason.data, on=form.on.data),
                          "Matériel sorti de l'inventaire et de l'actif (écriture de sortie passée).")


@bp.route("/materiels/<int:device_id>/paiement", methods=["POST"])
@permission_required(MANAGE)
def pay_device(device_id):
    return _device_action(device_id, "payment_form", lambda device: forms.DevicePaymentForm(),
                          lambda device, form: devices.record_device_payment(device, paid_on=form.paid_on.data),
                          "Paiement du fournisseur comptabilisé (D 404 / C 512).")


@bp.route("/materiels/<int:device_id>/convention", methods=["POST"])
@permission_required(MANAGE)
def custody_agreement(device_id):
    """The custody convention of the device's current holder, issued by a job."""
    device = get_or_404(GrantDevice, device_id)
    custody = device.current_custody
    if custody is None:
        return _refuse(device, GrantError("Le matériel n'est prêté à personne : pas de convention à émettre."))
    return _start("grant_custody", "grants.custody", f"Mise à disposition {device.serial_number}",
                  {"custody_id": custody.id}, dedupe_key=f"grants.custody:{custody.id}")


@bp.route("/programmes/<int:programme_id>/amortissements", methods=["POST"])
@permission_required(MANAGE)
def depreciation(programme_id):
    """At the year-end: the annuity of every device of the programme (D 6811 / C 28154), once."""
    programme = get_or_404(GrantProgramme, programme_id)
    form = forms.DepreciationForm()
    if not form.validate_on_submit():
        show_refusal(GrantError("Indiquez l'exercice (par exemple 2026)."))
        return redirect(url_for("grants.programme", programme_id=programme.id)), 303
    year = form.year.data
    try:
        with db.session.begin_nested():
            entries = devices.post_programme_depreciation(programme, year)
    except GrantError as error:
        show_refusal(error)
        return redirect(url_for("grants.programme", programme_id=programme.id)), 303
    total = sum((e.total for e in entries), start=0)
    flash(f"Amortissements {year} : {len(entries)} matériel(s), {format_money(total)}." if entries
          else f"Aucun amortissement pour l'exercice {year}.", "success")
    return redirect(url_for("grants.programme", programme_id=programme.id))


def programme_devices(programme):
    """The devices shown on the programme's page (in kind)."""
    return devices.devices(programme.organisation, programme) if programme.in_kind else []


@bp.app_context_processor
def _device_helpers():
    return {"grants_programme_devices": programme_devices}


# --- The member's space: the device lent to him and its convention (/o/<org>/aides/mon-espace/materiel) ---

@member_bp.route("/materiel")
@permission_required(APPLY)
def devices_lent():
    """The beneficiary's devices (his own custodies only) with the convention in force of each;
    the download goes through the documents module, which lets only him and the staff have it."""
    party = db.session.get(Party, current_user.party_id) if current_user.party_id else None
    # An account not linked to a directory entry holds nothing (as on « Mes aides »), not a 404.
    rows = [(custody, custodies.current_custody_agreement(custody))
            for custody in (devices.lent_to(g.organisation, party) if party is not None else [])]
    return render_template("grants/member/devices.html", rows=rows)
