"""Opening balances (à-nouveaux): one rule per test, then the allocation of the result."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.accounting import opening, services
from backoffice.accounting.models import Account, JournalEntry, JournalLine
from backoffice.accounting.services import AccountingError, EntryLineSpec
from backoffice.extensions import db
from tests.accounting.conftest import sisa_2026_closed

D = Decimal


def _lines(entry):
    """``{(account, auxiliary party id or None): debit - credit}`` of an entry."""
    return {(line.account.number, line.auxiliary.party_id if line.auxiliary else None): line.debit - line.credit
            for line in entry.lines}


def _year_2026(books, member, other_member):
    """A CPTS's 2026: two fees called, one paid, a subsidy, rent, bank fees, a grant owed."""
    services.post_event(books, "fee_due", amount=D("50.00"), entry_date=date(2026, 1, 15), party=member,
                        piece_ref="ADH-1", label="Cotisation 2026 – Marie DUPONT")
    services.post_event(books, "fee_due", amount=D("80.00"), entry_date=date(2026, 2, 1), party=other_member,
                        piece_ref="ADH-2", label="Cotisation 2026 – Paul MARTIN")
    services.post_event(books, "fee_paid", amount=D("80.00"), entry_date=date(2026, 2, 10), party=other_member,
                        piece_ref="PAY-2", label="Règlement Paul MARTIN", payment_method="transfer")
    services.post_event(books, "subsidy_received", amount=D("12000.00"), entry_date=date(2026, 3, 1),
                        piece_ref="ARS-1", label="Subvention FIR 2026")
    services.post_entry(books, "BQ", date(2026, 4, 1), "LOY-4", "Loyer avril",
                        [EntryLineSpec("6132", debit=D("900.00")), EntryLineSpec("512", credit=D("900.00"))])
    services.post_event(books, "bank_fees", amount=D("12.30"), entry_date=date(2026, 5, 31), piece_ref="BQ-5",
                        label="Frais bancaires mai")
    services.post_event(books, "grant_committed", amount=D("1500.00"), entry_date=date(2026, 6, 1),
                        party=other_member, piece_ref="AIDE-1", label="Aide équipement – Paul MARTIN")


@pytest.fixture
def year_2026(books, member, other_member):
    _year_2026(books, member, other_member)
    return books


def test_the_an_carries_balance_sheet_accounts_and_the_surplus_to_120(year_2026, member, other_member):
    entry = opening.generate_opening(year_2026, 2027)
    assert entry.entry_date == date(2027, 1, 1) and entry.journal.code == "AN" and entry.fiscal_year == 2027
    assert entry.label == "À-nouveaux 2027 (provisoires)"
    assert _lines(entry) == {
        ("411", member.id): D("50.00"),                      # the unpaid fee, on Marie's own account
        ("467", other_member.id): D("-1500.00"),             # the grant still owed to Paul
        ("512", None): D("12000.00") + D("80.00") - D("900.00") - D("12.30"),
        ("120", None): -(D("50.00") + D("80.00") + D("12000.00") - D("900.00") - D("12.30") - D("1500.00")),
    }
    assert not any(number[0] in "67" for number, _ in _lines(entry))  # classes 6 and 7 start from zero
    assert entry.total == sum((line.credit for line in entry.lines), D("0"))


def test_a_deficit_goes_to_129(books):
    services.post_entry(books, "BQ", date(2026, 4, 1), "LOY-4", "Loyer", [
        EntryLineSpec("6132", debit=D("900.00")), EntryLineSpec("102", credit=D("900.00"))])
    entry = opening.generate_opening(books, 2027)
    assert _lines(entry) == {("102", None): D("-900.00"), ("129", None): D("900.00")}
    assert opening.opening_status(books, 2027).result == D("-900.00")


def test_member_accounts_are_carried_one_line_per_auxiliary(books, member, other_member):
    for party, amount in ((member, "50.00"), (other_member, "80.00"), (member, "30.00")):
        services.post_event(books, "fee_due", amount=D(amount), entry_date=date(2026, 1, 15), party=party,
                            piece_ref="ADH", label="Cotisation")
    # A member whose account is settled gets no line.
    settled = services.post_event(books, "fee_due", amount=D("10.00"), entry_date=date(2026, 1, 15),
                                  party=_third(), piece_ref="ADH", label="Cotisation")
    services.post_event(books, "fee_paid", amount=D("10.00"), entry_date=date(2026, 2, 1),
                        party=settled.lines[0].auxiliary.party, piece_ref="PAY", label="Règlement",
                        payment_method="cash")
    entry = opening.generate_opening(books, 2027)
    receivables = [(line.auxiliary.party_id, line.debit) for line in entry.lines if line.account.number == "411"]
    assert sorted(receivables) == sorted([(member.id, D("80.00")), (other_member.id, D("80.00"))])
    assert all(line.label.startswith("À-nouveau 2026 – ") for line in entry.lines if line.auxiliary)


def _third():
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(first_name="Inès", last_name="Roux")


def test_new_year_payments_are_lettered_against_the_an_line_never_the_old_items(year_2026, member):
    old_fee = db.session.scalar(select(JournalLine).join(JournalEntry).where(
        JournalEntry.piece_ref == "ADH-1", JournalLine.account.has(Account.number == "411")))
    entry = opening.generate_opening(year_2026, 2027)
    an_line = next(line for line in entry.lines if line.auxiliary and line.auxiliary.party_id == member.id)
    payment = services.post_event(year_2026, "fee_paid", amount=D("50.00"), entry_date=date(2027, 2, 3),
                                  party=member, piece_ref="PAY-9", label="Règlement 2026 en retard",
                                  payment_method="cheque")
    paid_line = next(line for line in payment.lines if line.auxiliary)
    assert an_line.lettering_code and an_line.lettering_code == paid_line.lettering_code
    assert old_fee.lettering_code is None       # the old item stays open in its own year
    # The automatic lettering of the whole account does not reach across the AN either.
    assert services.auto_letter(year_2026, an_line.auxiliary) == []


def test_without_an_lettering_still_joins_years(books, member):
    services.post_event(books, "fee_due", amount=D("50.00"), entry_date=date(2026, 12, 1), party=member,
                        piece_ref="ADH", label="Cotisation")
    payment = services.post_event(books, "fee_paid", amount=D("50.00"), entry_date=date(2027, 1, 5), party=member,
                                  piece_ref="PAY", label="Règlement", payment_method="transfer")
    assert next(line for line in payment.lines if line.auxiliary).lettering_code


def test_the_provisional_an_is_replaced_by_reversal_when_the_old_year_moves(year_2026, member):
    first = opening.generate_opening(year_2026, 2027)
    assert opening.generate_opening(year_2026, 2027) is first      # nothing changed: nothing posted
    payment = services.post_event(year_2026, "fee_paid", amount=D("50.00"), entry_date=date(2027, 1, 20),
                                  party=member, piece_ref="PAY-3", label="Règlement", payment_method="transfer")
    # A late 2026 entry (the December rent, booked in January): the AN no longer carries 2026.
    services.post_entry(year_2026, "BQ", date(2026, 12, 28), "LOY-12", "Loyer décembre",
                        [EntryLineSpec("6132", debit=D("900.00")), EntryLineSpec("512", credit=D("900.00"))])
    status = opening.opening_status(year_2026, 2027)
    assert status.entry is first and not status.up_to_date and status.label == "Provisoires, à régénérer"
    second = opening.generate_opening(year_2026, 2027)
    assert second is not first and second.label == "À-nouveaux 2027 (provisoires)"
    reversal = services.reversal_of(first)
    assert reversal is not None and reversal.entry_date == date(2027, 1, 1) and reversal.journal.code == "AN"
    assert db.session.get(JournalEntry, first.id) is first                     # never deleted
    assert _lines(second)[("512", None)] == _lines(first)[("512", None)] - D("900.00")
    assert _lines(second)[("120", None)] == _lines(first)[("120", None)] + D("900.00")
    assert opening.current_opening(year_2026, 2027) is second
    # The 2027 payment is lettered against the new AN line, the old one against its reversal.
    paid_line = next(line for line in payment.lines if line.auxiliary)
    new_line = next(line for line in second.lines if line.auxiliary and line.auxiliary.party_id == member.id)
    assert paid_line.lettering_code == new_line.lettering_code is not None
    old_line = next(line for line in first.lines if line.auxiliary and line.auxiliary.party_id == member.id)
    assert old_line.lettering_code == next(
        line for line in reversal.lines if line.auxiliary_id == old_line.auxiliary_id).lettering_code
    # Whatever was replaced, 2027 holds one opening's worth of balances.
    from backoffice.accounting import reporting

    trial = reporting.trial_balance(year_2026, date(2027, 1, 1), date(2027, 1, 1)).by_account()
    assert trial["512"].balance == _lines(second)[("512", None)]


def test_the_an_is_definitive_once_the_old_year_is_closed(year_2026):
    opening.generate_opening(year_2026, 2027)
    with pytest.raises(AccountingError, match="ne peuvent être que provisoires"):
        opening.generate_opening(year_2026, 2027, provisional=False)
    services.close_period(year_2026, "year", 2026)
    status = opening.opening_status(year_2026, 2027)
    assert status.definitive and status.label == "Définitifs"
    entry = opening.generate_opening(year_2026, 2027, provisional=False)
    assert entry is status.entry
    with pytest.raises(AccountingError, match="sont définitifs"):
        opening.generate_opening(year_2026, 2027, provisional=True)


def test_an_unbalanced_an_is_refused_and_nothing_written(books):
    # Volunteering valued on one side only (class 8 does not net to zero).
    services.post_entry(books, "OD", date(2026, 6, 1), "BEN", "Bénévolat", [
        EntryLineSpec("864", debit=D("300.00")), EntryLineSpec("512", credit=D("300.00"))])
    before = db.session.scalar(select(db.func.count()).select_from(JournalEntry))
    with pytest.raises(AccountingError, match=r"ne s'équilibrent pas.*300,00\s€"):
        opening.generate_opening(books, 2027)
    assert db.session.scalar(select(db.func.count()).select_from(JournalEntry)) == before


def test_nothing_to_carry_and_closed_year_are_refused(books):
    with pytest.raises(AccountingError, match="aucun solde à reporter"):
        opening.generate_opening(books, 2027)
    services.post_event(books, "bank_fees", amount=D("5.00"), entry_date=date(2026, 3, 1), piece_ref="F",
                        label="Frais")
    services.close_period(books, "year", 2026)
    services.close_period(books, "year", 2027)
    with pytest.raises(AccountingError, match="2027 est clôturé"):
        opening.generate_opening(books, 2027)


def test_a_year_without_an_starts_from_the_carried_balances(year_2026, member):
    """2027 got no AN: the AN of 2028 still carries 2026's balances (and results) through it."""
    services.post_event(year_2026, "fee_paid", amount=D("50.00"), entry_date=date(2027, 3, 1), party=member,
                        piece_ref="PAY", label="Règlement", payment_method="transfer")
    services.post_event(year_2026, "bank_fees", amount=D("10.00"), entry_date=date(2027, 3, 1), piece_ref="F",
                        label="Frais")
    entry = opening.generate_opening(year_2026, 2028)
    lines = _lines(entry)
    assert ("411", member.id) not in lines
    assert lines[("512", None)] == D("12000.00") + D("80.00") - D("900.00") - D("12.30") + D("50.00") - D("10.00")
    assert lines[("120", None)] == D("-9717.70") and lines[("129", None)] == D("10.00")  # each year's own result


def test_a_sisa_opens_too(sisa):
    from tests.factories import ProfessionalFactory

    associate = ProfessionalFactory(first_name="Anne", last_name="Morel")
    services.post_event(sisa, "aci_income", amount=D("30000.00"), entry_date=date(2026, 4, 1), piece_ref="ACI",
                        label="ACI 2026")
    services.post_event(sisa, "sisa_distribution", amount=D("20000.00"), entry_date=date(2026, 5, 1),
                        party=associate, piece_ref="REP", label="Répartition")
    entry = opening.generate_opening(sisa, 2027)
    assert _lines(entry) == {("4551", associate.id): D("-20000.00"), ("512", None): D("30000.00"),
                             ("120", None): D("-10000.00")}


# --------------------------------------------------------------------------------------------
# Affectation du résultat
# --------------------------------------------------------------------------------------------

@pytest.fixture
def closed_2026(year_2026):
    services.close_period(year_2026, "year", 2026)
    opening.generate_opening(year_2026, 2027)
    return year_2026


def test_the_surplus_is_allocated_to_report_a_nouveau_and_reserves(closed_2026):
    result = opening.opening_status(closed_2026, 2027).result
    assert result == D("9717.70")
    entry = opening.allocate_result(closed_2026, 2026, {"110": "717,70", "1068": D("9000.00")},
                                    decided_on=date(2027, 6, 12))
    assert entry.journal.code == "OD" and entry.entry_date == date(2027, 6, 12)
    assert _lines(entry) == {("120", None): result, ("110", None): D("-717.70"), ("1068", None): D("-9000.00")}
    assert opening.current_allocation(closed_2026, 2026) is entry
    assert opening.opening_status(closed_2026, 2027).allocation is entry
    with pytest.raises(AccountingError, match="déjà affecté"):
        opening.allocate_result(closed_2026, 2026, {"110": result}, decided_on=date(2027, 6, 12))
    # Once allocated, 120 is settled: the AN of 2028 carries the reserves, not the result.
    lines = _lines(opening.generate_opening(closed_2026, 2028))
    assert ("120", None) not in lines and lines[("1068", None)] == D("-9000.00")


def test_a_deficit_is_allocated_from_129(books):
    services.post_entry(books, "BQ", date(2026, 4, 1), "LOY", "Loyer", [
        EntryLineSpec("6132", debit=D("900.00")), EntryLineSpec("102", credit=D("900.00"))])
    services.close_period(books, "year", 2026)
    opening.generate_opening(books, 2027)
    entry = opening.allocate_result(books, 2026, {"119": "900"}, decided_on=date(2027, 5, 2))
    assert _lines(entry) == {("129", None): D("-900.00"), ("119", None): D("900.00")}


@pytest.mark.parametrize("allocations, message", [
    ({"110": "700.00"}, r"La répartition \(700,00\s€\) ne correspond pas au résultat de l'exercice 2026 : l'excédent est de 9\s717,70"),
    ({"110": "9717.70", "1068": "1.00"}, "ne correspond pas"),
    ({"512": "9717.70"}, "Le compte 512 ne reçoit pas de résultat"),
    ({"110": "-5"}, "montant affecté au compte 110"),
    ({}, r"La répartition \(0,00\s€\)"),
])
def test_an_allocation_that_does_not_sum_to_the_result_is_refused(closed_2026, allocations, message):
    before = db.session.scalar(select(db.func.count()).select_from(JournalEntry))
    with pytest.raises(AccountingError, match=message):
        opening.allocate_result(closed_2026, 2026, allocations, decided_on=date(2027, 6, 12))
    assert db.session.scalar(select(db.func.count()).select_from(JournalEntry)) == before


def test_an_allocation_waits_for_the_closing_and_the_definitive_an(year_2026):
    with pytest.raises(AccountingError, match="n'est pas clôturé"):
        opening.allocate_result(year_2026, 2026, {"110": "9717.70"}, decided_on=date(2027, 6, 12))
    services.close_period(year_2026, "year", 2026)     # posts the definitive AN of 2027
    an = opening.current_opening(year_2026, 2027)
    services.reverse_entry(an, entry_date=date(2027, 1, 1))   # reversed by hand: no AN any more
    with pytest.raises(AccountingError, match="ne sont pas définitifs"):
        opening.allocate_result(year_2026, 2026, {"110": "9717.70"}, decided_on=date(2027, 6, 12))
    opening.generate_opening(year_2026, 2027)
    with pytest.raises(AccountingError, match="après la fin de l'exercice 2026"):
        opening.allocate_result(year_2026, 2026, {"110": "9717.70"}, decided_on=date(2026, 12, 31))


def test_an_allocation_names_the_resolution_voted(closed_2026):
    from backoffice.assemblies.models import ResolutionStatus
    from tests.factories import AssemblyFactory, ResolutionFactory

    assembly = AssemblyFactory(organisation=closed_2026)
    resolution = ResolutionFactory(assembly=assembly, position=3, title="Affectation du résultat 2026")
    with pytest.raises(AccountingError, match="le vote n'est pas clos"):
        opening.allocate_result(closed_2026, 2026, {"110": "9717.70"}, decided_on=date(2027, 6, 12),
                                resolution=resolution)
    resolution = ResolutionFactory(assembly=assembly, position=3, title="Affectation du résultat 2026",
                                   status=ResolutionStatus.CLOSED)
    entry = opening.allocate_result(closed_2026, 2026, {"110": "9717.70"}, decided_on=date(2027, 6, 12),
                                    resolution=resolution)
    assert entry.piece_ref == f"AG {assembly.held_at:%d/%m/%Y} – résolution 3"
    assert "résolution 3" in entry.label


def test_the_result_is_split_over_several_lines(closed_2026):
    # The AG's resolution: 717,70 carried forward, 6 000 to reserves for projects (1063), the
    # rest to other reserves — one line per account, in any order; the same account twice adds up.
    entry = opening.allocate_result(closed_2026, 2026, [
        opening.AllocationLine("1068", "2 000,00"), opening.AllocationLine("110", "717,70"),
        opening.AllocationLine("1063", D("6000.00")), ("1068", "1000"), opening.AllocationLine("", "")],
        decided_on=date(2027, 6, 12))
    assert _lines(entry) == {("120", None): D("9717.70"), ("110", None): D("-717.70"),
                             ("1063", None): D("-6000.00"), ("1068", None): D("-3000.00")}
    assert entry.total == D("9717.70")


@pytest.mark.parametrize("lines, message", [
    ([("110", "717,70"), ("1068", "8 000,00")],
     r"La répartition \(8\s717,70\s€\) ne correspond pas au résultat de l'exercice 2026 : l'excédent est de "
     r"9\s717,70\s€ \(manque de 1\s000,00\s€\)\. Rien n'a été enregistré\."),
    ([("110", "717,71"), ("1068", "9 000,00")], r"\(excès de 0,01\s€\)"),
    ([("", "9717,70")], r"Choisissez le compte auquel affecter 9\s717,70"),
    ([("4551", "9717,70")], r"Le compte 4551 ne reçoit pas de résultat : affectez-le en réserves \(106…\) ou en "
                            r"report à nouveau \(110, 119\)\."),
    ([("1069", "9717,70")], "Le compte 1069 n'existe pas"),
    ([("110", "neuf mille")], "montant affecté au compte 110"),
])
def test_lines_that_do_not_sum_or_take_no_result_are_refused(closed_2026, lines, message):
    before = db.session.scalar(select(db.func.count()).select_from(JournalEntry))
    with pytest.raises(AccountingError, match=message):
        opening.allocate_result(closed_2026, 2026, lines, decided_on=date(2027, 6, 12))
    assert db.session.scalar(select(db.func.count()).select_from(JournalEntry)) == before
    assert opening.current_allocation(closed_2026, 2026) is None


def test_a_deactivated_reserve_account_is_refused(closed_2026):
    account = db.session.scalar(select(Account).where(Account.organisation_id == closed_2026.id,
                                                      Account.number == "1063"))
    account.active = False
    db.session.flush()
    with pytest.raises(AccountingError, match="Le compte 1063 .* est désactivé"):
        opening.allocate_result(closed_2026, 2026, [("1063", "9717,70")], decided_on=date(2027, 6, 12))
    assert "1063" not in dict(opening.allocation_accounts(closed_2026))


def test_the_accounts_offered_are_those_that_take_a_result(closed_2026, sisa):
    numbers = [number for number, _ in opening.allocation_accounts(closed_2026)]
    assert "110" in numbers and "119" in numbers and "1068" in numbers and "4551" not in numbers
    assert all(number.startswith(("106", "110", "119")) for number in numbers)
    sisa_numbers = [number for number, _ in opening.allocation_accounts(sisa)]
    assert "4551" in sisa_numbers and "1061" in sisa_numbers and "1062" not in sisa_numbers


def test_a_sisa_distributes_its_result_to_the_associates_by_their_shares(sisa):
    people = sisa_2026_closed(sisa, {"Anne Morel": "100", "Luc Garnier": "100", "Inès Roux": "100",
                               "Yves Le Goff": None})
    assert opening.opening_status(sisa, 2027).result == D("10000.00")
    entry = opening.allocate_result(sisa, 2026, [("1068", "1 000,00"), ("4551", "9 000,00")],
                                    decided_on=date(2027, 6, 12))
    lines = _lines(entry)
    # 9 000,00 by three equal shares, to the cent; Yves has no shares recorded and gets no line.
    assert {party: amount for (number, party), amount in lines.items() if number == "4551"} == {
        people["Anne Morel"].id: D("-3000.00"), people["Luc Garnier"].id: D("-3000.00"),
        people["Inès Roux"].id: D("-3000.00")}
    assert lines[("1068", None)] == D("-1000.00") and lines[("120", None)] == D("10000.00")
    labels = {line.label for line in entry.lines if line.account.number == "4551"}
    assert "Affectation du résultat 2026 – Inès ROUX" in labels or any("Inès" in label for label in labels)


def test_the_associates_share_goes_to_the_cent_by_allocate(sisa):
    people = sisa_2026_closed(sisa, {"Anne Morel": "1", "Luc Garnier": "1", "Inès Roux": "1"})
    entry = opening.allocate_result(sisa, 2026, [("4551", "10 000,00")], decided_on=date(2027, 6, 12))
    shares = {party: -amount for (number, party), amount in _lines(entry).items() if number == "4551"}
    # Equal remainders go by ascending key (the party ids): the first associate takes the cent.
    assert sorted(shares.values()) == [D("3333.33"), D("3333.33"), D("3333.34")]
    assert shares[min(party.id for party in people.values())] == D("3333.34")


def test_a_sisa_without_capital_shares_recorded_cannot_distribute(sisa):
    sisa_2026_closed(sisa, {"Anne Morel": None, "Luc Garnier": None})
    with pytest.raises(AccountingError, match="Aucun associé de l'exercice 2026 n'a de parts sociales"):
        opening.allocate_result(sisa, 2026, [("4551", "10000")], decided_on=date(2027, 6, 12))
    assert opening.current_allocation(sisa, 2026) is None


def test_missing_own_funds_accounts_are_added_to_older_books(closed_2026):
    account = db.session.scalar(select(Account).where(Account.organisation_id == closed_2026.id,
                                                      Account.number == "1062"))
    db.session.delete(account)   # books set up before the chart had 1062
    db.session.flush()
    entry = opening.allocate_result(closed_2026, 2026, {"1062": "9717.70"}, decided_on=date(2027, 6, 12))
    assert _lines(entry)[("1062", None)] == D("-9717.70")


# --------------------------------------------------------------------------------------------
# At the closing
# --------------------------------------------------------------------------------------------

def test_the_closing_replaces_the_provisional_an_by_the_definitive_one(year_2026):
    provisional = opening.generate_opening(year_2026, 2027)
    services.post_entry(year_2026, "BQ", date(2026, 12, 28), "LOY-12", "Loyer décembre",
                        [EntryLineSpec("6132", debit=D("900.00")), EntryLineSpec("512", credit=D("900.00"))])
    services.close_period(year_2026, "year", 2026)       # closing.close_fiscal_year
    definitive = opening.current_opening(year_2026, 2027)
    assert definitive is not provisional and definitive.label == "À-nouveaux 2027 (définitifs)"
    assert services.reversal_of(provisional) is not None
    assert _lines(definitive)[("512", None)] == _lines(provisional)[("512", None)] - D("900.00")
    assert opening.opening_status(year_2026, 2027).definitive


def test_the_closing_keeps_a_provisional_an_that_already_carries_the_year(year_2026):
    provisional = opening.generate_opening(year_2026, 2027)
    services.close_period(year_2026, "year", 2026)
    assert opening.current_opening(year_2026, 2027) is provisional and services.reversal_of(provisional) is None
    assert opening.opening_status(year_2026, 2027).label == "Définitifs"


def test_the_closing_posts_the_an_and_refuses_one_that_does_not_balance(books, year_2026):
    services.close_period(books, "year", 2026)
    assert opening.current_opening(books, 2027).label == "À-nouveaux 2027 (définitifs)"
    services.post_entry(books, "OD", date(2027, 6, 1), "BEN", "Bénévolat", [
        EntryLineSpec("864", debit=D("300.00")), EntryLineSpec("512", credit=D("300.00"))])
    with pytest.raises(AccountingError, match="ne s'équilibrent pas"):
        with db.session.begin_nested():   # what the request or job does: the closing is undone
            services.close_period(books, "year", 2027)
    assert not opening.year_is_closed(books, 2027)
