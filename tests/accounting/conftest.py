"""Fixtures of the ledger tests: organisations with their books set up, parties."""
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest

from backoffice.accounting import services
from backoffice.organisations.models import OrganisationKind


@pytest.fixture
def books(organisation):
    """The CPTS of the ``organisation`` fixture, with its books (plan comptable des associations)."""
    services.ensure_ledger(organisation)
    return organisation


@pytest.fixture
def sisa(db):
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory(slug="sisa-test", name="SISA de Test", kind=OrganisationKind.SISA,
                                       siren="798765434")
    services.ensure_ledger(organisation)
    return organisation


@pytest.fixture
def member(db):
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(first_name="Marie", last_name="Dupont", profession="medecin")


@pytest.fixture
def other_member(db):
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(first_name="Paul", last_name="Martin")


@pytest.fixture
def post_fee(books, member):
    """Post a fee due (and optionally paid) for ``member``: ``post_fee(amount, paid=True)``."""

    def post(amount="50.00", paid=False, method="transfer", day=date(2026, 1, 15), party=None, source=None):
        party = party or member
        due = services.post_event(books, "fee_due", amount=Decimal(amount), entry_date=day, party=party,
                                  piece_ref="ADH-2026-0042", label=f"Cotisation 2026 – {party.display_name}",
                                  source=source)
        if not paid:
            return due
        payment = services.post_event(books, "fee_paid", amount=Decimal(amount), entry_date=day, party=party,
                                      piece_ref="PAY-17", label=f"Règlement cotisation – {party.display_name}",
                                      payment_method=method)
        return due, payment

    return post


@contextmanager
def example_rolled_back():
    """One hypothesis example in a savepoint, undone afterwards (the function-scoped fixtures are
    shared by every example)."""
    from backoffice.extensions import db

    savepoint = db.session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        # Rows of this example are gone, but objects the session *loaded* (not created) inside the
        # savepoint stay in its identity map, and SQLite reuses their ids in the next example.
        for obj in list(db.session.identity_map.values()):
            if type(obj).__module__ == "backoffice.accounting.models":
                db.session.expunge(obj)


def post_event_operation(organisation, parties, operation):
    """The entry of a property test's ``("event", (event, method), amount, day, who)`` operation:
    ``parties[who]`` when the event names a party."""
    _, (event, method), amount, day, who = operation
    needs_party = services.rules.EVENTS[event].needs_party
    return services.post_event(organisation, event, amount=amount, entry_date=day,
                               party=parties[who] if needs_party else None, piece_ref="P",
                               label=f"Opération {event}", payment_method=method)


def sisa_2026_closed(sisa, capital):
    """A SISA's 2026 closed with a surplus of 10 000,00 (ACI 30 000, 20 000 distributed to Anne),
    its associates with their capital shares (``capital``: ``{name: shares or None}``)."""
    from backoffice.organisations.models import AffiliationRole
    from backoffice.sisa import services as sisa_services
    from tests.factories import AffiliationFactory, ProfessionalFactory

    associates = {}
    for name, shares in capital.items():
        first, last = name.split(" ", 1)
        party = ProfessionalFactory(first_name=first, last_name=last)
        AffiliationFactory(organisation=sisa, party=party, role=AffiliationRole.ASSOCIATE, starts_on=date(2019, 3, 1))
        if shares is not None:
            sisa_services.save_associate(sisa, party, capital_share=Decimal(shares))
        associates[name] = party
    services.post_event(sisa, "aci_income", amount=Decimal("30000.00"), entry_date=date(2026, 4, 1), piece_ref="ACI",
                        label="ACI 2026")
    services.post_event(sisa, "sisa_distribution", amount=Decimal("20000.00"), entry_date=date(2026, 5, 1),
                        party=associates["Anne Morel"], piece_ref="REP", label="Répartition")
    services.close_period(sisa, "year", 2026)
    return associates
