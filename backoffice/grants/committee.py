"""The committee meeting: the board decides a programme's submitted applications in one screen.

:func:`agenda` lists what the board examines (applicant, practice, equipment, quote, amount
requested, eligibility, the ceiling that applies and the amount proposed); :func:`decide_batch`
applies the board's decisions through the ordinary services (``approve`` under the programme's
row lock, ``reject`` with its reason) **all or nothing**: each decision is tried in its own
savepoint so that every faulty row gets its French message, and if any is refused the whole
batch is rolled back and :class:`CommitteeRefused` lists them — nothing was applied. Decisions
are applied in the agenda's order, so an envelope exhausted by the batch itself refuses the row
that would cross it, with what remained after the rows above it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload, with_polymorphic

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.grants import services
from backoffice.grants.models import GrantApplication, GrantStatus
from backoffice.grants.services import GrantError
from backoffice.people.models import Party

APPROVE, REJECT, LATER = "approve", "reject", "later"
ACTIONS = {APPROVE: "Accorder", REJECT: "Refuser", LATER: "Plus tard"}


@dataclass(frozen=True)
class AgendaRow:
    """One submitted application as the board sees it."""

    application: GrantApplication
    checks: list          # [services.Check]
    ceiling: Decimal | None
    proposed: Decimal     # min(requested, ceiling): the amount pre-filled

    @property
    def eligible(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def unmet(self) -> list[str]:
        return [check.detail for check in self.checks if not check.ok]


def agenda(programme) -> list[AgendaRow]:
    """The submitted applications of ``programme``, oldest first, with what the board needs."""
    # Every kind's columns with the applicant (single-table inheritance): a professional's name and
    # profession would otherwise cost a query per row.
    applicant = with_polymorphic(Party, "*")
    rows = list(db.session.scalars(
        select(GrantApplication).where(GrantApplication.programme_id == programme.id,
                                       GrantApplication.status == GrantStatus.SUBMITTED)
        .options(selectinload(GrantApplication.applicant.of_type(applicant)), selectinload(GrantApplication.site))
        .order_by(GrantApplication.submitted_on.nulls_last(), GrantApplication.id)))
    eligibility = services.applications_eligibility(programme, rows)  # a fixed number of queries for all
    result = []
    for application in rows:
        ceiling = services.ceiling_for(programme, application.quoted_price)
        checks = eligibility[application.id]
        proposed = min(application.amount_requested, ceiling) if ceiling is not None else application.amount_requested
        result.append(AgendaRow(application, checks, ceiling, proposed))
    return result


@dataclass(frozen=True)
class Decision:
    """The board's decision on one application: ``action`` is ``approve`` (``amount``, as typed or
    a ``Decimal``), ``reject`` (``reason`` required) or ``later`` (left as it is)."""

    application_id: int
    action: str
    amount: object = None
    reason: str | None = None


@dataclass
class BatchResult:
    approved: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    later: list = field(default_factory=list)

    @property
    def summary(self) -> str:
        """« 5 demandes accordées, 2 refusées » (and those left for later)."""
        def plural(n):
            return "s" if n > 1 else ""
        approved, rejected, later = len(self.approved), len(self.rejected), len(self.later)
        parts = [f"{approved} demande{plural(approved)} accordée{plural(approved)}",
                 f"{rejected} refusée{plural(rejected)}"]
        if later:
            parts.append(f"{later} laissée{plural(later)} pour plus tard")
        return ", ".join(parts)


class CommitteeRefused(GrantError):
    """Some decisions of the batch were refused: ``errors`` is {application id: French message};
    nothing of the batch was applied."""

    def __init__(self, errors: dict[int, str]):
        self.errors = errors
        count = len(errors)
        super().__init__(f"Rien n'a été appliqué : {count} décision{'s' if count > 1 else ''} à corriger "
                         "(voir les lignes signalées).")


def decide_batch(programme, decisions, *, by=None, on=None) -> BatchResult:
    """Apply the board's ``decisions`` ([Decision]) on ``programme``'s submitted applications in
    one go, in the agenda's order, or none of them (:class:`CommitteeRefused`). Flushes; the
    caller's boundary commits, and the applicants' mails leave after that commit."""
    decisions = {d.application_id: d for d in decisions}
    applications = {a.id: a for a in db.session.scalars(
        select(GrantApplication).where(GrantApplication.id.in_(decisions),
                                       GrantApplication.programme_id == programme.id)
        .order_by(GrantApplication.submitted_on.nulls_last(), GrantApplication.id))}
    errors, result = {}, BatchResult()
    acting = [d for d in decisions.values() if d.action != LATER]
    if not acting:
        raise GrantError("Aucune décision à appliquer : choisissez « Accorder » ou « Refuser » pour au moins "
                         "une demande.")
    with db.session.begin_nested():
        for application_id in [i for i in applications] + [i for i in decisions if i not in applications]:
            decision = decisions[application_id]
            application = applications.get(application_id)
            if application is None:
                errors[application_id] = "Cette demande n'est pas dans ce programme."
                continue
            if decision.action == LATER:
                result.later.append(application)
                continue
            try:
                with db.session.begin_nested():
                    _apply(application, decision, by=by, on=on)
            except ServiceError as error:  # a GrantError, a refused amount or move
                errors[application_id] = str(error)
                continue
            (result.approved if decision.action == APPROVE else result.rejected).append(application)
        if errors:
            raise CommitteeRefused(errors)  # leaving the savepoint rolls the whole batch back
    return result


def _apply(application, decision, *, by, on):
    if decision.action == APPROVE:
        amount = decision.amount
        if amount is None or (isinstance(amount, str) and not amount.strip()):
            raise GrantError("Indiquez le montant accordé.", field="amount")
        services.approve(application, amount, by=by, on=on)
    elif decision.action == REJECT:
        reason = (decision.reason or "").strip()
        if not reason:
            raise GrantError("Indiquez le motif du refus.", field="reason")
        services.reject(application, reason[:500], by=by, on=on)
    else:
        raise GrantError("Décision inconnue : accorder, refuser ou plus tard.")
