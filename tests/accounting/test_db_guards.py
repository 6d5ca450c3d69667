"""The database itself refuses unbalanced or modified books, whatever the client (raw SQL)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backoffice.accounting import services
from backoffice.extensions import db


def _sql(statement, **params):
    return db.session.execute(text(statement), params)


def _refused(statement, match, **params):
    """Run ``statement`` in a savepoint and check the database refuses it with ``match``."""
    with pytest.raises(IntegrityError, match=match):
        with db.session.begin_nested():
            _sql(statement, **params)


@pytest.fixture
def ids(books):
    account = lambda number: services.get_account(books, number).id  # noqa: E731
    return dict(org=books.id, journal=services.get_journal(books, "OD").id, a6226=account("6226"),
                a512=account("512"))


def _draft(ids, number=None):
    result = _sql(
        "INSERT INTO accounting_entries (organisation_id, journal_id, fiscal_year, entry_date, piece_ref, piece_date,"
        " label, status, created_at, updated_at) VALUES (:org, :journal, 2026, :day, 'RAW', :day, 'Brut', 'draft',"
        " :now, :now) RETURNING id", org=ids["org"], journal=ids["journal"], day=date(2026, 5, 2),
        now=date(2026, 5, 2))
    return result.scalar_one()


def _amount(text):
    # pysqlite cannot bind a Decimal: a raw client passes the number as text there.
    return Decimal(text) if db.session.get_bind().dialect.name == "postgresql" else text


def _line(ids, entry_id, account, debit, credit, position=1, organisation=None):
    _sql("INSERT INTO accounting_lines (entry_id, organisation_id, position, account_id, debit, credit)"
         " VALUES (:entry, :org, :position, :account, :debit, :credit)",
         entry=entry_id, org=organisation or ids["org"], position=position, account=account,
         debit=_amount(debit), credit=_amount(credit))


def _post(entry_id, number=1):
    _sql("UPDATE accounting_entries SET status = 'posted', number = :number WHERE id = :id", id=entry_id,
         number=number)


def test_an_entry_cannot_be_inserted_posted(ids):
    _refused(
        "INSERT INTO accounting_entries (organisation_id, journal_id, fiscal_year, number, entry_date, piece_ref,"
        " piece_date, label, status, created_at, updated_at) VALUES (:org, :journal, 2026, 1, :day, 'RAW', :day,"
        " 'Brut', 'posted', :day, :day)", "brouillard", org=ids["org"], journal=ids["journal"], day=date(2026, 5, 2))


def test_an_unbalanced_entry_cannot_be_posted(ids):
    entry = _draft(ids)
    _line(ids, entry, ids["a6226"], "100.00", "0")
    _line(ids, entry, ids["a512"], "0", "99.99", position=2)
    _refused("UPDATE accounting_entries SET status = 'posted', number = 1 WHERE id = :id", "déséquilibrée", id=entry)


def test_a_single_line_entry_cannot_be_posted(ids):
    entry = _draft(ids)
    _line(ids, entry, ids["a6226"], "100.00", "0")
    _refused("UPDATE accounting_entries SET status = 'posted', number = 1 WHERE id = :id", "déséquilibrée", id=entry)


def test_amounts_summing_to_a_float_error_still_balance(ids):
    # 0.1 + 0.2 against 0.3: equal in decimal, not in binary floating point (SQLite stores REAL).
    entry = _draft(ids)
    _line(ids, entry, ids["a6226"], "0.10", "0")
    _line(ids, entry, ids["a6226"], "0.20", "0", position=2)
    _line(ids, entry, ids["a512"], "0", "0.30", position=3)
    _post(entry)
    assert _sql("SELECT status FROM accounting_entries WHERE id = :id", id=entry).scalar_one() == "posted"


@pytest.fixture
def posted(ids):
    entry = _draft(ids)
    _line(ids, entry, ids["a6226"], "100.00", "0")
    _line(ids, entry, ids["a512"], "0", "100.00", position=2)
    _post(entry)
    line = _sql("SELECT id FROM accounting_lines WHERE entry_id = :id ORDER BY position", id=entry).scalars().first()
    return entry, line


def test_a_posted_entry_is_frozen(ids, posted):
    entry, line = posted
    _refused("INSERT INTO accounting_lines (entry_id, organisation_id, position, account_id, debit, credit)"
             " VALUES (:entry, :org, 3, :account, 5, 0)", "comptabilisée", entry=entry, org=ids["org"],
             account=ids["a6226"])
    _refused("UPDATE accounting_lines SET debit = 200 WHERE id = :id", "seul le lettrage", id=line)
    _refused("UPDATE accounting_lines SET account_id = :account WHERE id = :id", "seul le lettrage", id=line,
             account=ids["a512"])
    _refused("DELETE FROM accounting_lines WHERE id = :id", "supprimée", id=line)
    _refused("DELETE FROM accounting_entries WHERE id = :id", "supprimée", id=entry)
    _refused("UPDATE accounting_entries SET label = 'Autre' WHERE id = :id", "ne peut plus être modifiée", id=entry)
    _refused("UPDATE accounting_entries SET entry_date = :day WHERE id = :id", "ne peut plus être modifiée",
             id=entry, day=date(2026, 6, 1))
    _refused("UPDATE accounting_entries SET status = 'draft' WHERE id = :id", "ne peut plus être modifiée", id=entry)


def test_lettering_and_validation_may_be_set_on_a_posted_entry(ids, posted):
    entry, line = posted
    _sql("UPDATE accounting_lines SET lettering_code = 'AA', lettering_date = :day WHERE id = :id", id=line,
         day=date(2026, 5, 3))
    _sql("UPDATE accounting_entries SET validated_on = :day WHERE id = :id", id=entry, day=date(2026, 5, 3))
    _refused("UPDATE accounting_entries SET validated_on = :day WHERE id = :id", "validée", id=entry,
             day=date(2026, 5, 4))
    _sql("UPDATE accounting_lines SET lettering_code = NULL, lettering_date = NULL WHERE id = :id", id=line)


@pytest.mark.parametrize("debit, credit", [("10.00", "10.00"), ("0", "0"), ("-10.00", "0")])
def test_a_line_is_a_debit_or_a_credit(ids, debit, credit):
    entry = _draft(ids)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            _line(ids, entry, ids["a6226"], debit, credit)


def test_a_line_cannot_use_another_organisations_account(ids, other_organisation):
    services.ensure_ledger(other_organisation)
    foreign = services.get_account(other_organisation, "6226").id
    entry = _draft(ids)
    with pytest.raises(IntegrityError, match="même organisation"):
        with db.session.begin_nested():
            _line(ids, entry, foreign, "10.00", "0")


def test_guards_can_be_suspended_to_empty_a_database(ids, posted):
    from backoffice.accounting import db_guards

    connection = db.session.connection()
    with db_guards.suspended(connection):
        _sql("DELETE FROM accounting_lines WHERE organisation_id = :org", org=ids["org"])
        _sql("DELETE FROM accounting_entries WHERE organisation_id = :org", org=ids["org"])
    assert _sql("SELECT count(*) FROM accounting_entries").scalar_one() == 0
    entry = _draft(ids)  # the guards are back
    _line(ids, entry, ids["a6226"], "10.00", "0")
    _refused("UPDATE accounting_entries SET status = 'posted', number = 1 WHERE id = :id", "déséquilibrée", id=entry)
