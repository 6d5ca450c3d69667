"""Rules of general assemblies (no HTTP): settings, agenda, voter roll, convocation, session.

Services flush and never commit; refusals are :class:`AssemblyError` with a French message
(``field`` the form field). The roll comes from ``backoffice.membership.roll`` and is frozen
(copied into ``assembly_voters`` / ``assembly_exclusions``) when the assembly is convened.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from backoffice.assemblies.models import (Assembly, AssemblyError, AssemblyExclusion, AssemblyKind,  # noqa: F401
                                          AssemblyLifecycleError, AssemblyStatus, AssemblyVoter, MajorityRule,
                                          Resolution)
from backoffice.extensions import db
from backoffice.formatting import format_date_fr
from backoffice.lifecycle import move
from backoffice.membership.roll import members_in_good_standing, roll_exclusions
from backoffice.models import utcnow

S = AssemblyStatus

SETTINGS = ("title", "kind", "held_at", "place", "video_link", "cut_off", "college_id", "college_weights",
            "quorum_numerator", "quorum_denominator", "second_without_quorum", "abstentions_count",
            "chair_casting_vote", "max_proxies", "notice_days", "note")


def assemblies(organisation):
    """The organisation's assemblies, latest first."""
    return list(db.session.scalars(select(Assembly).where(Assembly.organisation_id == organisation.id)
                                   .order_by(Assembly.held_at.desc(), Assembly.id.desc())))


def _check_settings(values):
    if not values.get("place") and not values.get("video_link"):
        raise AssemblyError("Indiquez le lieu de l'assemblée ou son lien de visioconférence.", field="place")
    held_at, cut_off = values.get("held_at"), values.get("cut_off")
    if held_at and cut_off and cut_off > held_at.date():
        raise AssemblyError("La date d'arrêté de la liste des votants doit précéder l'assemblée.", field="cut_off")
    numerator, denominator = values.get("quorum_numerator"), values.get("quorum_denominator")
    if (numerator is None) != (denominator is None):
        raise AssemblyError("Le quorum est une fraction : indiquez son numérateur et son dénominateur, ou aucun.",
                            field="quorum_numerator")
    if numerator is not None and not 0 < numerator <= denominator:
        raise AssemblyError("Le quorum doit être une fraction entre 0 et 1 (par exemple 1/4).",
                            field="quorum_numerator")
    weights = values.get("college_weights")
    if weights and any(int(w) <= 0 for w in weights.values()):
        raise AssemblyError("Le poids d'un collège est un nombre entier positif.", field="college_weights")


def create_assembly(organisation, **values):
    """A new assembly in preparation (``values``: the names of ``SETTINGS``)."""
    values.setdefault("kind", AssemblyKind.ORDINARY)
    _check_settings(values)
    assembly = Assembly(organisation_id=organisation.id, status=S.DRAFT, convocation=1,
                        **{k: v for k, v in values.items() if k in SETTINGS})
    db.session.add(assembly)
    db.session.flush()
    return assembly


def _require_draft(assembly, what="Les réglages"):
    if assembly.status is not S.DRAFT:
        raise AssemblyError(f"{what} ne peuvent plus changer : l'assemblée est « {assembly.status.label} ».")


def update_assembly(assembly, **values):
    """Change the settings of an assembly in preparation (refused once convened: the
    convocation said them)."""
    _require_draft(assembly)
    merged = {k: getattr(assembly, k) for k in SETTINGS} | values
    _check_settings(merged)
    for key, value in values.items():
        if key in SETTINGS:
            setattr(assembly, key, value)
    db.session.flush()
    return assembly


# --- agenda ---------------------------------------------------------------------------------

def add_resolution(assembly, title, text="", majority=MajorityRule.SIMPLE, secret=False):
    _require_draft(assembly, "L'ordre du jour et les résolutions")
    position = (db.session.scalar(select(func.max(Resolution.position))
                                  .where(Resolution.assembly_id == assembly.id)) or 0) + 1
    resolution = Resolution(assembly_id=assembly.id, position=position, title=title.strip(), text=text or "",
                            majority=MajorityRule(majority), secret=bool(secret))
    db.session.add(resolution)
    db.session.flush()
    db.session.expire(assembly, ["resolutions"])
    return resolution


def update_resolution(resolution, **values):
    _require_draft(resolution.assembly, "L'ordre du jour et les résolutions")
    for key in ("title", "text", "majority", "secret"):
        if key in values:
            setattr(resolution, key, values[key])
    db.session.flush()
    return resolution


def delete_resolution(resolution):
    assembly = resolution.assembly
    _require_draft(assembly, "L'ordre du jour et les résolutions")
    db.session.delete(resolution)
    db.session.flush()
    for position, other in enumerate(sorted((r for r in assembly.resolutions if r is not resolution),
                                            key=lambda r: r.position), start=1):
        other.position = position
    db.session.flush()


# --- the voter roll ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RollLine:
    party: object
    college_name: str | None
    weight: int


@dataclass(frozen=True)
class ExcludedLine:
    party: object
    reason_label: str
    detail: str
    id: int | None = None  # the frozen exclusion's row (None while the roll is live)


@dataclass(frozen=True)
class Roll:
    voters: list
    exclusions: list
    frozen: bool

    @property
    def total_weight(self):
        return sum(line.weight for line in self.voters)


def weight_of(assembly, college_id):
    """The weight of a voter of ``college_id`` (1 when collèges do not weigh)."""
    if not assembly.college_weights:
        return 1
    return int(assembly.college_weights.get(str(college_id), 1)) if college_id is not None else 1


def roll(assembly):
    """The voter roll: the frozen one once convened, else what the memberships say today at the
    cut-off (every member excluded with why)."""
    if assembly.roll_frozen:
        return Roll([RollLine(v.party, v.college_name, v.weight) for v in assembly.voters],
                    [ExcludedLine(e.party, e.reason_label, e.detail, e.id) for e in assembly.exclusions], True)
    organisation = assembly.organisation
    voters = [RollLine(party, membership.college.name if membership.college else None,
                       weight_of(assembly, membership.college_id))
              for party, membership in members_in_good_standing(organisation, assembly.cut_off,
                                                                college=assembly.college_id)]
    exclusions = [ExcludedLine(e.party, e.reason.label, e.detail)
                  for e in roll_exclusions(organisation, assembly.cut_off, college=assembly.college_id)]
    return Roll(voters, exclusions, False)


def freeze_roll(assembly):
    """Copy the roll at the cut-off into the assembly (done once, when it is convened)."""
    if assembly.voters:
        raise AssemblyError("La liste des votants est déjà arrêtée.")
    organisation = assembly.organisation
    for party, membership in members_in_good_standing(organisation, assembly.cut_off, college=assembly.college_id):
        db.session.add(AssemblyVoter(
            assembly_id=assembly.id, party_id=party.id, membership_id=membership.id, sort_name=party.sort_name,
            college_id=membership.college_id, college_name=membership.college.name if membership.college else None,
            weight=weight_of(assembly, membership.college_id)))
    for e in roll_exclusions(organisation, assembly.cut_off, college=assembly.college_id):
        db.session.add(AssemblyExclusion(assembly_id=assembly.id, party_id=e.party.id, sort_name=e.party.sort_name,
                                         reason=e.reason.value, reason_label=e.reason.label, detail=e.detail[:250]))
    db.session.flush()
    db.session.expire(assembly, ["voters", "exclusions"])


def regularise(assembly, exclusion):
    """Put back on the frozen roll a member left off it whose payment, made by the cut-off, was
    recorded after the convocation (the treasurer records it with its real date first).

    Refused once the session is open, and when the memberships still say that he was not in good
    standing at the cut-off (a payment after it does not regularise). Audited: the new roll line
    and the removed exclusion are audited rows, with the acting user. Returns the voter line."""
    if exclusion.assembly_id != assembly.id:
        raise AssemblyError("Ce membre n'est pas dans la liste de cette assemblée.")
    if assembly.status is S.DRAFT:
        raise AssemblyError("La liste des votants n'est pas encore arrêtée : elle suit déjà les paiements "
                            "enregistrés.")
    if assembly.status is not S.CONVENED:
        raise AssemblyError("La séance est ouverte : la liste des votants ne change plus, la régularisation "
                            "devait se faire avant.")
    organisation, party = assembly.organisation, exclusion.party
    cut_off = format_date_fr(assembly.cut_off)
    standing = next((s for s in members_in_good_standing(organisation, assembly.cut_off, college=assembly.college_id)
                     if s.party.id == party.id), None)
    if standing is None:
        why = next((e for e in roll_exclusions(organisation, assembly.cut_off, college=assembly.college_id)
                    if e.party.id == party.id), None)
        reason = f"{why.reason.label.lower()} ({why.detail})" if why else exclusion.reason_label.lower()
        raise AssemblyError(f"{party.display_name} n'était pas à jour de sa cotisation au {cut_off} : {reason}. "
                            f"Seul un paiement fait au plus tard le {cut_off} le remet sur la liste des votants.")
    membership = standing.membership
    voter = AssemblyVoter(assembly_id=assembly.id, party_id=party.id, membership_id=membership.id,
                          sort_name=party.sort_name, college_id=membership.college_id,
                          college_name=membership.college.name if membership.college else None,
                          weight=weight_of(assembly, membership.college_id))
    db.session.add(voter)
    db.session.delete(exclusion)
    db.session.flush()
    db.session.expire(assembly, ["voters", "exclusions"])
    return voter


# --- convocation and session --------------------------------------------------------------------

def notice_warning(assembly, on=None):
    """The French warning when a convocation sent ``on`` (default today) gives less notice than
    the statutes require, else None."""
    on = on or date.today()
    days = (assembly.held_at.date() - on).days
    if days >= assembly.notice_days:
        return None
    if days < 0:
        return "L'assemblée est déjà passée : la convocation arrive trop tard."
    return (f"Convocation envoyée {days} jour{'s' if days > 1 else ''} avant l'assemblée du "
            f"{format_date_fr(assembly.held_at)} : les statuts demandent {assembly.notice_days} jours.")


def convene(assembly, user=None, on=None, late_ok=False):
    """Freeze the roll and move the assembly to « Convoquée »; returns the notice warning (or None).

    A convocation later than the statutes' notice is refused unless ``late_ok`` (the secretary
    confirmed after reading the warning). The caller starts the convocation job.
    """
    on = on or date.today()
    if not assembly.resolutions:
        raise AssemblyError("Ajoutez au moins une résolution à l'ordre du jour avant de convoquer.")
    warning = notice_warning(assembly, on)
    if warning and not late_ok:
        raise AssemblyError(warning + " Cochez la confirmation pour convoquer quand même.", field="late_ok")
    freeze_roll(assembly)
    if not assembly.voters:
        raise AssemblyError(f"Aucun membre à jour de cotisation au {format_date_fr(assembly.cut_off)} : "
                            "personne à convoquer.")
    move(assembly, S.CONVENED, by=user, reason=warning)
    assembly.convened_on = on
    db.session.flush()
    return warning


def open_session(assembly, user=None):
    move(assembly, S.IN_SESSION, by=user)
    assembly.opened_at = utcnow()
    db.session.flush()


def close_session(assembly, user=None):
    from backoffice.assemblies.models import ResolutionStatus

    if any(r.status is ResolutionStatus.OPEN for r in assembly.resolutions):
        raise AssemblyError("Un vote est encore ouvert : clôturez-le avant de clore la séance.")
    move(assembly, S.CLOSED, by=user)
    assembly.closed_at = utcnow()
    db.session.flush()


def convocation_mail(assembly, voter, link):
    """(subject, body) of the convocation e-mail of ``voter``."""
    organisation = assembly.organisation
    when = f"{format_date_fr(assembly.held_at)} à {assembly.held_at:%H:%M}".replace(":", " h ", 1)
    lines = [f"Bonjour {voter.party.display_name},", "",
             f"Vous êtes convoqué(e) à l'{assembly.kind.label.lower()} de {organisation.name}"
             + (" (seconde convocation)" if assembly.convocation == 2 else "") + f", le {when}.", ""]
    if assembly.place:
        lines.append(f"Lieu : {assembly.place}")
    if assembly.video_link:
        lines.append(f"En visioconférence : {assembly.video_link}")
    lines += ["", "Ordre du jour :"]
    for r in assembly.resolutions:
        lines.append(f"{r.position}. {r.title}")
        lines += [f"   Document joint : {d.title} ({d.filename})" for d in r.documents]
    if any(r.documents for r in assembly.resolutions):
        lines += ["", "Les documents joints se lisent et se téléchargent dans votre espace adhérent, à votre lien "
                      "personnel ci-dessous."]
    lines += ["", "Si vous ne pouvez pas venir, vous pouvez donner pouvoir à un autre membre à jour de sa "
              f"cotisation (un membre porte au plus {assembly.max_proxies} pouvoir(s)).",
              f"Votre espace adhérent, pour voter en ligne et donner pouvoir : {link}", "",
              organisation.name]
    subject = f"Convocation : {assembly.kind.short} du {format_date_fr(assembly.held_at)} — {organisation.name}"
    return subject, "\n".join(lines)


def send_convocations(assembly, link):
    """Queue the convocation mail of every voter not convoked yet (idempotent); returns
    ``(queued, without_email)``. ``link``: the URL the mail gives, or ``link(voter)`` (his
    personal voting link)."""
    from backoffice.mail.services import queue_mail

    queued, missing = 0, []
    for voter in assembly.voters:
        if voter.convoked_at is not None:
            continue
        if not voter.party.email:
            missing.append(voter)
            continue
        queue_mail(voter.party.email, *convocation_mail(assembly, voter, link(voter) if callable(link) else link))
        voter.convoked_at = utcnow()
        queued += 1
    db.session.flush()
    return queued, missing


def live_assemblies_of(organisation, party_id):
    """The assemblies of ``organisation`` convened or in session whose roll names ``party_id``: what
    the member's home page points him to (his convocation, his proxy, his votes)."""
    if party_id is None:
        return []
    return list(db.session.scalars(select(Assembly).join(AssemblyVoter).where(
        Assembly.organisation_id == organisation.id, AssemblyVoter.party_id == party_id,
        Assembly.status.in_([S.CONVENED, S.IN_SESSION])).order_by(Assembly.held_at, Assembly.id)))


def next_assembly(organisation):
    """The assembly to come (not closed yet) nearest in time, or None (the dashboard panel)."""
    return db.session.scalar(select(Assembly).where(
        Assembly.organisation_id == organisation.id,
        Assembly.status.in_([S.DRAFT, S.CONVENED, S.IN_SESSION])).order_by(Assembly.held_at, Assembly.id).limit(1))


def second_convocation(first, held_at, place=None, video_link=None):
    """A second convocation of ``first``, whose quorum failed: the same agenda and settings, in
    preparation; without quorum when the statutes say so (``second_without_quorum``). Each
    resolution keeps its attached documents, copied into files of the second's own
    (``attachments.copy_documents``); ``second.documents_not_copied`` lists those whose file was
    missing or altered, to attach again."""
    from backoffice.assemblies.attachments import copy_documents
    from backoffice.assemblies.voting import live_quorum

    if first.convocation != 1 or first.status not in (S.CLOSED, S.MINUTES_ISSUED):
        raise AssemblyError("Une seconde convocation suit une première assemblée close.")
    if live_quorum(first).reached:
        raise AssemblyError("Le quorum de la première assemblée était atteint : pas de seconde convocation.")
    if db.session.scalar(select(Assembly.id).where(Assembly.first_id == first.id)) is not None:
        raise AssemblyError("La seconde convocation de cette assemblée existe déjà.")
    values = {k: getattr(first, k) for k in SETTINGS} | {"held_at": held_at, "title": f"{first.title} (seconde convocation)"}
    if place is not None or video_link is not None:
        values |= {"place": place, "video_link": video_link}
    if first.second_without_quorum:
        values |= {"quorum_numerator": None, "quorum_denominator": None}
    if held_at <= first.held_at:
        raise AssemblyError("La seconde convocation se tient après la première.", field="held_at")
    second = create_assembly(first.organisation, **values)
    second.convocation, second.first_id = 2, first.id
    skipped = []
    for r in first.resolutions:
        skipped += copy_documents(r, add_resolution(second, r.title, r.text, r.majority, r.secret))
    second.documents_not_copied = skipped
    db.session.flush()
    return second


def second_of(assembly):
    """The second convocation made from ``assembly``, or None."""
    return db.session.scalar(select(Assembly).where(Assembly.first_id == assembly.id))
