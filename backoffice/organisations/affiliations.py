"""Affiliations: who holds which role in an organisation, and when.

A CPTS's president, treasurer, secretary and board, a SISA's associates (with their entry and
exit dates), the people an organisation keeps in its directory: rows of ``Affiliation``
(party, organisation, role, ``starts_on``, ``ends_on`` — the last day, included; None: still).
Services flush and never commit; errors are ``AffiliationError`` with a French message.

One holder at a time for the offices in ``SINGLE_HOLDER_ROLES``: naming a new president ends the
current one's term the day before (``affiliate``).
"""
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload, with_polymorphic

from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.formatting import format_date_short
from backoffice.organisations.models import Affiliation, AffiliationRole

Role = AffiliationRole
SINGLE_HOLDER_ROLES = frozenset({Role.PRESIDENT, Role.VICE_PRESIDENT, Role.SECRETARY, Role.TREASURER, Role.MANAGER})
# The offices an organisation's settings page names (the rest are listed with their dates).
OFFICES = (Role.PRESIDENT, Role.TREASURER, Role.SECRETARY)


class AffiliationError(ServiceError):
    """An affiliation rule is broken; the message is French, ``field`` names the form field (or None)."""


def current_condition(on, affiliation=Affiliation):
    """SQL: ``affiliation`` runs on ``on``."""
    return (affiliation.starts_on <= on) & or_(affiliation.ends_on.is_(None), affiliation.ends_on >= on)


def _with_party(query):
    from backoffice.people.models import Party

    party = with_polymorphic(Party, "*")
    return (query.join(Affiliation.party.of_type(party))
            .options(contains_eager(Affiliation.party.of_type(party)))
            .order_by(party.sort_name, Affiliation.starts_on, Affiliation.id))


def holders(organisation, role, on=None):
    """The affiliations of ``role`` in ``organisation`` running on ``on`` (default today), the
    party loaded, by name; one query. For a SISA's associates: ``holders(sisa, Role.ASSOCIATE, on)``."""
    on = on or date.today()
    return list(db.session.scalars(_with_party(select(Affiliation).where(
        Affiliation.organisation_id == organisation.id, Affiliation.role == Role(role), current_condition(on)))))


def current_holder(organisation, role, on=None):
    """The party holding ``role`` (an office) in ``organisation`` on ``on`` (default today), or None."""
    found = holders(organisation, role, on)
    return found[0].party if found else None


def treasurer_title(organisation, on=None) -> str:
    """« la trésorière », « le trésorier », or both when the office is vacant or the civility unknown."""
    from backoffice.formatting import by_civility

    holder = current_holder(organisation, Role.TREASURER, on)
    return by_civility(holder, "le trésorier", "la trésorière", unknown="le trésorier ou la trésorière")


def affiliations(organisation, roles=None, since=None):
    """Every affiliation of ``organisation`` (of ``roles``; ended after ``since`` or running), party
    loaded, by name: e.g. the associates of a year with their entry and exit dates."""
    query = select(Affiliation).where(Affiliation.organisation_id == organisation.id)
    if roles is not None:
        query = query.where(Affiliation.role.in_([Role(r) for r in roles]))
    if since is not None:
        query = query.where(or_(Affiliation.ends_on.is_(None), Affiliation.ends_on >= since))
    return list(db.session.scalars(_with_party(query)))


def holders_of_roles(organisation, on=None):
    """Every running affiliation of ``organisation`` but directory contacts, offices first, then
    by role and name (the settings page's list; a SISA's 90 associates included)."""
    on = on or date.today()
    found = db.session.scalars(_with_party(select(Affiliation).where(
        Affiliation.organisation_id == organisation.id, Affiliation.role != Role.CONTACT, current_condition(on))))
    order = list(Role)
    return sorted(found, key=lambda a: order.index(a.role))


def affiliations_of(party, on=None):
    """The affiliations of ``party`` in every organisation (running on ``on`` if given), by
    organisation name then start."""
    from backoffice.organisations.models import Organisation

    query = (select(Affiliation).join(Affiliation.organisation).options(joinedload(Affiliation.organisation))
             .where(Affiliation.party_id == party.id))
    if on is not None:
        query = query.where(current_condition(on))
    return list(db.session.scalars(query.order_by(Organisation.name, Affiliation.starts_on, Affiliation.id)))


def affiliate(party, organisation, role, starts_on=None, ends_on=None):
    """Give ``party`` ``role`` in ``organisation`` from ``starts_on`` (default today) to ``ends_on``.

    Refused when the party already holds the role over part of that time. For an office held by
    one person (``SINGLE_HOLDER_ROLES``), the holder on ``starts_on`` hands over: their term ends
    the day before (refused if it started that same day or later: end or correct it first).
    """
    role = Role(role)
    starts_on = starts_on or date.today()
    if ends_on is not None and ends_on < starts_on:
        raise AffiliationError("La date de fin précède la date de début.", "ends_on")
    overlapping = db.session.scalars(select(Affiliation).where(
        Affiliation.organisation_id == organisation.id, Affiliation.role == role,
        or_(Affiliation.ends_on.is_(None), Affiliation.ends_on >= starts_on),
        *([Affiliation.starts_on <= ends_on] if ends_on is not None else [])).options(
        joinedload(Affiliation.party))).all()
    for other in overlapping:
        if other.party_id == party.id:
            raise AffiliationError(f"{party.display_name} est déjà {role.label.lower()} "
                                   f"depuis le {format_date_short(other.starts_on)}.", "party_id")
    if role in SINGLE_HOLDER_ROLES:
        for other in overlapping:
            if other.starts_on >= starts_on:
                raise AffiliationError(
                    f"{other.party.display_name} est {role.label.lower()} à partir du "
                    f"{format_date_short(other.starts_on)} : corrigez ce mandat d'abord.", "starts_on")
            other.ends_on = starts_on - timedelta(days=1)
    affiliation = Affiliation(organisation=organisation, party=party, role=role, starts_on=starts_on, ends_on=ends_on)
    db.session.add(affiliation)
    db.session.flush()
    return affiliation


def end_affiliation(affiliation, on=None):
    """End ``affiliation`` on ``on`` (default today, the last day included)."""
    on = on or date.today()
    if affiliation.ends_on is not None and affiliation.ends_on <= on:
        raise AffiliationError("Ce rôle est déjà terminé.")
    if on < affiliation.starts_on:
        raise AffiliationError(f"La fin ne peut précéder le début ({format_date_short(affiliation.starts_on)}).",
                               "ends_on")
    affiliation.ends_on = on
    db.session.flush()
    return affiliation


def set_office(organisation, role, party, on=None):
    """Name ``party`` (None: nobody) to the office ``role`` from ``on`` (default today): the
    current holder's term ends the day before; one named that same day was a slip and is removed.
    Nothing happens when ``party`` already holds it. Used by the settings page's pickers."""
    on = on or date.today()
    current = holders(organisation, role, on)
    if party is not None and any(a.party_id == party.id for a in current):
        return None
    for affiliation in current:
        if affiliation.starts_on >= on:
            db.session.delete(affiliation)
        else:
            affiliation.ends_on = on - timedelta(days=1)
    db.session.flush()
    return affiliate(party, organisation, role, starts_on=on) if party is not None else None


def add_contact(organisation, party):
    """Put ``party`` in ``organisation``'s directory (a ``CONTACT`` affiliation from today) unless
    it already has a relation with it (a membership, a running affiliation, a login)."""
    from backoffice.people.services import add_contacts

    return add_contacts(organisation, [party.id])
