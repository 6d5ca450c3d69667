"""The membership part of a workbook import: each row's membership of the chosen period and
its payment, through membership's public services (never its internals).

``annotate(organisation, plan, period)`` says in the preview what each row would do to the
memberships (``row.membership_action``, French; ``plan.membership_counts``), and who of an
earlier import of the period has no row in the file any more (``plan.absent_members``: kept,
never deleted or reversed), reading only;
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
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import among


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


@dataclass
class Difference:
    """What a row changes in its membership: ``kind`` is ``create`` (a new membership),
    ``payment`` (a new payment), ``replace`` (the payment an earlier version of the sheet gave,
    ``old``, is now different: reversed, and the new one recorded), ``amount`` (the fee of an
    unpaid membership changed from ``old``) or ``unchanged``. ``kept``: on the person's first
    row, the payments an earlier import recorded that the sheet no longer shows at all — kept,
    never reversed because a cell was emptied or a row removed, and said so in the preview."""

    kind: str
    old: object = None
    kept: list = field(default_factory=list)

    def kept_warnings(self):
        """The French warnings of the payments kept although the sheet no longer shows them."""
        from backoffice.formatting import format_money

        return [f"Le paiement du {p.paid_on:%d/%m/%Y} ({format_money(p.amount)}) ne figure plus dans le fichier : "
                "il est conservé (contre-passez-le depuis l'adhésion s'il n'a pas eu lieu)." for p in self.kept]

    def sentence(self, cells, period):
        """The French line of the preview."""
        from backoffice.formatting import format_money

        if self.kind == "create":
            return f"Adhésion {period.label} à créer : {cells.describe()}"
        if self.kind == "payment":
            return f"Paiement à enregistrer : {cells.describe()}"
        if self.kind == "replace":
            old = self.old
            return (f"Paiement modifié : {format_money(old.amount)} le {old.paid_on:%d/%m/%Y} "
                    f"({old.method.label.lower()}) → {cells.describe()} (l'ancien est contre-passé)")
        if self.kind == "amount":
            return f"Cotisation modifiée : {format_money(self.old)} → {format_money(cells.amount)}"
        return f"Adhésion {period.label} déjà prévue ou enregistrée : rien à changer"


def differences(rows, party_of, existing, keys, recorded):
    """``{line: Difference}`` of the membership rows ``rows`` (``(row, owner)``), reading only.

    ``party_of(owner)``: the person's id (None for a new one); ``existing``: ``{party id:
    membership of the period}``, payments loaded; ``keys``: ``{line: payment key}`` of the paid
    rows; ``recorded``: the keys already recorded. A payment the import recorded earlier whose
    row no longer says it (another amount, date, method or reference) is what a paid row of
    the same person now replaces, oldest first; a payment the sheet no longer shows at all is
    left alone (money is never reversed because a cell was emptied) and listed in ``kept`` of
    the person's first row, for the preview to warn about it."""
    from backoffice.membership.models import MembershipStatus, PaymentKind, PaymentStatus

    file_keys = {}
    for row, owner in rows:
        if row.line in keys:
            file_keys.setdefault(party_of(owner), set()).add(keys[row.line])
    replaceable = {}
    for party_id, membership in existing.items():
        reversed_ids = {p.reverses_id for p in membership.payments if p.reverses_id is not None}
        replaceable[party_id] = [
            p for p in membership.payments
            if p.source == "import" and p.kind is PaymentKind.PAYMENT and p.status is PaymentStatus.CONFIRMED
            and p.id not in reversed_ids and p.idempotency_key not in file_keys.get(party_id, ())]
    result, created, planned = {}, set(), set()
    for row, owner in rows:
        cells, party_id = row.membership, party_of(owner)
        membership = existing.get(party_id)
        key = keys.get(row.line)
        if membership is None and owner.line not in created:
            created.add(owner.line)
            result[row.line] = Difference("create")
        elif cells.paid and key not in planned and key not in recorded:
            old = replaceable.get(party_id) or []
            result[row.line] = Difference("replace", old.pop(0)) if old else Difference("payment")
        elif membership is not None and not cells.paid and row is owner and cells.amount is not None \
                and cells.amount != membership.amount_due and membership.status is MembershipStatus.AWAITING_PAYMENT \
                and membership.category is not None:
            result[row.line] = Difference("amount", membership.amount_due)
        else:
            result[row.line] = Difference("unchanged")
        if key:
            planned.add(key)
    first_rows = {}
    for row, owner in rows:
        first_rows.setdefault(party_of(owner), row.line)
    for party_id, left in replaceable.items():
        if left and party_id in first_rows:
            result[first_rows[party_id]].kept = sorted(left, key=lambda p: (p.paid_on, p.id))
    return result


def _memberships_of(organisation, period, party_ids):
    """``{party id: membership of period}``, payments loaded, a query (and one for payments) per 500."""
    from sqlalchemy.orm import selectinload

    from backoffice.membership.models import Membership

    existing = {}
    for ids in _chunks(party_ids):
        existing.update({m.party_id: m for m in db.session.scalars(select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.period_id == period.id,
            among(Membership.party_id, ids)).options(selectinload(Membership.payments)))})
    return existing


def _recorded(organisation, keys):
    from backoffice.membership.models import MembershipPayment

    recorded = set()
    for chunk in _chunks(set(keys)):
        recorded.update(db.session.scalars(select(MembershipPayment.idempotency_key).where(
            MembershipPayment.organisation_id == organisation.id, among(MembershipPayment.idempotency_key, chunk))))
    return recorded


def annotate(organisation, plan, period):
    """Say, row by row, what the import would do to the memberships of ``period`` (no writing)."""
    counts = {"create": 0, "payment": 0, "change": 0, "unchanged": 0}
    plan.membership_counts = counts
    if period is None:
        return plan
    rows = list(_rows(plan))
    existing = _memberships_of(organisation, period, {owner.existing_id for _, owner in rows if owner.existing_id})
    # A new person's two rows: the same payment twice in this file is one.
    keys = {row.line: _key(organisation, period, owner.existing_id, row.membership) if owner.existing_id
            else row.membership.payment_key("plan", owner.line) for row, owner in rows if row.membership.paid}
    recorded = _recorded(organisation, keys.values())
    found = differences(rows, lambda owner: owner.existing_id, existing, keys, recorded)
    _refuse_taken_references(organisation, plan, period, [row for row, _ in rows if found[row.line].kind == "create"])
    for row, _ in rows:
        if row.errors:
            continue
        difference = found[row.line]
        counts[{"replace": "change", "amount": "change"}.get(difference.kind, difference.kind)] += 1
        if difference.kind == "create" and row.membership.paid:
            counts["payment"] += 1  # a new membership's payment is recorded too: say so, as the result will
        row.membership_action = difference.sentence(row.membership, period)
        row.warnings.extend(difference.kept_warnings())
    counts["absent"], plan.absent_members = absent_members(organisation, plan, period, ABSENT_SHOWN)
    return plan


# The people absent from the file that the preview names one by one; the others are counted.
ABSENT_SHOWN = 50


@dataclass
class Absent:
    """A person whose membership of the period an earlier import created and whom no row of
    this file designates: said in the preview, and nothing is deleted or reversed for them."""

    membership: object  # Membership, its party and payments loaded

    @property
    def payments(self):
        """The payments that stand: confirmed, not reversed, oldest first."""
        from backoffice.membership.models import PaymentKind, PaymentStatus

        reversed_ids = {p.reverses_id for p in self.membership.payments if p.reverses_id is not None}
        return sorted((p for p in self.membership.payments if p.kind is PaymentKind.PAYMENT
                       and p.status is PaymentStatus.CONFIRMED and p.id not in reversed_ids),
                      key=lambda p: (p.paid_on, p.id))

    def holding(self):
        """What the person has, in French: « Payée, 30,00 € payés sur 30,00 € : virement du 15/01/2026 (30,00 €) »."""
        from backoffice.formatting import format_money

        membership = self.membership
        text = (f"{membership.status.label}, {format_money(membership.amount_paid)} payés sur "
                f"{format_money(membership.amount_due)}")
        payments = ", ".join(f"{p.method.label.lower()} du {p.paid_on:%d/%m/%Y} ({format_money(p.amount)})"
                             for p in self.payments)
        return f"{text} : {payments}" if payments else f"{text}, aucun paiement"

    def sentence(self):
        """The French warning of the preview."""
        membership = self.membership
        number = f" (n° d'adhérent {membership.member_number})" if membership.member_number else ""
        return (f"{membership.party.display_name}{number} ne figure plus dans le fichier : son adhésion et ses "
                "paiements sont conservés ; l'import ne supprime ni ne contre-passe rien (si la personne a quitté "
                "l'association, faites-le depuis son adhésion).")


def absent_members(organisation, plan, period, shown=ABSENT_SHOWN):
    """``(count, [Absent])``: the memberships of ``period`` that an earlier import created
    (``source="import"``, not cancelled) for people no row of ``plan`` designates — neither by
    the directory match nor, for a row in error or merged, by its RPPS, ADELI or e-mail and
    name — the first ``shown`` of them by name. Two queries, reading only; only for a file with
    membership columns (a list of contacts without them says nothing of who is a member)."""
    from sqlalchemy.orm import joinedload, selectinload

    from backoffice.membership.models import Membership, MembershipStatus
    from backoffice.people.importer import identity_keys
    from backoffice.people.models import Party

    if not plan.has_memberships:
        return 0, []
    # All the imports of the period, whatever the layout of their file: a later version is often
    # laid out otherwise (a column added, « Cotisation 2026 » renamed), and the memberships do not
    # say which file they came from. A treasurer who imports her members in several files sees
    # the other files' people here: a list to read, whereas a member gone from her workbook
    # without a word is what this is for.
    present_ids = {row.existing_id for row in plan.rows if row.existing_id is not None}
    present_keys = {key for row in plan.rows for key in identity_keys(row.values)}
    parties = Party.__table__.c
    candidates = db.session.execute(
        select(Membership.id, Membership.party_id, parties.rpps, parties.adeli, parties.email, parties.last_name,
               parties.first_name)
        .join(Party.__table__, parties.id == Membership.party_id)
        .where(Membership.organisation_id == organisation.id, Membership.period_id == period.id,
               Membership.source == "import", Membership.status != MembershipStatus.CANCELLED)
        .order_by(parties.sort_name, Membership.id)).all()
    absent = [c.id for c in candidates if c.party_id not in present_ids and not present_keys.intersection(
        identity_keys({"rpps": c.rpps, "adeli": c.adeli, "email": c.email, "last_name": c.last_name,
                       "first_name": c.first_name}))]
    listed = {m.id: m for m in db.session.scalars(select(Membership).where(Membership.id.in_(absent[:shown])).options(
        joinedload(Membership.party), selectinload(Membership.payments)))} if absent else {}
    return len(absent), [Absent(listed[membership_id]) for membership_id in absent[:shown]]


def _refuse_taken_references(organisation, plan, period, creating):
    """With the association's reference scheme, a new membership whose member number would give
    the reference of another (twice in the sheet, or a member of the period already) is an
    error of its row, before the import — its member number cell correctable in the preview."""
    from backoffice.membership import services

    refused = services.reference_conflicts(organisation, period, [row.membership.member_number for row in creating])
    column = next((index for index, key in plan.mapping.items() if key == "member_number"), None)
    for position, message in refused.items():
        row = creating[position]
        row.errors.append(message)
        row.status = "error"
        if column is not None:
            row.refused["member_number"] = column


def apply(organisation, plan, period, parties, send_receipts=False, user=None, one_by_one=False):
    """Create the memberships and record the payments the rows say; ``parties``: ``{line: party}``.

    Raises ``MembershipError`` (the caller rolls back) with the line named. The journal entries
    of the whole file are posted in one posting batch (the books looked up once). New
    memberships are created a run at a time (``membership.bulk``: the same rows, entries and
    states as one by one, with few statements); the others — a membership of the period already
    there, a person's second row, an exemption — go one by one through membership's services, in
    the file's order. ``one_by_one``: every row through them (the reference the bulk path is
    tested against)."""
    from backoffice.accounting.services import posting_batch

    with posting_batch(organisation):
        return _apply(organisation, plan, period, parties, send_receipts, user, one_by_one)


def _chunks(values, size=500):
    values = sorted(values)
    return [values[start:start + size] for start in range(0, len(values), size)]


def _apply(organisation, plan, period, parties, send_receipts, user, one_by_one):
    from backoffice.membership import receipts, services
    from backoffice.membership.models import MembershipStatus
    from backoffice.membership.services import DuplicateSubmission, MembershipError

    done = {"created": 0, "payments": 0, "changed": 0}
    rows = list(_rows(plan))
    existing = _memberships_of(organisation, period, {parties[owner.line].id for _, owner in rows})
    keys = {row.line: _key(organisation, period, parties[owner.line].id, row.membership)
            for row, owner in rows if row.membership.paid}
    recorded = _recorded(organisation, keys.values())
    found = differences(rows, lambda owner: parties[owner.line].id, existing, keys, recorded)
    paid, pending, seen = {}, [], set()

    def create_pending():
        for membership in services.create_memberships(organisation, period, pending, user=user):
            existing[membership.party_id] = membership
            done["created"] += 1
            done["payments"] += len(membership.payments)
            if membership.status is MembershipStatus.PAID:
                paid[membership.id] = membership
        pending.clear()

    for row, owner in rows:
        party, cells = parties[owner.line], row.membership
        first = owner.line not in seen
        seen.add(owner.line)
        if not one_by_one and first and party.id not in existing and not cells.exempt:
            payments = [services.NewPayment(
                cells.method, cells.paid_on, amount=cells.amount, reference=_reference(cells),
                note=f"Import du tableau, ligne {row.line}", idempotency_key=keys[row.line])] if cells.paid else []
            pending.append(services.NewMembership(party, amount_due=cells.amount, joined_on=_joined_on(cells, period),
                                                  note=_note(cells), member_number=cells.member_number,
                                                  payments=payments,
                                                  label=f"Ligne {row.line} ({owner.name})"))
            continue
        create_pending()  # the rows above first, as one by one
        difference = found[row.line]
        try:
            membership = existing.get(party.id) if not one_by_one else services.membership_of(
                organisation, party, period)
            if membership is None:
                membership = services.create_membership(
                    organisation, party, period, amount_due=cells.amount, joined_on=_joined_on(cells, period),
                    source="import", note=_note(cells), member_number=cells.member_number)
                existing[party.id] = membership
                done["created"] += 1
            if difference.kind == "replace":
                services.reverse_payment(difference.old, on=date.today(),
                                         reason=f"Modifié dans le tableau importé, ligne {row.line}", user=user)
            if difference.kind in ("replace", "amount") and cells.amount is not None \
                    and cells.amount != membership.amount_due and membership.status is MembershipStatus.AWAITING_PAYMENT \
                    and membership.category is not None:
                services.change_category(membership, membership.category, amount_due=cells.amount)
            if difference.kind in ("replace", "amount"):
                done["changed"] += 1
            if cells.exempt and membership.status not in (MembershipStatus.EXEMPT, MembershipStatus.CANCELLED) \
                    and membership.amount_paid == 0:
                services.exempt_membership(membership, "Exonération indiquée dans le tableau importé",
                                           on=_joined_on(cells, period))
            if cells.paid and (one_by_one or keys[row.line] not in recorded):
                try:
                    services.record_payment(
                        membership, cells.amount if cells.amount is not None else membership.amount_due,
                        cells.method, cells.paid_on, reference=_reference(cells), source="import",
                        idempotency_key=keys[row.line], user=user, note=f"Import du tableau, ligne {row.line}")
                    recorded.add(keys[row.line])
                    done["payments"] += 1
                except DuplicateSubmission:
                    pass  # recorded by an earlier import of the same row
            if membership.status is MembershipStatus.PAID:
                paid[membership.id] = membership
        except MembershipError as exc:
            raise MembershipError(f"Ligne {row.line} ({owner.name}) : {exc}") from None
    create_pending()
    found = {}
    for ids in _chunks(paid):
        found.update(receipts.receipts_by_membership(ids))
    for membership in paid.values():
        receipt = found.get(membership.id)
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
