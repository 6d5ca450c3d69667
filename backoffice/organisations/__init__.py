"""Organisations: legal details, logo, and who holds which role in them (affiliations).

Public API for other features (``backoffice.organisations.affiliations``)
------------------------------------------------------------------------
An ``Affiliation`` is (party, organisation, ``role``, ``starts_on``, ``ends_on`` — the last day,
included; None: still). Roles (``Role`` = ``models.AffiliationRole``, French ``label``):
``PRESIDENT``, ``VICE_PRESIDENT``, ``SECRETARY``, ``TREASURER``, ``MANAGER`` (offices, one holder
at a time), ``BOARD_MEMBER``, ``ASSOCIATE`` (a SISA's associates), ``COORDINATOR``, ``CONTACT``
(in the organisation's directory with no other relation).

* ``affiliate(party, organisation, role, starts_on=None, ends_on=None)`` — refused
  (``AffiliationError``, French) when the party already holds the role then; an office changes
  hands: the previous holder's term ends the day before.
* ``end_affiliation(affiliation, on=None)``; ``set_office(organisation, role, party_or_None, on=None)``
  (the settings page's pickers).
* ``holders(organisation, role, on=None)`` → running affiliations, party loaded, by name (one query);
  ``current_holder(organisation, role, on=None)`` → the party or None (e.g. who signs a receipt).
* ``affiliations(organisation, roles=None, since=None)`` → with their dates (a year's associates,
  joiners and leavers included); ``affiliations_of(party, on=None)`` → in every organisation.
* ``add_contact(organisation, party)``: into the organisation's directory unless already related.

The directory of an organisation (``people.services.related_party_ids``) is the parties with a
membership, a running affiliation or a login there; the contact details of anyone else in the
shared table are not shown to its staff.
"""
