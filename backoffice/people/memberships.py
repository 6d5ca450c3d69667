"""The membership part of a workbook import: each row's membership of the chosen period and
its payment, through membership's public services (never its internals).

``annotate(organisation, plan, period)`` says in the preview what each row would do to the
memberships (``row.membership_action``, French; ``plan.membership_counts``), reading only;
``apply(organisation, plan, period, parties, …)`` does it, inside the import's transaction.

- A membership is created for the period when the person has none (``source="import"``: no
  receipt and no mail on its own); its amount is the row's, else the fee grid's.
- « Exonéré » exempts it (when nothing is paid on it).
- A payment is recorded only when the row has a payment date, dated as the sheet says, with its
  journal entry (``record_payment`` posts it). Its idempotency key is made of what the row says:
  the same row imported again records nothing; a later version's new payment is recorded.
- A method without a date is announced, not paid (kept in the membership's note).
- Receipts are e-mailed only when the treasurer asks (``send_receipts``).
"""
from datetime import date

from sqlalchemy import select

from backoffice.extensions import db


def _key(organisation, period, party_id, cells):
    return cells.payment_key(organisation.id, period.id, party_id)


def _rows(plan):
    """The rows that carry a membership, with the line of the person they belong to."""
    lines = {row.line: row for row in plan.rows}
    for row in plan.rows:
        if row.membership is None or row.status == "error":
            continue
        owner = lines.get(row.merged_into) if row.status == "merged" else row
        yield row, owner


def annotate(organisation, plan, period):
    """Say, row by row, what the import would do to the memberships of ``period`` (no writing)."""
    from backoffice.membership.models import Membership, MembershipPayment

    counts = {"create": 0, "payment": 0, "unchanged": 0}
    plan.membership_counts = counts
    if period is None:
        return plan
    rows = list(_rows(plan))
    party_ids = {owner.existing_id for _, owner in rows if owner.existing_id}
    existing = {}
    if party_ids:
        existing = {m.party_id: m for m in db.session.scalars(select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.period_id == period.id,
            Membership.party_id.in_(party_ids)))}
    keys = {row.line: _key(organisation, period, owner.existing_id, row.membership)
            for row, owner in rows if owner.existing_id and row.membership.paid}
    recorded = set()
    if keys:
        recorded = set(db.session.scalars(select(MembershipPayment.idempotency_key).where(
            MembershipPayment.organisation_id == organisation.id,
            MembershipPayment.idempotency_key.in_(set(keys.values())))))
    created, planned = set(), set()
    for row, owner in rows:
        cells = row.membership
        membership = existing.get(owner.existing_id)
        same = cells.payment_key("plan", owner.line) if cells.paid else None  # twice in this file
        if membership is None and owner.line not in created:
            created.add(owner.line)
            counts["create"] += 1
            action = f"Adhésion {period.label} à créer : {cells.describe()}"
        elif cells.paid and same not in planned and keys.get(row.line) not in recorded:
            counts["payment"] += 1
            action = f"Paiement à enregistrer : {cells.describe()}"
        else:
            counts["unchanged"] += 1
            action = f"Adhésion {period.label} déjà prévue ou enregistrée : rien à changer"
        if same:
            planned.add(same)
        row.membership_action = action
    return plan


def apply(organisation, plan, period, parties, send_receipts=False, user=None):
    """Create the memberships and record the payments the rows say; ``parties``: ``{line: party}``.

    Raises ``MembershipError`` (the caller rolls back) with the line named. The journal entries
    of the whole file are posted in one posting batch (the books looked up once)."""
    from backoffice.accounting.services import posting_batch

    with posting_batch(organisation):
        return _apply(organisation, plan, period, parties, send_receipts, user)


def _apply(organisation, plan, period, parties, send_receipts, user):
    from backoffice.membership import receipts, services
    from backoffice.membership.models import MembershipStatus
    from backoffice.membership.services import DuplicateSubmission, MembershipError

    done = {"created": 0, "payments": 0}
    paid = {}
    for row, owner in _rows(plan):
        party, cells = parties[owner.line], row.membership
        try:
            membership = services.membership_of(organisation, party, period)
            if membership is None:
                membership = services.create_membership(
                    organisation, party, period, amount_due=cells.amount, joined_on=_joined_on(cells, period),
                    source="import", note=_note(cells), member_number=cells.member_number)
                done["created"] += 1
            if cells.exempt and membership.status not in (MembershipStatus.EXEMPT, MembershipStatus.CANCELLED) \
                    and membership.amount_paid == 0:
                services.exempt_membership(membership, "Exonération indiquée dans le tableau importé",
                                           on=_joined_on(cells, period))
            if cells.paid:
                try:
                    services.record_payment(
                        membership, cells.amount if cells.amount is not None else membership.amount_due,
                        cells.method, cells.paid_on, reference=_reference(cells), source="import",
                        idempotency_key=_key(organisation, period, party.id, cells), user=user,
                        note=f"Import du tableau, ligne {row.line}")
                    done["payments"] += 1
                except DuplicateSubmission:
                    pass  # recorded by an earlier import of the same row
            if membership.status is MembershipStatus.PAID:
                paid[membership.id] = membership
        except MembershipError as exc:
            raise MembershipError(f"Ligne {row.line} ({owner.name}) : {exc}") from None
    for membership in paid.values():
        receipt = receipts.receipt_of(membership)
        if send_receipts:
            receipts.request_receipt(membership, user=user, mail_wanted=True)
        elif receipt is not None and receipt.mailed_at is None:
            receipt.mail_wanted = False  # asked by the paid hook of an older membership: no mail
    db.session.flush()
    return done


def _joined_on(cells, period):
    if cells.paid_on is not None:
        return cells.paid_on
    return max(period.starts_on, min(date.today(), period.ends_on))


def _note(cells):
    parts = []
    if cells.member_number:
        parts.append(f"N° d'adhérent {cells.member_number}")
    if cells.announced:
        parts.append(f"Règlement annoncé dans le tableau : {cells.method_text}")
    return " · ".join(parts) or None


def _reference(cells):
    # A cheque needs its number in membership; the sheet does not always say it.
    if cells.reference:
        return cells.reference
    return "sans numéro" if cells.method == "cheque" else None
