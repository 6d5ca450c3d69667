"""SEPA direct debits: runs, their pain.008 file, collection, rejections, mandates."""

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from backoffice.auth.permissions import get_or_404, permission_required
from backoffice.membership import forms, sepa, services
from backoffice.membership.models import DirectDebitRun, Membership, MembershipPayment, SepaMandate
from backoffice.errors import attempt
from backoffice.membership.views.common import MANAGE, _back, bp, _start
from backoffice.membership.views.members import _refused


# --------------------------------------------------------------------------------------------
# SEPA direct debit
# --------------------------------------------------------------------------------------------

@bp.route("/sepa", methods=["GET", "POST"])
@permission_required(MANAGE)
def direct_debit():
    form = forms.DirectDebitRunForm()
    if form.validate_on_submit():
        ids = [int(i) for i in request.form.getlist("membership_ids") if i.isdigit()]
        memberships = [get_or_404(Membership, i) for i in ids]
        done, run = attempt(lambda: sepa.create_run(g.organisation, memberships, form.collection_date.data,
                                                    user=current_user))
        if done:
            from jobs.membership import direct_debit_file

            return _start(direct_debit_file, "membership.direct_debit",
                          f"Prélèvement SEPA du {run.collection_date:%d/%m/%Y}", {"run_id": run.id},
                          dedupe_key=f"membership.direct_debit:{run.id}")
    settings_row = services.get_settings(g.organisation)
    candidates = sepa.collectable_memberships(g.organisation)
    mandates = sepa.active_mandates(g.organisation, [m.party_id for m in candidates])
    return render_template("membership/sepa.html", form=form, candidates=candidates, mandates=mandates,
                           runs=sepa.runs(g.organisation), settings=settings_row)


@bp.route("/sepa/runs/<int:run_id>")
@permission_required(MANAGE)
def direct_debit_run(run_id):
    run = get_or_404(DirectDebitRun, run_id)
    return render_template("membership/sepa_run.html", run=run)


@bp.route("/sepa/runs/<int:run_id>/file")
@permission_required(MANAGE)
def direct_debit_run_file(run_id):
    import io

    run = get_or_404(DirectDebitRun, run_id)
    if run.xml is None:
        abort(404)
    return send_file(io.BytesIO(run.xml), mimetype="application/xml", as_attachment=True,
                     download_name=f"prelevement-sepa-{run.collection_date:%Y%m%d}-{run.id}.xml")


@bp.route("/sepa/runs/<int:run_id>/collect", methods=["POST"])
@permission_required(MANAGE)
def collect_run(run_id):
    run = get_or_404(DirectDebitRun, run_id)
    attempt(lambda: sepa.collect_run(run),
            lambda _: f"Prélèvement encaissé : {run.payment_count} adhésion(s) réglée(s).")
    return redirect(url_for(".direct_debit_run", run_id=run.id))


@bp.route("/sepa/payments/<int:payment_id>/reject", methods=["POST"])
@permission_required(MANAGE)
def reject_debit(payment_id):
    payment = get_or_404(MembershipPayment, payment_id)
    attempt(lambda: sepa.reject_payment(payment), "Prélèvement marqué rejeté.")
    return redirect(url_for(".direct_debit_run", run_id=payment.direct_debit_run_id))


@bp.route("/members/<int:membership_id>/mandates", methods=["POST"])
@permission_required(MANAGE)
def create_mandate(membership_id):
    membership = get_or_404(Membership, membership_id)
    form = forms.MandateForm()
    if not form.validate_on_submit():
        return _refused(membership, form, "Le mandat n'a pas été enregistré : corrigez les champs signalés.")
    ok, _ = attempt(lambda: sepa.create_mandate(g.organisation, membership.party, form.iban.data, form.bic.data,
                                                form.signed_on.data, form.debtor_name.data, form.reference.data),
                    lambda mandate: f"Mandat {mandate.reference} enregistré.")
    return _back(membership) if ok else _refused(membership, form)


@bp.route("/mandates/<int:mandate_id>/revoke", methods=["POST"])
@permission_required(MANAGE)
def revoke_mandate(mandate_id):
    mandate = get_or_404(SepaMandate, mandate_id)
    sepa.revoke_mandate(mandate)
    flash(f"Mandat {mandate.reference} révoqué.", "success")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for(".direct_debit"))
