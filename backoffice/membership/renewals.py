"""Renewing last period's members in one action: the treasurer picks who (everybody, those who
were up to date, a collège), sees the category each would get, and the memberships are created
by a job (one fee entry each: too slow for a request at 700 members).

Part of the membership services (``backoffice.membership.services`` re-exports it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.extensions import db
from backoffice.membership.errors import MembershipError
from backoffice.membership.memberships import create_membership
from backoffice.membership.models import CategoryKind, FeeCategory, Membership
from backoffice.membership.models import MembershipStatus as S
from backoffice.membership.periods import pick_category, previous_period, suggest_category_kind

#: What the treasurer can keep of last period's members.
WHO = {
    "all": "Tous les membres de la période précédente",
    "in_good_standing": "Ceux qui étaient à jour (payé ou exonéré)",
    "unpaid": "Ceux qui n'avaient pas (entièrement) payé",
}


@dataclass(frozen=True)
class RenewalCandidate:
    previous: Membership           # last period's membership
    category: FeeCategory | None   # the one the new membership gets (None: the grid is empty)


def suggested_category(previous, categories) -> FeeCategory | None:
    """Last period's category kind when the new grid still has it (a student stays a student),
    else what any renewing member gets (never the first-year rate: this is no first year)."""
    kept = previous.category.kind if previous.category is not None else None
    if kept is not None and kept is not CategoryKind.FIRST_YEAR and any(
            c.kind == kept and c.active for c in categories):
        return pick_category(categories, kept)
    party = previous.party
    return pick_category(categories, suggest_category_kind(party.kind, getattr(party, "is_physician", False), False))


def renewal_candidates(period, who="all", college_id=None) -> list[RenewalCandidate]:
    """Last period's members (cancelled ones left out) who have no membership of ``period`` yet,
    in name order, each with the category suggested; in two queries whatever their number."""
    if who not in WHO:
        raise MembershipError("Sélection inconnue.", field="who")
    before = previous_period(period)
    if before is None:
        return []
    already = select(Membership.party_id).where(Membership.period_id == period.id)
    query = (select(Membership).options(joinedload(Membership.party), joinedload(Membership.category))
             .where(Membership.period_id == before.id, Membership.status != S.CANCELLED,
                    Membership.party_id.not_in(already)))
    if who == "in_good_standing":
        query = query.where(Membership.status.in_([S.PAID, S.EXEMPT]))
    elif who == "unpaid":
        query = query.where(Membership.status.in_([S.AWAITING_PAYMENT, S.PARTIALLY_PAID]))
    if college_id:
        query = query.where(Membership.college_id == college_id)
    categories = list(period.categories)
    rows = sorted(db.session.scalars(query).unique(), key=lambda m: m.party.sort_name or "")
    return [RenewalCandidate(m, suggested_category(m, categories)) for m in rows]


def renew_memberships(period, party_ids, joined_on=None, progress=None) -> list[Membership]:
    """Create the memberships of ``period`` for these members of the previous period, each with
    its suggested category and last period's collège. All or nothing: a refusal names the member
    (the caller's transaction rolls everything back). ``progress(done, total)`` is called as it goes."""
    wanted = set(party_ids)
    candidates = [c for c in renewal_candidates(period) if c.previous.party_id in wanted]
    missing = wanted - {c.previous.party_id for c in candidates}
    if missing:
        raise MembershipError(f"{len(missing)} des membres choisis ne sont plus à renouveler (déjà inscrits pour "
                              f"{period.label}, ou absents de la période précédente) : rechargez la liste.")
    created = []
    for done, candidate in enumerate(candidates, start=1):
        if candidate.category is None:
            raise MembershipError(f"La grille {period.label} n'a aucune catégorie active : complétez-la d'abord.")
        previous = candidate.previous
        try:
            created.append(create_membership(period.organisation, previous.party, period, category=candidate.category,
                                              college=previous.college, joined_on=joined_on or date.today(),
                                              source="renewal", member_number=previous.member_number))
        except MembershipError as exc:
            raise MembershipError(f"{previous.party.display_name} : {exc}") from None
        if progress is not None:
            progress(done, len(candidates))
    return created
