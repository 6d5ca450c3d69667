"""Memberships: their status machine and hooks, payment references, creating, exempting,
cancelling and reinstating a membership, and its amounts and status derived from its payments
(``recompute``). Public through ``backoffice.membership.services``.
"""
import secrets
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from backoffice.accounting.sources import posting_source
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.membership import ledger
from backoffice.membership.errors import MembershipError, clean_amount
from backoffice.membership.models import (MEMBERSHIP_LIFECYCLE, OPEN_STATUSES, REINSTATE, Membership,
                                          MembershipPeriod, MembershipStatus, PaymentStatus)
from backoffice.membership.periods import get_settings, suggest_category
from backoffice.membership.roll import paid_since
from backoffice.models import ZERO

S = MembershipStatus


# --------------------------------------------------------------------------------------------
# State machines
# --------------------------------------------------------------------------------------------

# The tables live with the models (``models.MEMBERSHIP_LIFECYCLE``, ``PAYMENT_LIFECYCLE``): a
# status changes only through ``backoffice.lifecycle.move`` (recorded in ``status_changes``).

def can_transition(current, target):
    return MEMBERSHIP_LIFECYCLE.allows(current, target)


def _set_status(membership, target, reason=None):
    """Move ``membership`` to ``target`` (nothing when it is there already)."""
    if membership.status != target:
        move(membership, target, reason=reason)


def derived_status(amount_due, amount_paid):
    """The payment status that amounts imply: paid when amount paid ≥ amount due."""
    if amount_paid >= amount_due:
        return S.PAID
    if amount_paid > 0:
        return S.PARTIALLY_PAID
    return S.AWAITING_PAYMENT


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------

_PAID_HOOKS = []


def register_paid_hook(fn):
    """Call ``fn(membership)`` whenever a membership becomes paid (inside the transaction)."""
    if fn not in _PAID_HOOKS:
        _PAID_HOOKS.append(fn)
    return fn


_CREATED_HOOKS = []
_CREATED_MANY = {}  # hook -> the same for a list of memberships (few statements for many)


def register_created_hook(fn, many=None):
    """Call ``fn(membership)`` whenever a membership is created (inside the transaction);
    ``many(memberships)``, if given, does the same for the memberships an import creates at
    once (``membership.bulk``).

    Used by the member side: the member gets an account (``member_portal.services``).
    """
    if fn not in _CREATED_HOOKS:
        _CREATED_HOOKS.append(fn)
    if many is not None:
        _CREATED_MANY[fn] = many
    return fn


def _run_created_hooks(memberships):
    for hook in list(_CREATED_HOOKS):
        if hook in _CREATED_MANY:
            _CREATED_MANY[hook](memberships)
        else:
            for membership in memberships:
                hook(membership)


# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read over the phone or typed from paper stays right.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_LENGTH = 5


def _random_reference(prefix, year):
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{prefix}{year % 100:02d}-{code}"


def new_payment_reference(prefix, year):
    """A fresh unique payment reference such as ``ADH26-7KQ4M``."""
    for _ in range(50):
        reference = _random_reference(prefix, year)
        if not db.session.scalar(select(exists().where(Membership.payment_reference == reference))):
            return reference
    raise MembershipError("Impossible de générer une référence de paiement unique.")  # pragma: no cover


def new_payment_references(prefix, year, count):
    """``count`` fresh unique payment references (``new_payment_reference``), checked a query per 500."""
    references = set()
    for _ in range(50):
        while len(references) < count:
            references.add(_random_reference(prefix, year))
        candidates = sorted(references)
        for start in range(0, len(candidates), 500):
            references -= set(db.session.scalars(select(Membership.payment_reference).where(
                Membership.payment_reference.in_(candidates[start:start + 500]))))
        if len(references) == count:
            return sorted(references, key=lambda _: secrets.randbits(32))
    raise MembershipError("Impossible de générer une référence de paiement unique.")  # pragma: no cover


# The longest reference a membership holds (``Membership.payment_reference``).
REFERENCE_MAX_LENGTH = 64


def _clean_number(member_number):
    return (member_number or "").strip()[:30] or None


def _numeric(member_number):
    from backoffice.membership.matching import compact

    code = compact(member_number)
    return int(code) if code.isdigit() and len(code) <= 12 else 0


def next_member_numbers(organisation, count, above=0):
    """``count`` member numbers for members who have none, from the organisation's counter:
    above every number it handed out and every member number in use (the workbook's), so a
    number is never given twice. The settings row is locked until the commit (PostgreSQL;
    SQLite has one writer at a time): two treasurers creating memberships at once get
    different numbers; the reference's unique constraint catches anything that slips by.
    ``above``: a number about to be used too (an import's own numbers)."""
    from backoffice.membership.models import MembershipSettings

    settings = db.session.scalar(select(MembershipSettings).where(MembershipSettings.organisation_id == organisation.id)
                                 .with_for_update().execution_options(populate_existing=True))
    if settings is None:
        settings = get_settings(organisation, create=True)
    in_use = max((_numeric(n) for n in db.session.scalars(
        select(Membership.member_number).where(Membership.organisation_id == organisation.id,
                                               Membership.member_number.is_not(None)).distinct())), default=0)
    first = max(settings.member_counter or 0, in_use, above) + 1
    settings.member_counter = first + count - 1
    db.session.flush()
    return [str(n) for n in range(first, first + count)]


def known_member_numbers(organisation, party_ids):
    """{party id: member number of the party's latest membership that has one}: a member keeps
    his number from year to year, whoever creates the new membership (renewal, self-service,
    treasurer, import)."""
    known = {}
    ids = sorted(set(party_ids))
    for start in range(0, len(ids), 500):
        for party_id, number in db.session.execute(
                select(Membership.party_id, Membership.member_number)
                .join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
                .where(Membership.organisation_id == organisation.id, Membership.party_id.in_(ids[start:start + 500]),
                       Membership.member_number.is_not(None))
                .order_by(MembershipPeriod.year)):
            known[party_id] = number  # the latest year last
    return known


def new_references(organisation, period, member_numbers):
    """[(payment reference, member number)] of new memberships of ``period`` whose member
    numbers are ``member_numbers`` (None: none known).

    Without a reference scheme: our generated references, member numbers unchanged. With one
    (``COT{year}/{number:05}``), the association's own reference, which members are shown
    everywhere: built from the member number, or from the next number of the organisation's
    counter (``next_member_numbers``), which becomes the member's number. Refused (French) when
    two of them, or one of them and an existing membership of the period, would share a
    reference (the same member number twice)."""
    from backoffice.membership.periods import reference_scheme

    numbers = [_clean_number(n) for n in member_numbers]
    settings = get_settings(organisation)
    scheme = reference_scheme(settings)
    if scheme is None:
        return list(zip(new_payment_references(settings.reference_prefix, period.starts_on.year, len(numbers)),
                        numbers))
    year = period.starts_on.year
    conflicts = reference_conflicts(organisation, period, numbers, scheme)
    if conflicts:
        raise MembershipError(conflicts[min(conflicts)])
    seen = {scheme.format(number, year): number for number in filter(None, numbers)}
    for _ in range(5):
        # A number of the counter whose reference is taken (by a membership made at the same
        # moment, or given that reference some other way) is skipped: the next one is drawn.
        missing = [i for i, n in enumerate(numbers) if n is None]
        if not missing:
            break
        drawn = dict(zip(missing, next_member_numbers(organisation, len(missing),
                                                      above=max(map(_numeric, seen.values()), default=0))))
        references = {i: scheme.format(n, year) for i, n in drawn.items()}
        taken = _taken_references(organisation, period, list(references.values())) | set(seen)
        for i, number in drawn.items():
            if references[i] not in taken:
                numbers[i] = number
    else:  # pragma: no cover - five draws all taken
        raise MembershipError("Impossible d'attribuer un numéro d'adhérent libre : réessayez.")
    return [(scheme.format(n, year), n) for n in numbers]


def reference_conflicts(organisation, period, member_numbers, scheme=None):
    """{position in ``member_numbers``: French refusal} of the member numbers that cannot give a
    new membership of ``period`` its reference under the organisation's scheme: the same
    reference as an earlier number of the list (``42`` and ``00042``), or as a membership of
    the period already there, or too long. Reads only ({} without a scheme): the import's
    preview says it on the row before anything is written."""
    from backoffice.membership.periods import reference_scheme

    scheme = scheme or reference_scheme(get_settings(organisation))
    if scheme is None:
        return {}
    refused, seen, references = {}, {}, {}
    for position, number in enumerate(member_numbers):
        number = _clean_number(number)
        if number is None:
            continue
        reference = references[position] = scheme.format(number, period.starts_on.year)
        if len(reference) > REFERENCE_MAX_LENGTH:
            refused[position] = (f"La référence {reference[:30]}… compte plus de {REFERENCE_MAX_LENGTH} caractères : "
                                 "raccourcissez le numéro d'adhérent ou le modèle de référence.")
        elif reference in seen:
            refused[position] = (f"Les numéros d'adhérent {seen[reference]} et {number} donnent la même référence "
                                 f"{reference} : un numéro d'adhérent sert à un seul membre.")
        else:
            seen[reference] = number
    taken = _taken_references(organisation, period, sorted(seen))
    for position, reference in references.items():
        if reference in taken and position not in refused:
            refused[position] = (f"La référence {reference} (numéro d'adhérent {_clean_number(member_numbers[position])}) "
                                 f"est déjà celle d'une autre adhésion {period.label} : un numéro d'adhérent sert à "
                                 "un seul membre.")
    return refused


def _taken_references(organisation, period, references):
    taken = set()
    for start in range(0, len(references), 500):
        taken |= set(db.session.scalars(select(Membership.payment_reference).where(
            Membership.organisation_id == organisation.id, Membership.period_id == period.id,
            Membership.payment_reference.in_(references[start:start + 500]))))
    return taken


# --------------------------------------------------------------------------------------------
# Memberships
# --------------------------------------------------------------------------------------------

def _membership_label(membership):
    return f"Cotisation {membership.period.label} {membership.party.display_name}"[:200]


def create_membership(organisation, party, period, category=None, college=None, amount_due=None,
                      joined_on=None, source="treasurer", note=None, member_number=None):
    """Make ``party`` a member of ``organisation`` for ``period``; posts ``fee_due``.

    ``category`` defaults to the suggestion, ``amount_due`` to the category's amount. A second
    membership for the same period is refused (and a unique constraint backs it), except when
    the party's membership of the period was cancelled: that one is reinstated with these
    values (``reinstate_membership``; same row, same payment reference). ``member_number``: the
    association's own number for the member (its reference scheme is built from it).
    """
    if period.organisation_id != organisation.id:
        raise MembershipError("Cette période n'appartient pas à l'organisation.")
    existing = membership_of(organisation, party, period)
    if existing is not None and existing.status is not S.CANCELLED:
        raise MembershipError(
            f"{party.display_name} a déjà une adhésion pour {period.label} "
            f"({existing.status.label.lower()}) : impossible d'en créer une deuxième.")
    if category is None:
        category = suggest_category(party, period)
    category, college, amount_due = checked_terms(organisation, period, category, college, amount_due)
    if existing is not None:
        return reinstate_membership(existing, category=category, college=college, amount_due=amount_due,
                                    joined_on=joined_on or date.today(), source=source, note=note)
    if _clean_number(member_number) is None:
        member_number = known_member_numbers(organisation, [party.id]).get(party.id)
    for attempt in range(5):
        [(reference, number)] = new_references(organisation, period, [member_number])
        membership = new_membership(organisation, party, period, category, college, amount_due, joined_on, source,
                                    note, reference, number)
        try:
            with db.session.begin_nested():
                db.session.add(membership)
                db.session.flush()
            break
        except IntegrityError:
            # Another membership took the reference between our look and our insert (a
            # treasurer creating one at the same moment): a number of the counter is taken
            # again, the member's own number is not ours to change.
            if _clean_number(member_number) is None and _taken_references(organisation, period, [reference]):
                continue
            raise MembershipError(f"{party.display_name} a déjà une adhésion pour {period.label}.") from None
    else:  # pragma: no cover - five concurrent creations in a row
        raise MembershipError("Impossible d'attribuer une référence de paiement : réessayez.")
    membership.fee_due_entry_id = _post_fee_due(membership)
    db.session.flush()
    for hook in list(_CREATED_HOOKS):
        hook(membership)
    if membership.status is S.PAID:
        _run_paid_hooks(membership)
    return membership


def new_membership(organisation, party, period, category, college, amount_due, joined_on, source, note, reference,
                   member_number=None):
    """The unsaved row of a new membership whose terms are checked (``checked_terms``): paid
    at once when nothing is due."""
    membership = Membership(
        organisation_id=organisation.id, party=party, period=period, category=category, college=college,
        amount_due=amount_due, amount_paid=ZERO, credit=ZERO,
        status=S.PAID if amount_due == 0 else S.AWAITING_PAYMENT, payment_reference=reference,
        joined_on=joined_on or date.today(), source=source, note=note,
        member_number=_clean_number(member_number),
    )
    if amount_due == 0:
        membership.paid_on = membership.joined_on
    return membership


def checked_terms(organisation, period, category, college, amount_due):
    """(category, college, amount due) of a membership of ``period``, checked; the amount
    defaults to the category's."""
    if category is not None and category.period_id != period.id:
        raise MembershipError("Cette catégorie ne fait pas partie de la grille de la période.")
    if college is not None and college.organisation_id != organisation.id:
        raise MembershipError("Ce collège n'appartient pas à l'organisation.")
    if amount_due is None:
        if category is None:
            raise MembershipError(f"La grille de cotisations {period.label} est vide : indiquez un montant.")
        amount_due = category.amount
    return category, college, clean_amount(amount_due, allow_zero=True)


def reinstate_membership(membership, category=None, college=None, amount_due=None, joined_on=None, source=None,
                         note=None, on=None):
    """Reopen a cancelled membership (a cancellation made by mistake, a member who comes back
    for the same period): awaiting payment again, ``fee_due`` posted again.

    Same row, same payment reference. ``category`` and ``college`` default to the membership's
    own, ``amount_due`` to the category's amount in the grid today (the membership's former
    amount when it has no category); ``joined_on``, ``source`` and ``note`` are kept unless
    given. The cancellation date and reason are cleared: the audit trail keeps them, and the
    books keep the reversed entry. Anything but a cancelled membership is refused.
    """
    if membership.status is not S.CANCELLED:
        raise MembershipError(
            f"{membership.party.display_name} a déjà une adhésion pour {membership.period.label} "
            f"({membership.status.label.lower()}) : elle n'est pas annulée, rien à rétablir.")
    if membership.amount_paid != 0 or _has_pending(membership):  # cancel_membership keeps it so; never trust it
        raise MembershipError("Cette adhésion annulée porte des paiements : impossible de la rétablir.")
    category = category or membership.category
    if amount_due is None and category is None:
        amount_due = membership.amount_due
    category, college, amount_due = checked_terms(membership.organisation, membership.period, category,
                                                   college or membership.college, amount_due)
    _set_status(membership, REINSTATE[1])
    membership.category, membership.college, membership.amount_due = category, college, amount_due
    membership.cancelled_on = membership.cancellation_reason = None
    membership.exemption_reason = membership.exempted_on = None
    if joined_on is not None:
        membership.joined_on = joined_on
    if source is not None:
        membership.source = source
    if note is not None:
        membership.note = note
    # The cancellation reversed the fee due (or the exemption before it did): post it again,
    # under a source of its own (``_post_fee_due`` keys it on the reversed entry).
    membership.fee_due_entry_id = _post_fee_due(membership, entry_date=on or date.today())
    db.session.flush()
    for hook in list(_CREATED_HOOKS):  # the member's account, as for a new membership
        hook(membership)
    recompute(membership)  # a free category: paid at once (and the paid hooks run)
    return membership


def _post_fee_due(membership, entry_date=None):
    """Post the fee due; a second posting (exemption lifted, category changed, reinstated) gets
    its own source, since the accounting module refuses to re-post a reversed source."""
    if membership.amount_due == 0:
        return None
    return ledger.post(membership.organisation, **fee_due_event(membership, entry_date))


def fee_due_event(membership, entry_date=None):
    """The ``post_event`` arguments of ``membership``'s fee due (``event`` included)."""
    # After a reversal, the reversed entry's id tells the postings of one membership apart.
    again = () if membership.fee_due_entry_id is None else (membership.fee_due_entry_id,)
    source = posting_source(Membership, membership.id, *again)
    return dict(event="fee_due", amount=membership.amount_due,
                entry_date=fee_entry_date(membership, entry_date or membership.joined_on),
                party=membership.party, piece_ref=membership.payment_reference,
                label=_membership_label(membership), source=source)


def fee_entry_date(membership, on):
    """The date of a fee's entry (or of its reversal) made ``on``: the fee is income of its
    period's fiscal year (``accounting.cutoff``) — a 2027 fee called in December 2026 is dated
    the period's first day; money the member paid before stays a credit on his account."""
    return ledger.attach(membership.organisation, membership.period, on).entry_date


def _reverse_fee_due(membership, on, label):
    if membership.fee_due_entry_id is not None:
        ledger.reverse(membership.fee_due_entry_id, entry_date=fee_entry_date(membership, on), label=label)


def exempt_membership(membership, reason, on=None):
    """Exempt a membership with nothing paid (the fee is no longer due: ``fee_due`` reversed)."""
    reason = (reason or "").strip()
    if not reason:
        raise MembershipError("Indiquez le motif de l'exonération.")
    if membership.status is not S.AWAITING_PAYMENT:
        raise MembershipError("Seule une adhésion en attente de paiement, sans paiement reçu, peut être exonérée.")
    _set_status(membership, S.EXEMPT, reason=reason[:250])
    membership.exemption_reason = reason[:250]
    membership.exempted_on = on or date.today()
    _reverse_fee_due(membership, on or date.today(), f"Exonération — {_membership_label(membership)}"[:200])
    db.session.flush()
    return membership


def lift_exemption(membership, on=None):
    """Undo an exemption: the fee is due again (``fee_due`` posted again)."""
    if membership.status is not S.EXEMPT:
        raise MembershipError("Cette adhésion n'est pas exonérée.")
    _set_status(membership, S.AWAITING_PAYMENT)
    membership.exemption_reason = membership.exempted_on = None
    membership.fee_due_entry_id = _post_fee_due(membership, entry_date=on or date.today())
    db.session.flush()
    return membership


def cancel_membership(membership, reason, on=None):
    """Cancel a membership with no money on it (refund or reverse payments first)."""
    reason = (reason or "").strip()
    if not reason:
        raise MembershipError("Indiquez le motif de l'annulation.")
    if membership.status is S.CANCELLED:
        raise MembershipError("Cette adhésion est déjà annulée.")
    if membership.amount_paid != 0 or _has_pending(membership):
        raise MembershipError("Cette adhésion a des paiements : remboursez-les ou annulez-les avant d'annuler l'adhésion.")
    was_exempt = membership.status is S.EXEMPT
    _set_status(membership, S.CANCELLED, reason=reason[:250])
    on = on or date.today()
    membership.cancelled_on, membership.cancellation_reason = on, reason[:250]
    if not was_exempt:
        _reverse_fee_due(membership, on, f"Annulation — {_membership_label(membership)}"[:200])
    db.session.flush()
    return membership


def change_category(membership, category, amount_due=None):
    """Move an unpaid membership to another category of its grid (amount due follows)."""
    if membership.status is not S.AWAITING_PAYMENT:
        raise MembershipError("La catégorie ne peut changer que sur une adhésion en attente de paiement.")
    if category.period_id != membership.period_id:
        raise MembershipError("Cette catégorie ne fait pas partie de la grille de la période.")
    new_amount = clean_amount(category.amount if amount_due is None else amount_due, allow_zero=True)
    on = date.today()
    _reverse_fee_due(membership, on, f"Changement de catégorie — {_membership_label(membership)}"[:200])
    membership.category, membership.amount_due = category, new_amount
    membership.fee_due_entry_id = _post_fee_due(membership, entry_date=on)
    recompute(membership)
    return membership


def membership_history(organisation, party):
    """Every membership of ``party`` in ``organisation``, latest period first, payments loaded."""
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        select(Membership).join(MembershipPeriod, Membership.period_id == MembershipPeriod.id)
        .where(Membership.organisation_id == organisation.id, Membership.party_id == party.id)
        .options(selectinload(Membership.payments), selectinload(Membership.category),
                 selectinload(Membership.college))
        .order_by(MembershipPeriod.year.desc())))


def membership_of(organisation, party, period):
    return db.session.scalar(select(Membership).where(
        Membership.organisation_id == organisation.id, Membership.party_id == party.id,
        Membership.period_id == period.id))


def find_by_reference(reference, organisation=None):
    """The membership whose payment reference is ``reference`` (spaces and case tolerated for
    ours; the association's own as written), in ``organisation`` when given."""
    from backoffice.membership.matching import compact

    scope = () if organisation is None else (Membership.organisation_id == organisation.id,)
    exact = db.session.scalars(select(Membership).where(Membership.payment_reference == (reference or "").strip(),
                                                        *scope).limit(2)).all()
    if len(exact) == 1:
        return exact[0]
    wanted = compact(reference)
    if len(wanted) < 8:
        return None
    normalised = wanted[:-REFERENCE_LENGTH] + "-" + wanted[-REFERENCE_LENGTH:]
    return db.session.scalar(select(Membership).where(Membership.payment_reference == normalised, *scope))


# --------------------------------------------------------------------------------------------
# Derived amounts and status (after every payment row)
# --------------------------------------------------------------------------------------------

def _has_pending(membership):
    return any(p.status is PaymentStatus.PENDING for p in membership.payments)


def recompute(membership, flush=True):
    """Bring ``amount_paid``, ``credit``, ``paid_on`` and the derived status up to date
    (``flush=False``: the caller flushes, once for many)."""
    paid = sum((p.amount for p in membership.payments if p.status is PaymentStatus.CONFIRMED), ZERO)
    membership.amount_paid = paid
    membership.credit = max(paid - membership.amount_due, ZERO)
    if membership.status in (S.EXEMPT, S.CANCELLED):
        if flush:
            db.session.flush()
        return membership
    target = derived_status(membership.amount_due, paid)
    became_paid = target is S.PAID and membership.status is not S.PAID
    _set_status(membership, target)
    if target is S.PAID:
        membership.paid_on = paid_since(
            membership.amount_due, [(p.paid_on, p.amount) for p in membership.payments
                                    if p.status is PaymentStatus.CONFIRMED], default=membership.joined_on)
    else:
        membership.paid_on = None
    if flush:
        db.session.flush()
    if became_paid:
        _run_paid_hooks(membership)
    return membership


def _run_paid_hooks(membership):
    for hook in list(_PAID_HOOKS):
        hook(membership)


def open_memberships(organisation, period=None):
    """Memberships still expecting money (awaiting or partially paid)."""
    query = select(Membership).where(Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES))
    if period is not None:
        query = query.where(Membership.period_id == period.id)
    return list(db.session.scalars(query))
