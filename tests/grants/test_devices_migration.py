"""Books set up before in-kind programmes get the posting rules of devices from a data migration:
their chart's accounts where they have them active, empty where not (the settings page shows it)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select, update

from backoffice.accounting import services as accounting
from backoffice.accounting.models import Account, PostingRule
from backoffice.extensions import db
from tests.data_migrations import run_data_migration
from tests.factories import OrganisationFactory, StructureFactory

EVENTS = ("device_purchased", "device_paid", "device_depreciation")


def _rules(organisation):
    rules = db.session.scalars(select(PostingRule).where(PostingRule.organisation_id == organisation.id,
                                                         PostingRule.event.in_(EVENTS)))
    return {r.event: (r.debit_account.number if r.debit_account else None,
                      r.credit_account.number if r.credit_account else None,
                      r.journal.code if r.journal else None) for r in rules}


def test_migration_fills_the_device_rules_of_older_books(organisation):
    other = OrganisationFactory(slug="cpts-voisine", name="CPTS voisine")
    for org in (organisation, other):
        accounting.ensure_ledger(org)
    # Books set up before the events existed, one of them without an active 28154.
    db.session.execute(delete(PostingRule).where(PostingRule.event.in_(EVENTS)))
    db.session.execute(update(Account).where(Account.organisation_id == other.id, Account.number == "28154")
                       .values(active=False))
    db.session.expire_all()
    run_data_migration("accounting_device_rules")  # twice: a second run adds nothing
    assert _rules(organisation) == {"device_purchased": ("2154", "404", "OD"), "device_paid": ("404", None, None),
                                    "device_depreciation": ("6811", "28154", "OD")}
    assert _rules(other)["device_depreciation"] == ("6811", None, "OD")
    entry = accounting.post_event(organisation, "device_purchased", amount=Decimal("749.90"),
                                  entry_date=date(2026, 3, 16), party=StructureFactory(name="Medisafe France"),
                                  piece_ref="FA-1", label="Achat dermatoscope")
    assert [(l.account.number, l.debit, l.credit) for l in entry.lines] == [
        ("2154", Decimal("749.90"), Decimal("0.00")), ("404", Decimal("0.00"), Decimal("749.90"))]


def test_migration_gives_older_books_account_675_and_the_disposal_rule(organisation):
    other = OrganisationFactory(slug="cpts-voisine", name="CPTS voisine")
    for org in (organisation, other):
        accounting.ensure_ledger(org)
    # Books set up before disposals: no 675, no rule; the other organisation had its own 675.
    db.session.execute(delete(PostingRule).where(PostingRule.event == "device_disposed"))
    db.session.execute(delete(Account).where(Account.organisation_id == organisation.id, Account.number == "675"))
    db.session.execute(update(Account).where(Account.organisation_id == other.id, Account.number == "675")
                       .values(label="VNC des immobilisations cédées"))
    db.session.expire_all()
    run_data_migration("accounting_device_disposal")  # twice: a second run adds nothing
    accounts = db.session.scalars(select(Account).where(Account.number == "675",
                                                        Account.organisation_id.in_((organisation.id, other.id))))
    assert sorted((a.organisation_id, a.label) for a in accounts) == sorted(
        [(organisation.id, "Valeurs comptables des éléments d'actif cédés"), (other.id, "VNC des immobilisations cédées")])
    for org in (organisation, other):
        rule = db.session.scalar(select(PostingRule).where(PostingRule.organisation_id == org.id,
                                                           PostingRule.event == "device_disposed"))
        assert (rule.debit_account.number, rule.credit_account.number, rule.journal.code) == ("675", "2154", "OD")
