"""Bank accounts, statements per account, lines matched to any target (debits too), payees' details."""
import re
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.banking import services
from backoffice.banking.errors import AlreadyImported, BankingError
from backoffice.banking.models import LineStatus as L
from tests.factories import OrganisationFactory, ProfessionalFactory

DATA = Path(__file__).parent / "data"
IBAN_CREDIT_MUTUEL = "FR7610278060310002020600117"
BIC_CREDIT_MUTUEL = "CMCIFR2A"


@pytest.fixture
def savings(organisation):
    return services.create_account(organisation, "Livret A Crédit Mutuel", "fr76 1027 8060 3100 0202 0600 117",
                                   BIC_CREDIT_MUTUEL, journal_code="bq2", ledger_account="5122")


def test_the_organisation_iban_is_its_default_account(organisation, savings):
    default = services.default_account(organisation)
    assert (default.name, default.journal_code, default.ledger_account) == ("Compte courant", "BQ", "512")
    assert organisation.iban == default.iban == "FR7630004000031234567890143"
    assert (savings.iban, savings.journal_code, savings.ledger_account, savings.is_default) == (
        IBAN_CREDIT_MUTUEL, "BQ2", "5122", False)
    assert [a.name for a in services.accounts(organisation)] == ["Compte courant", "Livret A Crédit Mutuel"]

    services.make_default(savings)
    assert (organisation.iban, organisation.bic) == (IBAN_CREDIT_MUTUEL, BIC_CREDIT_MUTUEL)
    assert not default.is_default


def test_settings_iban_edits_the_default_account_and_creates_it(db):
    organisation = OrganisationFactory(iban=None, bic=None)
    assert organisation.bank_accounts == [] and organisation.iban is None
    services.set_default_account_details(organisation, "FR76 1027 8060 3100 0202 0600 117", "cmcifr2a")
    assert [(a.name, a.iban, a.bic, a.is_default) for a in organisation.bank_accounts] == [
        ("Compte courant", IBAN_CREDIT_MUTUEL, "CMCIFR2A", True)]


@pytest.mark.parametrize("changes, field, message", [
    ({"iban": "FR7630004000031234567890144"}, "iban", "L'IBAN est invalide."),
    ({"iban": "FR76 3000"}, "iban", "L'IBAN est invalide."),
    ({"iban": ""}, "iban", "Indiquez l'IBAN du compte."),
    ({"bic": "BNP"}, "bic", "Le BIC est invalide (8 ou 11 caractères)."),
    ({"ledger_account": "411"}, "ledger_account", "Le compte comptable d'une banque commence par 512"),
    ({"journal_code": "BQ-1"}, "journal_code", "Le code journal compte de 1 à 10 lettres ou chiffres"),
    ({"name": "  "}, "name", "Donnez un nom au compte"),
    ({"name": "Compte courant"}, "name", "Un compte s'appelle déjà « Compte courant »."),
    ({"iban": "FR7630004000031234567890143"}, "iban", "Un autre compte de l'organisation a déjà cet IBAN."),
])
def test_wrong_account_details_are_refused_in_french(organisation, changes, field, message):
    values = {"name": "Compte projets", "iban": IBAN_CREDIT_MUTUEL, "bic": BIC_CREDIT_MUTUEL, **changes}
    with pytest.raises(BankingError, match=re.escape(message)) as caught:
        services.create_account(organisation, **values)
    assert caught.value.field == field
    assert len(organisation.bank_accounts) == 1


def test_the_default_account_cannot_be_deactivated(organisation, savings):
    default = services.default_account(organisation)
    with pytest.raises(BankingError, match="ne peut pas être désactivé"):
        services.update_account(default, default.name, default.iban, default.bic, active=False)
    services.update_account(savings, "Livret A", savings.iban, savings.bic, "BQ2", "5122", active=False)
    assert services.accounts(organisation, active_only=True) == [default]
    with pytest.raises(BankingError, match="désactivé"):
        services.make_default(savings)


def _statement(account, *rows):
    services.save_csv_mapping(account, {"date": "Date", "label": "Libellé", "amount": "Montant"},
                              ["Date", "Libellé", "Montant"])
    return ("Date;Libellé;Montant\n" + "".join(f"{d};{label};{amount}\n" for d, label, amount in rows)).encode("cp1252")


def test_each_account_has_its_own_statements_and_mapping(organisation, savings):
    current = services.default_account(organisation)
    content = _statement(current, ("02/03/2026", "VIR CPAM ACI AVANCE", "4 200,00"))
    first = services.import_statement(current, "mars.csv", content)
    with pytest.raises(AlreadyImported):
        services.import_statement(current, "mars-bis.csv", content)
    with pytest.raises(BankingError, match="Présentation de fichier inconnue pour le compte « Livret A"):
        services.import_statement(savings, "livret.csv", content)  # its own columns, not yet known
    _statement(savings)
    other = services.import_statement(savings, "livret.csv", content)  # the same line on another account
    assert (first.bank_account, other.bank_account) == (current, savings)
    assert [(l.bank_account_id, l.status) for l in first.lines + other.lines] == [
        (current.id, L.UNMATCHED), (savings.id, L.UNMATCHED)]


@pytest.fixture
def lines(organisation):
    account = services.default_account(organisation)
    statement = services.import_statement(account, "fevrier.csv", _statement(
        account, ("02/02/2026", "VIR RECU MAIRIE DE GUERANDE SUBVENTION FORUM", "800,00"),
        ("20/02/2026", "VIR EMIS DR CHLOÉ MARCHAND AIDE DERMATOSCOPE", "-600,00"),
        ("27/02/2026", "FRAIS TENUE DE COMPTE", "-4,90")))
    return statement.lines


def test_a_credit_matched_to_a_grant_split_over_two_targets(lines, organisation):
    subsidy = lines[0]
    services.match_line(subsidy, "accounting_entries", 41, Decimal("500.00"))
    assert subsidy.status is L.UNMATCHED and services.remaining(subsidy) == Decimal("300.00")
    with pytest.raises(BankingError, match=r"n'a plus que 300,00"):
        services.match_line(subsidy, "grant_funding", 3, Decimal("300.01"))
    services.match_line(subsidy, "grant_funding", 3)  # what remains
    assert subsidy.status is L.MATCHED
    assert [(m.target_kind, m.target_id, m.amount) for m in subsidy.matches] == [
        ("accounting_entries", 41, Decimal("500.00")), ("grant_funding", 3, Decimal("300.00"))]
    assert services.matches_for("grant_funding", [3, 4]) == {3: [subsidy.matches[1]]}


def test_a_debit_is_matched_like_a_credit(lines, organisation):
    from tests.factories import UserFactory

    payout, fees = lines[1], lines[2]
    treasurer = UserFactory()
    with pytest.raises(BankingError, match="le signe de l'opération"):
        services.match_line(payout, "grant_payments", 12, Decimal("600.00"))
    match = services.match_line(payout, "grant_payments", 12, by=treasurer)
    assert (match.amount, match.matched_by_id, payout.status) == (Decimal("-600.00"), treasurer.id, L.MATCHED)
    with pytest.raises(BankingError, match="déjà entièrement rapprochée"):
        services.match_line(payout, "grant_payments", 13)
    services.unmatch(match)
    assert payout.status is L.UNMATCHED and payout.matches == []
    # A dismissed line can still be booked later (by accounting, say), never dismissed once matched.
    services.ignore_line(fees)
    services.match_line(fees, "accounting_entries", 7)
    assert fees.status is L.MATCHED
    with pytest.raises(BankingError, match="déjà rapprochée"):
        services.ignore_line(fees)


def test_the_same_target_twice_is_refused(lines):
    services.match_line(lines[0], "aci_payments", 1, Decimal("100.00"))
    with pytest.raises(BankingError, match="déjà rapprochée de cet élément"):
        services.match_line(lines[0], "aci_payments", 1, Decimal("100.00"))


def test_open_lines_by_direction(lines, organisation):
    assert [l.label[:8] for l in _open(organisation, credits=True)] == ["VIR RECU"]
    assert [l.label[:8] for l in _open(organisation, credits=False)] == ["VIR EMIS", "FRAIS TE"]


def _open(organisation, credits):
    from backoffice.extensions import db

    return list(db.session.scalars(services.open_lines_query(organisation, credits=credits).order_by("id")))


def test_payee_details_are_per_organisation(organisation, other_organisation):
    doctor = ProfessionalFactory(first_name="Chloé", last_name="Marchand")
    details = services.set_payee_details(organisation, doctor, "fr76 1027 8060 3100 0202 0600 117", "cmcifr2a")
    assert (details.iban, details.bic, details.holder_name) == (IBAN_CREDIT_MUTUEL, "CMCIFR2A", "Chloé MARCHAND")
    assert services.payee_details(other_organisation, doctor) is None
    services.set_payee_details(organisation, doctor, "FR7630004000031234567890143", None, "  SELARL  Dr Marchand ")
    assert services.payee_details(organisation, doctor) is details
    assert (details.iban, details.bic, details.holder_name) == ("FR7630004000031234567890143", None,
                                                                "SELARL Dr Marchand")
    assert services.payee_details_for(organisation, [doctor.id, 0]) == {doctor.id: details}
    assert not hasattr(doctor, "iban")  # never on the shared directory


@pytest.mark.parametrize("iban, bic, holder, field, message", [
    ("FR7610278060310002020600118", None, None, "iban", "L'IBAN est invalide."),
    ("", None, None, "iban", "Indiquez l'IBAN du bénéficiaire."),
    (IBAN_CREDIT_MUTUEL, "CMCI", None, "bic", "Le BIC est invalide"),
    (IBAN_CREDIT_MUTUEL, None, "X" * 71, "holder_name", "70 caractères au plus"),
])
def test_wrong_payee_details_are_refused(organisation, iban, bic, holder, field, message):
    doctor = ProfessionalFactory()
    with pytest.raises(BankingError, match=message) as caught:
        services.set_payee_details(organisation, doctor, iban, bic, holder)
    assert caught.value.field == field and services.payee_details(organisation, doctor) is None
