"""Reading statements as French banks export them: preambles, balance and total lines, comma
decimals, Windows-1252, multi-line labels, separate debit/credit columns; CAMT.053 with a batch."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.banking import parsers
from backoffice.banking.errors import MappingNeeded, StatementFormatError

DATA = Path(__file__).parent / "data"
CREDIT_AGRICOLE = {"date": "Date", "label": "Libellé", "debit": "Débit euros", "credit": "Crédit euros"}
SOCIETE_GENERALE = {"date": "Date de l'opération", "label": "Détail de l'écriture", "amount": "Montant de l'opération",
                    "reference": "Libellé"}
BANQUE_POSTALE = {"date": "Date", "label": "Libellé", "amount": "Montant(EUROS)"}


def read(name):
    return (DATA / name).read_bytes()


def rows(lines):
    return [(l.booked_on, l.amount, l.label) for l in lines]


def test_credit_agricole_preamble_multiline_labels_and_balance_lines():
    content = read("credit_agricole_cp1252.csv")
    assert parsers.csv_columns(content) == ["Date", "Libellé", "Débit euros", "Crédit euros"]
    lines = parsers.parse_csv(content, CREDIT_AGRICOLE)
    # « Total des opérations » and « Solde au 28/02/2026 » are not operations.
    assert rows(lines) == [
        (date(2026, 2, 3), Decimal("50.00"), "VIREMENT EN VOTRE FAVEUR DR ANNE LE FLOCH COTISATION ADH26-7KQ4M"),
        (date(2026, 2, 5), Decimal("-154.20"), "PRELEVEMENT MAIF ASSURANCE ASSOCIATION"),
        (date(2026, 2, 12), Decimal("1250.00"), "REMISE CHEQUES N° 0000012"),
        (date(2026, 2, 27), Decimal("-4.90"), "FRAIS TENUE DE COMPTE"),
    ]


def test_societe_generale_signed_amounts_and_reference_column():
    lines = parsers.parse_csv(read("societe_generale_cp1252.csv"), SOCIETE_GENERALE)
    assert [(l.amount, l.reference) for l in lines] == [
        (Decimal("800.00"), "VIR RECU 1234567890"), (Decimal("-86.40"), "VIR EUROPEEN EMIS LOGITEL"),
        (Decimal("-1210.00"), "PRELEVEMENT EUROPEEN URSSAF")]
    assert "SUBVENTION FORUM SANTÉ" in lines[0].label  # Windows-1252 read as such


def test_banque_postale_date_in_the_preamble_is_not_the_header():
    """« Date ;28/02/2026 » above the header: the header is the row holding every mapped column."""
    lines = parsers.parse_csv(read("banque_postale_utf8.csv"), BANQUE_POSTALE)
    assert rows(lines) == [
        (date(2026, 2, 4), Decimal("30.00"), "VIREMENT DE MME CLAIRE BRIÈRE REF ADH26-3CDEF"),
        (date(2026, 2, 9), Decimal("-23.90"), "CARTE X4921 06/02 LIBRAIRIE L'ÉCUME"),
        (date(2026, 2, 9), Decimal("-23.90"), "CARTE X4921 06/02 LIBRAIRIE L'ÉCUME"),
    ]
    first, second, third = parsers.fingerprints(lines)
    assert second != third  # two identical card payments the same day stay two lines


def test_a_row_that_is_neither_an_operation_nor_a_balance_is_an_error():
    content = "Date;Libellé;Montant\n03/02/2026;VIR;10,00\n2026/31/12;VIR;10,00\n".encode()
    with pytest.raises(StatementFormatError, match="Ligne 3 : Date illisible"):
        parsers.parse_csv(content, {"date": "Date", "label": "Libellé", "amount": "Montant"})


def test_columns_that_changed_ask_for_the_mapping_again():
    with pytest.raises(MappingNeeded) as caught:
        parsers.parse_csv(read("banque_postale_utf8.csv"), CREDIT_AGRICOLE)
    assert caught.value.columns == ["Date", "Libellé", "Montant(EUROS)"]


@pytest.mark.parametrize("text, expected", [("1 234,56", "1234.56"), ("-30,00", "-30.00"), ("+30.00", "30.00"),
                                            ("1.234,50 €", "1234.50"), ("1\u202f234,50\xa0€", "1234.50"), ("", None),
                                            ("-1 234,56 EUR", "-1234.56"), ("45.5", "45.50"), ("\u221230,00", "-30.00")])
def test_parse_amount(text, expected):
    assert parsers.parse_amount(text) == (Decimal(expected) if expected else None)


@pytest.mark.parametrize("text", ["12,345", "douze", "1e3", "1 23,00", "NaN", "٣٠,٠٠"])
def test_unreadable_amounts_are_refused_in_french(text):
    with pytest.raises(StatementFormatError, match="Montant illisible"):
        parsers.parse_amount(text)


def test_camt053_batch_debit_and_pending_entry():
    lines = parsers.parse_camt053(read("camt053_batch.xml"))
    assert [(l.booked_on, l.amount, l.reference, l.counterparty) for l in lines] == [
        (date(2026, 2, 20), Decimal("-600.00"), "DERMATO-2026-001", "DR CHLOÉ MARCHAND"),
        (date(2026, 2, 20), Decimal("-120.00"), "DERMATO-2026-002", "SELARL DES DEUX RIVES"),
        (date(2026, 2, 25), Decimal("725.80"), "ACI-AVANCE-2026", None),
    ]  # the pending commission is not on the account yet
    assert lines[0].label == "Aide dermatoscope convention 2026-001 VIREMENTS SEPA GROUPES"
    assert parsers.detect_format(read("camt053_batch.xml")) == "camt053"


@pytest.mark.parametrize("content, message", [
    (b"%PDF-1.7 binary", "pas un PDF"), (b"", "vide"), (b"PK\x03\x04xlsx", "classeur Excel"),
    (b"<?xml version='1.0'?><Document><CstmrCdtTrfInitn/></Document>", "pas un relevé CAMT.053"),
    (b"OFXHEADER:100\nDATA:OFXSGML", "OFX"),
])
def test_files_that_are_no_statement(content, message):
    with pytest.raises(StatementFormatError, match=message):
        parsers.read_statement(content, CREDIT_AGRICOLE)
