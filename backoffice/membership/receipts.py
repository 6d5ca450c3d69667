"""Attestations d'adhésion (membership receipts): generated when a membership becomes paid,
e-mailed to the member with the Word file attached, downloadable by the member (as PDF when LibreOffice made one in the job) and the treasurer (Word).

Flow: the core's paid hook (:func:`on_paid`, registered below) creates or refreshes the
``MembershipReceipt`` row (status pending) and, in a web request, its document task
(``start_task``) inside the payment's transaction: the job runs once that transaction commits,
and nothing runs if it rolls back. Outside a request (a worker, a command) the periodic job
``start_pending_receipts`` starts it within minutes. The task (``jobs.membership_member.membership_receipt``) renders the
receipt through the document machinery, keeps it as a durable document (a new version of the
``membership_receipt`` document of the membership, ``backoffice.documents.generated``) and mails
it once (``mailed_at`` is committed with the task's end).

A receipt is numbered once (``2026-0042``, from the kind's sequence per organisation and year of
the period) and keeps its number when regenerated; earlier versions are kept, superseded.
Every status change of a receipt goes through :func:`_set_status`.
"""
from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta

from flask import has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from backoffice.documents import generated
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.member_portal.models import MembershipReceipt, ReceiptStatus
from backoffice.mail.services import external_url, render_mail
from backoffice.membership import services
from backoffice.membership.documents import RECEIPT_KIND
from backoffice.membership.models import Membership, MembershipPeriod, MembershipStatus, PaymentKind, PaymentStatus
from backoffice.models import utcnow
from backoffice.people.models import PartyKind

log = logging.getLogger(__name__)

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Memberships created by the demo seed or by a workbook import get no receipt (and no mail) on
# their own: the import asks for them (request_receipt) only when the treasurer says so.
SILENT_SOURCES = {"demo", "import"}


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------

def receipt_of(membership):
    return db.session.scalar(select(MembershipReceipt).where(MembershipReceipt.membership_id == membership.id))


def ensure_receipt(membership, mail_wanted=True):
    """The receipt row of ``membership`` (created with the next number), marked pending."""
    receipt = receipt_of(membership)
    if receipt is None:
        year = membership.period.starts_on.year
        try:
            # Two payments confirmed at the same time: the second waits for the number's lock,
            # then finds the first one's receipt (its number goes back with the savepoint).
            with db.session.begin_nested():
                number = generated.allocate_number(membership.organisation, RECEIPT_KIND, year=year)
                receipt = MembershipReceipt(organisation_id=membership.organisation_id, membership_id=membership.id,
                                            number=number.label, token=secrets.token_urlsafe(32),
                                            status=ReceiptStatus.PENDING, mail_wanted=mail_wanted)
                db.session.add(receipt)
                db.session.flush()
        except IntegrityError:
            receipt = receipt_of(membership)
            if receipt is None:
                raise
    _set_status(receipt, ReceiptStatus.PENDING)
    receipt.mail_wanted = mail_wanted and receipt.mailed_at is None
    db.session.flush()
    return receipt


def _set_status(receipt, status):
    """The one place where a receipt's status changes (``RECEIPT_LIFECYCLE``; nothing when it
    is there already: a receipt asked for twice, generated again)."""
    if receipt.status is not status:
        move(receipt, status)


# --------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------

def _counted_payments(membership):
    """Confirmed payments of the membership that were not reversed."""
    rows = [p for p in membership.payments if p.status is PaymentStatus.CONFIRMED]
    reversed_ids = {p.reverses_id for p in rows if p.reverses_id}
    return [p for p in rows if p.kind is PaymentKind.PAYMENT and p.id not in reversed_ids]


def _treasurer_name(organisation, on):
    """Who signs a receipt issued on ``on``: the treasurer then (an affiliation), else a treasurer
    login, else the president."""
    from backoffice.auth.models import Role, RoleAssignment, User
    from backoffice.organisations.affiliations import Role as Office
    from backoffice.organisations.affiliations import current_holder

    treasurer = current_holder(organisation, Office.TREASURER, on)
    if treasurer is not None:
        return getattr(treasurer, "formal_name", None) or treasurer.display_name
    user = db.session.scalar(select(User).join(RoleAssignment, RoleAssignment.user_id == User.id).where(
        RoleAssignment.organisation_id == organisation.id, RoleAssignment.role == Role.TREASURER,
        User.active.is_(True)).order_by(User.id).limit(1))
    if user is not None:
        return str(user)
    president = current_holder(organisation, Office.PRESIDENT, on)
    return president.display_name if president is not None else ""


def _siren(value):
    value = value or ""
    return f"{value[:3]} {value[3:6]} {value[6:]}" if len(value) == 9 else value


def receipt_context(membership, receipt, issued_on=None):
    """The context of ``membership_receipt.docx`` (contract: ``documents.samples``)."""
    organisation, party = membership.organisation, membership.party
    payments = _counted_payments(membership)
    last = max(payments, key=lambda p: (p.paid_on, p.id)) if payments else None
    methods = sorted({p.method.label.lower() for p in payments})
    city_line = f"{organisation.postcode or ''} {organisation.city or ''}".strip()
    if party.kind == PartyKind.PROFESSIONAL:
        member = {"civility": party.civility or "", "first_name": party.first_name or "",
                  "last_name": party.last_name or ""}
    else:
        member = {"civility": "", "first_name": "", "last_name": party.display_name}
    return {
        "organisation": {"name": organisation.name,
                         "address": "\n".join(p for p in (organisation.address, city_line) if p),
                         "siren": _siren(organisation.siren), "city": organisation.city or ""},
        "logo": None,
        "receipt": {"number": receipt.number},
        "member": member,
        "period": {"start": membership.period.starts_on, "end": membership.period.ends_on},
        "category": membership.category.label if membership.category else "",
        "amount": membership.amount_due,
        "payment": {"date": (last.paid_on if last else membership.paid_on) or date.today(),
                    "method": ", ".join(methods) or "—",
                    "reference": (last.reference if last else None) or membership.payment_reference},
        "place": organisation.city or "",
        "issued_on": issued_on or date.today(),
        "treasurer": {"name": _treasurer_name(organisation, issued_on or date.today())},
    }


def render(membership, receipt):
    """The receipt as .docx bytes (the organisation's own template if it uploaded one)."""
    from backoffice.documents.services import render_document

    context = receipt_context(membership, receipt)
    context.pop("logo")
    return render_document(membership.organisation, RECEIPT_KIND, context)


def absolute_path(receipt):
    """Where the file of the receipt's version in force is, or None."""
    return receipt.document.abspath() if receipt.document is not None else None


def generate(receipt, task=None):
    """Render the receipt and keep it as a new version of its document, with its PDF rendition
    (what the member gets); returns the .docx bytes. Raises if the membership is no longer paid
    (a reversal came in between). Inside a job only: the PDF takes LibreOffice seconds."""
    return generate_many([receipt], task=task)[0]


def generate_many(receipts, task=None):
    """:func:`generate` for several receipts, their PDFs made by one LibreOffice run; returns
    the .docx bytes of each, in order."""
    from backoffice.documents.services import pdf_renditions

    rendered = []
    for receipt in receipts:
        membership = receipt.membership
        if membership.status is not MembershipStatus.PAID:
            _set_status(receipt, ReceiptStatus.FAILED)
            raise services.MembershipError(f"L'adhésion {membership.period.label} de "
                                           f"{membership.party.display_name} n'est plus payée : pas d'attestation.")
        rendered.append(render(membership, receipt))
    for receipt, data, pdf in zip(receipts, rendered, pdf_renditions(rendered)):
        membership = receipt.membership
        receipt.document = generated.issue_document(membership.organisation, RECEIPT_KIND, membership, data,
                                                    filename=receipt.filename, mimetype=DOCX_MIMETYPE, task=task,
                                                    number=receipt.number, pdf=pdf)
        receipt.generated_at = receipt.document.generated_at
        _set_status(receipt, ReceiptStatus.READY)
        if task is not None:
            receipt.task_id = task.id
    db.session.flush()
    return rendered


def mail(receipt, data):
    """E-mail the receipt to the member (once: ``mailed_at``). Returns True if sent."""
    from backoffice.mail.services import send_mail

    membership = receipt.membership
    email = membership.party.email
    if not email or receipt.mailed_at is not None:
        return False
    subject, body = render_mail("membership/member/mail/receipt.txt", membership=membership, receipt=receipt,
                                organisation=membership.organisation,
                                portal_url=external_url("self_service.member.home", org=membership.organisation.slug))
    document = receipt.document
    # The member gets the PDF when the job made one (the Word file is the staff's).
    attachment = ((document.pdf_filename, document.pdf_abspath().read_bytes(), "application/pdf")
                  if document is not None and document.has_pdf else (receipt.filename, data, DOCX_MIMETYPE))
    send_mail(email, subject, body, attachments=[attachment])
    receipt.mailed_at, receipt.mailed_to, receipt.mail_wanted = utcnow(), email, False
    db.session.flush()
    return True


def downloadable(receipt):
    """A file exists and the membership is still paid."""
    return (receipt is not None and receipt.is_ready and receipt.membership.status is MembershipStatus.PAID
            and absolute_path(receipt) is not None and absolute_path(receipt).is_file())


# --------------------------------------------------------------------------------------------
# Starting the document task
# --------------------------------------------------------------------------------------------

def start_receipt_task(receipt, user=None):
    """Start the task that produces ``receipt`` (run or enqueued once the transaction commits)."""
    from backoffice.tasks.services import start_task
    from jobs.membership_member import membership_receipt

    membership = receipt.membership
    return start_task(organisation=membership.organisation, user=user, kind="membership.receipt",
                      label=f"Attestation d'adhésion {membership.period.label} — {membership.party.display_name}",
                      job=membership_receipt, params={"receipt_id": receipt.id},
                      dedupe_key=f"membership.receipt:{receipt.id}")


def on_paid(membership):
    """Paid hook: ask for the receipt of ``membership`` (never breaks the payment).

    In a web request its task is started in the payment's transaction (the job runs after the
    commit; the task's dedupe key makes a second payment in the same request reuse it); in a
    worker or a command, ``start_pending_receipts`` picks it up."""
    if membership.source in SILENT_SOURCES:
        return
    try:
        with db.session.begin_nested():
            receipt = ensure_receipt(membership)
            if has_request_context():
                start_receipt_task(receipt)
    except Exception:  # noqa: BLE001 - the payment matters more; the treasurer can regenerate
        log.exception("could not prepare the receipt of membership %s", membership.id)


services.register_paid_hook(on_paid)


def request_receipt(membership, user=None, mail_wanted=False):
    """The treasurer's "(re)generate" button: mark pending and start the task (runs after the commit)."""
    if membership.status is not MembershipStatus.PAID:
        raise services.MembershipError("Une attestation n'est délivrée que pour une adhésion payée.")
    receipt = ensure_receipt(membership, mail_wanted=mail_wanted)
    return start_receipt_task(receipt, user=user)


def start_pending(now=None, grace=timedelta(minutes=2)):
    """Start the task of receipts still pending (no active task) for longer than ``grace``."""
    from backoffice.tasks.services import active_task

    limit = (now or utcnow()) - grace
    started = []
    pending = db.session.scalars(select(MembershipReceipt).where(
        MembershipReceipt.status == ReceiptStatus.PENDING, MembershipReceipt.updated_at < limit)
        .order_by(MembershipReceipt.id)).all()
    for receipt in pending:
        if active_task(receipt.membership.organisation, f"membership.receipt:{receipt.id}") is None:
            started.append(start_receipt_task(receipt))
    return started


def paid_memberships(period):
    """Paid memberships of ``period`` with what a receipt needs loaded (bulk regeneration)."""
    return list(db.session.scalars(
        select(Membership).where(Membership.period_id == period.id, Membership.status == MembershipStatus.PAID)
        .options(joinedload(Membership.party), joinedload(Membership.category),
                 joinedload(Membership.period).joinedload(MembershipPeriod.organisation))
        .order_by(Membership.id)))


def receipts_by_membership(membership_ids):
    if not membership_ids:
        return {}
    return {r.membership_id: r for r in db.session.scalars(select(MembershipReceipt).where(
        MembershipReceipt.membership_id.in_(membership_ids)))}

