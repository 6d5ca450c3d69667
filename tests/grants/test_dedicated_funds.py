"""Fonds dédiés through the accounting's posting rules: the carry at year-end equals the unspent
funding, the accountant's accounts are used, the trial balance agrees with the budget page, the
accounting's closing checklist names the programmes not carried, and the migration gives older
books the two rules."""
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select

from backoffice.accounting import closing, reporting
from backoffice.accounting import services as accounting
from backoffice.accounting.models import PostingRule
from backoffice.extensions import db
from backoffice.grants import agreements, payments, services
from tests.data_migrations import run_data_migration
from tests.factories import OrganisationFactory, UserFactory
from tests.grants.factories import dermatoscope_programme, submitted

D = Decimal


def _accounts(organisation, start=date(2026, 1, 1), end=date(2026, 12, 31)):
    return {n: row.balance for n, row in reporting.trial_balance(organisation, start, end).by_account().items()}


def _year_with_grants(organisation):
    """FIR 5 000 € received in 2026; 600 € paid, 450 € committed (signed, not paid), one cancelled."""
    programme = dermatoscope_programme(organisation, closes_on=date(2027, 12, 31))
    payments.record_funding(programme.funders[0], date(2026, 2, 20))
    paid = submitted(organisation, programme)
    services.approve(paid, on=date(2026, 4, 7))
    agreements.issue_agreement(paid)
    agreements.sign_online(paid, UserFactory(party_id=paid.applicant_id), "203.0.113.7")
    payments.record_payment(paid, paid_on=date(2026, 5, 12), invoice_reference="FAC 2026/118")
    services.approve(submitted(organisation, programme), D("450.00"), on=date(2026, 6, 2))
    cancelled = submitted(organisation, programme)
    services.approve(cancelled, on=date(2026, 6, 2))
    services.cancel(cancelled, "Départ du professionnel")
    return programme


def test_carry_is_the_event_of_the_posting_rules_and_equals_the_unspent_funding(organisation):
    programme = _year_with_grants(organisation)
    assert payments.unspent_funding(programme, 2026) == D("3950.00")
    entry = payments.carry_dedicated_funds(programme, 2026)
    assert entry.event == "dedicated_funds_carried" and entry.entry_date == date(2026, 12, 31)
    assert payments.carry_dedicated_funds(programme, 2026).id == entry.id          # once per year
    accounts = _accounts(organisation)
    assert (accounts["6894"], accounts["194"]) == (D("3950.00"), D("-3950.00"))
    assert -accounts["194"] == payments.unspent_funding(programme, 2026)


def test_the_accountants_accounts_are_used(organisation):
    programme = _year_with_grants(organisation)
    accounting.add_account(organisation, "68941", "Reports en fonds dédiés – FIR")
    accounting.add_account(organisation, "1941", "Fonds dédiés – FIR")
    accounting.update_posting_rule(organisation, "dedicated_funds_carried", debit_account="68941",
                                   credit_account="1941", journal="OD")
    entry = payments.carry_dedicated_funds(programme, 2026)
    assert sorted((line.account.number, line.debit, line.credit) for line in entry.lines) == [
        ("1941", D("0.00"), D("3950.00")), ("68941", D("3950.00"), D("0.00"))]
    assert "6894" not in _accounts(organisation)


def test_trial_balance_agrees_with_the_budget_page(client, login_as, organisation):
    programme = _year_with_grants(organisation)
    payments.carry_dedicated_funds(programme, 2026)
    budget = services.budget(programme)
    accounts = _accounts(organisation)
    assert (budget.committed, budget.paid, budget.remaining) == (D("450.00"), D("600.00"), D("4950.00"))
    assert accounts["6571"] == budget.committed + budget.paid                      # granted in the year
    assert -accounts["467"] == budget.committed                                   # granted, not yet paid
    received = -accounts["741"]
    assert received - accounts["6571"] == -accounts["194"]                        # unspent = carried
    # The programme leaves the year's result untouched: what was received and not used is carried.
    assert accounts["741"] + accounts["6571"] + accounts["6894"] == D("0.00")
    assert accounts["512"] == received - budget.paid - accounts["756"]            # and the applicants' fees
    db.session.commit()
    login_as("treasurer")
    page = client.get(f"/o/{organisation.slug}/aides/programmes/{programme.id}").get_data(as_text=True)
    for figure in ("450,00\u00a0€", "600,00\u00a0€", "4\u202f950,00\u00a0€"):
        assert figure in page


def test_closing_checklist_names_the_programme_not_carried(organisation):
    programme = _year_with_grants(organisation)
    check = next(c for c in closing.closing_checklist(organisation, 2026) if c.key == "grants_dedicated_funds")
    assert (check.count, check.blocking, check.endpoint, check.args) == (
        1, False, "grants.programme", {"programme_id": programme.id})
    assert "« Dermatoscopes 2026 » (3\u202f950,00\u00a0€)" in check.message
    payments.carry_dedicated_funds(programme, 2026)
    check = next(c for c in closing.closing_checklist(organisation, 2026) if c.key == "grants_dedicated_funds")
    assert check.ok and "sont reportés" in check.message


def test_closing_checklist_of_books_without_programmes_or_of_a_sisa_has_no_grants_item(organisation):
    from backoffice.organisations.models import OrganisationKind

    sisa = OrganisationFactory(slug="sisa-fd", name="SISA", kind=OrganisationKind.SISA, siren="798765434")
    for books in (organisation, sisa):
        accounting.ensure_ledger(books)
        assert "grants_dedicated_funds" not in {c.key for c in closing.closing_checklist(books, 2026)}


def test_migration_gives_older_books_the_two_rules(organisation):
    from backoffice.organisations.models import OrganisationKind

    sisa = OrganisationFactory(slug="sisa-migr", name="SISA", kind=OrganisationKind.SISA, siren="798765434")
    for books in (organisation, sisa):
        accounting.ensure_ledger(books)
        accounting.posting_rules(books)  # books whose rules exist, as before the migration
    events = ("dedicated_funds_carried", "dedicated_funds_used")
    db.session.execute(delete(PostingRule).where(PostingRule.event.in_(events)))
    db.session.expire_all()
    run_data_migration("accounting_dedicated_funds_rules")  # twice: a second run adds nothing

    def rules(books):
        return {r.event: (r.debit_account.number, r.credit_account.number, r.journal.code) for r in db.session.scalars(
            select(PostingRule).where(PostingRule.organisation_id == books.id, PostingRule.event.in_(events)))}

    assert rules(organisation) == {"dedicated_funds_carried": ("6894", "194", "OD"),
                                   "dedicated_funds_used": ("194", "7894", "OD")}
    assert rules(sisa) == {"dedicated_funds_carried": ("741", "487", "OD"),
                           "dedicated_funds_used": ("487", "741", "OD")}


def test_a_smaller_invoice_releases_funding_that_the_carry_counts(organisation):
    """A grant paid on an invoice lower than the quote releases the rest of its commitment
    (D 467 / C 6571): the fonds dédiés carry that part too, and the year's result stays nil."""
    programme = _year_with_grants(organisation)
    smaller = submitted(organisation, programme)
    services.approve(smaller, on=date(2026, 9, 1))                                  # 600 € granted
    agreements.issue_agreement(smaller)
    agreements.sign_online(smaller, UserFactory(party_id=smaller.applicant_id), "203.0.113.9")
    payments.record_payment(smaller, paid_on=date(2026, 10, 5), invoice_amount="500,00")  # 80 %: 400 €
    assert payments.unspent_funding(programme, 2026) == D("3550.00")               # 5 000 − 600 − 450 − 400
    payments.carry_dedicated_funds(programme, 2026)
    accounts = _accounts(organisation)
    assert -accounts["194"] == D("3550.00") == -accounts["741"] - accounts["6571"]
    assert accounts["741"] + accounts["6571"] + accounts["6894"] == D("0.00")


def test_the_accountant_changes_the_fonds_dedies_accounts_on_the_settings_page(client, login_as, organisation):
    """An accountant who books the funding as contributions of other organisations carries it on 6897 / 197."""
    from tests.accounting.test_views import _settings_form

    programme = _year_with_grants(organisation)
    db.session.commit()
    login_as("treasurer")
    page = client.get(f"/o/{organisation.slug}/accounting/settings").get_data(as_text=True)
    assert "Report en fonds dédiés (financement non utilisé)" in page and "Utilisation des fonds dédiés" in page
    form = dict(_settings_form(organisation), **{"dedicated_funds_carried-debit": "6897",
                                                  "dedicated_funds_carried-credit": "197"})
    assert client.post(f"/o/{organisation.slug}/accounting/settings", data=form).status_code == 302
    db.session.expire_all()
    entry = payments.carry_dedicated_funds(programme, 2026)
    assert sorted(line.account.number for line in entry.lines) == ["197", "6897"]


def test_in_kind_the_unspent_funding_is_the_funding_less_the_devices_bought_in_the_year(organisation):
    from backoffice.grants import devices
    from backoffice.grants.models import ProgrammeMode

    programme = dermatoscope_programme(organisation, name="Dermatoscopes prêtés 2026", mode=ProgrammeMode.IN_KIND)
    payments.record_funding(programme.funders[0], date(2026, 2, 20))                  # FIR 5 000,00
    # An approval in kind commits nothing: only what the organisation buys is spent.
    services.approve(submitted(organisation, programme), on=date(2026, 3, 20))
    for serial, amount, on in (("HD30-2026-0042", "749,90", date(2026, 3, 16)),
                               ("HD30-2026-0043", "1 080,00", date(2026, 9, 1))):
        devices.create_device(programme, equipment_kind="Dermatoscope", serial_number=serial, purchased_on=on,
                              purchase_amount=amount, supplier="Medisafe France")
    assert payments.unspent_funding(programme, 2026) == D("3170.10")                 # 5 000 − 749,90 − 1 080
    entry = payments.carry_dedicated_funds(programme, 2026)
    assert entry.total == D("3170.10")
    assert _accounts(organisation)["194"] == D("-3170.10")
