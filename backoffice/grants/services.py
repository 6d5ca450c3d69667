"""Rules of equipment grants: programmes, eligibility, the application's steps, the envelope.

Services take model objects and plain values, flush and never commit (the request or the job
is the boundary); a refusal is a :class:`GrantError` (French message, ``field``) and changes
nothing that the caller's savepoint does not undo.

The envelope is race-safe: every change of ``GrantProgramme.granted_total`` happens after
:func:`lock_programme` (``SELECT … FOR UPDATE`` on PostgreSQL, a write lock on SQLite) and
re-reads the programme, so two board members approving different applications at the same
instant are served one after the other; the second sees the first's amount. The database's
``granted_total <= envelope`` check backs the rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import func, select, update

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.formatting import format_date_short, format_money
from backoffice.grants.models import (DEFAULT_REQUIRED_DOCUMENTS, DOCUMENT_STEPS, ENDED_WITHOUT_GRANT,
                                      GRANT_LIFECYCLE, GRANTED_STATUSES, AttachmentKind, GrantApplication,
                                      GrantFunder, GrantProgramme, GrantStatus, OnePer)
from backoffice.lifecycle import move
from backoffice.models import ZERO
from backoffice.money import allocate, clean_amount
from backoffice.people.models import Professional
from backoffice.people.professions import PROFESSIONS_BY_CODE

S = GrantStatus


class GrantError(ServiceError):
    """An equipment grant rule is broken; French message, ``field`` the form field."""


def _actor_id(user=None):
    from backoffice.audit.services import current_actor_id

    return current_actor_id(user)


def _today():
    return date.today()


# --------------------------------------------------------------------------------------------
# Programmes
# --------------------------------------------------------------------------------------------

PROGRAMME_FIELDS = ("name", "description", "equipment_kind", "envelope", "ceiling_amount", "ceiling_rate",
                    "opens_on", "closes_on", "requires_membership", "requires_training", "training_label",
                    "one_per", "professions", "required_documents", "mode", "depreciation_years")


def _check_programme(values):
    if not (values.get("name") or "").strip():
        raise GrantError("Donnez un nom au programme.", field="name")
    envelope = values.get("envelope")
    if envelope is None or envelope <= 0:
        raise GrantError("L'enveloppe du programme doit être un montant positif.", field="envelope")
    rate = values.get("ceiling_rate")
    if rate is not None and not (ZERO < rate <= 100):
        raise GrantError("La part du devis prise en charge est un pourcentage entre 0 et 100.", field="ceiling_rate")
    if values.get("opens_on") and values.get("closes_on") and values["closes_on"] < values["opens_on"]:
        raise GrantError("La date de clôture précède la date d'ouverture.", field="closes_on")
    unknown = set(values.get("professions") or ()) - set(PROFESSIONS_BY_CODE)
    if unknown:
        raise GrantError(f"Profession inconnue : {', '.join(sorted(unknown))}.", field="professions")
    for kind, step in (values.get("required_documents") or {}).items():
        if kind not in {k.value for k in AttachmentKind} or step not in {s.value for s in DOCUMENT_STEPS}:
            raise GrantError("Étape de pièce justificative inconnue.", field="required_documents")
    if values.get("requires_training") and not (values.get("training_label") or "").strip():
        raise GrantError("Nommez la formation exigée.", field="training_label")
    years = values.get("depreciation_years")
    if years is not None and not (isinstance(years, int) and 1 <= years <= 20):
        raise GrantError("La durée d'amortissement est un nombre d'années entre 1 et 20.", field="depreciation_years")


def create_programme(organisation, *, funders=(), user=None, **values) -> GrantProgramme:
    """A new programme of ``organisation`` (``values``: see ``PROGRAMME_FIELDS``); ``funders`` is a
    list of ``(name, amount, reference)``."""
    values.setdefault("required_documents", dict(DEFAULT_REQUIRED_DOCUMENTS))
    values.setdefault("professions", [])
    _check_programme(values)
    programme = GrantProgramme(organisation_id=organisation.id, granted_total=ZERO, created_by_id=_actor_id(user),
                               **{k: v for k, v in values.items() if k in PROGRAMME_FIELDS})
    programme.name = programme.name.strip()
    db.session.add(programme)
    set_funders(programme, funders)
    db.session.flush()
    return programme


def update_programme(programme, *, funders=None, **values) -> GrantProgramme:
    """Change a programme's settings; the envelope may not drop below what is already granted
    (checked under the programme's lock)."""
    merged = {name: getattr(programme, name) for name in PROGRAMME_FIELDS} | values
    _check_programme(merged)
    locked = lock_programme(programme.id)
    if values.get("mode", locked.mode) != locked.mode and locked.in_kind:
        from backoffice.grants.devices import devices

        if devices(locked.organisation, locked):
            raise GrantError("Le programme a du matériel acheté : il reste « en nature ».", field="mode")
    if locked.in_kind:
        from backoffice.grants.devices import purchases_total

        if merged["envelope"] < purchases_total(locked):
            raise GrantError(f"L'enveloppe ne peut pas être inférieure au matériel déjà acheté "
                             f"({format_money(purchases_total(locked))}).", field="envelope")
    if merged["envelope"] < locked.granted_total:
        raise GrantError(f"L'enveloppe ne peut pas être inférieure aux aides déjà accordées "
                         f"({format_money(locked.granted_total)}).", field="envelope")
    for name in PROGRAMME_FIELDS:
        if name in values:
            setattr(locked, name, values[name])
    if funders is not None:
        set_funders(locked, funders)
    db.session.flush()
    return locked


def set_funders(programme, funders):
    """Replace the funders of ``programme`` by ``[(name, amount, reference), …]``."""
    rows = []
    for position, (name, amount, reference) in enumerate(funders):
        name = (name or "").strip()
        if not name:
            raise GrantError("Nommez chaque financeur.", field="funders")
        amount = clean_amount(amount, field="funders")
        rows.append(GrantFunder(name=name, amount=amount, reference=(reference or "").strip() or None,
                                position=position))
    programme.funders[:] = rows


def programmes(organisation) -> list[GrantProgramme]:
    return list(db.session.scalars(select(GrantProgramme).where(GrantProgramme.organisation_id == organisation.id)
                                   .order_by(GrantProgramme.opens_on.desc().nulls_last(), GrantProgramme.name)))


def lock_programme(programme_id) -> GrantProgramme:
    """The programme, locked until the end of the transaction and re-read from the database.

    PostgreSQL: ``SELECT … FOR UPDATE`` (a concurrent approval waits, then reads our total).
    SQLite has no row locks: a no-op UPDATE takes its write lock, which serialises writers."""
    if db.session.get_bind().dialect.name == "postgresql":
        programme = db.session.scalars(select(GrantProgramme).where(GrantProgramme.id == programme_id)
                                       .with_for_update().execution_options(populate_existing=True)).one()
    else:
        db.session.execute(update(GrantProgramme).where(GrantProgramme.id == programme_id)
                           .values(granted_total=GrantProgramme.granted_total)
                           .execution_options(synchronize_session=False))
        programme = db.session.scalars(select(GrantProgramme).where(GrantProgramme.id == programme_id)
                                       .execution_options(populate_existing=True)).one()
    return programme


def ceiling_for(programme, quoted_price) -> Decimal | None:
    """The most one grant may be for a quote of ``quoted_price``: the programme's ceiling and/or its
    share of the quote (the lower of the two), None when the programme sets neither."""
    limits = []
    if programme.ceiling_amount is not None:
        limits.append(programme.ceiling_amount)
    if programme.ceiling_rate is not None and quoted_price is not None:
        limits.append((quoted_price * programme.ceiling_rate / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN))
    return min(limits) if limits else None


def ceiling_text(programme) -> str:
    parts = []
    if programme.ceiling_amount is not None:
        parts.append(format_money(programme.ceiling_amount))
    if programme.ceiling_rate is not None:
        parts.append(f"{format_percent(programme.ceiling_rate)} du devis")
    return " ou ".join(parts) + (" (le plus bas des deux)" if len(parts) == 2 else "") if parts else "aucun"


def format_percent(rate) -> str:
    text = f"{rate.normalize():f}".replace(".", ",")
    return f"{text} %"


# --------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One eligibility rule, met or not, explained in French."""

    key: str
    label: str
    ok: bool
    detail: str


def eligibility(programme, applicant, *, site=None, training_on=None, on=None, application=None) -> list[Check]:
    """Each rule of ``programme`` for ``applicant`` applying on ``on`` (default today), with why.

    ``application`` is the application being checked (left out of « one grant per … »)."""
    on = on or _today()
    facts = _EligibilityFacts(programme, [(applicant, site, on)])
    return _checks(programme, applicant, site=site, training_on=training_on, on=on, application=application,
                   facts=facts)


def applications_eligibility(programme, applications) -> dict[int, list[Check]]:
    """:func:`eligibility` of each of ``programme``'s ``applications`` (its applicant, practice and
    training, on the day it was submitted, else today), as {application id: [Check]}: the same
    rules, their lookups made for all the applications at once — a fixed number of queries
    whatever their number (the committee's agenda)."""
    applications = list(applications)
    today = _today()
    days = {a.id: a.submitted_on or today for a in applications}
    facts = _EligibilityFacts(programme, [(a.applicant, a.site, days[a.id]) for a in applications])
    return {a.id: _checks(programme, a.applicant, site=a.site, training_on=a.training_on, on=days[a.id],
                          application=a, facts=facts) for a in applications}


class _EligibilityFacts:
    """What the rules read from the database for applicants ``[(party, site, on)]``, read at once
    (two queries for the memberships, one for the programme's other applications): one
    application's eligibility and a whole agenda's go through the same rules."""

    def __init__(self, programme, requests):
        from backoffice.membership.roll import standings

        self.standings = (standings(programme.organisation, [(party, on) for party, _, on in requests])
                          if programme.requires_membership and requests else {})
        self.competing = []
        if programme.one_per is not OnePer.NONE and requests:
            if programme.one_per is OnePer.PRACTICE:
                narrowed = GrantApplication.site_id.in_(sorted({site.id for _, site, _ in requests if site is not None}))
            else:
                narrowed = GrantApplication.applicant_id.in_(sorted({party.id for party, _, _ in requests}))
            self.competing = list(db.session.scalars(select(GrantApplication).where(
                GrantApplication.programme_id == programme.id,
                GrantApplication.status.not_in(ENDED_WITHOUT_GRANT + (S.DRAFT,)), narrowed)
                .order_by(GrantApplication.id)))

    def first_competing(self, application, **same):
        """The first other live application of the programme with the same ``site_id`` or
        ``applicant_id`` as given (``application`` itself left out)."""
        (column, value), = same.items()
        own = application.id if application is not None else None
        return next((a for a in self.competing if getattr(a, column) == value and (own is None or a.id != own)), None)


def _checks(programme, applicant, *, site, training_on, on, application, facts) -> list[Check]:
    checks = [Check("dates", "Programme ouvert", programme.is_open_on(on), _dates_detail(programme, on))]
    if programme.requires_membership:
        checks.append(_membership_check(programme, applicant, on, facts.standings.get((applicant.id, on))))
    if programme.professions:
        allowed = [PROFESSIONS_BY_CODE[code].label for code in programme.professions if code in PROFESSIONS_BY_CODE]
        profession = applicant.profession if isinstance(applicant, Professional) else None
        ok = profession in programme.professions
        detail = (f"{applicant.profession_label} : profession retenue." if ok else
                  f"Le programme est réservé aux professions suivantes : {', '.join(allowed)}"
                  + (f" ({applicant.profession_label or 'profession non renseignée'})." if isinstance(applicant, Professional)
                     else "."))
        checks.append(Check("profession", "Profession", ok, detail))
    if programme.requires_training:
        label = programme.training_label or "la formation"
        if training_on is None:
            checks.append(Check("training", "Formation suivie", False, f"Indiquez la date à laquelle vous avez suivi {label}."))
        elif training_on > on:
            checks.append(Check("training", "Formation suivie", False,
                                f"La formation doit être suivie avant la demande (date indiquée : {format_date_short(training_on)})."))
        else:
            checks.append(Check("training", "Formation suivie", True, f"{label} suivie le {format_date_short(training_on)}."))
    if programme.one_per is not OnePer.NONE:
        checks.append(_one_per_check(programme, applicant, site, application, facts))
    return checks


def _dates_detail(programme, on):
    if programme.opens_on and on < programme.opens_on:
        return f"Les demandes ouvrent le {format_date_short(programme.opens_on)}."
    if programme.closes_on and on > programme.closes_on:
        return f"Les demandes étaient ouvertes jusqu'au {format_date_short(programme.closes_on)}."
    if programme.closes_on:
        return f"Demandes ouvertes jusqu'au {format_date_short(programme.closes_on)}."
    return "Demandes ouvertes."


def _membership_check(programme, applicant, on, standing):
    """``standing``: the applicant's ``Standing``, ``Exclusion`` or None at ``on`` (``roll.standings``)."""
    from backoffice.membership.roll import Standing

    if isinstance(standing, Standing):
        return Check("membership", "Adhérent à jour", True, f"Adhésion à jour au {format_date_short(on)}.")
    detail = (f"Adhésion non à jour au {format_date_short(on)} : {standing.reason.label}"
              + (f" ({standing.detail})" if standing.detail else "") + "." if standing is not None
              else f"Aucune adhésion à {programme.organisation.name} pour la période du {format_date_short(on)}.")
    return Check("membership", "Adhérent à jour", False, detail)


def _one_per_check(programme, applicant, site, application, facts):
    if programme.one_per is OnePer.PRACTICE:
        if site is None:
            return Check("one_per", "Une aide par cabinet", False, "Indiquez le cabinet (lieu d'exercice) à équiper.")
        other = facts.first_competing(application, site_id=site.id)
        return Check("one_per", "Une aide par cabinet", other is None,
                     f"Le cabinet {site.name} a déjà une demande ({other.reference}, {other.status.label})."
                     if other else f"Première demande pour le cabinet {site.name}.")
    other = facts.first_competing(application, applicant_id=applicant.id)
    return Check("one_per", "Une aide par professionnel", other is None,
                 f"{applicant.display_name} a déjà une demande dans ce programme ({other.reference}, {other.status.label})."
                 if other else "Première demande dans ce programme.")


def refusal_of(checks) -> str | None:
    """The French sentence refusing an application for the unmet rules, or None."""
    unmet = [c.detail for c in checks if not c.ok]
    return ("Demande non recevable : " + " ".join(unmet)) if unmet else None


# --------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------

APPLICATION_FIELDS = ("site", "equipment_kind", "equipment_model", "supplier", "quoted_price", "amount_requested",
                      "training_on", "note")


def _check_amounts(programme, quoted_price, amount_requested):
    if quoted_price is None or quoted_price <= 0:
        raise GrantError("Indiquez le prix du devis.", field="quoted_price")
    if amount_requested is None or amount_requested <= 0:
        raise GrantError("Indiquez le montant demandé.", field="amount_requested")
    if amount_requested > quoted_price:
        raise GrantError(f"Le montant demandé dépasse le devis ({format_money(quoted_price)}).",
                         field="amount_requested")
    ceiling = ceiling_for(programme, quoted_price)
    if ceiling is not None and amount_requested > ceiling:
        raise GrantError(f"Le montant demandé dépasse le plafond de l'aide ({format_money(ceiling)} pour ce devis).",
                         field="amount_requested")


def create_application(organisation, programme, applicant, *, user=None, **values) -> GrantApplication:
    """A draft application of ``applicant`` (a party) to ``programme``, by himself or by staff."""
    if programme.organisation_id != organisation.id:
        raise GrantError("Ce programme n'appartient pas à l'organisation.")
    values.setdefault("equipment_kind", programme.equipment_kind or "")
    if not (values["equipment_kind"] or "").strip():
        raise GrantError("Indiquez le matériel demandé.", field="equipment_kind")
    _check_amounts(programme, values.get("quoted_price"), values.get("amount_requested"))
    application = GrantApplication(organisation_id=organisation.id, programme=programme, applicant=applicant,
                                   status=S.DRAFT, created_by_id=_actor_id(user),
                                   **{k: v for k, v in values.items() if k in APPLICATION_FIELDS})
    if application.site is None and getattr(applicant, "site", None) is not None:
        application.site = applicant.site
    db.session.add(application)
    db.session.flush()
    return application


NOT_EDITABLE = "La demande a été examinée : elle ne peut plus être modifiée."


def editable(application) -> bool:
    """A draft, or a submitted application before its decision, can still be changed."""
    return application.status in (S.DRAFT, S.SUBMITTED)


def update_application(application, **values) -> GrantApplication:
    """Change a draft (or, by staff, a submitted application before its decision)."""
    if not editable(application):
        raise GrantError(NOT_EDITABLE)
    merged = {name: getattr(application, name) for name in APPLICATION_FIELDS} | values
    if not (merged["equipment_kind"] or "").strip():
        raise GrantError("Indiquez le matériel demandé.", field="equipment_kind")
    _check_amounts(application.programme, merged["quoted_price"], merged["amount_requested"])
    for name, value in values.items():
        if name in APPLICATION_FIELDS:
            setattr(application, name, value)
    db.session.flush()
    return application


def missing_documents(application, status) -> list[AttachmentKind]:
    """The documents the programme requires to reach ``status`` that the application lacks."""
    present = {a.kind for a in application.attachments}
    return [kind for kind in application.programme.documents_for(status) if kind not in present]


def _require_documents(application, status):
    missing = missing_documents(application, status)
    if missing:
        raise GrantError("Pièce manquante : " + ", ".join(k.label.lower() for k in missing) + ".",
                         field="attachments")


def submit(application, *, on=None, by=None) -> GrantApplication:
    """Send a draft for the board's decision: every eligibility rule must be met (the refusal
    says which are not, and why) and the documents required at this step present."""
    on = on or _today()
    checks = eligibility(application.programme, application.applicant, site=application.site,
                         training_on=application.training_on, on=on, application=application)
    refusal = refusal_of(checks)
    if refusal:
        raise GrantError(refusal)
    _require_documents(application, S.SUBMITTED)
    move(application, S.SUBMITTED, by=by)
    application.submitted_on = on
    _notify(application, S.SUBMITTED)
    return application


def approve(application, amount=None, *, by=None, on=None) -> GrantApplication:
    """Grant ``amount`` (default: the amount requested) to a submitted application.

    Refused above the amount requested, the ceiling or what remains of the envelope. The
    programme's row is locked first, then the application's status re-checked: of two approvals
    at once, the second waits for the first and sees its amount."""
    programme = lock_programme(application.programme_id)
    if not GRANT_LIFECYCLE.lock_if_status(application.id, S.SUBMITTED):
        db.session.refresh(application)
        raise GrantError(GRANT_LIFECYCLE.refusal(application.status, S.APPROVED))
    db.session.refresh(application)
    amount = application.amount_requested if amount is None else clean_amount(amount, field="amount")
    if amount > application.amount_requested:
        raise GrantError(f"Le montant accordé dépasse le montant demandé ({format_money(application.amount_requested)}).",
                         field="amount")
    ceiling = ceiling_for(programme, application.quoted_price)
    if ceiling is not None and amount > ceiling:
        raise GrantError(f"Le montant accordé dépasse le plafond de l'aide ({format_money(ceiling)} pour ce devis).",
                         field="amount")
    if programme.granted_total + amount > programme.envelope:
        raise GrantError(f"Enveloppe dépassée : il reste {format_money(programme.remaining)} sur "
                         f"{format_money(programme.envelope)}, l'aide demandée est de {format_money(amount)}.",
                         field="amount")
    programme.granted_total += amount
    move(application, S.APPROVED, by=by)
    application.amount_granted = amount
    application.decided_on = on or _today()
    db.session.flush()
    if not programme.in_kind:  # in kind nothing is paid to the beneficiary: the charge is the depreciation
        from backoffice.grants.payments import post_commitment  # payments imports this module

        post_commitment(application)
    _notify(application, S.APPROVED)
    return application


def reject(application, reason, *, by=None, on=None) -> GrantApplication:
    move(application, S.REJECTED, by=by, reason=reason)
    application.decided_on = on or _today()
    _notify(application, S.REJECTED, reason)
    return application


def withdraw(application, reason, *, by=None) -> GrantApplication:
    """The applicant gives up (a draft or an application not yet decided)."""
    move(application, S.WITHDRAWN, by=by, reason=reason)
    _notify(application, S.WITHDRAWN, reason)
    return application


def cancel(application, reason, *, by=None) -> GrantApplication:
    """Cancel a granted application before its payment: its amount goes back to the envelope."""
    if not GRANT_LIFECYCLE.can_move(application, S.CANCELLED):
        raise GrantError(GRANT_LIFECYCLE.refusal(application.status, S.CANCELLED))
    programme = lock_programme(application.programme_id)
    move(application, S.CANCELLED, by=by, reason=reason)
    programme.granted_total -= application.amount_granted or ZERO
    db.session.flush()
    from backoffice.grants.payments import reverse_commitment

    reverse_commitment(application)
    _notify(application, S.CANCELLED, reason)
    return application


def claim_repayment(application, reason, *, by=None) -> GrantApplication:
    """The equipment is not used as agreed: the beneficiary is asked to pay the grant back."""
    move(application, S.REPAYMENT_CLAIMED, by=by, reason=reason)
    _notify(application, S.REPAYMENT_CLAIMED, reason)
    return application


def record_delivery(application, serial_number, *, delivered_on=None, by=None) -> GrantApplication:
    serial_number = (serial_number or "").strip()
    if not serial_number:
        raise GrantError("Indiquez le numéro de série du matériel livré.", field="serial_number")
    _require_documents(application, S.DELIVERED)
    move(application, S.DELIVERED, by=by)
    application.serial_number = serial_number
    application.delivered_on = delivered_on or _today()
    _notify(application, S.DELIVERED)
    return application


def close(application, *, by=None, reason=None) -> GrantApplication:
    move(application, S.CLOSED, by=by, reason=reason)
    return application


# --------------------------------------------------------------------------------------------
# Mails to the applicant (through the mail queue, after the commit)
# --------------------------------------------------------------------------------------------

_MAIL_SUBJECTS = {
    S.SUBMITTED: "Votre demande d'aide est déposée",
    S.APPROVED: "Votre demande d'aide est accordée",
    S.REJECTED: "Votre demande d'aide n'a pas été retenue",
    S.AGREEMENT_ISSUED: "Votre convention d'attribution est prête à signer",
    S.AGREEMENT_SIGNED: "Votre convention d'attribution est signée",
    S.PAID: "Votre aide a été versée",
    S.DELIVERED: "La livraison de votre matériel est enregistrée",
    S.REPAYMENT_CLAIMED: "Demande de remboursement de votre aide",
    S.WITHDRAWN: "Votre demande d'aide est retirée",
    S.CANCELLED: "Votre aide est annulée",
}


def _notify(application, status, reason=None):
    """E-mail the applicant about ``status`` (queued after the commit; none without an address)."""
    message = mail_about(application, status, reason)
    if message is not None:
        from backoffice.mail.services import queue_mail

        queue_mail(*message)


def mail_about(application, status, reason=None):
    """``(recipient, subject, body)`` of the mail telling the applicant about ``status``, or None
    (no address, or a step that does not concern him)."""
    email = getattr(application.applicant, "email", None)
    if not email or status not in _MAIL_SUBJECTS:
        return None
    programme = application.programme
    lines = [f"Bonjour {application.applicant.display_name},", "",
             f"Votre demande {application.reference} au programme « {programme.name} » "
             f"({application.equipment_kind}) est désormais : {status.label}."]
    if status is S.APPROVED:
        lines.append(f"Montant accordé : {format_money(application.amount_granted)}.")
    if reason:
        lines.append(f"Motif : {reason}")
    lines += ["", programme.organisation.name]
    return email, f"{_MAIL_SUBJECTS[status]} — {programme.name}", "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Lists and figures
# --------------------------------------------------------------------------------------------

@dataclass
class ApplicationFilters:
    programme_id: int | None = None
    status: str | None = None
    q: str = ""
    sort: str = "-reference"  # a key of APPLICATION_SORTS, ``-`` for descending: the latest first

    @classmethod
    def from_args(cls, args):
        programme = args.get("programme", "")
        status = args.get("status", "")
        sort = args.get("sort", "")
        return cls(programme_id=int(programme) if programme.isdigit() else None,
                   status=status if status in {s.value for s in GrantStatus} else None,
                   q=(args.get("q") or "").strip()[:100],
                   sort=sort if sort.lstrip("-") in APPLICATION_SORTS else cls.sort)


def _applicant_name():
    from backoffice.people.models import Party

    return Party.sort_name


# The columns the list of applications sorts on (its headers' links), the id breaking ties.
APPLICATION_SORTS = {
    "reference": lambda: GrantApplication.id,
    "applicant": _applicant_name,
    "requested": lambda: GrantApplication.amount_requested,
    "granted": lambda: GrantApplication.amount_granted,
}


def application_query(organisation, filters: ApplicationFilters):
    from backoffice.people.models import Party, fold_for_search

    query = (select(GrantApplication).join(GrantApplication.applicant)
             .where(GrantApplication.organisation_id == organisation.id))
    if filters.programme_id:
        query = query.where(GrantApplication.programme_id == filters.programme_id)
    if filters.status:
        query = query.where(GrantApplication.status == filters.status)
    if filters.q:
        query = query.where(Party.sort_name.contains(fold_for_search(filters.q)))
    column = APPLICATION_SORTS[filters.sort.lstrip("-")]()
    if filters.sort.startswith("-"):
        return query.order_by(column.desc().nulls_last(), GrantApplication.id.desc())
    return query.order_by(column.asc().nulls_last(), GrantApplication.id)


def application_page(organisation, filters, page, per_page):
    from sqlalchemy.orm import selectinload

    return db.paginate(application_query(organisation, filters).options(
        selectinload(GrantApplication.programme), selectinload(GrantApplication.site)),
        page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class Budget:
    """A programme's envelope: granted = committed (approved, not paid) + paid; remaining."""

    envelope: Decimal
    granted: Decimal
    committed: Decimal
    paid: Decimal
    remaining: Decimal
    by_funder: list  # [(funder, share of the envelope, share of committed, share of paid)]
    counts: dict  # {GrantStatus: number of applications}


def effective_grant():
    """The SQL amount an application holds of its programme's envelope: what was paid once paid
    (an invoice lower than the quote released the rest), the amount granted until then."""
    return func.coalesce(GrantApplication.amount_paid, GrantApplication.amount_granted)


def budget(programme) -> Budget:
    """Committed, paid and remaining of ``programme``, from its applications (not the running
    total: a test compares both), and each funder's share pro rata of its committed amount."""
    rows = db.session.execute(
        select(GrantApplication.status, func.count(), func.coalesce(func.sum(effective_grant()), 0),
               func.coalesce(func.sum(GrantApplication.amount_paid), 0))
        .where(GrantApplication.programme_id == programme.id).group_by(GrantApplication.status)).all()
    counts = {GrantStatus(status): count for status, count, _, _ in rows}
    if programme.in_kind:
        # In kind, the money goes to the devices bought (assets lent to the beneficiaries):
        # the envelope counts their purchase amounts, paid once the supplier is.
        from backoffice.grants.devices import purchases_total

        granted, paid = purchases_total(programme), purchases_total(programme, paid_only=True)
    else:
        granted = sum((Decimal(g) for status, _, g, _ in rows if GrantStatus(status) in GRANTED_STATUSES), ZERO)
        paid = sum((Decimal(p) for status, _, _, p in rows if GrantStatus(status) in GRANTED_STATUSES), ZERO)
    granted, paid = granted.quantize(Decimal("0.01")), paid.quantize(Decimal("0.01"))
    committed = granted - paid
    by_funder = []
    weights = {f.id: f.amount for f in programme.funders}
    if weights:
        envelope_shares = allocate(programme.envelope, weights)
        committed_shares = allocate(committed, weights) if committed else dict.fromkeys(weights, ZERO)
        paid_shares = allocate(paid, weights) if paid else dict.fromkeys(weights, ZERO)
        by_funder = [(f, envelope_shares[f.id], committed_shares[f.id], paid_shares[f.id]) for f in programme.funders]
    return Budget(envelope=programme.envelope, granted=granted, committed=committed, paid=paid,
                  remaining=programme.envelope - granted, by_funder=by_funder, counts=counts)


def dashboard_figures(organisation):
    """The open programmes' envelopes for the dashboard (None: no programme yet)."""
    rows = programmes(organisation)
    if not rows:
        return None
    today = _today()
    pending = db.session.scalar(select(func.count()).select_from(GrantApplication).where(
        GrantApplication.organisation_id == organisation.id, GrantApplication.status == S.SUBMITTED))
    return {"programmes": [(p, p.envelope, p.granted_total, p.remaining) for p in rows if p.is_open_on(today)
                           or p.granted_total], "pending": pending}


# --------------------------------------------------------------------------------------------
# Follow-up: the activity the beneficiary reports each quarter
# --------------------------------------------------------------------------------------------

FOLLOW_UP_STATUSES = (S.PAID, S.DELIVERED, S.CLOSED)


def report_follow_up(application, year, quarter, screenings, referrals, *, comment=None, user=None):
    """The beneficiary's activity for one quarter; a quarter already reported is refused."""
    from backoffice.grants.models import GrantFollowUp

    if application.status not in FOLLOW_UP_STATUSES:
        raise GrantError("Le suivi d'activité commence une fois l'aide versée.")
    if quarter not in (1, 2, 3, 4):
        raise GrantError("Choisissez un trimestre (1 à 4).", field="quarter")
    if screenings is None or screenings < 0 or referrals is None or referrals < 0:
        raise GrantError("Indiquez des nombres positifs ou nuls.", field="screenings")
    if referrals > screenings:
        raise GrantError("Les orientations ne peuvent pas dépasser les dépistages.", field="referrals")
    if (year, quarter) > (_today().year, (_today().month - 1) // 3 + 1):
        raise GrantError(f"Le trimestre T{quarter} {year} n'est pas encore commencé.", field="quarter")
    existing = db.session.scalar(select(GrantFollowUp).where(
        GrantFollowUp.application_id == application.id, GrantFollowUp.year == year, GrantFollowUp.quarter == quarter))
    if existing is not None:
        raise GrantError(f"Le trimestre T{quarter} {year} est déjà déclaré ({existing.screenings} dépistages).",
                         field="quarter")
    row = GrantFollowUp(application=application, year=year, quarter=quarter, screenings=screenings,
                        referrals=referrals, comment=(comment or "").strip() or None, reported_by_id=_actor_id(user))
    db.session.add(row)
    db.session.flush()
    return row


def follow_ups(application):
    from backoffice.grants.models import GrantFollowUp

    return list(db.session.scalars(select(GrantFollowUp).where(GrantFollowUp.application_id == application.id)
                                   .order_by(GrantFollowUp.year, GrantFollowUp.quarter)))
