"""The chart of accounts, journals and posting rules: loaded on first use, editable."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.accounting import rules, services
from backoffice.accounting.models import Account, Journal, Ledger
from backoffice.accounting.services import AccountingError
from backoffice.extensions import db


def _accounts(organisation):
    return {a.number: a for a in db.session.scalars(select(Account).where(Account.organisation_id == organisation.id))}


def test_an_association_gets_the_plan_comptable_des_associations(books):
    accounts = _accounts(books)
    assert db.session.get(Ledger, books.id).chart == "pca_2025"
    assert 100 <= len(accounts) <= 160
    for number, label in [("102", "Fonds propres sans droit de reprise"), ("1068", "Autres réserves"),
                          ("194", "Fonds dédiés"), ("2154", "Matériel"), ("411", "Adhérents"),
                          ("5112", "Chèques à encaisser"), ("512", "Banque"), ("530", "Caisse"),
                          ("6226", "Honoraires"), ("627", "Services bancaires"), ("6571", "Aides financières"),
                          ("6894", "Reports en fonds dédiés"), ("741", "Subventions d'exploitation – État"), ("756", "Cotisations"),
                          ("7541", "Dons manuels"), ("864", "Personnel bénévole"), ("875", "Bénévolat")]:
        assert accounts[number].label.startswith(label), number
    assert {n for n, a in accounts.items() if a.collective} == {"401", "404", "411", "419", "421", "467"}
    assert {n[0] for n in accounts} == set("12345678")
    journals = db.session.scalars(select(Journal.code).where(Journal.organisation_id == books.id)).all()
    assert sorted(journals) == ["AN", "BQ", "CA", "OD"]


def test_a_sisa_gets_the_general_chart(sisa):
    accounts = _accounts(sisa)
    assert db.session.get(Ledger, sisa.id).chart == "pcg"
    assert accounts["101"].label == "Capital social"
    assert accounts["4551"].collective and accounts["455"].collective
    assert "7061" in accounts and "62261" in accounts and "756" not in accounts


def test_setting_up_twice_changes_nothing(books):
    before = db.session.scalar(select(func.count()).select_from(Account))
    services.ensure_ledger(books)
    assert db.session.scalar(select(func.count()).select_from(Account)) == before


def test_every_default_rule_points_to_accounts_of_its_chart():
    for chart, events in rules.DEFAULT_RULES.items():
        numbers = {number for number, _, _ in rules.chart_rows(chart)}
        assert set(events) == set(rules.EVENTS)
        for event, (debit, credit, journal) in events.items():
            spec = rules.EVENTS[event]
            assert (debit is None) == (spec.treasury_side == "debit"), (chart, event)
            assert (credit is None) == (spec.treasury_side == "credit"), (chart, event)
            assert (journal is None) == (spec.treasury_side is not None), (chart, event)
            assert {debit, credit} - {None} <= numbers, (chart, event)


def test_add_rename_deactivate_and_delete_an_account(books, member):
    account = services.add_account(books, "512100", "Crédit Mutuel – compte courant")
    assert account.collective is False and account.active
    with pytest.raises(AccountingError, match="existe déjà"):
        services.add_account(books, "512100", "Doublon")
    for bad in ("9123", "12", "41A", ""):
        with pytest.raises(AccountingError, match="3 à 12 chiffres"):
            services.add_account(books, bad, "Mauvais")
    services.update_account(account, "Crédit Mutuel")
    assert account.label == "Crédit Mutuel"
    services.post_entry(books, "BQ", date(2026, 1, 5), "VIR", "Virement interne", [
        services.EntryLineSpec("512100", debit=Decimal("10.00")), services.EntryLineSpec("512", credit=Decimal("10.00"))])
    with pytest.raises(AccountingError, match="ne peut pas être supprimé, seulement désactivé"):
        services.delete_account(account)
    with pytest.raises(AccountingError, match="ne peut pas changer de nature"):
        services.update_account(account, "Crédit Mutuel", collective=True)
    services.update_account(account, "Crédit Mutuel", active=False)
    assert not account.active
    unused = services.add_account(books, "6288", "Autres frais")
    services.delete_account(unused)
    assert "6288" not in _accounts(books)


def test_an_account_used_by_a_rule_cannot_be_deactivated(books):
    with pytest.raises(AccountingError, match="utilisé par une règle"):
        services.update_account(services.get_account(books, "756"), "Cotisations", active=False)
    with pytest.raises(AccountingError, match="utilisé par une règle"):
        services.delete_account(services.get_account(books, "5112"))


def test_journals(books):
    journal = services.add_journal(books, "vt", "Ventes", "sales")
    assert journal.code == "VT"
    with pytest.raises(AccountingError, match="existe déjà"):
        services.add_journal(books, "VT", "Ventes")
    with pytest.raises(AccountingError, match="1 à 8 lettres"):
        services.add_journal(books, "B Q", "Banque")
    services.update_journal(journal, "Ventes diverses", active=False)
    with pytest.raises(AccountingError, match="désactivé"):
        services.get_journal(books, "VT")
    with pytest.raises(AccountingError, match="utilisé par une règle"):
        services.update_journal(services.get_journal(books, "BQ"), "Banque", active=False)


def test_changing_a_posting_rule(books, member):
    services.update_posting_rule(books, "fee_due", debit_account="411", credit_account="7561", journal="OD")
    entry = services.post_event(books, "fee_due", amount=Decimal("50.00"), entry_date=date(2026, 1, 2),
                                party=member, piece_ref="A", label="Cotisation")
    assert [line.account.number for line in entry.lines] == ["411", "7561"]
    with pytest.raises(AccountingError, match="choisissez un compte collectif"):
        services.update_posting_rule(books, "fee_due", debit_account="512", credit_account="756", journal="OD")
    with pytest.raises(AccountingError, match="est collectif"):
        services.update_posting_rule(books, "fee_due", debit_account="411", credit_account="467", journal="OD")
    # The treasury side of fee_paid comes from the payment method: only the 411 side is set.
    services.update_posting_rule(books, "fee_paid", credit_account="419")
    services.update_payment_method(books, "card", "517", "BQ")
    paid = services.post_event(books, "fee_paid", amount=Decimal("50.00"), entry_date=date(2026, 1, 3),
                               party=member, piece_ref="CB", label="Carte", payment_method="card")
    assert [line.account.number for line in paid.lines] == ["517", "419"]
    with pytest.raises(AccountingError, match="compte financier de classe 5"):
        services.update_payment_method(books, "cash", "411", "CA")
