"""Posting: the rules of each event, the errors, numbering, idempotency and reversals."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.accounting import services
from backoffice.accounting.models import JournalEntry, JournalLine
from backoffice.accounting.services import AccountingError, EntryLineSpec, post_entry, post_event, reverse_entry
from backoffice.models import ZERO

DAY = date(2026, 3, 14)


def _shape(entry):
    """``(journal, [(account, side, amount, has party)])`` of an entry."""
    return entry.journal.code, [
        (line.account.number, "D" if line.debit else "C", line.amount, line.auxiliary is not None)
        for line in entry.lines
    ]


def _entry_count(organisation):
    return db_scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.organisation_id == organisation.id))


def db_scalar(stmt):
    from backoffice.extensions import db

    return db.session.scalar(stmt)


CPTS_RULES = [
    ("fee_due", None, "OD", "411", "756", "debit"),
    ("fee_paid", "transfer", "BQ", "512", "411", "credit"),
    ("fee_paid", "card", "BQ", "512", "411", "credit"),
    ("fee_paid", "direct_debit", "BQ", "512", "411", "credit"),
    ("fee_paid", "helloasso", "BQ", "517", "411", "credit"),
    ("fee_paid", "cheque", "BQ", "5112", "411", "credit"),
    ("fee_paid", "cash", "CA", "530", "411", "credit"),
    ("fee_refund", "transfer", "BQ", "411", "512", "debit"),
    ("fee_refund", "cheque", "BQ", "411", "5112", "debit"),
    ("fee_refund", "cash", "CA", "411", "530", "debit"),
    ("cheques_deposited", None, "BQ", "512", "5112", None),
    ("grant_committed", None, "OD", "6571", "467", "credit"),
    ("grant_paid", None, "BQ", "467", "512", "debit"),
    ("subsidy_received", None, "BQ", "512", "741", None),
    ("aci_income", None, "BQ", "512", "706", None),
    ("bank_fees", None, "BQ", "627", "512", None),
    ("bank_fees", "cash", "CA", "627", "530", None),
    ("device_purchased", None, "OD", "2154", "404", "credit"),
    ("device_paid", None, "BQ", "404", "512", "debit"),
    ("device_depreciation", None, "OD", "6811", "28154", None),
    ("device_disposed", None, "OD", "675", "2154", None),
]

SISA_RULES = [
    ("aci_income", None, "BQ", "512", "7061", None),
    ("sisa_distribution", None, "OD", "62261", "4551", "credit"),
    ("sisa_distribution_paid", "transfer", "BQ", "4551", "512", "debit"),
    ("fee_due", None, "OD", "411", "706", "debit"),
    ("subsidy_received", None, "BQ", "512", "741", None),
    ("cheques_deposited", None, "BQ", "512", "5112", None),
    ("device_purchased", None, "OD", "2154", "404", "credit"),
    ("device_depreciation", None, "OD", "6811", "28154", None),
    ("device_disposed", None, "OD", "675", "2154", None),
]


def _post_rule(organisation, event, method, party_side, party):
    return post_event(organisation, event, amount=Decimal("123.45"), entry_date=DAY,
                      party=party if party_side else None, piece_ref="P-1", label=f"Test {event}",
                      payment_method=method)


@pytest.mark.parametrize("event, method, journal, debit, credit, party_side", CPTS_RULES)
def test_default_rules_of_an_association(books, member, event, method, journal, debit, credit, party_side):
    entry = _post_rule(books, event, method, party_side, member)
    assert _shape(entry) == (journal, [
        (debit, "D", Decimal("123.45"), party_side == "debit"),
        (credit, "C", Decimal("123.45"), party_side == "credit"),
    ])
    assert entry.status == "posted" and entry.event == event and entry.number == 1
    if party_side:
        aux = next(line.auxiliary for line in entry.lines if line.auxiliary)
        assert aux.party_id == member.id and aux.label == "Marie DUPONT"


@pytest.mark.parametrize("event, method, journal, debit, credit, party_side", SISA_RULES)
def test_default_rules_of_a_sisa(sisa, member, event, method, journal, debit, credit, party_side):
    entry = _post_rule(sisa, event, method, party_side, member)
    assert _shape(entry) == (journal, [
        (debit, "D", Decimal("123.45"), party_side == "debit"),
        (credit, "C", Decimal("123.45"), party_side == "credit"),
    ])


def test_auxiliary_account_numbers_are_per_party_and_collective_account(books, member, other_member):
    due = post_event(books, "fee_due", amount=Decimal("50.00"), entry_date=DAY, party=member, piece_ref="A",
                     label="Cotisation")
    other = post_event(books, "fee_due", amount=Decimal("30.00"), entry_date=DAY, party=other_member,
                       piece_ref="B", label="Cotisation")
    grant = post_event(books, "grant_committed", amount=Decimal("800.00"), entry_date=DAY, party=member,
                       piece_ref="C", label="Dermatoscope")
    aux_411 = due.lines[0].auxiliary
    assert aux_411.number == f"A{member.id:06d}"
    assert other.lines[0].auxiliary.number == f"A{other_member.id:06d}"
    assert grant.lines[1].auxiliary.number == f"T{member.id:06d}"
    again = post_event(books, "fee_due", amount=Decimal("10.00"), entry_date=DAY, party=member, piece_ref="D",
                       label="Complément")
    assert again.lines[0].auxiliary.id == aux_411.id


@pytest.mark.parametrize("amount, message", [
    (Decimal("0.00"), "doit être supérieur à zéro"),
    (Decimal("-5.00"), "doit être positif"),
    (Decimal("1.005"), "au plus deux décimales"),
    (1.5, "virgule flottante"),
    (None, "obligatoire"),
])
def test_bad_amounts_are_refused_and_nothing_is_written(books, member, amount, message):
    with pytest.raises(AccountingError, match=message):
        post_event(books, "fee_due", amount=amount, entry_date=DAY, party=member, piece_ref="X", label="X")
    assert _entry_count(books) == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(event="fee_cancelled"), "Événement comptable inconnu"),
    (dict(event="fee_due", party=None), "tiers .* est obligatoire"),
    (dict(event="bank_fees", party="member"), "ne concerne pas un tiers"),
    (dict(event="fee_paid", payment_method=None), "moyen de paiement est obligatoire"),
    (dict(event="fee_paid", payment_method="bitcoin"), "Moyen de paiement inconnu"),
    (dict(event="fee_due", piece_ref=" "), "référence de la pièce est obligatoire"),
    (dict(event="fee_due", label=""), "libellé est obligatoire"),
])
def test_bad_events_are_refused(books, member, kwargs, message):
    values = dict(amount=Decimal("10.00"), entry_date=DAY, party=member, piece_ref="X", label="X")
    event = kwargs.pop("event")
    values.update(kwargs)
    if values.get("party") == "member":
        values["party"] = member
    with pytest.raises(AccountingError, match=message):
        post_event(books, event, **values)
    assert _entry_count(books) == 0


def _lines(*specs):
    return [EntryLineSpec(account, debit=Decimal(debit), credit=Decimal(credit), party=party)
            for account, debit, credit, party in specs]


def test_manual_entry(books, member):
    entry = post_entry(books, journal="OD", entry_date=DAY, piece_ref="OD-1", label="Reclassement",
                       lines=_lines(("6226", "120.00", "0", None), ("6064", "30.00", "0", None),
                                    ("411", "0", "150.00", member)))
    assert entry.number == 1 and entry.journal.code == "OD"
    assert [(line.account.number, line.debit, line.credit) for line in entry.lines] == [
        ("6226", Decimal("120.00"), ZERO), ("6064", Decimal("30.00"), ZERO), ("411", ZERO, Decimal("150.00"))]
    assert entry.lines[2].auxiliary.party_id == member.id


@pytest.mark.parametrize("specs, message", [
    ((("6226", "100.00", "0"), ("512", "0", "90.00")), "Écriture déséquilibrée .*écart 10,00"),
    ((("6226", "100.00", "0"), ("999", "0", "100.00")), "Le compte 999 n'existe pas"),
    ((("6226", "100.00", "0"),), "au moins deux lignes"),
    ((("6226", "100.00", "100.00"), ("512", "0", "0")), "soit un débit, soit un crédit"),
    ((("6226", "0", "0"), ("512", "0", "0")), "soit un débit, soit un crédit, non nul"),
    ((("6226", "-10.00", "0"), ("512", "0", "-10.00")), "Ligne 1 : le débit doit être positif"),
])
def test_bad_manual_entries_are_refused_and_nothing_is_written(books, specs, message):
    with pytest.raises(AccountingError, match=message):
        post_entry(books, journal="OD", entry_date=DAY, piece_ref="OD-1", label="Essai",
                   lines=_lines(*[(*spec, None) for spec in specs]))
    assert _entry_count(books) == 0
    assert db_scalar(select(func.count()).select_from(JournalLine)) == 0


def test_parties_only_on_collective_accounts(books, member):
    with pytest.raises(AccountingError, match="compte 411 est un compte collectif"):
        post_entry(books, "OD", DAY, "X", "X", _lines(("411", "5.00", "0", None), ("756", "0", "5.00", None)))
    with pytest.raises(AccountingError, match="756 n'est pas un compte de tiers"):
        post_entry(books, "OD", DAY, "X", "X", _lines(("411", "5.00", "0", member), ("756", "0", "5.00", member)))


def test_unknown_journal_and_inactive_account(books):
    with pytest.raises(AccountingError, match="journal ZZ n'existe pas"):
        post_entry(books, "ZZ", DAY, "X", "X", _lines(("627", "5.00", "0", None), ("512", "0", "5.00", None)))
    services.update_account(services.get_account(books, "6064"), "Fournitures administratives", active=False)
    with pytest.raises(AccountingError, match="6064 .* est désactivé"):
        post_entry(books, "OD", DAY, "X", "X", _lines(("6064", "5.00", "0", None), ("512", "0", "5.00", None)))


@pytest.mark.parametrize("kind", ["month", "year"])
def test_no_entry_in_a_closed_period(books, member, kind):
    services.close_period(books, kind, 2026, 3 if kind == "month" else None)
    with pytest.raises(AccountingError, match="clôturé"):
        post_event(books, "fee_due", amount=Decimal("50.00"), entry_date=DAY, party=member, piece_ref="X",
                   label="X")
    assert _entry_count(books) == 0
    if kind == "month":  # April is still open
        assert post_event(books, "fee_due", amount=Decimal("50.00"), entry_date=date(2026, 4, 1), party=member,
                          piece_ref="X", label="X").number == 1


def test_numbering_is_per_organisation_and_fiscal_year(books, other_organisation, member):
    other_organisation.fiscal_year_start_month = 7
    services.ensure_ledger(other_organisation)
    numbers = []
    for day in (date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 2), date(2026, 5, 1)):
        entry = post_event(other_organisation, "bank_fees", amount=Decimal("1.00"), entry_date=day,
                           piece_ref="F", label="Frais")
        numbers.append((entry.fiscal_year, entry.number))
    assert numbers == [(2025, 1), (2026, 1), (2026, 2), (2025, 2)]
    assert post_event(books, "bank_fees", amount=Decimal("1.00"), entry_date=DAY, piece_ref="F",
                      label="Frais").number == 1
    assert [e.reference for e in db_scalar_list(other_organisation)] == [
        "2025-00001", "2025-00002", "2026-00001", "2026-00002"]


def db_scalar_list(organisation):
    from backoffice.extensions import db

    return list(db.session.scalars(select(JournalEntry).where(JournalEntry.organisation_id == organisation.id)
                                   .order_by(JournalEntry.fiscal_year, JournalEntry.number)))


def test_a_failed_posting_does_not_use_a_number(books, member):
    post_event(books, "bank_fees", amount=Decimal("1.00"), entry_date=DAY, piece_ref="F", label="Frais")
    with pytest.raises(AccountingError):
        post_entry(books, "OD", DAY, "X", "X", _lines(("627", "5.00", "0", None), ("512", "0", "4.00", None)))
    assert post_event(books, "bank_fees", amount=Decimal("1.00"), entry_date=DAY, piece_ref="F",
                      label="Frais").number == 2


def test_same_source_posts_once(books, member, post_fee):
    first = post_fee(source="membership:42")
    again = post_fee(source="membership:42")
    assert again.id == first.id
    assert _entry_count(books) == 1
    with pytest.raises(AccountingError, match="déjà comptabilisée .* d'autres montants"):
        post_fee(amount="30.00", source="membership:42")
    reverse_entry(first)
    with pytest.raises(AccountingError, match="puis contre-passée"):
        post_fee(source="membership:42")
    assert post_fee(source="membership:42:2").number == 3


def test_same_source_for_manual_entries(books):
    lines = _lines(("627", "5.00", "0", None), ("512", "0", "5.00", None))
    first = post_entry(books, "BQ", DAY, "X", "Frais", lines, source="bank:1")
    assert post_entry(books, "BQ", DAY, "X", "Frais", lines, source="bank:1").id == first.id
    with pytest.raises(AccountingError, match="d'autres montants"):
        post_entry(books, "OD", DAY, "X", "Frais", lines, source="bank:1")


def test_reversal_swaps_lines_and_letters_them(books, member, post_fee):
    due = post_fee()
    reversal = reverse_entry(due)
    assert reversal.reversal_of_id == due.id and reversal.number == 2
    assert reversal.journal_id == due.journal_id and reversal.entry_date == due.entry_date
    assert reversal.piece_ref == due.piece_ref
    assert reversal.label.startswith("Contre-passation 2026-00001")
    assert [(line.account.number, line.debit, line.credit, line.auxiliary_id) for line in reversal.lines] == [
        (line.account.number, line.credit, line.debit, line.auxiliary_id) for line in due.lines]
    assert due.lines[0].lettering_code == reversal.lines[0].lettering_code == "AA"
    assert due.lines[1].lettering_code is None  # 756 has no auxiliary account
    with pytest.raises(AccountingError, match="déjà été contre-passée"):
        reverse_entry(due)
    with pytest.raises(AccountingError, match="elle-même une contre-passation"):
        reverse_entry(reversal)


def test_reversal_of_an_entry_of_a_closed_period(books, member, post_fee):
    due = post_fee(day=date(2026, 1, 15))
    services.close_period(books, "month", 2026, 1)
    assert due.is_locked
    with pytest.raises(AccountingError, match="clôturée"):
        reverse_entry(due, entry_date=date(2026, 1, 31))
    reversal = reverse_entry(due, entry_date=date(2026, 2, 1))
    assert reversal.entry_date == date(2026, 2, 1)
    assert reverse_entry(post_fee(day=date(2026, 2, 3))).entry_date == date(2026, 2, 3)


def test_a_posted_entry_cannot_be_changed_through_the_orm(books, member, post_fee):
    from backoffice.extensions import db

    due = post_fee()
    due.label = "Autre libellé"
    with pytest.raises(AccountingError, match="comptabilisée : elle ne peut plus être modifiée"):
        db.session.flush()
    db.session.rollback()


def test_a_line_of_a_posted_entry_cannot_be_changed_through_the_orm(books, member, post_fee):
    from backoffice.extensions import db

    due = post_fee()
    due.lines[0].debit = Decimal("60.00")
    with pytest.raises(AccountingError, match="ses lignes ne peuvent plus changer"):
        db.session.flush()
    db.session.rollback()


def test_a_validated_entry_cannot_be_changed(books, member, post_fee):
    from backoffice.extensions import db

    due = post_fee()
    services.close_period(books, "year", 2026)
    db.session.refresh(due)
    assert due.validated_on == date.today()
    due.piece_ref = "Autre"
    with pytest.raises(AccountingError, match="comptabilisée et validée"):
        db.session.flush()
    db.session.rollback()


def test_postings_are_in_the_audit_trail(books, member, post_fee):
    from backoffice.audit.models import AuditEntry

    due = post_fee()
    rows = {(row.table_name, row.action) for row in db_list(select(AuditEntry).where(
        AuditEntry.organisation_id == books.id, AuditEntry.table_name.in_(("accounting_entries", "accounting_lines"))))}
    assert rows == {("accounting_entries", "create"), ("accounting_entries", "update"), ("accounting_lines", "create")}
    update = db_list(select(AuditEntry).where(AuditEntry.table_name == "accounting_entries",
                                              AuditEntry.action == "update"))[0]
    assert update.row_id == due.id and update.after["status"] == "posted" and update.after["number"] == 1


def db_list(stmt):
    from backoffice.extensions import db

    return list(db.session.scalars(stmt))


def test_the_lettering_a_posting_makes_is_in_the_audit_trail(books, member, post_fee):
    # The codes a posting letters are written in one statement, not by the ORM's flush: the
    # audit trail still gets one row per lettered line, as the flush would record it.
    from backoffice.audit.models import AuditEntry

    due, payment = post_fee(paid=True)
    lettered = [line for line in due.lines + payment.lines if line.lettering_code]
    assert len(lettered) == 2 and lettered[0].lettering_code == lettered[1].lettering_code == "AA"
    rows = db_list(select(AuditEntry).where(AuditEntry.table_name == "accounting_lines",
                                            AuditEntry.action == "update").order_by(AuditEntry.row_id))
    assert [(row.row_id, row.before, row.after) for row in rows] == [
        (line.id, {"lettering_code": None, "lettering_date": None},
         {"lettering_code": "AA", "lettering_date": "2026-01-15"}) for line in sorted(lettered, key=lambda l: l.id)]
    assert rows[0].summary == str(lettered[0]) and rows[0].organisation_id == books.id
    # What the database holds is what the objects say (no stale value left in the session).
    from backoffice.extensions import db as database

    database.session.expire_all()
    assert {line.lettering_code for line in lettered} == {"AA"}
