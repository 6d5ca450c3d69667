"""Closing a fiscal year: each check of the checklist, the refusals, the freeze (services and
database), the definitive numbering and the definitive FEC, reproducible byte for byte."""
import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from backoffice.accounting import closing, exporting, opening, services
from backoffice.accounting.models import ClosedPeriod, EntryStatus, ExportRecord, JournalEntry
from backoffice.accounting.services import AccountingError, EntryLineSpec
from backoffice.extensions import db
from tests.accounting.fec_reader import read_fec


def _check(organisation, key, year=2026):
    return next(check for check in closing.closing_checklist(organisation, year) if check.key == key)


def _fee(books, party, day, amount="50.00", paid=False, source=None):
    due = services.post_event(books, "fee_due", amount=Decimal(amount), entry_date=day, party=party,
                              piece_ref="ADH", label=f"Cotisation – {party.display_name}", source=source)
    if paid:
        services.post_event(books, "fee_paid", amount=Decimal(amount), entry_date=day, party=party, piece_ref="PAY",
                            label="Règlement", payment_method="transfer")
    return due


def _sql(statement, **params):
    return db.session.execute(text(statement), params)


def _refused(statement, match="Exercice clôturé", **params):
    with pytest.raises(IntegrityError, match=match):
        with db.session.begin_nested():
            _sql(statement, **params)


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# --- the checks ------------------------------------------------------------------------------

def test_an_empty_year_passes_every_check(books):
    checks = closing.closing_checklist(books, 2026)
    assert [c.key for c in checks] == ["previous_years", "drafts", "dates", "bank_lines", "lettering", "cheques"]
    assert all(c.ok and not c.refuses for c in checks)
    assert {c.key for c in checks if c.blocking} == {"previous_years", "drafts", "dates"}


def test_check_previous_years(books, member):
    _fee(books, member, date(2025, 3, 1))
    check = _check(books, "previous_years")
    assert check.refuses and check.count == 1 and "2025" in check.message
    assert (check.endpoint, check.args) == ("accounting.closing", {"year": 2025})
    closing.close_fiscal_year(books, 2025)
    assert _check(books, "previous_years").ok


def test_check_drafts(books):
    entry = JournalEntry(organisation_id=books.id, journal_id=services.get_journal(books, "OD").id,
                         fiscal_year=2026, entry_date=date(2026, 5, 2), piece_ref="BR", piece_date=date(2026, 5, 2),
                         label="Brouillard", status=EntryStatus.DRAFT.value)
    db.session.add(entry)
    db.session.flush()
    check = _check(books, "drafts")
    assert check.refuses and check.count == 1 and "1 écriture en brouillard" in check.message
    with pytest.raises(AccountingError, match="refusée : 1 écriture en brouillard.*Rien n'a été modifié"):
        closing.close_fiscal_year(books, 2026)
    assert not closing.is_year_closed(books, 2026)


def test_check_dates_outside_the_year(books, member):
    _fee(books, member, date(2026, 3, 1))
    assert _check(books, "dates").ok
    books.fiscal_year_start_month = 7  # the entry of March 2026 is now in the year 2025-2026
    check = _check(books, "dates")
    assert check.refuses and check.count == 1 and "hors des bornes" in check.message


def test_check_unreconciled_bank_lines(books):
    from backoffice.banking import booking
    from tests.factories import BankAccountFactory, BankStatementLineFactory

    account = BankAccountFactory(organisation=books, ledger_account="512", journal_code="BQ")
    line = BankStatementLineFactory(statement__bank_account=account, booked_on=date(2026, 12, 30),
                                    amount=Decimal("-12.40"), label="FRAIS TENUE DE COMPTE")
    BankStatementLineFactory(statement=line.statement, booked_on=date(2027, 1, 2))  # next year
    booked = BankStatementLineFactory(statement=line.statement, booked_on=date(2026, 6, 1),
                                      amount=Decimal("-8.90"), label="FRAIS")
    booking.book_line(booked, "6226")
    check = _check(books, "bank_lines")
    assert (check.count, check.blocking) == (1, False) and "1 ligne de relevé bancaire" in check.message
    assert (check.endpoint, check.args) == ("banking.reconciliation_page", {"account_id": account.id})


def test_check_unlettered_member_lines(books, member, other_member):
    _fee(books, member, date(2026, 2, 1), paid=True)        # lettered with its payment
    _fee(books, other_member, date(2026, 11, 1))            # still due
    services.post_event(books, "grant_committed", amount=Decimal("850.00"), entry_date=date(2026, 4, 2),
                        party=member, piece_ref="CONV", label="Convention")  # 467, not a member line
    check = _check(books, "lettering")
    assert (check.count, check.blocking) == (1, False) and "411" in check.message


def test_check_undeposited_cheques(books):
    from backoffice.membership.models import PaymentMethod
    from tests.factories import ChequeDepositFactory, MembershipPaymentFactory

    couple = MembershipPaymentFactory(membership__period__organisation=books, method=PaymentMethod.CHEQUE,
                                      paid_on=date(2026, 12, 28), reference="1234567", cheque_bank="CIC")
    MembershipPaymentFactory(membership__period=couple.membership.period, method=PaymentMethod.CHEQUE,
                             paid_on=date(2026, 12, 28), reference="1234 567", cheque_bank="CIC")  # the same cheque
    MembershipPaymentFactory(membership__period__organisation=books, method=PaymentMethod.CHEQUE,
                             paid_on=date(2027, 1, 4))  # received after the year
    deposit = ChequeDepositFactory(organisation=books)
    MembershipPaymentFactory(membership__period__organisation=books, method=PaymentMethod.CHEQUE,
                             paid_on=date(2026, 12, 1), cheque_deposit=deposit)
    MembershipPaymentFactory(membership__period__organisation=books, method=PaymentMethod.TRANSFER)
    check = _check(books, "cheques")
    assert (check.count, check.blocking) == (1, False) and "1 chèque reçu non remis" in check.message


def test_warnings_do_not_refuse_the_closing(books, other_member):
    _fee(books, other_member, date(2026, 11, 1))
    assert _check(books, "lettering").count == 1
    assert closing.close_fiscal_year(books, 2026).entry_count == 1


# --- the closing -----------------------------------------------------------------------------

@pytest.fixture
def back_dated_year(books, member, other_member):
    """Entries posted out of date order: numbers 1, 2, 3 dated 10 April, 2 February, 20 June."""
    _fee(books, member, date(2026, 4, 10), paid=False)
    services.post_entry(books, "OD", date(2026, 2, 2), "FAC-1", "Honoraires « comptable » – 2025",
                        [EntryLineSpec("6226", debit=Decimal("600.00")), EntryLineSpec("512", credit=Decimal("600.00"))])
    _fee(books, other_member, date(2026, 6, 20), paid=False)
    services.post_event(books, "bank_fees", amount=Decimal("1.00"), entry_date=date(2027, 1, 5), piece_ref="X",
                        label="Frais 2027")
    return books


def test_closing_numbers_in_date_order_and_validates(back_dated_year):
    period = closing.close_fiscal_year(back_dated_year, 2026)
    assert (period.kind, period.fiscal_year, period.entry_count) == ("year", 2026, 3)
    assert len(period.fec_sha256) == 64 and period.labels["accounts"]["6226"]
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.fiscal_year == 2026)
                                 .order_by(JournalEntry.final_number)).all()
    assert [(e.final_number, e.number, e.entry_date) for e in entries] == [
        (1, 2, date(2026, 2, 2)), (2, 1, date(2026, 4, 10)), (3, 3, date(2026, 6, 20))]
    assert all(e.validated_on == date.today() for e in entries)
    next_year = db.session.scalar(select(JournalEntry).where(JournalEntry.fiscal_year == 2027))
    assert next_year.final_number is None and next_year.validated_on is None
    with pytest.raises(AccountingError, match="déjà clôturé"):
        closing.close_fiscal_year(back_dated_year, 2026)


def test_nothing_can_be_posted_in_a_closed_year(back_dated_year, member):
    closing.close_fiscal_year(back_dated_year, 2026)
    with pytest.raises(AccountingError, match="L'exercice du 01/01/2026 au 31/12/2026 est clôturé"):
        _fee(back_dated_year, member, date(2026, 12, 31))
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.fiscal_year == 2026))
    with pytest.raises(AccountingError, match="est clôturé"):
        services.reverse_entry(entry, entry_date=date(2026, 12, 31))
    assert services.reverse_entry(entry, entry_date=date(2027, 1, 2)).fiscal_year == 2027
    assert services.validate_entries(back_dated_year, date(2026, 1, 1), date(2026, 12, 31)) == 0


def test_the_database_refuses_what_touches_a_closed_year(back_dated_year):
    closing.close_fiscal_year(back_dated_year, 2026)
    org = back_dated_year.id
    journal = services.get_journal(back_dated_year, "OD").id
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.fiscal_year == 2026))
    line = entry.lines[0]
    insert = ("INSERT INTO accounting_entries (organisation_id, journal_id, fiscal_year, entry_date, piece_ref,"
              " piece_date, label, status, created_at, updated_at) VALUES (:org, :journal, 2026, :day, 'RAW', :day,"
              " 'Brut', 'draft', :day, :day)")
    _refused(insert, org=org, journal=journal, day=date(2026, 12, 31))
    _refused("UPDATE accounting_lines SET lettering_code = 'ZZ', lettering_date = :day WHERE id = :id",
             id=line.id, day=date(2026, 12, 31))
    _refused("UPDATE accounting_entries SET entry_date = :day WHERE id = :id", id=entry.id, day=date(2027, 1, 2))
    _refused("DELETE FROM accounting_lines WHERE id = :id", id=line.id)
    _refused("INSERT INTO accounting_lines (entry_id, organisation_id, position, account_id, debit, credit)"
             " VALUES (:entry, :org, 9, :account, 1, 0)", entry=entry.id, org=org, account=line.account_id)
    _refused("DELETE FROM accounting_closed_periods WHERE organisation_id = :org", "Clôture d'exercice définitive",
             org=org)
    _refused("UPDATE accounting_closed_periods SET end_date = :day WHERE organisation_id = :org",
             "Clôture d'exercice définitive", org=org, day=date(2026, 6, 30))
    # The next year is open: a raw insert there is only asked to be a draft.
    _sql(insert, org=org, journal=journal, day=date(2027, 1, 2))


def test_the_database_refuses_a_raw_insert_in_a_year_closed_by_hand(books):
    """The trigger reads the closed periods, whoever wrote them."""
    from tests.factories import ClosedPeriodFactory

    ClosedPeriodFactory(organisation=books, kind="year", start_date=date(2024, 1, 1), end_date=date(2024, 12, 31))
    _refused("INSERT INTO accounting_entries (organisation_id, journal_id, fiscal_year, entry_date, piece_ref,"
             " piece_date, label, status, created_at, updated_at) VALUES (:org, :journal, 2024, :day, 'RAW', :day,"
             " 'Brut', 'draft', :day, :day)", org=books.id, journal=services.get_journal(books, "OD").id,
             day=date(2024, 6, 1))


def test_payments_after_the_closing_do_not_letter_closed_lines(books, member):
    due = _fee(books, member, date(2026, 11, 1))  # due at the closing
    closing.close_fiscal_year(books, 2026)
    payment = services.post_event(books, "fee_paid", amount=Decimal("50.00"), entry_date=date(2027, 1, 10),
                                  party=member, piece_ref="PAY", label="Règlement", payment_method="transfer")
    assert due.lines[0].lettering_code is None        # the closed year's item stays open in its year
    # The payment is lettered against the definitive AN line that carries it into 2027.
    an_line = next(line for line in opening.current_opening(books, 2027).lines if line.auxiliary_id)
    paid = next(line for line in payment.lines if line.auxiliary_id)
    assert paid.lettering_code is not None and paid.lettering_code == an_line.lettering_code


def test_lettering_date_is_the_latest_of_the_lettered_lines(books, member):
    services.post_event(books, "fee_paid", amount=Decimal("50.00"), entry_date=date(2026, 3, 20), party=member,
                        piece_ref="PAY", label="Règlement d'avance", payment_method="transfer")
    due = _fee(books, member, date(2026, 2, 1))  # posted after, dated before
    assert due.lines[0].lettering_code is not None
    assert due.lines[0].lettering_date == date(2026, 3, 20)


# --- the definitive FEC ----------------------------------------------------------------------

def test_the_fec_of_a_closed_year_is_definitive_and_reproducible(back_dated_year, out):
    period = closing.close_fiscal_year(back_dated_year, 2026)
    first = exporting.export_to_path(back_dated_year, 2026, "fec", out / "a.txt")
    # Renaming an account or a journal after the closing changes nothing in the closed year's FEC.
    services.update_account(services.get_account(back_dated_year, "6226"), "Honoraires renommés")
    services.update_journal(services.get_journal(back_dated_year, "OD"), "Journal renommé", True)
    second = exporting.export_to_path(back_dated_year, 2026, "fec", out / "b.txt")
    assert (out / "a.txt").read_bytes() == (out / "b.txt").read_bytes()
    assert first.sha256 == second.sha256 == period.fec_sha256
    assert first.sha256 == hashlib.sha256((out / "a.txt").read_bytes()).hexdigest()
    assert first.definitive and first.entries_validated == 0 and "définitif" in first.message
    frame = read_fec(out / "a.txt")
    assert frame["EcritureNum"].drop_duplicates().tolist() == ["1", "2", "3"]
    assert frame["EcritureDate"].drop_duplicates().tolist() == ["20260202", "20260410", "20260620"]
    assert "Honoraires renommés" not in set(frame["CompteLib"])
    assert set(frame["ValidDate"]) == {date.today().strftime("%Y%m%d")}
    notice = (out / "a_notice.txt").read_text(encoding="utf-8")
    assert "FEC DÉFINITIF" in notice and "Exercice clôturé le" in notice
    for expected in ("Journaux :", "OD", "Plan comptable des associations", "A000", "Validation et clôture",
                     "Maillage version 0.1.0", "heure de Paris"):
        assert expected in notice, expected
    # Latin-9: the same content, the typographic dash and quotes mapped.
    latin = exporting.export_to_path(back_dated_year, 2026, "fec", out / "c.txt", encoding="iso-8859-15")
    assert latin.definitive
    assert "Honoraires « comptable » - 2025" in (out / "c.txt").read_bytes().decode("iso-8859-15")


def test_the_fec_of_an_open_year_is_provisional(back_dated_year, out):
    record = exporting.export_to_path(back_dated_year, 2026, "fec", out)
    assert not record.definitive and record.status_label == "provisoire"
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.validated_on.is_not(None))) == 0
    notice = exporting.absolute(record.notice_path).read_text(encoding="utf-8")
    assert "FEC PROVISOIRE" in notice
    assert db.session.scalar(select(func.count()).select_from(ExportRecord)) == 1
    assert db.session.scalar(select(func.count()).select_from(ClosedPeriod)) == 0
