"""A cheque deposit slip posts one entry moving its total from 5112 *Chèques à encaisser* to the bank."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from backoffice.accounting import reporting
from backoffice.accounting.models import Account, JournalEntry, PostingRule
from backoffice.extensions import db as _db
from backoffice.membership import deposits, services
from backoffice.membership.models import ChequeDeposit
from backoffice.membership.services import MembershipError

DEPOSITED_ON = date(2026, 2, 3)


@pytest.fixture
def cheques(organisation, membership, nurse, period):
    """Two cheques (50 € and 20 €) waiting to be deposited."""
    other = services.create_membership(organisation, nurse, period)
    return [services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0012345"),
            services.record_payment(other, "20", "cheque", date(2026, 2, 2), reference="7654321")]


def deposit_entries(organisation):
    return list(_db.session.scalars(select(JournalEntry).where(JournalEntry.organisation_id == organisation.id,
                                                               JournalEntry.event == "cheques_deposited")))


def shape(entry):
    """``[(account, debit, credit)]`` of an entry, checking it balances."""
    lines = [(line.account.number, line.debit, line.credit) for line in entry.lines]
    assert sum(d for _, d, _ in lines) == sum(c for _, _, c in lines) == entry.total
    return sorted(lines)


def balance_of(organisation, number):
    """Debit minus credit of a general account over 2026, from the trial balance."""
    row = reporting.trial_balance(organisation, date(2026, 1, 1), date(2026, 12, 31)).by_account().get(number)
    return row.debit - row.credit if row is not None else Decimal("0")


def test_a_deposit_posts_one_entry_for_its_total(organisation, cheques):
    deposit = deposits.create_cheque_deposit(organisation, [c.id for c in cheques], DEPOSITED_ON)
    [entry] = deposit_entries(organisation)
    assert shape(entry) == [("5112", 0, Decimal("70.00")), ("512", Decimal("70.00"), 0)]
    assert entry.journal.code == "BQ" and entry.entry_date == DEPOSITED_ON
    assert entry.source == f"membership_cheque_deposits:{deposit.id}"
    assert entry.piece_ref == "REM-0001" and "n° 1" in entry.label


def test_posting_a_deposit_again_posts_nothing(organisation, cheques):
    deposit = deposits.create_cheque_deposit(organisation, [c.id for c in cheques], DEPOSITED_ON)
    [entry] = deposit_entries(organisation)
    count = _db.session.scalar(select(func.count()).select_from(JournalEntry))
    assert deposits.post_deposit(organisation, deposit) == entry.id
    with pytest.raises(MembershipError, match="ne sont plus à remettre"):
        deposits.create_cheque_deposit(organisation, [cheques[0].id], DEPOSITED_ON)
    assert _db.session.scalar(select(func.count()).select_from(JournalEntry)) == count
    assert deposit_entries(organisation) == [entry]


def test_deposited_cheques_leave_5112(organisation, cheques, membership):
    later = services.record_payment(membership, "5", "cheque", date(2026, 2, 2), reference="1111111")
    assert balance_of(organisation, "5112") == Decimal("75.00")
    deposits.create_cheque_deposit(organisation, [c.id for c in cheques], DEPOSITED_ON)
    assert balance_of(organisation, "5112") == later.amount  # only the cheque not deposited yet
    assert balance_of(organisation, "512") == Decimal("70.00")
    deposits.create_cheque_deposit(organisation, [later.id], date(2026, 2, 10))
    assert balance_of(organisation, "5112") == 0
    pieces = sorted(e.piece_ref for e in deposit_entries(organisation))
    assert pieces == ["REM-0001", "REM-0002"]


def test_no_slip_without_its_entry(organisation, cheques):
    """The entry is in the deposit's transaction: when it cannot be posted, no slip is left."""
    bank = _db.session.scalar(select(Account).where(Account.organisation_id == organisation.id,
                                                    Account.number == "512"))
    bank.active = False
    with pytest.raises(MembershipError, match="Écriture comptable impossible.*désactivé"):
        with _db.session.begin_nested():
            deposits.create_cheque_deposit(organisation, [c.id for c in cheques], DEPOSITED_ON)
    _db.session.expire_all()
    assert _db.session.scalar(select(func.count()).select_from(ChequeDeposit)) == 0
    assert [c.id for c in services.undeposited_cheques(organisation)] == [c.id for c in cheques]
    assert deposit_entries(organisation) == []


def test_books_set_up_before_the_event_get_its_default_rule(organisation, cheques):
    """Organisations whose books predate ``cheques_deposited`` post it with the chart's defaults."""
    _db.session.execute(delete(PostingRule).where(PostingRule.organisation_id == organisation.id,
                                                  PostingRule.event == "cheques_deposited"))
    deposits.create_cheque_deposit(organisation, [c.id for c in cheques], DEPOSITED_ON)
    [entry] = deposit_entries(organisation)
    assert shape(entry) == [("5112", 0, Decimal("70.00")), ("512", Decimal("70.00"), 0)]
    rule = _db.session.scalar(select(PostingRule).where(PostingRule.organisation_id == organisation.id,
                                                        PostingRule.event == "cheques_deposited"))
    assert (rule.debit_account.number, rule.credit_account.number, rule.journal.code) == ("512", "5112", "BQ")


def test_the_accountant_chooses_the_bank_account(organisation, cheques):
    from backoffice.accounting import services as accounting

    accounting.add_account(organisation, "512100", "Crédit Mutuel")
    accounting.update_posting_rule(organisation, "cheques_deposited", debit_account="512100",
                                   credit_account="5112", journal="BQ")
    deposits.create_cheque_deposit(organisation, [c.id for c in cheques], DEPOSITED_ON)
    [entry] = deposit_entries(organisation)
    assert shape(entry) == [("5112", 0, Decimal("70.00")), ("512100", Decimal("70.00"), 0)]


def test_deposit_from_the_cheques_page_is_posted(client, login_as, organisation, cheques):
    login_as("treasurer")
    response = client.post("/o/cpts-test/membership/cheques",
                           data={"payment_ids": [c.id for c in cheques], "deposited_on": "2026-02-03"})
    assert response.status_code == 302
    _db.session.expire_all()
    [entry] = deposit_entries(organisation)
    assert entry.total == Decimal("70.00") and entry.entry_date == DEPOSITED_ON
    assert balance_of(organisation, "5112") == 0


@pytest.fixture
def family_cheque(organisation, membership, nurse, period):
    """One cheque of 80 € (n° 0098765, Crédit Mutuel) paying two memberships, and another cheque."""
    other = services.create_membership(organisation, nurse, period)
    return [services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0098765",
                                    cheque_bank="Crédit Mutuel", payer_name="Anne Le Floch"),
            services.record_payment(other, "30", "cheque", date(2026, 2, 1), reference="0098 765",
                                    cheque_bank="crédit mutuel ", payer_name="Anne Le Floch"),
            services.record_payment(other, "20", "cheque", date(2026, 2, 1), reference="1111111")]


def test_a_cheque_paying_two_memberships_is_one_cheque_on_the_slip(organisation, family_cheque):
    [family, single] = deposits.group_cheques(services.undeposited_cheques(organisation))
    assert (family.amount, family.ids, family.drawer) == (Decimal("80.00"), [p.id for p in family_cheque[:2]],
                                                          "Anne Le Floch")
    assert (single.amount, single.ids) == (Decimal("20.00"), [family_cheque[2].id])
    deposit = deposits.create_cheque_deposit(organisation, [p.id for p in family_cheque], DEPOSITED_ON)
    assert (deposit.cheque_count, deposit.total) == (2, Decimal("100.00"))
    context = deposits.deposit_context(organisation, deposit)
    assert context["deposit"]["count"] == 2
    assert [(c["number"], c["amount"]) for c in context["cheques"]] == [("0098765", Decimal("80.00")),
                                                                         ("1111111", Decimal("20.00"))]


def test_half_a_cheque_cannot_be_deposited(organisation, family_cheque):
    with pytest.raises(MembershipError, match="Le chèque n° 0098765 paie plusieurs adhésions .* remettez-le en entier"):
        deposits.create_cheque_deposit(organisation, [family_cheque[0].id], DEPOSITED_ON)
    assert _db.session.scalar(select(func.count()).select_from(ChequeDeposit)) == 0


def test_the_cheques_page_shows_one_box_per_cheque(client, login_as, organisation, family_cheque):
    login_as("treasurer")
    page = client.get("/o/cpts-test/membership/cheques").text
    assert page.count('name="payment_ids"') == 2
    assert f'value="{family_cheque[0].id},{family_cheque[1].id}"' in page
    response = client.post("/o/cpts-test/membership/cheques", data={
        "payment_ids": [f"{family_cheque[0].id},{family_cheque[1].id}"], "deposited_on": "2026-02-03"})
    assert response.status_code == 302
    deposit = _db.session.scalar(select(ChequeDeposit))
    assert (deposit.cheque_count, deposit.total) == (1, Decimal("80.00"))
