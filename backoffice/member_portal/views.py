"""Member self-service (``/espace-adherent/`` and ``/o/<org>/espace-adherent/``), and the
treasurer's screens of the member side (``/o/<org>/membership/relances``, ``…/helloasso``,
``…/paiements-en-ligne``, ``…/attestations``), plus HelloAsso's notification URL.

One ``bp`` (blueprints are discovered as ``<feature>.views.bp``) named ``self_service`` — the
name ``home_url`` sends members to — with two organisation blueprints nested in it:
``self_service.member`` (a member's pages in one organisation) and
``self_service.online`` (the treasurer's pages and the notification URL).

Views are thin: load (404 for what is not the member's own), authorise, validate, call a
service, flash, redirect; the request's boundary commits.
"""
import json
import logging

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from backoffice.auth.permissions import get_or_404, org_blueprint, permission_required
from backoffice.errors import show_refusal
from backoffice.extensions import csrf, db, limiter
from backoffice.formatting import format_money
from backoffice.member_portal import forms
from backoffice.member_portal import services as portal
from backoffice.member_portal.models import ReminderLog, UnmatchedPayment, UnmatchedStatus
from backoffice.membership import helloasso, receipts, reminders
from backoffice.membership import services as membership_services
from backoffice.membership.models import OPEN_STATUSES, Membership, MembershipPeriod
from backoffice.membership.services import MembershipError
from backoffice.people.models import Party

log = logging.getLogger(__name__)

bp = Blueprint("self_service", __name__)
member_bp = org_blueprint("member", __name__, url_prefix="/espace-adherent")
online_bp = org_blueprint("online", __name__, url_prefix="/membership")
# Outside /o/<org>/: HelloAsso is no user of the organisation (no session, no role).
hook_bp = Blueprint("helloasso_hook", __name__, url_prefix="/helloasso")

SELF, VIEW, MANAGE = "self.service", "membership.view", "membership.manage"
RENEWAL_KEYS = "member_portal_renewals"


@bp.app_template_global()
def membership_receipt(membership):
    """The receipt row of ``membership`` (for the treasurer's member page)."""
    return receipts.receipt_of(membership)


@bp.app_template_global()
def membership_reminders(membership):
    """Reminders sent about ``membership``, latest first."""
    return list(db.session.scalars(select(ReminderLog).where(ReminderLog.membership_id == membership.id)
                                   .order_by(ReminderLog.sent_at.desc()).limit(10)))


def _fail(exc):
    db.session.rollback()
    show_refusal(exc)


# --------------------------------------------------------------------------------------------
# Member: every organisation, contact details, e-mail change
# --------------------------------------------------------------------------------------------

@bp.route("/espace-adherent/")
@login_required
def home():
    organisations = portal.member_organisations(current_user)
    overviews = [portal.overview(current_user, organisation) for organisation in organisations]
    return render_template("member_portal/home.html", overviews=overviews, party=current_user.party,
                           renew_form=forms.RenewForm(form_key=forms.new_form_key()))


def _member_party():
    """The signed-in member's record; 403 for an account that is no member anywhere."""
    party = current_user.party
    if party is None or not portal.member_organisations(current_user):
        abort(403)
    return party


@bp.route("/espace-adherent/coordonnees", methods=["GET", "POST"])
@login_required
def contact():
    party = _member_party()
    form = forms.ContactForm(obj=party if request.method == "GET" else None)
    email_form = forms.EmailChangeForm(prefix="email")
    if form.validate_on_submit():
        portal.update_contact(party, form.phone.data, form.address.data, form.postcode.data, form.commune.data)
        flash("Vos coordonnées sont enregistrées.", "success")
        return redirect(url_for(".contact"))
    return render_template("member_portal/contact.html", form=form, email_form=email_form, party=party)


@bp.route("/espace-adherent/adresse-email", methods=["POST"])
@login_required
def change_email():
    party = _member_party()
    email_form = forms.EmailChangeForm(prefix="email")
    if email_form.validate_on_submit():
        try:
            new_email = portal.request_email_change(current_user, email_form.email.data)
        except portal.PortalError as exc:
            show_refusal(exc, email_form, default="email")
        else:
            flash(f"Un lien de confirmation vient d'être envoyé à {new_email}. Votre adresse ne changera "
                  "qu'une fois ce lien ouvert (il est valable 24 heures).", "info")
            return redirect(url_for(".contact"))
    return render_template("member_portal/contact.html", form=forms.ContactForm(obj=party), email_form=email_form,
                           party=party), 400


@bp.route("/espace-adherent/adresse-email/<token>", methods=["GET", "POST"])
def confirm_email(token):
    # Opening the link shows a button: mail scanners following links must not apply it.
    try:
        user, new_email = portal.email_change_from_token(token)
    except portal.PortalError as exc:
        return render_template("member_portal/email_invalid.html", message=str(exc)), 400
    form = forms.ButtonForm()
    if form.validate_on_submit():
        try:
            portal.confirm_email_change(token)
        except portal.PortalError as exc:
            db.session.rollback()
            return render_template("member_portal/email_invalid.html", message=str(exc)), 400
        flash(f"Votre adresse e-mail est désormais {new_email}.", "success")
        return redirect(url_for(".home") if current_user.is_authenticated else url_for("auth.login"))
    return render_template("member_portal/email_confirm.html", form=form, user=user, new_email=new_email)


# --------------------------------------------------------------------------------------------
# Member: one organisation
# --------------------------------------------------------------------------------------------

def _own_membership(membership_id):
    membership = get_or_404(Membership, membership_id)
    if not portal.own_membership(current_user, membership):
        abort(404)
    return membership


@member_bp.route("/", endpoint="home")
@permission_required(SELF)
def organisation_home():
    summary = portal.overview(current_user, g.organisation)
    return render_template("member_portal/organisation.html", overview=summary,
                           renew_form=forms.RenewForm(form_key=forms.new_form_key()))


@member_bp.route("/renouveler/<int:period_id>", methods=["POST"])
@permission_required(SELF)
def renew(period_id):
    period = get_or_404(MembershipPeriod, period_id)
    form = forms.RenewForm()
    if not form.validate_on_submit():
        abort(400)
    # A double-submitted form (same one-time key) leads to what the first one created.
    done = session.get(RENEWAL_KEYS, {})
    if form.form_key.data and form.form_key.data in done:
        return redirect(url_for(".payment", membership_id=done[form.form_key.data]))
    try:
        membership, credit = portal.renew(current_user, g.organisation, period)
    except MembershipError as exc:
        _fail(exc)
        existing = membership_services.membership_of(g.organisation, current_user.party, period) \
            if current_user.party else None
        if existing is not None:
            return redirect(url_for(".payment", membership_id=existing.id))
        return redirect(url_for(".home"))
    if form.form_key.data:
        done = dict(list(done.items())[-9:])
        done[form.form_key.data] = membership.id
        session[RENEWAL_KEYS] = done
    owed = portal.owed_sentence(portal.owed_before(membership_services.membership_history(
        g.organisation, current_user.party), period))
    if owed:
        flash(owed, "warning")
    if membership.balance <= 0:
        flash(f"Votre adhésion {period.label} est enregistrée et réglée par votre avoir "
              f"de {format_money(credit)}.", "success")
    elif credit:
        flash(f"Votre adhésion {period.label} est enregistrée ; votre avoir de {format_money(credit)} en règle une "
              f"partie. Choisissez comment régler les {format_money(membership.balance)} restants.", "success")
    else:
        flash(f"Votre adhésion {period.label} est enregistrée. Choisissez comment la régler.", "success")
    return redirect(url_for(".payment", membership_id=membership.id))


@member_bp.route("/adhesions/<int:membership_id>/paiement")
@permission_required(SELF)
def payment(membership_id):
    membership = _own_membership(membership_id)
    return render_template("member_portal/payment.html", membership=membership,
                           instructions=portal.payment_instructions(membership), form=forms.ButtonForm())


@member_bp.route("/adhesions/<int:membership_id>/paiement-en-ligne", methods=["POST"])
@permission_required(SELF)
def pay_online(membership_id):
    membership = _own_membership(membership_id)
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    try:
        checkout = helloasso.create_checkout(
            membership, user=current_user,
            return_url=url_for(".online_return", _external=True),
            error_url=url_for(".online_return", _external=True, error=1),
            back_url=url_for(".payment", membership_id=membership.id, _external=True))
    except MembershipError as exc:
        _fail(exc)
        return redirect(url_for(".payment", membership_id=membership.id))
    return redirect(checkout.redirect_url)


@member_bp.route("/paiement-en-ligne/retour")
@permission_required(SELF)
def online_return():
    # HelloAsso adds checkoutIntentId (and code/orderId, or error) to the URL: only the id is
    # used, to find our own checkout; what happened is asked to HelloAsso's API.
    intent = request.args.get("checkoutIntentId", "")
    checkout = helloasso.checkout_of(g.organisation, int(intent)) if intent.isdigit() else None
    if checkout is None or not portal.own_membership(current_user, checkout.membership):
        flash("Ce paiement en ligne est introuvable : consultez l'état de votre adhésion ci-dessous.", "warning")
        return redirect(url_for(".home"))
    outcome = None
    if not request.args.get("error"):
        try:
            outcome = helloasso.confirm_return(checkout)
        except MembershipError as exc:
            db.session.rollback()
            log.warning("HelloAsso return of checkout %s: %s", checkout.id, exc)
    return render_template("member_portal/online_return.html", checkout=checkout, outcome=outcome,
                           membership=checkout.membership, error=bool(request.args.get("error")))


@member_bp.route("/adhesions/<int:membership_id>/attestation")
@permission_required(SELF)
def receipt(membership_id):
    membership = _own_membership(membership_id)
    found = portal.downloadable_receipt(current_user, membership)
    if found is None:
        abort(404)
    return _send_receipt(found, member=True)


@member_bp.route("/adhesions/<int:membership_id>/attestation", methods=["POST"])
@permission_required(SELF)
def request_receipt(membership_id):
    """A paid membership with no receipt yet (paid before receipts existed, imported, or whose
    generation failed): the member asks for it; the document job makes it."""
    membership = _own_membership(membership_id)
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    try:
        receipts.request_receipt(membership, user=current_user)
    except MembershipError as exc:
        _fail(exc)
    else:
        flash(f"Votre attestation {membership.period.label} est en préparation : elle sera téléchargeable "
              "ici dans quelques instants.", "success")
    return redirect(url_for(".home"))


def _send_receipt(receipt, member=False):
    """The member gets the PDF (when the job made one); staff the Word file."""
    from backoffice.documents.generated import send_document, send_for_member

    return send_for_member(receipt.document) if member else send_document(receipt.document)


# --------------------------------------------------------------------------------------------
# Treasurer: receipts
# --------------------------------------------------------------------------------------------

def _start(job, kind, label, params, dedupe_key=None):
    from backoffice.tasks.services import start_task

    task = start_task(organisation=g.organisation, user=current_user, kind=kind, label=label, job=job,
                      params=params, dedupe_key=dedupe_key)
    return redirect(url_for("tasks.show", task_id=task.id))


@online_bp.route("/members/<int:membership_id>/attestation")
@permission_required(VIEW)
def treasurer_receipt(membership_id):
    membership = get_or_404(Membership, membership_id)
    found = receipts.receipt_of(membership)
    if not receipts.downloadable(found):
        abort(404)
    return _send_receipt(found)


@online_bp.route("/members/<int:membership_id>/attestation", methods=["POST"])
@permission_required(MANAGE)
def generate_receipt(membership_id):
    membership = get_or_404(Membership, membership_id)
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    try:
        task = receipts.request_receipt(membership, user=current_user, mail_wanted=request.form.get("mail") == "1")
    except MembershipError as exc:
        _fail(exc)
        return redirect(url_for("membership.show", membership_id=membership.id))
    return redirect(url_for("tasks.show", task_id=task.id))


@online_bp.route("/attestations", methods=["GET", "POST"])
@permission_required(MANAGE)
def receipts_bulk():
    form = forms.PeriodChoiceForm()
    form.period_id.choices = [(p.id, p.label) for p in membership_services.periods(g.organisation)]
    if form.validate_on_submit():
        from jobs.membership_member import regenerate_receipts

        period = get_or_404(MembershipPeriod, form.period_id.data)
        return _start(regenerate_receipts, "membership.receipts", f"Attestations d'adhésion {period.label}",
                      {"period_id": period.id}, dedupe_key=f"membership.receipts:{period.id}")
    counts = {p.id: len(receipts.paid_memberships(p)) for p in membership_services.periods(g.organisation)[:5]}
    return render_template("member_portal/treasurer/receipts.html", form=form, counts=counts,
                           periods=membership_services.periods(g.organisation)[:5])


# --------------------------------------------------------------------------------------------
# Treasurer: reminders
# --------------------------------------------------------------------------------------------

@online_bp.route("/relances", methods=["GET", "POST"])
@permission_required(MANAGE)
def reminder_settings():
    settings = reminders.get_reminder_settings(g.organisation)
    form = forms.ReminderSettingsForm(obj=settings if request.method == "GET" else None)
    if request.method == "GET":
        form.overdue_days.data = ", ".join(str(n) for n in settings.overdue_days or [])
    if form.validate_on_submit():
        try:
            reminders.save_reminder_settings(g.organisation, form.enabled.data, form.renewal_notice_days.data,
                                             form.parsed_overdue_days)
        except MembershipError as exc:
            _fail(exc)
        else:
            flash("Paramètres des relances enregistrés.", "success")
            return redirect(url_for(".reminder_settings"))
    due = reminders.due_reminders(g.organisation, create=False)  # the morning run opens the next period
    selected = request.args.get("apercu", "")
    preview = None
    if due:
        chosen = next((r for r in due if str(r.membership.id) == selected), due[0])
        preview = (chosen, *reminders.render_reminder(chosen))
    page = db.paginate(reminders.history_query(g.organisation), page=_page(), per_page=20, error_out=False)
    return render_template("member_portal/treasurer/reminders.html", form=form, due=due, preview=preview,
                           history=page, send_form=forms.ButtonForm())


def _page():
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


@online_bp.route("/relances/envoyer", methods=["POST"])
@permission_required(MANAGE)
def send_reminders():
    from jobs.membership_member import send_reminders as job

    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    return _start(job, "membership.reminders", "Envoi des relances de cotisation", {},
                  dedupe_key="membership.reminders")


# --------------------------------------------------------------------------------------------
# Treasurer: HelloAsso settings and unmatched payments
# --------------------------------------------------------------------------------------------

@online_bp.route("/helloasso", methods=["GET", "POST"])
@permission_required(MANAGE)
def helloasso_settings():
    account = helloasso.account_for(g.organisation)
    form = forms.HelloAssoForm(obj=account if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            account = helloasso.save_account(g.organisation, form.client_id.data, form.client_secret.data,
                                             form.organisation_slug.data, form.sandbox.data, form.enabled.data)
            if account.enabled:
                helloasso.check_connection(account)
        except MembershipError as exc:
            _fail(exc)
        else:
            flash("Paramètres HelloAsso enregistrés" + (" : la connexion à HelloAsso fonctionne." if account.enabled
                                                        else " (paiement en ligne désactivé)."), "success")
            return redirect(url_for(".helloasso_settings"))
    return render_template("member_portal/treasurer/helloasso.html", form=form, account=account,
                           notification_url=url_for("self_service.helloasso_hook.notification", org=g.organisation.slug,
                                                    _external=True))


@online_bp.route("/paiements-en-ligne")
@permission_required(MANAGE)
def unmatched():
    status = request.args.get("statut", UnmatchedStatus.OPEN.value)
    status = status if status in {s.value for s in UnmatchedStatus} else UnmatchedStatus.OPEN.value
    page = db.paginate(helloasso.unmatched_query(g.organisation, status), page=_page(), per_page=25, error_out=False)
    candidates = list(db.session.execute(
        select(Membership.id, Membership.payment_reference, Party.sort_name, MembershipPeriod.year,
               Membership.amount_due, Membership.amount_paid)
        .join(Party, Membership.party_id == Party.id).join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
        .where(Membership.organisation_id == g.organisation.id, Membership.status.in_(OPEN_STATUSES))
        .order_by(Party.sort_name, MembershipPeriod.year.desc()).limit(2000)))
    return render_template("member_portal/treasurer/unmatched.html", page=page, status=status,
                           candidates=candidates, Status=UnmatchedStatus, form=forms.ButtonForm())


@online_bp.route("/paiements-en-ligne/<int:unmatched_id>/rapprocher", methods=["POST"])
@permission_required(MANAGE)
def resolve_unmatched(unmatched_id):
    row = get_or_404(UnmatchedPayment, unmatched_id)
    form = forms.ResolveForm()
    if not form.validate_on_submit():
        flash("Choisissez l'adhésion que ce paiement règle.", "danger")
        return redirect(url_for(".unmatched"))
    membership = get_or_404(Membership, form.membership_id.data)
    try:
        helloasso.resolve_unmatched(row, membership, user=current_user)
    except MembershipError as exc:
        _fail(exc)
    else:
        flash(f"Paiement de {membership.party.display_name} enregistré sur l'adhésion {membership.period.label}.",
              "success")
    return redirect(url_for(".unmatched"))


@online_bp.route("/paiements-en-ligne/<int:unmatched_id>/ecarter", methods=["POST"])
@permission_required(MANAGE)
def dismiss_unmatched(unmatched_id):
    row = get_or_404(UnmatchedPayment, unmatched_id)
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    try:
        helloasso.dismiss_unmatched(row, user=current_user)
    except MembershipError as exc:
        _fail(exc)
    else:
        flash("Paiement écarté de la liste (il reste consultable dans « Écartés »).", "success")
    return redirect(url_for(".unmatched"))


# --------------------------------------------------------------------------------------------
# HelloAsso notification (no session, no CSRF: HelloAsso calls it; its body is not trusted)
# --------------------------------------------------------------------------------------------

@hook_bp.route("/<org>/notification", methods=["POST"])
@csrf.exempt
@limiter.limit("120 per minute")  # each call asks HelloAsso's API: no amplification for a flood
def notification(org):
    from backoffice.organisations.models import Organisation

    g.organisation = db.session.scalar(select(Organisation).where(Organisation.slug == org))
    if g.organisation is None:
        abort(404)
    try:
        payload = json.loads(request.get_data(cache=False) or b"null")
        outcome = helloasso.handle_notification(g.organisation, payload)
    except ValueError:
        db.session.rollback()
        return {"status": "invalid"}, 400
    except helloasso.HelloAssoUnavailable as exc:
        db.session.rollback()
        log.warning("HelloAsso notification for %s: API unavailable (%s)", g.organisation.slug, exc)
        return {"status": "retry"}, 503
    except MembershipError as exc:
        db.session.rollback()
        log.warning("HelloAsso notification for %s refused: %s", g.organisation.slug, exc)
        return {"status": "refused"}, 200
    return {"status": outcome.status}, 200


bp.register_blueprint(member_bp)
bp.register_blueprint(online_bp)
bp.register_blueprint(hook_bp)
