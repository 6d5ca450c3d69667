"""Reading statements as French banks export them: preambles, balance and total lines, comma
decimals, Windows-1252, multi-line labels, separate debit/credit columns; CAMT.053 with a batch."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.banking import parsers
from backoffice.banking.errors import BankingError, MappingNeeded, StatementFormatError, StatementLinesError

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
    with pytest.raises(StatementFormatError, match="Ligne 3 : date illisible"):
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


def test_camt053_batch_entry_is_one_line_with_its_transactions():
    parsed = parsers.read_statement(read("camt053_batch.xml"))
    assert [(l.booked_on, l.amount, l.label, l.reference, l.counterparty) for l in parsed.lines] == [
        (date(2026, 2, 20), Decimal("-720.00"), "VIREMENTS SEPA GROUPES", "VIRGRP-0220", None),
        (date(2026, 2, 25), Decimal("725.80"), "VIR CPAM DE LA MAYENNE ACI AVANCE 2026", "ACI-AVANCE-2026", None),
    ]  # the pending commission is not on the account yet: noted, not read
    assert parsed.lines[0].details == (
        {"amount": "-600.00", "label": "Aide dermatoscope convention 2026-001", "reference": "DERMATO-2026-001",
         "counterparty": "DR CHLOÉ MARCHAND"},
        {"amount": "-120.00", "label": "Régularisation aide 2026-002", "reference": "DERMATO-2026-002",
         "counterparty": "SELARL DES DEUX RIVES"})
    assert parsed.lines[1].details is None
    assert parsed.notes == ["Écriture 3 : « COMMISSION EN ATTENTE » non comptabilisée par la banque (en attente), "
                            "non importée."]
    assert parsers.detect_format(read("camt053_batch.xml")) == "camt053"
    assert parsers.stated_account(read("camt053_batch.xml")) == "FR7610278060310002020600117"


def test_camt053_single_transaction_entry_takes_its_details():
    content = read("camt053_batch.xml").replace(
        b"<TxDtls>\n            <Refs><EndToEndId>DERMATO-2026-002", b"<TxDtlsX>\n            <Refs><EndToEndId>X", 1)
    content = content.replace(b"</TxDtls>\n        </NtryDtls>", b"</TxDtlsX>\n        </NtryDtls>", 1)
    [first, _] = parsers.parse_camt053(content)
    assert (first.amount, first.reference, first.counterparty) == (Decimal("-720.00"), "DERMATO-2026-001",
                                                                   "DR CHLOÉ MARCHAND")
    assert first.details is None


def test_camt053_reference_longer_than_a_line_keeps_is_cut_and_kept_whole_in_the_notes():
    long_reference = "ACI-AVANCE-2026-" + "CONVENTION-CPTS-PAYS-BLANC-" * 7
    content = read("camt053_batch.xml").replace(b">ACI-AVANCE-2026<", f">{long_reference}<".encode())
    parsed = parsers.read_statement(content)
    line = parsed.lines[1]
    assert len(line.reference) == parsers.REFERENCE_LENGTH and line.reference.endswith("…")
    assert long_reference.startswith(line.reference[:-1])
    assert f"Écriture 2 : référence de {len(long_reference)} caractères raccourci(e) à 140 ; texte complet : " \
           f"« {long_reference} »." in parsed.notes


def test_camt053_unreadable_entries_are_all_listed():
    content = read("camt053_batch.xml").replace(b'<Amt Ccy="EUR">720.00</Amt>', b'<Amt Ccy="EUR">sept cents</Amt>')
    content = content.replace(b"<BookgDt><Dt>2026-02-25</Dt></BookgDt>", b"")
    with pytest.raises(StatementLinesError) as caught:
        parsers.read_statement(content)
    assert caught.value.problems == ["Écriture 1 : Montant illisible dans le relevé : « sept cents ».",
                                     "Écriture 2 : sans date de comptabilisation."]


LCL = {"date": "Date opération", "label": "Libellé", "amount": "Montant (EUR)", "reference": "Référence"}
CREDIT_MUTUEL = {"date": "Date", "label": "Libellé", "debit": "Débit", "credit": "Crédit"}


def test_lcl_currency_in_the_header_balance_and_subtotal_lines_and_a_long_reference():
    content = read("lcl_cp1252.csv")
    columns = parsers.csv_columns(content)
    assert columns == ["Date opération", "Date valeur", "Libellé", "Référence", "Montant (EUR)"]
    assert parsers.guess_mapping(columns) == {**LCL, "debit": None, "credit": None}
    parsed = parsers.read_csv(content, LCL)
    assert [(l.booked_on, l.amount, l.label, l.reference) for l in parsed.lines] == [
        (date(2026, 3, 2), Decimal("50.00"), "VIR SEPA RECU DR ANNE LE FLOCH", "ADH26-7KQ4M"),
        (date(2026, 3, 5), Decimal("-154.20"), "PRLV SEPA MAIF", "FR12ZZZ123456-ECH0326"),
        (date(2026, 3, 9), Decimal("-1500.00"), "VIR SEPA EMIS CABINET CONSEIL", parsed.lines[2].reference),
        (date(2026, 3, 20), Decimal("240.00"), "REMISE CHEQUES 0000013", None),
    ]
    long_reference = content.decode("cp1252").splitlines()[7].split(";")[3]
    assert len(long_reference) > 140 and len(parsed.lines[2].reference) == 140
    assert parsed.notes == [
        "Lignes 1 à 4 : informations du compte avant l'en-tête, non importées.",
        "Ligne 11 : « Sous-total mars -1 364,20 » ignorée (solde ou total).",
        "Ligne 12 : « Solde au 31/03/2026 1 115,80 » ignorée (solde ou total).",
        f"Ligne 8 : référence de {len(long_reference)} caractères raccourci(e) à 140 ; texte complet : "
        f"« {long_reference} ».",
    ]
    assert parsers.closing_balance(content, LCL) == (date(2026, 3, 31), Decimal("1115.80"))


def test_credit_mutuel_labels_continued_on_the_next_rows_without_a_date():
    content = read("credit_mutuel_multiligne.csv")
    assert parsers.guess_mapping(parsers.csv_columns(content)) == {**CREDIT_MUTUEL, "amount": None,
                                                                  "reference": None}
    parsed = parsers.read_csv(content, CREDIT_MUTUEL)
    assert rows(parsed.lines) == [
        (date(2026, 4, 2), Decimal("50.00"), "VIR SEPA RECU DE: DR ANNE LE FLOCH MOTIF: COTISATION 2026 ADH26-7KQ4M"),
        (date(2026, 4, 7), Decimal("-1236.48"), "PRLV SEPA URSSAF PAYS DE LA LOIRE ICS FR12ZZZ000000 RUM 2024-0042"),
        (date(2026, 4, 15), Decimal("180.00"), "REMISE CHEQUES N° 0000014"),
    ]
    assert parsed.notes == [
        "Lignes 1 à 5 : informations du compte avant l'en-tête, non importées.",
        "Ligne 14 : « Total des opérations 1 236,48 230,00 » ignorée (solde ou total).",
        "Ligne 15 : « Nouveau solde créditeur au 30/04/2026 601,02 » ignorée (solde ou total).",
    ]
    assert parsers.closing_balance(content, CREDIT_MUTUEL) == (date(2026, 4, 30), Decimal("601.02"))
    assert parsers.names_account(parsers.stated_account(content), "FR76 1558 9297 0100 0123 4560 153")
    assert not parsers.names_account(parsers.stated_account(content), "FR76 1027 8060 3100 0202 0600 117")


def test_credit_agricole_notes_what_it_leaves_out():
    parsed = parsers.read_csv(read("credit_agricole_cp1252.csv"), CREDIT_AGRICOLE)
    assert parsed.notes == [
        "Lignes 1 à 7 : informations du compte avant l'en-tête, non importées.",
        "Ligne 17 : « Total des opérations 159,10 1 300,00 » ignorée (solde ou total).",
        "Ligne 18 : « Solde au 28/02/2026 1 607,50 » ignorée (solde ou total).",
    ]
    assert parsers.guess_mapping(parsers.csv_columns(read("credit_agricole_cp1252.csv"))) == {
        **CREDIT_AGRICOLE, "amount": None, "reference": None}


def test_every_unreadable_row_of_a_file_is_listed_at_once():
    with pytest.raises(StatementLinesError) as caught:
        parsers.read_csv(read("unreadable_rows.csv"), {"date": "Date", "label": "Libellé", "debit": "Débit",
                                                       "credit": "Crédit"})
    assert caught.value.problems == [
        "Ligne 3 : date illisible dans le relevé : « 31/04/2026 » (attendu jj/mm/aaaa).",
        "Ligne 4 : montant illisible dans le relevé : « quatre ».",
        "Ligne 5 : opération sans date (« VIR SANS DATE 12,00 »).",
        "Ligne 7 : un débit (10,00) et un crédit (10,00) sur la même ligne.",
    ]
    assert str(caught.value).startswith("Rien n'a été importé : 4 lignes du fichier sont illisibles. Ligne 3 :")


def test_the_signature_of_a_layout_ignores_case_and_accents_not_the_columns():
    assert parsers.layout_signature(["Date", "Libellé", "Montant (EUR)"]) == \
        parsers.layout_signature(["DATE", "Libelle", "montant (eur)", ""])
    assert parsers.layout_signature(["Date", "Libellé", "Montant (EUR)"]) != \
        parsers.layout_signature(["Date", "Libellé", "Débit", "Crédit"])


@pytest.mark.parametrize("mapping, message", [
    ({"date": "Date", "label": "Date", "amount": "Montant"}, "« Date » est choisie deux fois"),
    ({"date": "Date", "label": "Libellé", "amount": "Montant (USD)"}, "n'est pas en euros"),
    ({"date": "Date", "label": "Libellé", "amount": "Montant", "debit": "Débit"}, "pas les deux"),
    ({"date": "Date", "label": "Libellé"}, "colonne du montant"),
])
def test_a_mapping_the_file_cannot_be_read_with_is_refused_in_french(mapping, message):
    with pytest.raises(BankingError, match=message):
        parsers.validate_mapping(mapping, ["Date", "Libellé", "Montant", "Montant (USD)", "Débit"])


@pytest.mark.parametrize("content, message", [
    (b"%PDF-1.7 binary", "pas un PDF"), (b"", "vide"), (b"PK\x03\x04xlsx", "classeur Excel"),
    (b"<?xml version='1.0'?><Document><CstmrCdtTrfInitn/></Document>", "pas un relevé CAMT.053"),
    (b"OFXHEADER:100\nDATA:OFXSGML", "OFX"),
])
def test_files_that_are_no_statement(content, message):
    with pytest.raises(StatementFormatError, match=message):
        parsers.read_statement(content, CREDIT_AGRICOLE)
