"""Bank reconciliation of a real-looking Crédit Mutuel statement (March 2026, cp1252, account
details above the header, debit and credit columns, French decimals, « Nouveau solde » line)
against the books of the CPTS: automatic matching, ambiguity left alone, matching by hand,
booking from the statement with a rule remembered by label, the balance check and the
état de rapprochement."""
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.accounting.models import JournalEntry
from backoffice.accounting.services import EntryLineSpec, ensure_ledger, post_entry
from backoffice.banking import booking, reconciliation, services as banking
from backoffice.banking.models import BankLabelRule, BankLineMatch
from backoffice.banking.reconciliation import ReconciliationError
from backoffice.extensions import db
from backoffice.formatting import format_money
from tests.factories import BankStatementLineFactory

DATA = Path(__file__).parent / "data"
MAPPING = {"date": "Date", "label": "Libellé", "debit": "Débit", "credit": "Crédit"}
D = Decimal


def _post(organisation, journal, day, piece, label, debit, credit, amount):
    return post_entry(organisation, journal, day, piece, label,
                      [EntryLineSpec(debit, debit=D(amount)), EntryLineSpec(credit, credit=D(amount))])


@pytest.fixture
def books(organisation):
    """The CPTS's books before the March statement arrives: the opening balance, a cheque
    deposit, two fees of 30 € by transfer three days apart, the coordinator's salary paid, a
    cheque to the accountant not yet cashed. And Anne Le Floch's 2026 membership."""
    from backoffice.membership import services as membership
    from backoffice.membership.models import CategoryKind
    from tests.factories import ProfessionalFactory

    ensure_ledger(organisation)
    entries = {
        "opening": _post(organisation, "AN", date(2026, 1, 1), "AN-2026", "À-nouveaux 2026", "512", "110", "10000.00"),
        "cheques": _post(organisation, "BQ", date(2026, 3, 16), "REMISE-0000012", "Remise de chèques n° 0000012",
                         "512", "5112", "90.00"),
        "fee_18": _post(organisation, "BQ", date(2026, 3, 18), "VIR-MARTIN-1", "Cotisation Dr Paul Martin",
                        "512", "756", "30.00"),
        "fee_22": _post(organisation, "BQ", date(2026, 3, 22), "VIR-MARTIN-2", "Cotisation Cabinet Martin",
                        "512", "756", "30.00"),
        "salary": _post(organisation, "BQ", date(2026, 3, 24), "PAIE-2026-03", "Salaire mars – coordinatrice",
                        "6411", "512", "2180.00"),
        "cheque_out": _post(organisation, "BQ", date(2026, 3, 28), "CHQ-4521", "Chèque n° 4521 – expert-comptable",
                            "6226", "512", "300.00"),
    }
    period = membership.period_for_year(organisation, 2026)
    category = membership.set_fee_category(period, "Médecin", D("50.00"), CategoryKind.PHYSICIAN)
    anne = ProfessionalFactory(first_name="Anne", last_name="Le Floch", profession="medecin_generaliste")
    fee = membership.create_membership(organisation, anne, period, category=category, joined_on=date(2026, 1, 10))
    fee.payment_reference = "ADH26-7KQ4M"
    db.session.flush()
    entries["membership"] = fee
    return entries


@pytest.fixture
def account(organisation, books):
    account = banking.default_account(organisation)
    banking.save_csv_mapping(account, MAPPING, ["Date", "Date valeur", "Libellé", "Débit", "Crédit"])
    return account


def _import(account, name):
    return banking.import_statement(account, name, (DATA / name).read_bytes())


@pytest.fixture
def march(organisation, account, books):
    """The March statement imported, and Anne's transfer confirmed as her payment (the
    membership review screen's work): a payment whose posting hit 512."""
    from backoffice.membership import statements

    statement = _import(account, "credit_mutuel_mars_2026.csv")
    credits = [line for line in statement.lines if line.is_credit]
    statements.suggest_matches(organisation, credits)
    anne = next(line for line in credits if "ADH26-7KQ4M" in line.label)
    assert anne.suggested_id == books["membership"].id
    statements.confirm_lines(organisation, {anne.id: books["membership"].id})
    return statement


def line_of(statement, text):
    return next(line for line in statement.lines if text in line.label)


def open_labels(account):
    return [o.line.label for o in reconciliation.position(account).open_lines]


def reconciled_with(account, line):
    state = reconciliation.position(account)
    return [link.journal_line_id for o in state.lines if o.line.id == line.id for link in o.links]


def bank_line_of(entry):
    return next(line for line in entry.lines if line.account.number == "512")


def test_the_statement_keeps_its_closing_balance(march):
    assert (march.line_count, march.closing_date, march.closing_balance) == (10, date(2026, 3, 31), D("16586.42"))


def test_a_membership_payment_is_reconciled_through_its_posting(account, march):
    anne = line_of(march, "ANNE LE FLOCH")
    (journal_line_id,) = reconciled_with(account, anne)
    link = next(l for o in reconciliation.position(account).lines for l in o.links if o.line.id == anne.id)
    assert not link.direct and [m.target_kind for m in anne.matches] == ["membership_payments"]
    entry = db.session.scalar(select(JournalEntry).where(
        JournalEntry.source == f"membership_payments:{anne.matches[0].target_id}"))
    assert journal_line_id == bank_line_of(entry).id


def test_the_import_reconciles_amount_and_date_and_leaves_ambiguity_alone(organisation, account, march, books):
    cheques, salary, martin = (line_of(march, "REMISE CHEQUES"), line_of(march, "SALAIRE"),
                               line_of(march, "CABINET MARTIN"))
    assert reconciled_with(account, cheques) == [bank_line_of(books["cheques"]).id]  # 16/03 vs 17/03
    assert reconciled_with(account, salary) == [bank_line_of(books["salary"]).id]    # 24/03 vs 25/03, a debit
    assert reconciled_with(account, martin) == []       # two fees of 30 € within the tolerance: the treasurer's call
    assert cheques.matches[0].target_kind == "accounting_lines" and cheques.matches[0].matched_by_id is None
    assert open_labels(account) == [
        "PRLV SEPA MAIF ASSURANCE ASSOCIATION ECH 03/26", "FRAIS TENUE DE COMPTE MARS",
        "VIR SEPA RECU ARS PAYS DE LA LOIRE SUBVENTION FIR 2026", "PRLV SEPA URSSAF PAYS DE LA LOIRE COTISATIONS 02/26",
        "VIR INTERNE VERS LIVRET A ASSOCIATION", "VIR SEPA RECU CABINET MARTIN", "COMMISSION D'INTERVENTION"]
    assert reconciliation.auto_reconcile(account) == 0      # nothing more, nothing twice
    # The accountant books the commission after the import: the button finds it.
    commission = _post(organisation, "BQ", date(2026, 3, 31), "FRAIS-03", "Commission d'intervention", "627", "512",
                       "8.00")
    assert reconciliation.auto_reconcile(account) == 1
    assert reconciled_with(account, line_of(march, "COMMISSION")) == [bank_line_of(commission).id]


def test_one_entry_for_two_lines_or_a_date_too_far_is_left_alone(organisation, account, books):
    statement = _import(account, "credit_mutuel_mars_2026.csv")
    twins = [BankStatementLineFactory(statement=statement, booked_on=day, amount=D("-25.00"), label="CB LA POSTE",
                                      status="unmatched") for day in (date(2026, 4, 6), date(2026, 4, 8))]
    far = BankStatementLineFactory(statement=statement, booked_on=date(2026, 4, 20), amount=D("-61.00"),
                                   label="CB PAPETERIE", status="unmatched")
    _post(organisation, "BQ", date(2026, 4, 7), "CB-0407", "Timbres", "626", "512", "25.00")
    _post(organisation, "BQ", date(2026, 4, 10), "CB-0410", "Fournitures", "6064", "512", "61.00")
    reconciliation.auto_reconcile(account)
    assert [reconciled_with(account, line) for line in (*twins, far)] == [[], [], []]


def test_matching_by_hand_and_its_refusals(account, march, books):
    martin = line_of(march, "CABINET MARTIN")
    state = reconciliation.position(account)
    open_martin = next(o for o in state.open_lines if o.line.id == martin.id)
    assert [c.piece_ref for c in reconciliation.candidates(open_martin, state.ledger_open)][:2] == [
        "VIR-MARTIN-1", "VIR-MARTIN-2"]
    fee_22 = bank_line_of(books["fee_22"])

    with pytest.raises(ReconciliationError, match="en sens inverse"):
        reconciliation.reconcile(martin, bank_line_of(books["cheque_out"]).id)
    with pytest.raises(ReconciliationError, match="n'est pas au compte 512"):
        reconciliation.reconcile(martin, next(l for l in books["fee_22"].lines if l.account.number == "756").id)
    with pytest.raises(ReconciliationError, match="dépasse ce qui reste"):
        reconciliation.reconcile(line_of(march, "FRAIS TENUE"), bank_line_of(books["cheque_out"]).id)

    reconciliation.reconcile(martin, fee_22.id)
    assert reconciled_with(account, martin) == [fee_22.id] and martin.status.value == "matched"
    with pytest.raises(ReconciliationError, match="déjà"):
        reconciliation.reconcile(line_of(march, "REMISE CHEQUES"), fee_22.id)
    ledger_open = [l.piece_ref for l in reconciliation.position(account).ledger_open]
    assert "VIR-MARTIN-1" in ledger_open and "VIR-MARTIN-2" not in ledger_open

    reconciliation.unreconcile(martin.matches[0])
    assert reconciled_with(account, martin) == [] and martin.status.value != "matched"


def test_booking_from_the_statement_remembers_the_label(organisation, account, march):
    maif = line_of(march, "MAIF")
    assert booking.suggested_keyword(maif) == "MAIF"
    entry = booking.book_line(maif, "616", remember="MAIF")
    assert (entry.journal.code, entry.entry_date, entry.label, entry.source) == (
        "BQ", date(2026, 3, 2), "PRLV SEPA MAIF ASSURANCE ASSOCIATION ECH 03/26", f"bank_statement_lines:{maif.id}")
    assert [(l.account.number, l.debit, l.credit) for l in entry.lines] == [
        ("616", D("154.20"), D("0.00")), ("512", D("0.00"), D("154.20"))]
    assert reconciled_with(account, maif) == [bank_line_of(entry).id]
    assert [(r.keyword, r.folded_keyword, r.account_number) for r in booking.rules(organisation)] == [
        ("MAIF", "maif", "616")]

    ars = booking.book_line(line_of(march, "ARS PAYS"), "741")   # money in: D 512 / C 741
    assert [(l.account.number, l.debit) for l in ars.lines] == [("512", D("12000.00")), ("741", D("0.00"))]

    april = _import(account, "credit_mutuel_avril_2026.csv")
    rules = booking.rules(organisation)
    proposed = booking.proposed_rule(rules, line_of(april, "MAIF"))
    assert proposed is not None and proposed.account_number == "616"
    assert booking.proposed_rule(rules, line_of(april, "FRAIS")) is None
    booking.book_line(line_of(april, "MAIF"), proposed.account_number)   # the treasurer confirms
    assert reconciled_with(account, line_of(april, "MAIF"))


def test_the_longest_keyword_wins_and_a_tie_proposes_nothing(organisation, account, march):
    booking.save_rule(organisation, "URSSAF", "431")
    booking.save_rule(organisation, "urssaf pays de la loire", "6451")
    booking.save_rule(organisation, "Frais", "627")
    urssaf = line_of(march, "URSSAF")
    assert booking.proposed_rule(booking.rules(organisation), urssaf).account_number == "6451"
    assert booking.save_rule(organisation, "  URSSAF ", "6451").account_number == "6451"  # the same rule, updated
    assert db.session.scalar(select(func.count()).select_from(BankLabelRule)) == 3


@pytest.mark.parametrize("number, message", [
    ("6169", "Le compte 6169 n'existe pas dans le plan comptable"),
    ("", "Indiquez le compte"),
    ("411", "est un compte de tiers"),
    ("512", "est celui de la banque elle-même"),
])
def test_a_booking_on_an_account_that_cannot_take_it_writes_nothing(account, march, number, message):
    maif = line_of(march, "MAIF")
    entries = db.session.scalar(select(func.count()).select_from(JournalEntry))
    with pytest.raises(ReconciliationError, match=message) as caught:
        with db.session.begin_nested():
            booking.book_line(maif, number, remember="MAIF")
    assert caught.value.field == "account_number"
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == entries
    assert not maif.matches and db.session.scalar(select(func.count()).select_from(BankLabelRule)) == 0


def test_a_line_already_reconciled_is_not_booked(account, march):
    with pytest.raises(ReconciliationError, match="déjà rapprochée"):
        booking.book_line(line_of(march, "ANNE LE FLOCH"), "756")


@pytest.mark.parametrize("keyword, message", [("PRLV SEPA", "toutes sortes d'opérations"), ("x", "deux lettres")])
def test_a_rule_needs_a_keyword_naming_someone(organisation, keyword, message):
    with pytest.raises(ReconciliationError, match=message):
        booking.save_rule(organisation, keyword, "616")


def _book_everything(account, march, books):
    reconciliation.auto_reconcile(account)
    reconciliation.reconcile(line_of(march, "CABINET MARTIN"), bank_line_of(books["fee_22"]).id)
    for text, number in (("MAIF", "616"), ("FRAIS TENUE", "627"), ("ARS PAYS", "741"), ("URSSAF", "431"),
                         ("VIR INTERNE", "580"), ("COMMISSION", "627")):
        booking.book_line(line_of(march, text), number)


def test_the_balance_check_shows_both_balances_and_what_explains_them(account, march, books):
    before = reconciliation.statement_check(march)
    assert before.adds_up and len(before.bank_not_in_ledger) == 7   # everything listed: it adds up already

    _book_everything(account, march, books)
    result = reconciliation.check(march)
    assert result.ledger_balance == D("16316.42") and result.stated_balance == D("16586.42")
    assert [(l.entry_date, l.piece_ref, l.amount) for l in result.ledger_not_in_bank] == [
        (date(2026, 3, 18), "VIR-MARTIN-1", D("30.00")), (date(2026, 3, 28), "CHQ-4521", D("-300.00"))]
    assert result.bank_not_in_ledger == []
    assert result.expected_bank_balance == D("16586.42") and result.difference == 0
    assert result.message.startswith(
        f"Solde du relevé au 31/03/2026 : {format_money(D('16586.42'))} ; solde comptable du 512 à cette date : "
        f"{format_money(D('16316.42'))} ; différence {format_money(D('270.00'))}.")
    assert reconciliation.unreconciled_lines(account.organisation, date(2026, 1, 1), date(2026, 12, 31)) == []


def test_a_reconciliation_that_does_not_add_up_is_refused_in_french(account, march, books):
    _book_everything(account, march, books)
    reconciliation.set_closing_balance(march, date(2026, 3, 31), "16 568,42")   # two digits swapped
    with pytest.raises(ReconciliationError) as caught:
        reconciliation.check(march)
    assert f"écart inexpliqué de {format_money(D('-18.00'))}" in str(caught.value)
    assert f"Solde du relevé au 31/03/2026 : {format_money(D('16568.42'))}" in str(caught.value)
    with pytest.raises(ReconciliationError, match="deux décimales|illisible|montant"):
        reconciliation.set_closing_balance(march, date(2026, 3, 31), "16 568,425")


def test_the_etat_at_a_date_counts_only_what_both_sides_had_then(account, march, books):
    _book_everything(account, march, books)
    at_20 = reconciliation.reconciliation_statement(account, date(2026, 3, 20))
    # The salary (entry 24/03, bank 25/03) and the cheque to the accountant are after the date.
    assert [l.piece_ref for l in at_20.ledger_not_in_bank] == ["VIR-MARTIN-1"]
    assert at_20.ledger_balance == D("10000.00") + D("50.00") + D("90.00") + D("30.00") - D("154.20") - D("4.90") \
        + D("12000.00") - D("1236.48") - D("2000.00")
    assert at_20.expected_bank_balance == D("18774.42")   # 10 000 and the statement's lines up to 20/03


def test_unreconciled_lines_are_what_the_closing_checklist_counts(organisation, account, march):
    lines = reconciliation.unreconciled_lines(organisation, date(2026, 3, 1), date(2026, 3, 31))
    assert len(lines) == 7 and line_of(march, "ANNE") not in lines     # Anne's through her payment's posting
    banking.ignore_line(line_of(march, "COMMISSION"))                  # ignored is not in the books either
    assert len(reconciliation.unreconciled_lines(organisation, date(2026, 3, 1), date(2026, 3, 31))) == 7
    assert reconciliation.unreconciled_lines(organisation, date(2026, 4, 1), date(2026, 4, 30)) == []
    assert db.session.scalar(select(func.count()).select_from(BankLineMatch)) == 3


# --------------------------------------------------------------------------------------------
# The screens
# --------------------------------------------------------------------------------------------

URL = "/o/cpts-test/banking"


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


def test_the_page_shows_what_is_left_the_check_and_the_proposed_account(client, organisation, account, march,
                                                                         treasurer):
    booking.save_rule(organisation, "MAIF", "616")
    html = client.get(f"{URL}/accounts/{account.id}/reconciliation").get_data(as_text=True)
    assert "Opérations du relevé non rapprochées (7)" in html
    assert "proposé par la règle « MAIF »" in html and 'value="616"' in html
    assert "Solde du relevé au 31/03/2026" in html and "Produire l'état de rapprochement" in html
    assert "ANNE LE FLOCH" not in html.split("non rapprochées")[1].split("Écritures du 512")[0]
    assert "CHQ-4521" in html   # a cheque not cashed yet: in the books, not on the bank
    assert "À ajouter : écritures non passées en banque (crédits)</th><td class=\"text-end\">300,00" in html.replace(
        "\u202f", " ").replace("\xa0", " ")


def test_auto_then_book_with_a_rule_then_refusal_on_the_screen(client, organisation, account, march, treasurer):
    _post(organisation, "BQ", date(2026, 3, 30), "FRAIS-03", "Commission d'intervention", "627", "512", "8.00")
    response = client.post(f"{URL}/accounts/{account.id}/reconciliation/auto", follow_redirects=True)
    assert "1 opération(s) rapprochée(s) automatiquement" in response.get_data(as_text=True)

    maif = line_of(march, "MAIF")
    response = client.post(f"{URL}/lines/{maif.id}/book", data={"account_number": "6169", "remember": "y",
                                                                 "keyword": "MAIF"}, follow_redirects=True)
    assert "Le compte 6169 n&#39;existe pas dans le plan comptable" in response.get_data(as_text=True)
    assert not maif.matches and booking.rules(organisation) == []

    response = client.post(f"{URL}/lines/{maif.id}/book", data={"account_number": "616", "remember": "y",
                                                                 "keyword": "MAIF"}, follow_redirects=True)
    assert "Règle retenue : « MAIF »" in response.get_data(as_text=True)
    assert reconciled_with(account, maif)
    assert [r.keyword for r in booking.rules(organisation)] == ["MAIF"]


def test_matching_by_hand_and_undoing_it_on_the_screen(client, account, march, books, treasurer):
    martin = line_of(march, "CABINET MARTIN")
    fee_22 = bank_line_of(books["fee_22"])
    response = client.post(f"{URL}/lines/{martin.id}/reconcile", data={"journal_line_id": fee_22.id},
                           follow_redirects=True)
    assert "Opération du 20/03/2026 rapprochée." in response.get_data(as_text=True)
    response = client.post(f"{URL}/matches/{martin.matches[0].id}/undo", follow_redirects=True)
    assert "Rapprochement défait." in response.get_data(as_text=True) and not martin.matches


def test_the_rules_screen_edits_and_deletes(client, organisation, treasurer):
    response = client.post(f"{URL}/rules/new", data={"keyword": "URSSAF", "account_number": "4311"})
    assert response.status_code == 422 and "n&#39;existe pas" in response.get_data(as_text=True)
    client.post(f"{URL}/rules/new", data={"keyword": "URSSAF", "account_number": "431"})
    (rule,) = booking.rules(organisation)
    client.post(f"{URL}/rules/{rule.id}", data={"keyword": "URSSAF PAYS DE LA LOIRE", "account_number": "431"})
    assert (rule.keyword, rule.folded_keyword) == ("URSSAF PAYS DE LA LOIRE", "urssaf pays de la loire")
    assert "URSSAF PAYS DE LA LOIRE" in client.get(f"{URL}/rules").get_data(as_text=True)
    client.post(f"{URL}/rules/{rule.id}/delete")
    assert booking.rules(organisation) == []


def test_the_closing_balance_typed_by_the_treasurer(client, account, march, treasurer):
    response = client.post(f"{URL}/statements/{march.id}/balance",
                           data={"closing_date": "31/03/2026", "closing_balance": "16 568,42"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Solde du relevé enregistré." in html and "le rapprochement ne tombe pas juste" in html
    assert march.closing_balance == D("16568.42")
    response = client.post(f"{URL}/statements/{march.id}/etat", follow_redirects=True)
    assert "écart inexpliqué" in response.get_data(as_text=True)


def test_the_etat_de_rapprochement_is_a_workbook_made_by_a_task(client, account, march, books, treasurer):
    from openpyxl import load_workbook

    from backoffice.tasks.models import Task

    _book_everything(account, march, books)
    response = client.post(f"{URL}/statements/{march.id}/etat")
    task = db.session.scalar(select(Task).where(Task.kind == "banking.reconciliation"))
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.status.value == "done", task.message
    assert "2 écriture(s) non passée(s) en banque" in task.message
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "etat-rapprochement-compte-courant-2026-03-31.xlsx" in page
    workbook = load_workbook(task.result_abspath())
    assert workbook.sheetnames == ["État de rapprochement", "Écritures non en banque", "Opérations non en compta"]
    summary = {row[0]: row[1] for row in workbook["État de rapprochement"].iter_rows(min_row=2, values_only=True)}
    assert summary["Solde comptable du 512 au 31/03/2026"] == 16316.42
    assert summary["À déduire : écritures non passées en banque (débits)"] == -30
    assert summary["À ajouter : écritures non passées en banque (crédits)"] == 300
    assert summary["Solde bancaire selon la comptabilité au 31/03/2026"] == 16586.42
    assert summary["Solde du relevé au 31/03/2026"] == 16586.42 and summary["Écart"] == 0
    ledger = list(workbook["Écritures non en banque"].iter_rows(min_row=2, values_only=True))
    assert [(row[2], row[4], row[5]) for row in ledger] == [("VIR-MARTIN-1", 30, None), ("CHQ-4521", None, 300)]
    assert list(workbook["Opérations non en compta"].iter_rows(min_row=2, values_only=True)) == []


def test_a_transfer_between_own_accounts_goes_through_580_on_both_statements(client, organisation, account, march,
                                                                              treasurer):
    from backoffice.accounting.reporting import trial_balance
    from backoffice.accounting.services import add_account

    savings = banking.create_account(organisation, "Livret A associatif", "FR7610278060310002020600117",
                                     "CMCIFR2A", journal_code="BQ", ledger_account="5122")
    page = client.get(f"{URL}/accounts/{savings.id}/reconciliation").get_data(as_text=True)
    assert "Le compte 5122 n'existe pas encore dans le plan comptable" in page
    add_account(organisation, "5122", "Banque – Livret A")
    statement = BankStatementLineFactory(
        statement__bank_account=savings, booked_on=date(2026, 3, 16), amount=D("2000.00"),
        label="VIR INTERNE DEPUIS COMPTE COURANT", status="unmatched").statement
    booking.book_line(line_of(march, "VIR INTERNE"), "580")
    booking.book_line(line_of(statement, "VIR INTERNE"), "580")
    rows = {row.account_number: row.balance for row in
            trial_balance(organisation, date(2026, 1, 1), date(2026, 12, 31)).rows}
    assert rows["580"] == 0 and rows["5122"] == D("2000.00")
    assert reconciliation.position(savings).open_lines == []


def test_the_lines_a_rule_proposes_are_booked_together_or_not_at_all(client, organisation, account, march,
                                                                     treasurer):
    booking.save_rule(organisation, "MAIF", "616")
    booking.save_rule(organisation, "URSSAF", "431")
    maif, urssaf, frais = line_of(march, "MAIF"), line_of(march, "URSSAF"), line_of(march, "FRAIS TENUE")
    response = client.post(f"{URL}/accounts/{account.id}/reconciliation/book-proposed",
                           data={"line": [maif.id, urssaf.id, frais.id]}, follow_redirects=True)
    assert "Aucune règle ne propose de compte pour l&#39;opération du 05/03/2026" in response.get_data(as_text=True)
    assert not maif.matches and not urssaf.matches
    response = client.post(f"{URL}/accounts/{account.id}/reconciliation/book-proposed",
                           data={"line": [maif.id, urssaf.id]}, follow_redirects=True)
    assert "2 opération(s) comptabilisée(s) selon leur règle" in response.get_data(as_text=True)
    assert [m.target_kind for m in maif.matches + urssaf.matches] == ["accounting_lines"] * 2
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.source == f"bank_statement_lines:{urssaf.id}"))
    assert [(l.account.number, l.debit) for l in entry.lines] == [("431", D("1236.48")), ("512", D("0.00"))]


def test_the_ledger_balance_of_a_new_year_starts_from_its_opening_entry(organisation, account, march, books):
    from backoffice.accounting import opening

    _book_everything(account, march, books)
    assert reconciliation.ledger_balance(account, date(2026, 12, 31)) == D("16316.42")
    opening.generate_opening(organisation, 2027)            # provisional: 2026 is still open
    _post(organisation, "BQ", date(2027, 1, 4), "FRAIS-01", "Frais de tenue de compte janvier", "627", "512", "4.90")
    assert reconciliation.ledger_balance(account, date(2027, 1, 31)) == D("16311.52")   # not 2026 twice
    january = reconciliation.reconciliation_statement(account, date(2027, 1, 31))
    # The AN is no bank movement; the 2026 items not on the bank are still listed, and the 2027 line.
    assert [l.piece_ref for l in january.ledger_not_in_bank] == ["VIR-MARTIN-1", "CHQ-4521", "FRAIS-01"]


def test_the_etat_de_rapprochement_in_word(client, account, march, books, treasurer):
    from docx import Document

    from backoffice.tasks.models import Task

    _book_everything(account, march, books)
    client.post(f"{URL}/statements/{march.id}/etat", data={"format": "docx"})
    task = db.session.scalar(select(Task).where(Task.kind == "banking.reconciliation"))
    assert task.status.value == "done", task.message
    assert task.result_filename == "etat-rapprochement-compte-courant-2026-03-31.docx"
    document = Document(task.result_abspath())
    text = "\n".join(p.text for p in document.paragraphs).replace("\u202f", " ").replace("\xa0", " ")
    assert "État de rapprochement bancaire" in text and "Le compte est rapproché" not in text
    assert "différence 270,00 €" in text
    cells = [[c.text.replace("\u202f", " ").replace("\xa0", " ") for c in row.cells]
             for table in document.tables for row in table.rows]
    assert ["Solde bancaire selon la comptabilité au 31/03/2026", "16 586,42 €"] in cells
    assert any(row[2] == "CHQ-4521" and row[5] == "300,00 €" for row in cells if len(row) == 6)


# --- undoing a booking, a payment split over several entries -----------------------------------

def test_undoing_a_booking_reverses_its_entry_and_the_line_can_be_booked_again(organisation, account, march):
    from backoffice.accounting import reporting

    maif = line_of(march, "MAIF")
    entry = booking.book_line(maif, "616")
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    reversal = reconciliation.unreconcile(maif.matches[0])
    assert reversal.reversal_of_id == entry.id and reversal.entry_date == entry.entry_date
    assert sorted((l.account.number, l.debit, l.credit) for l in reversal.lines) == [
        ("512", D("154.20"), D("0.00")), ("616", D("0.00"), D("154.20"))]
    assert db.session.get(JournalEntry, entry.id) is not None  # never deleted
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == count + 1
    assert not maif.matches and "PRLV SEPA MAIF ASSURANCE ASSOCIATION ECH 03/26" in open_labels(account)
    trial = {row.account_number: row.balance for row in reporting.trial_balance(
        organisation, date(2026, 3, 1), date(2026, 3, 31)).rows}
    assert trial.get("616", D("0.00")) == 0
    # The booking and its reversal never reach the bank: neither is left to reconcile.
    ledger_open = {l.id for l in reconciliation.position(account).ledger_open}
    assert bank_line_of(entry).id not in ledger_open and bank_line_of(reversal).id not in ledger_open
    again = booking.book_line(maif, "616", label="Assurance MAIF mars")
    assert again.source == f"bank_statement_lines:{maif.id}:2" and reconciled_with(account, maif) == [
        bank_line_of(again).id]


def test_undoing_a_match_to_an_entry_posted_elsewhere_reverses_nothing(account, march, books):
    martin = line_of(march, "CABINET MARTIN")
    reconciliation.reconcile(martin, bank_line_of(books["fee_22"]).id)
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    assert reconciliation.unreconcile(martin.matches[0]) is None
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == count
    assert bank_line_of(books["fee_22"]).id in {l.id for l in reconciliation.position(account).ledger_open}


@pytest.fixture
def split_line(march):
    """One transfer of 60 € from the Martins paying the two fees the books hold as two entries."""
    return BankStatementLineFactory(statement=march, booked_on=date(2026, 3, 23), amount=D("60.00"),
                                    label="VIR SEPA RECU MARTIN 2 COTISATIONS", status="unmatched")


def test_a_line_paid_over_several_entries_is_reconciled_with_all_of_them(account, books, split_line):
    parts = [bank_line_of(books["fee_18"]).id, bank_line_of(books["fee_22"]).id]
    matches = reconciliation.reconcile_split(split_line, parts)
    assert [m.amount for m in matches] == [D("30.00"), D("30.00")] and split_line.status.value == "matched"
    assert sorted(reconciled_with(account, split_line)) == sorted(parts)
    assert split_line.id not in {o.line.id for o in reconciliation.position(account).open_lines}


@pytest.mark.parametrize("amount, pieces, message", [
    ("70.00", ("fee_18", "fee_22"), "totalisent 60,00 € ; l'opération du 23/03/2026 « VIR SEPA RECU MARTIN 2 "
                                    "COTISATIONS » attend 70,00 € (écart 10,00 €). Rien n'a été rapproché."),
    ("60.00", ("fee_18",), "totalisent 30,00 €"),
    ("60.00", ("fee_18", "cheque_out"), "en sens inverse"),
    ("60.00", ("fee_18", "opening"), "dépasse ce qui reste"),
    ("60.00", ("fee_18", "cheques"), "déjà rapprochée"),  # the import reconciled the deposit
])
def test_a_split_that_does_not_add_up_reconciles_nothing(account, books, split_line, amount, pieces, message):
    split_line.amount = D(amount)
    db.session.flush()
    with pytest.raises(ReconciliationError, match=re.escape(message.replace(" €", "\u00a0€"))):
        reconciliation.reconcile_split(split_line, [bank_line_of(books[piece]).id for piece in pieces])
    assert not split_line.matches and split_line.status == "unmatched"
    assert db.session.scalar(select(func.count()).select_from(BankLineMatch).where(
        BankLineMatch.line_id == split_line.id)) == 0


def test_a_split_and_an_undone_booking_on_the_screen(client, account, march, books, split_line, treasurer):
    parts = [bank_line_of(books["fee_18"]).id, bank_line_of(books["fee_22"]).id]
    response = client.post(f"{URL}/lines/{split_line.id}/reconcile", data={"journal_line_id": parts},
                           follow_redirects=True)
    assert "rapprochée de 2 écritures" in response.get_data(as_text=True) and len(split_line.matches) == 2
    maif = line_of(march, "MAIF")
    client.post(f"{URL}/lines/{maif.id}/book", data={"account_number": "616"})
    response = client.post(f"{URL}/matches/{maif.matches[0].id}/undo", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Rapprochement défait ; l&#39;écriture passée depuis le relevé est contre-passée" in html
    assert not maif.matches
