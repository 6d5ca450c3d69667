"""Posting batches: the same entries as one by one, with the books' lookups made once; the SQL
statements a posting runs are pinned, so that a regression fails here."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.accounting import services
from backoffice.accounting.models import JournalEntry
from backoffice.accounting.services import (
    AccountingError, EntryLineSpec, post_entry, post_event, post_events, posting_batch, posting_source)
from backoffice.extensions import db

DAY = date(2026, 3, 14)

# Statements of one fee paid (SAVEPOINT and RELEASE left out), its two lines' INSERT aside. In a
# batch, once the books are looked up: the source check, the entry, its numbering (entry and
# counter), two audit rows, the lettering (unlettered lines, counter, lines, audit row). One by
# one, each posting also reads the ledger, the rule, the payment method, its two accounts, the
# auxiliary account, the closed periods, and locks the counter (insert and select). (The lettering
# reads plain rows, not line objects, so no account loaded with them is left in the session for
# the next posting to find.)
FEE_PAID_IN_BATCH = 10
FEE_PAID_ALONE = 16


def _line_inserts():
    # PostgreSQL inserts the lines of an entry in one statement (RETURNING); SQLite one by one.
    return 1 if db.session.get_bind().dialect.name == "postgresql" else 2


@pytest.fixture
def members(db):
    from tests.factories import ProfessionalFactory

    return [ProfessionalFactory(first_name="Anne", last_name=f"Membre{n}") for n in range(8)]


def _fee(member, n, event="fee_due", amount="30.00", day=DAY, **extra):
    arguments = dict(event=event, amount=Decimal(amount), entry_date=day, party=member, piece_ref=f"ADH-{n}",
                     label=f"Cotisation – {member.display_name}", source=posting_source("parties", member.id, event))
    if event == "fee_paid":
        arguments["payment_method"] = "cheque"
    arguments.update(extra)
    return arguments


def _events(members):
    events = []
    for n, member in enumerate(members):
        events.append(_fee(member, n))
        if n % 2 == 0:
            events.append(_fee(member, n, "fee_paid"))
    return events


def _shape(entry):
    return (entry.fiscal_year, entry.number, entry.status, entry.journal.code, entry.event, entry.entry_date,
            entry.piece_ref, [(line.position, line.account.number, line.auxiliary.number if line.auxiliary else None,
                               line.debit, line.credit, line.lettering_code) for line in entry.lines])


def test_a_batch_posts_what_one_by_one_posts(books, other_organisation, members):
    services.ensure_ledger(other_organisation)
    batched = post_events(books, _events(members))
    alone = [post_event(other_organisation, **arguments) for arguments in _events(members)]
    assert [_shape(entry) for entry in batched] == [_shape(entry) for entry in alone]
    assert [entry.number for entry in batched] == list(range(1, len(batched) + 1))
    assert all(entry.status == "posted" for entry in batched)


def test_statements_per_posting_are_few_and_do_not_grow(books, members, count_queries):
    with posting_batch(books):
        post_events(books, _events(members[:2]))  # the books are looked up, the counter locked
        counts = []
        for n, member in enumerate(members[2:], start=2):
            post_event(books, **_fee(member, n))
            with count_queries() as queries:
                post_event(books, **_fee(member, n, "fee_paid"))
            counts.append(queries.count)
    assert counts == [FEE_PAID_IN_BATCH + _line_inserts()] * len(counts), queries.statements
    with count_queries() as queries:
        post_event(books, **_fee(members[0], 0, "fee_paid", source=posting_source("parties", members[0].id, "x")))
    assert queries.count == FEE_PAID_ALONE + _line_inserts(), queries.statements


def test_the_same_source_in_a_batch_is_the_same_entry_or_refused(books, members):
    with posting_batch(books):
        first = post_event(books, **_fee(members[0], 0))
        assert post_event(books, **_fee(members[0], 0)) is first
        with pytest.raises(AccountingError, match="déjà comptabilisée"):
            post_event(books, **_fee(members[0], 0, amount="40.00"))
        assert post_event(books, **_fee(members[1], 1)).number == 2


def test_a_period_closed_during_a_batch_is_refused(books, members):
    with posting_batch(books):
        post_event(books, **_fee(members[0], 0))
        services.close_period(books, "month", 2026, 3)
        with pytest.raises(AccountingError, match="clôturé"):
            post_event(books, **_fee(members[1], 1))
        assert post_event(books, **_fee(members[1], 1, day=date(2026, 4, 2))).number == 2


def test_a_savepoint_rolled_back_in_a_batch_gives_its_numbers_and_accounts_back(books, members):
    with posting_batch(books):
        post_event(books, **_fee(members[0], 0))
        savepoint = db.session.begin_nested()
        undone = post_event(books, **_fee(members[1], 1))
        assert undone.number == 2
        savepoint.rollback()
        again = post_event(books, **_fee(members[1], 1))  # its auxiliary account is made again
        third = post_event(books, **_fee(members[2], 2))
    assert (again.number, third.number) == (2, 3)
    assert again.lines[0].auxiliary.id is not None
    assert db.session.scalars(select(JournalEntry.number).where(JournalEntry.organisation_id == books.id)
                              .order_by(JournalEntry.number)).all() == [1, 2, 3]


def test_settings_changed_during_a_batch_are_used(books, members):
    with posting_batch(books):
        assert post_event(books, **_fee(members[0], 0)).lines[1].account.number == "756"
        services.update_posting_rule(books, "fee_due", debit_account="411", credit_account="706", journal="OD")
        assert post_event(books, **_fee(members[1], 1)).lines[1].account.number == "706"
        lines = [EntryLineSpec("6257", debit=Decimal("12.00")), EntryLineSpec("512", credit=Decimal("12.00"))]
        assert post_entry(books, "BQ", DAY, "R-1", "Réception", lines).number == 3
        services.update_account(services.get_account(books, "6257"), "Réceptions", active=False)
        with pytest.raises(AccountingError, match="désactivé"):
            post_entry(books, "BQ", DAY, "R-2", "Réception", lines)


def test_a_batch_ends_with_its_transaction(books, members):
    with posting_batch(books):
        post_event(books, **_fee(members[0], 0))
        db.session.commit()  # the counter's lock is released: the next posting takes it again
        assert post_event(books, **_fee(members[1], 1)).number == 2


def test_an_entry_with_many_parties_numbers_their_new_accounts_as_one_by_one(books, other_organisation, members):
    # Each member's 411 account takes his number (A0000nn); his 419 account, opened by an entry
    # with a line per member (the closing's reclassification of members in credit), takes the
    # next free suffix, as a posting with one member at a time gives it.
    services.ensure_ledger(other_organisation)
    for organisation in (books, other_organisation):
        for n, member in enumerate(members[:3]):
            post_event(organisation, **_fee(member, n))
    # A number typed by hand already holds the "-2" of the first member: his 419 takes "-3".
    for organisation in (books, other_organisation):
        aux = services.auxiliary_account_for(organisation, members[0], services.get_account(organisation, "411"))
        db.session.add(type(aux)(organisation_id=organisation.id, party_id=members[7].id,
                                 account_id=services.get_account(organisation, "467").id,
                                 number=f"{aux.number}-2", label="Saisi à la main"))
    db.session.flush()

    def reclassify_lines():
        return [spec for member in members[:3] for spec in (
            EntryLineSpec("411", debit=Decimal("10.00"), party=member),
            EntryLineSpec("419", credit=Decimal("10.00"), party=member))]

    together = post_entry(books, "OD", DAY, "CLOT", "Adhérents créditeurs", reclassify_lines())
    alone = [post_entry(other_organisation, "OD", DAY, "CLOT", "Adhérent créditeur", reclassify_lines()[2 * n:2 * n + 2])
             for n in range(3)]
    assert [line.auxiliary.number for line in together.lines if line.account.number == "419"] == \
        [entry.lines[1].auxiliary.number for entry in alone]
    assert together.lines[1].auxiliary.number.endswith("-3")
    assert together.lines[3].auxiliary.number.endswith("-2")
