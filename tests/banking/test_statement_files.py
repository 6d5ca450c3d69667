"""Statement files as French banks export them, imported into the right bank account: a column
mapping per account and file layout, remembered and recognised under any preamble; the statement
names its account and file and notes what it left out; unreadable files store nothing; a
CAMT.053 batch entry is one line with its transactions."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.banking import parsers, services
from backoffice.banking.errors import AlreadyImported, MappingNeeded, StatementLinesError
from backoffice.banking.models import BankCsvLayout, BankStatement, BankStatementLine
from backoffice.extensions import db

DATA = Path(__file__).parent / "data"
CREDIT_AGRICOLE = {"date": "Date", "label": "Libellé", "amount": None, "debit": "Débit euros",
                   "credit": "Crédit euros", "reference": None}


def read(name):
    return (DATA / name).read_bytes()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def current(organisation):
    return services.default_account(organisation)


@pytest.fixture
def savings(organisation):
    """The Crédit Mutuel account the March statement and the CAMT.053 name."""
    return services.create_account(organisation, "Livret Crédit Mutuel", "FR76 1027 8060 3100 0202 0600 117",
                                   "CMCIFR2A", journal_code="BQ2", ledger_account="5122")


def map_columns(account, name):
    """What the treasurer does on the mapping screen: accept the proposed columns."""
    with pytest.raises(MappingNeeded) as caught:
        services.import_statement(account, name, read(name))
    services.save_csv_mapping(account, caught.value.guess, caught.value.columns)
    return caught.value


def test_an_unknown_layout_asks_its_columns_proposed_by_their_usual_names(current):
    asked = map_columns(current, "credit_agricole_cp1252.csv")
    assert str(asked) == ("Présentation de fichier inconnue pour le compte « Compte courant » : vérifiez les "
                          "colonnes proposées ; elles seront retenues pour les prochains relevés de ce compte.")
    assert asked.account is current
    assert asked.columns == ["Date", "Libellé", "Débit euros", "Crédit euros"]
    assert asked.guess == CREDIT_AGRICOLE

    statement = services.import_statement(current, "C:\\Users\\tresoriere\\Téléchargements\\CA-fevrier.csv",
                                          read("credit_agricole_cp1252.csv"))
    assert (statement.bank_account, statement.filename, statement.file_format) == (current, "CA-fevrier.csv", "csv")
    assert [(l.booked_on, l.amount, l.bank_account_id) for l in statement.lines] == [
        (date(2026, 2, 3), Decimal("50.00"), current.id), (date(2026, 2, 5), Decimal("-154.20"), current.id),
        (date(2026, 2, 12), Decimal("1250.00"), current.id), (date(2026, 2, 27), Decimal("-4.90"), current.id)]
    assert statement.notes == [
        "Lignes 1 à 7 : informations du compte avant l'en-tête, non importées.",
        "Ligne 17 : « Total des opérations 159,10 1 300,00 » ignorée (solde ou total).",
        "Ligne 18 : « Solde au 28/02/2026 1 607,50 » ignorée (solde ou total).",
    ]
    assert (statement.closing_date, statement.closing_balance) == (date(2026, 2, 28), Decimal("1607.50"))


def test_each_account_remembers_its_layouts_wherever_the_header_sits(current, savings):
    map_columns(savings, "credit_mutuel_mars_2026.csv")
    march = services.import_statement(savings, "mars.csv", read("credit_mutuel_mars_2026.csv"))
    # April: the same layout under a preamble of another length, recognised without a question.
    april = services.import_statement(savings, "avril.csv", read("credit_mutuel_multiligne.csv"))
    assert (march.line_count, april.line_count) == (10, 3)
    assert [l.label for l in april.lines][0] == \
        "VIR SEPA RECU DE: DR ANNE LE FLOCH MOTIF: COTISATION 2026 ADH26-7KQ4M"
    assert [(layout.columns, layout.mapping["debit"]) for layout in savings.csv_layouts] == [
        (["Date", "Date valeur", "Libellé", "Débit", "Crédit"], "Débit")]
    # The current account does not know the Crédit Mutuel layout: its own mapping.
    with pytest.raises(MappingNeeded, match="« Compte courant »"):
        services.import_statement(current, "mars.csv", read("credit_mutuel_mars_2026.csv"))
    # A second layout on the same account: asked once, then both are known.
    map_columns(savings, "lcl_cp1252.csv")
    services.import_statement(savings, "lcl.csv", read("lcl_cp1252.csv"))
    assert len(savings.csv_layouts) == 2
    with pytest.raises(AlreadyImported):
        services.import_statement(savings, "mars-bis.csv", read("credit_mutuel_mars_2026.csv"))


def test_a_mapping_from_before_layouts_is_used_and_its_layout_remembered(current):
    current.statement_csv_mapping = CREDIT_AGRICOLE  # as the migration leaves an account
    statement = services.import_statement(current, "fevrier.csv", read("credit_agricole_cp1252.csv"))
    assert statement.new_line_count == 4
    [layout] = db.session.scalars(select(BankCsvLayout).where(BankCsvLayout.bank_account_id == current.id)).all()
    assert layout.signature == parsers.layout_signature(["Date", "Libellé", "Débit euros", "Crédit euros"])


def test_the_account_is_guessed_from_the_file(organisation, current, savings):
    assert services.guess_account(organisation, read("credit_mutuel_mars_2026.csv")) is savings  # its RIB
    assert services.guess_account(organisation, read("camt053_batch.xml")) is savings             # Acct/Id/IBAN
    # « Compte de Dépôt carte n° 12345678901 »: the account number inside the current account's IBAN.
    assert services.guess_account(organisation, read("credit_agricole_cp1252.csv")) is current
    lcl = read("lcl_cp1252.csv")  # names no account of the organisation
    assert services.guess_account(organisation, lcl) is current    # the default
    services.save_csv_mapping(savings, parsers.guess_mapping(parsers.csv_columns(lcl)), parsers.csv_columns(lcl))
    assert services.guess_account(organisation, lcl) is savings    # the only account knowing its layout


def test_a_file_of_another_account_is_imported_with_a_warning(current, savings):
    services.save_csv_mapping(current, parsers.guess_mapping(parsers.csv_columns(read("credit_mutuel_mars_2026.csv"))),
                              parsers.csv_columns(read("credit_mutuel_mars_2026.csv")))
    statement = services.import_statement(current, "mars.csv", read("credit_mutuel_mars_2026.csv"))
    assert statement.notes[0] == ("Ce fichier indique un autre compte de l'organisation que « Compte courant » : "
                                  "vérifiez le compte choisi.")


def test_every_unreadable_row_is_listed_and_nothing_is_stored(current):
    columns = ["Date", "Libellé", "Débit", "Crédit"]
    services.save_csv_mapping(current, parsers.guess_mapping(columns), columns)
    with pytest.raises(StatementLinesError) as caught:
        services.import_statement(current, "avril.csv", read("unreadable_rows.csv"))
    assert [p.split(" :")[0] for p in caught.value.problems] == ["Ligne 3", "Ligne 4", "Ligne 5", "Ligne 7"]
    assert (count(BankStatement), count(BankStatementLine)) == (0, 0)


def test_a_camt053_batch_entry_is_one_line_with_its_transactions(savings):
    statement = services.import_statement(savings, "releve-fevrier.xml", read("camt053_batch.xml"))
    assert (statement.bank_account, statement.filename, statement.file_format) == (savings, "releve-fevrier.xml",
                                                                                   "camt053")
    batch, aci = statement.lines
    assert (batch.amount, batch.label, batch.reference) == (Decimal("-720.00"), "VIREMENTS SEPA GROUPES", "VIRGRP-0220")
    assert [(d["amount"], d["counterparty"], d["reference"]) for d in batch.details] == [
        ("-600.00", "DR CHLOÉ MARCHAND", "DERMATO-2026-001"), ("-120.00", "SELARL DES DEUX RIVES", "DERMATO-2026-002")]
    assert (aci.amount, aci.details) == (Decimal("725.80"), None)
    assert statement.notes == ["Écriture 3 : « COMMISSION EN ATTENTE » non comptabilisée par la banque (en attente), "
                               "non importée."]
    db.session.expire_all()
    assert db.session.get(BankStatementLine, batch.id).details[1]["label"] == "Régularisation aide 2026-002"
    with pytest.raises(AlreadyImported):
        services.import_statement(savings, "copie.xml", read("camt053_batch.xml"))


def test_a_reference_longer_than_a_line_keeps_is_cut_and_named(current):
    map_columns(current, "lcl_cp1252.csv")
    statement = services.import_statement(current, "lcl-mars.csv", read("lcl_cp1252.csv"))
    line = statement.lines[2]
    db.session.expire_all()
    assert len(line.reference) == 140
    assert any(note.startswith("Ligne 8 : référence de ") and "texte complet" in note for note in statement.notes)
