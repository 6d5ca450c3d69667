"""Grants paid by transfer found on the bank statement: a single transfer's debit reconciled with
its payment's line on 512 by the application's reference or, naming none, by amount and date
when nothing else could be it; a pain.001 batch's one debit with the batch's payments together.
The statement is a real-looking Crédit Mutuel export (account details above the header, debit and
credit columns, French decimals, a « Nouveau solde » line), imported as the treasurer does."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.accounting.models import JournalEntry
from backoffice.accounting.services import ensure_ledger, posting_source
from backoffice.banking import reconciliation, services as banking
from backoffice.extensions import db
from backoffice.grants import agreements, payments, services
from backoffice.grants.models import GrantApplication
from tests.factories import UserFactory
from tests.grants.factories import submitted

D = Decimal
MAPPING = {"date": "Date", "label": "Libellé", "debit": "Débit", "credit": "Crédit"}
HEADER = ["Date", "Date valeur", "Libellé", "Débit", "Crédit"]
IBANS = ["FR7630006000011234567890189", "DE89370400440532013000", "FR1420041010050500013M02606",
         "FR7610107001011234567890129", "FR7630004000031234567890143"]


def statement(*rows, old="10 000,00", new):
    """A May 2026 statement as the bank's site exports it (cp1252)."""
    lines = ["Crédit Mutuel de Loire-Atlantique;;;;", "CPTS DE TEST - 12 RUE DE LA POSTE 44350 GUÉRANDE;;;;",
             "Compte courant n° 10278 06031 00020206001 17;;;;", "Relevé des opérations du 01/05/2026 au 31/05/2026;;;;",
             f"Ancien solde au 30/04/2026;;;;{old}", ";;;;", ";".join(HEADER)]
    lines += [";".join(row) for row in rows]
    lines += [";;;;", f"Nouveau solde créditeur au 31/05/2026;;;;{new}"]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


@pytest.fixture
def account(organisation):
    ensure_ledger(organisation)
    account = banking.default_account(organisation) or banking.create_account(
        organisation, "Compte courant", "FR7610278060310002020600117", is_default=True)
    banking.save_csv_mapping(account, MAPPING, HEADER)
    return account


def _signed(organisation, programme, amount, name):
    from tests.factories import ProfessionalFactory
    from tests.grants.factories import paid_member

    first, last = name.split(" ", 1)
    applicant = paid_member(organisation, ProfessionalFactory(first_name=first, last_name=last,
                                                              profession="medecin_generaliste"))
    application = submitted(organisation, programme, applicant=applicant)
    services.approve(application, D(amount), on=date(2026, 4, 7))
    agreements.issue_agreement(application)
    agreements.sign_online(application, UserFactory(party_id=application.applicant_id), "203.0.113.7")
    return application


def bank_line_of_payment(application):
    entry = db.session.scalar(select(JournalEntry).where(
        JournalEntry.source == posting_source(GrantApplication, application.id, "payment")))
    return next(line.id for line in entry.lines if line.account.number == "512")


def reconciled_with(account, line):
    return sorted(link.journal_line_id for o in reconciliation.position(account).lines if o.line.id == line.id
                  for link in o.links)


def line_of(imported, text):
    return next(line for line in imported.lines if text in line.label)


@pytest.fixture
def paid(organisation, programme, account):
    """Two grants of 600 € paid one by one a day apart (same amount: only their reference tells
    them apart), three paid by one pain.001 on 20 May (480 + 600 + 550 = 1 630 €)."""
    singles = [_signed(organisation, programme, "600.00", "Maëlys Le Gall"),
               _signed(organisation, programme, "600.00", "Yann Le Breton")]
    payments.record_payment(singles[0], paid_on=date(2026, 5, 12), invoice_reference="FAC-2026-118")
    payments.record_payment(singles[1], paid_on=date(2026, 5, 13), invoice_reference="F2026/0457")
    batch = [_signed(organisation, programme, amount, name)
             for amount, name in (("480.00", "Soazig Prigent"), ("600.00", "Hervé Tanguy"), ("550.00", "Loïc Hamon"))]
    for application, iban in zip(batch, IBANS):
        banking.set_payee_details(organisation, application.applicant, iban)
    xml, recorded = payments.transfer_file(organisation, [a.id for a in batch], date(2026, 5, 20))
    assert b"<NbOfTxs>3</NbOfTxs>" in xml and b"<CtrlSum>1630.00</CtrlSum>" in xml and len(recorded) == 3
    return singles, batch


def test_single_transfers_by_reference_and_the_batch_with_its_payments(account, paid):
    singles, batch = paid
    imported = banking.import_statement(account, "releve-mai-2026.csv", statement(
        ["05/05/2026", "05/05/2026", "PRLV SEPA MAIF ASSURANCE ASSOCIATION ECH 05/26", "154,20", ""],
        ["13/05/2026", "13/05/2026", f"VIR SEPA EMIS LE BRETON YANN {singles[1].reference}", "600,00", ""],
        ["14/05/2026", "14/05/2026", f"VIR SEPA EMIS LE GALL MAELYS AIDE {singles[0].id:05d}", "600,00", ""],
        ["15/05/2026", "15/05/2026", "VIR SEPA RECU ARS PAYS DE LA LOIRE FIR 2026-044", "", "5 000,00"],
        ["21/05/2026", "20/05/2026", "VIR SEPA EMIS REMISE 3 VIREMENTS", "1 630,00", ""],
        new="12 015,80"))
    assert (imported.closing_date, imported.closing_balance) == (date(2026, 5, 31), D("12015.80"))
    # Each 600 € transfer with its own grant, whichever came first: the reference decides.
    assert reconciled_with(account, line_of(imported, "LE GALL")) == [bank_line_of_payment(singles[0])]
    assert reconciled_with(account, line_of(imported, "LE BRETON")) == [bank_line_of_payment(singles[1])]
    # The batch's one debit with its three payments.
    assert reconciled_with(account, line_of(imported, "REMISE 3 VIREMENTS")) == sorted(
        bank_line_of_payment(a) for a in batch)
    # The rest is not the grants': left for the treasurer (or her booking rules).
    assert sorted(o.line.label for o in reconciliation.position(account).open_lines) == [
        "PRLV SEPA MAIF ASSURANCE ASSOCIATION ECH 05/26", "VIR SEPA RECU ARS PAYS DE LA LOIRE FIR 2026-044"]


def test_a_batch_debit_that_does_not_add_up_is_left_alone(account, paid):
    imported = banking.import_statement(account, "releve-mai-2026.csv", statement(
        ["21/05/2026", "20/05/2026", "VIR SEPA EMIS REMISE 3 VIREMENTS", "1 630,01", ""], new="8 369,99"))
    line = line_of(imported, "REMISE")
    assert reconciled_with(account, line) == [] and line.status.value == "unmatched"


def test_same_amounts_without_references_are_left_to_the_treasurer(account, paid):
    imported = banking.import_statement(account, "releve-mai-2026.csv", statement(
        ["13/05/2026", "13/05/2026", "VIR SEPA EMIS CABINET MEDICAL", "600,00", ""],
        ["14/05/2026", "14/05/2026", "VIR SEPA EMIS CABINET INFIRMIER", "600,00", ""], new="8 800,00"))
    assert [reconciled_with(account, line) for line in imported.lines] == [[], []]


def test_a_single_transfer_naming_nothing_matches_when_nothing_else_could_be_it(organisation, programme, account):
    application = _signed(organisation, programme, "550.00", "Gwenaëlle Ollivier")
    payments.record_payment(application, paid_on=date(2026, 5, 12), invoice_reference="FAC 2026 31")
    imported = banking.import_statement(account, "releve-mai-2026.csv", statement(
        ["15/05/2026", "15/05/2026", "VIR SEPA EMIS DR OLLIVIER", "550,00", ""], new="9 450,00"))
    assert reconciled_with(account, imported.lines[0]) == [bank_line_of_payment(application)]
