"""The FEC writer: one test per rule of article A47 A-1 as we apply it, the round trip through
pandas, and a property test on random balanced books."""
import hashlib
import io
import os
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.accounting.exports import ExportError, trial_balance_rows, trial_balance_totals
from backoffice.accounting.fec import (
    FEC_COLUMNS,
    FecError,
    clean_text,
    fec_filename,
    fec_notice,
    write_fec,
    write_fec_file,
)

from . import DAY, make_entries, make_entry, make_line
from .fec_reader import read_fec


def fec_text(lines, **options):
    buffer = io.BytesIO()
    summary = write_fec(iter(lines), buffer, **options)
    return buffer.getvalue().decode(summary.encoding), summary


def fec_records(lines, **options):
    text, _ = fec_text(lines, **options)
    return [record.split("\t") for record in text.split("\r\n")[:-1]]


def rejected(lines, rule, **options):
    with pytest.raises(FecError) as caught:
        write_fec(iter(lines), io.BytesIO(), **options)
    assert caught.value.rule == rule, str(caught.value)
    return caught.value


# --- layout -----------------------------------------------------------------------------------

def test_header_has_the_18_columns_in_order():
    text, _ = fec_text(make_entries(1))
    assert text.split("\r\n")[0] == "\t".join(FEC_COLUMNS)
    assert FEC_COLUMNS == (
        "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
        "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
        "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise")


def test_tab_separator_and_crlf_line_endings():
    text, summary = fec_text(make_entries(3))
    assert text.endswith("\r\n")
    assert text.count("\n") == text.count("\r\n") == 1 + 6
    assert "\r" not in text.replace("\r\n", "")
    for record in text.split("\r\n")[:-1]:
        assert record.count("\t") == 17
    assert summary.line_count == 6 and summary.entry_count == 3


def test_utf8_without_bom_by_default():
    text, summary = fec_text(make_entry(1, "5.00", label="Cotisation Œuvre € é"))
    raw = io.BytesIO()
    write_fec(iter(make_entries(1)), raw)
    assert not raw.getvalue().startswith(b"\xef\xbb\xbf")
    assert summary.encoding == "utf-8"
    assert "Cotisation Œuvre € é" in text


def test_dates_are_yyyymmdd():
    lines = make_entry(1, "5.00", entry_date=date(2026, 1, 2), piece_date=date(2025, 12, 31),
                       validation_date=date(2026, 2, 3), lettering_code="AB",
                       lettering_date=date(2026, 4, 5))
    record = dict(zip(FEC_COLUMNS, fec_records(lines)[1]))
    assert record["EcritureDate"] == "20260102"
    assert record["PieceDate"] == "20251231"
    assert record["ValidDate"] == "20260203"
    assert record["DateLet"] == "20260405"
    assert record["EcritureLet"] == "AB"


@pytest.mark.parametrize("amount, written", [
    ("1234.50", "1234,50"), ("1234.5", "1234,50"), ("100", "100,00"), ("0.01", "0,01"),
    ("1234567.89", "1234567,89"), ("5E+1", "50,00"),
])
def test_amounts_comma_decimal_two_decimals_no_thousands_separator(amount, written):
    records = fec_records(make_entry(1, amount))
    assert (records[1][11], records[1][12]) == (written, "0,00")
    assert (records[2][11], records[2][12]) == ("0,00", written)


def test_amount_with_more_than_two_decimals_is_rejected_naming_the_entry():
    error = rejected(make_entry(1, "10.005"), "amount")
    assert "Écriture 1" in str(error) and "deux décimales" in str(error)


def test_read_fec_rejects_an_amount_with_a_dot():
    text, _ = fec_text(make_entries(1))
    broken = text.replace("10,00", "10.00", 1).encode()
    with pytest.raises(FecError, match="virgule"):
        read_fec(io.BytesIO(broken))


def test_float_amount_is_a_programming_error():
    with pytest.raises(TypeError):
        write_fec(iter([make_line(1, debit="1.00")._replace(debit=1.0)]), io.BytesIO())


# --- amounts per line and per entry --------------------------------------------------------

def test_line_with_debit_and_credit_is_rejected():
    lines = [make_line(1, "512000", debit="10.00", credit="10.00")]
    assert "à la fois un débit et un crédit" in str(rejected(lines, "amount"))


def test_line_with_neither_debit_nor_credit_is_rejected():
    lines = make_entry(1, "10.00") + [make_line(1, "658000")]
    assert "sans débit ni crédit" in str(rejected(lines, "amount"))


@pytest.mark.parametrize("side", ["debit", "credit"])
def test_negative_amount_is_rejected(side):
    lines = [make_line(1, "512000", **{side: "-10.00"}), make_line(1, "756000")]
    assert "négatif" in str(rejected(lines, "amount"))


def test_unbalanced_entry_is_rejected_naming_it():
    lines = make_entries(2) + [make_line(3, "512000", debit="10.00"),
                               make_line(3, "756000", credit="9.99")] + make_entry(4, "1.00")
    error = rejected(lines, "unbalanced")
    assert error.entry == 3
    assert "Écriture 3 déséquilibrée" in str(error) and "10,00" in str(error)


def test_unbalanced_last_entry_is_rejected():
    lines = make_entries(1) + [make_line(2, "512000", debit="10.00")]
    assert rejected(lines, "unbalanced").entry == 2


def test_negative_zero_is_written_as_zero():
    lines = [make_line(1, "512000", debit="10.00", credit="-0.00"),
             make_line(1, "756000", credit="10.00", debit="-0.00")]
    records = fec_records(lines)
    assert records[1][12] == "0,00" and records[2][11] == "0,00"


# --- numbering ----------------------------------------------------------------------------

def test_continuous_integer_sequence_is_accepted():
    _, summary = fec_text(make_entries(5))
    assert summary.entry_count == 5


@pytest.mark.parametrize("numbers, message", [
    ([1, 3], "discontinue"),
    ([1, 2, 1], "non croissante"),
    ([2, 3], "commencer à 1"),
    ([1, "2026-000002"], "incohérente"),
])
def test_integer_sequence_must_go_1_2_3_without_gaps(numbers, message):
    lines = [line for number in numbers for line in make_entry(number, "1.00")]
    assert message in str(rejected(lines, "sequence"))


def test_an_entry_split_in_two_places_breaks_the_sequence():
    lines = make_entry(1, "1.00") + make_entry(2, "1.00") + make_entry(1, "1.00")
    rejected(lines, "sequence")


def test_string_numbers_compare_their_numeric_suffix():
    numbers = ["2026-000001", "2026-000002", "2026-000003"]
    lines = [line for number in numbers for line in make_entry(number, "1.00")]
    records = fec_records(lines)
    assert [r[2] for r in records[1::2]] == numbers

    gap = [line for number in ["2026-000001", "2026-000003"]
           for line in make_entry(number, "1.00")]
    assert "attendu est 2026-000002" in str(rejected(gap, "sequence"))

    other_prefix = [line for number in ["2026-000001", "2027-000002"]
                    for line in make_entry(number, "1.00")]
    rejected(other_prefix, "sequence")


def test_first_number_can_be_relaxed():
    lines = [line for number in (41, 42) for line in make_entry(number, "1.00")]
    rejected(lines, "sequence")
    _, summary = fec_text(lines, first_number=None)
    assert summary.entry_count == 2


def test_sequence_is_independent_of_journals():
    lines = make_entry(1, "1.00", journal_code="VT") + make_entry(2, "1.00", journal_code="BQ")
    _, summary = fec_text(lines)
    assert summary.entry_count == 2
    lines = make_entry(1, "1.00", journal_code="VT") + make_entry(1, "1.00", journal_code="BQ")
    rejected(lines, "entry")  # same number in two journals: one entry with two journals


# --- one journal, date and piece per entry -------------------------------------------------

@pytest.mark.parametrize("field, other, word", [
    ("journal_code", "VT", "journaux"),
    ("journal_label", "Ventes", "libellés de journal"),
    ("entry_date", date(2026, 3, 15), "dates"),
    ("piece_ref", "P2", "références de pièce"),
    ("piece_date", date(2026, 3, 15), "dates de pièce"),
])
def test_one_journal_date_and_piece_per_entry(field, other, word):
    first, second = make_entry(1, "5.00")
    error = rejected([first, second._replace(**{field: other})], "entry")
    assert error.entry == 1 and f"plusieurs {word}" in str(error)


# --- required fields ---------------------------------------------------------------------

@pytest.mark.parametrize("field, column", [
    ("journal_code", "JournalCode"), ("journal_label", "JournalLib"),
    ("account_number", "CompteNum"), ("account_label", "CompteLib"),
    ("piece_ref", "PieceRef"), ("piece_date", "PieceDate"), ("label", "EcritureLib"),
    ("validation_date", "ValidDate"),
])
@pytest.mark.parametrize("empty", [None, "  \t "])
def test_required_fields_must_not_be_empty(field, column, empty):
    if empty is not None and field.endswith("date"):
        empty = None
    lines = [line._replace(**{field: empty}) for line in make_entry(1, "5.00")]
    error = rejected(lines, "required")
    assert column in str(error) and "Écriture 1" in str(error)


@pytest.mark.parametrize("field", ["entry_date", "piece_date", "validation_date"])
def test_date_field_with_a_string_is_a_programming_error(field):
    lines = [line._replace(**{field: "2026-03-14"}) for line in make_entry(1, "5.00")]
    with pytest.raises(TypeError):
        write_fec(iter(lines), io.BytesIO())


# --- auxiliary accounts -----------------------------------------------------------------

def test_auxiliary_account_on_a_collective_account_is_written():
    lines = [make_line(1, "411000", debit="30.00", aux_number="ADH0042",
                       aux_label="Dr Marie Curie"),
             make_line(1, "756000", credit="30.00")]
    record = fec_records(lines)[1]
    assert (record[6], record[7]) == ("ADH0042", "Dr Marie Curie")


@pytest.mark.parametrize("account", ["401000", "411100", "421000", "467000"])
def test_default_collective_prefixes(account):
    lines = [make_line(1, account, debit="1.00", aux_number="X1", aux_label="X"),
             make_line(1, "512000", credit="1.00")]
    fec_text(lines)


def test_auxiliary_account_on_a_non_collective_account_is_rejected():
    lines = [make_line(1, "512000", debit="1.00", aux_number="X1", aux_label="X"),
             make_line(1, "756000", credit="1.00")]
    assert "pas un compte collectif" in str(rejected(lines, "aux"))


def test_auxiliary_number_requires_its_label_and_the_reverse():
    base = [make_line(1, "411000", debit="1.00"), make_line(1, "756000", credit="1.00")]
    rejected([base[0]._replace(aux_number="X1"), base[1]], "aux")
    rejected([base[0]._replace(aux_number="X1", aux_label=" "), base[1]], "aux")
    rejected([base[0]._replace(aux_label="Dupont"), base[1]], "aux")


def test_collective_prefixes_are_a_parameter():
    lines = [make_line(1, "401000", debit="1.00", aux_number="F1", aux_label="Fournisseur"),
             make_line(1, "512000", credit="1.00")]
    rejected(lines, "aux", collective_prefixes=("411",))
    lines[1] = lines[1]._replace(aux_number="B", aux_label="Banque")
    fec_text(lines, collective_prefixes=("401", "512"))


# --- other paired columns, period ---------------------------------------------------------

def test_lettering_code_and_date_go_together():
    rejected(make_entry(1, "1.00", lettering_code="AA"), "lettering")
    rejected(make_entry(1, "1.00", lettering_date=DAY), "lettering")


def test_currency_amount_and_code_go_together():
    records = fec_records(make_entry(1, "1.00", currency_amount=Decimal("1.08"),
                                     currency="USD"))
    assert records[1][16:] == ["1,08", "USD"]
    rejected(make_entry(1, "1.00", currency_amount=Decimal("1.08")), "currency")
    rejected(make_entry(1, "1.00", currency="USD"), "currency")


def test_entry_outside_the_fiscal_year_is_rejected_when_a_period_is_given():
    lines = make_entries(1)
    fec_text(lines, period=(date(2026, 1, 1), date(2026, 12, 31)))
    rejected(lines, "period", period=(date(2025, 1, 1), date(2025, 12, 31)))


# --- text ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("Cotisation\t2026", "Cotisation 2026"),
    ("Facture | avoir", "Facture   avoir"),
    ("ligne 1\r\nligne 2", "ligne 1  ligne 2"),
    ("  espaces autour  ", "espaces autour"),
    ("\u2028séparateur\x0b", "séparateur"),
    ('Guillemets "doubles"', 'Guillemets "doubles"'),
    ("Œuvre €", "Œuvre €"),
])
def test_text_fields_are_cleaned(raw, clean):
    assert clean_text(raw) == clean
    records = fec_records(make_entry(1, "1.00", label=raw, account_label=raw))
    assert records[1][10] == clean and records[1][5] == clean
    assert len(records[1]) == 18


def test_quotes_survive_the_pandas_round_trip():
    buffer = io.BytesIO()
    write_fec(iter(make_entry(1, "1.00", label='Dit "Le Bon"')), buffer)
    buffer.seek(0)
    assert read_fec(buffer)["EcritureLib"].tolist() == ['Dit "Le Bon"'] * 2


# --- encoding --------------------------------------------------------------------------

def test_iso_8859_15_holds_euro_and_oe_and_maps_the_rest_to_latin_9():
    buffer = io.BytesIO()
    summary = write_fec(iter(make_entry(1, "1.00", label="Œuvre 5 €")), buffer,
                        encoding="ISO-8859-15")
    assert summary.encoding == "iso8859-15" and summary.replaced_chars == 0
    assert "Œuvre 5 €" in buffer.getvalue().decode("iso-8859-15")
    label = "Cotisation 2026 – « Dr D’Arvor » — “ACI”… 1\u202f234\u2009€ Ŝ ™"
    buffer = io.BytesIO()
    summary = write_fec(iter(make_entries(1) + make_entry(2, "1.00", label=label)), buffer,
                        encoding="iso-8859-15")
    text = buffer.getvalue().decode("iso-8859-15")
    assert "Cotisation 2026 - « Dr D'Arvor » - \"ACI\"... 1\u00a0234 € S TM" in text
    assert summary.replaced_chars == 2 * 10  # two lines of entry 2, ten characters each


@pytest.mark.parametrize("char, latin9", [
    ("\u2013", "-"), ("\u2014", "-"), ("\u2212", "-"), ("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'),
    ("\u201d", '"'), ("\u201e", '"'), ("\u2026", "..."), ("\u202f", "\u00a0"), ("\u2009", " "), ("\u200b", ""),
    ("\u0177", "y"), ("\u2603", "?"),
])
def test_latin_9_equivalents(char, latin9):
    from backoffice.accounting.fec import latin9_equivalent

    assert latin9_equivalent(char) == latin9
    latin9.encode("iso8859-15")


def test_other_encodings_are_refused():
    with pytest.raises(ValueError):
        write_fec(iter(make_entries(1)), io.BytesIO(), encoding="utf-16")


def test_text_file_object_is_refused():
    with pytest.raises(TypeError):
        write_fec(iter(make_entries(1)), io.StringIO())


# --- empty year, files ---------------------------------------------------------------

def test_no_line_is_an_error():
    assert "Aucune écriture pour cet exercice" in str(rejected([], "empty"))


def test_fec_filename():
    assert fec_filename("732 829 320", date(2026, 12, 31)) == "732829320FEC20261231.txt"
    with pytest.raises(ExportError, match="SIREN invalide"):
        fec_filename("732829321", date(2026, 12, 31))


def test_write_fec_file_returns_a_summary_matching_the_file(tmp_path):
    path = tmp_path / "732829320FEC20261231.txt"
    summary = write_fec_file(iter(make_entries(4)), path)
    data = path.read_bytes()
    assert summary.sha256 == hashlib.sha256(data).hexdigest()
    assert summary.byte_count == len(data)
    assert (summary.line_count, summary.entry_count) == (8, 4)
    assert summary.total_debit == summary.total_credit == Decimal("40.00")
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("lines", [
    [],
    make_entries(2) + [make_line(3, "512000", debit="1.00")],
    make_entries(2) + [make_line(3, "512000", debit="1.00", credit="1.00")],
])
def test_nothing_left_behind_on_error(tmp_path, lines):
    path = tmp_path / "out.txt"
    with pytest.raises(FecError):
        write_fec_file(iter(lines), path)
    assert os.listdir(tmp_path) == []


def test_previous_file_kept_on_error(tmp_path):
    path = tmp_path / "out.txt"
    path.write_bytes(b"previous")
    with pytest.raises(FecError):
        write_fec_file(iter(make_entries(1) + [make_line(2, "512000")]), path)
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_lines_are_consumed_lazily():
    consumed = []

    def lines():
        for line in make_entries(3):
            consumed.append(line)
            yield line
        raise AssertionError("stream broken")

    with pytest.raises(AssertionError):
        write_fec(lines(), io.BytesIO())
    assert len(consumed) == 6


# --- notice ------------------------------------------------------------------------

def test_notice_describes_the_file():
    _, summary = fec_text(make_entries(2))
    notice = fec_notice(summary, producer="CPTS du Pays Blanc", siren="732829320",
                        fiscal_year_start=date(2026, 1, 1), fiscal_year_end=date(2026, 12, 31),
                        generated_at=datetime(2027, 1, 15, 9, 30))
    for expected in ("CPTS du Pays Blanc", "732829320", "du 01/01/2026 au 31/12/2026",
                     "732829320FEC20261231.txt", "UTF-8", "tabulation", "CR LF",
                     "Lignes d'écriture : 4", "Écritures : 2", summary.sha256,
                     "le 15/01/2027 à 09:30", *FEC_COLUMNS):
        assert expected in notice


# --- round trip ----------------------------------------------------------------------

def per_account_from_fec(buffer):
    frame = read_fec(buffer)
    totals = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for account, debit, credit in zip(frame["CompteNum"], frame["Debit"], frame["Credit"]):
        totals[account][0] += debit
        totals[account][1] += credit
    return {account: tuple(values) for account, values in totals.items()}


def test_pandas_totals_per_account_equal_the_trial_balance():
    lines = (make_entry(1, "120.50", "411000", "756000", aux_number="A1", aux_label="Dr A")[:1]
             + make_entry(1, "120.50", "411000", "756000")[1:]
             + make_entry(2, "120.50", "512000", "411000")
             + make_entry(3, "33.33", "606000", "512000")
             + make_entry(4, "1000.00", "512000", "740000"))
    buffer = io.BytesIO()
    summary = write_fec(iter(lines), buffer)
    buffer.seek(0)
    from_fec = per_account_from_fec(buffer)
    rows = list(trial_balance_rows(iter(lines)))
    assert {row[0]: (row[2], row[3]) for row in rows[:-1]} == from_fec
    assert rows[-1][2] == rows[-1][3] == summary.total_debit == Decimal("1274.33")


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)
accounts = st.sampled_from(["512000", "530000", "411000", "401000", "606000", "622600",
                            "740000", "756000", "657000"])
labels = st.text(min_size=1, max_size=30).filter(clean_text)


@st.composite
def balanced_entries(draw):
    lines = []
    for number in range(1, draw(st.integers(1, 12)) + 1):
        debits = draw(st.lists(amounts, min_size=1, max_size=3))
        credit_count = draw(st.integers(1, 3))
        total = sum(debits)
        # Split the total into credit_count positive parts that sum exactly.
        cents = int(total * 100)
        cuts = sorted(draw(st.lists(st.integers(1, max(cents - 1, 1)),
                                    min_size=credit_count - 1, max_size=credit_count - 1,
                                    unique=True))) if cents > credit_count else []
        bounds = [0, *cuts, cents]
        credits = [Decimal(b - a).scaleb(-2) for a, b in zip(bounds, bounds[1:]) if b > a]
        label = draw(labels)
        for debit in debits:
            lines.append(make_line(number, draw(accounts), debit=debit, label=label))
        for credit in credits:
            lines.append(make_line(number, draw(accounts), credit=credit, label=label))
    return lines


@settings(max_examples=60, deadline=None)
@given(balanced_entries())
def test_random_balanced_books_round_trip(lines):
    buffer = io.BytesIO()
    summary = write_fec(iter(lines), buffer)
    buffer.seek(0)
    from_fec = per_account_from_fec(buffer)
    expected = {account: (debit, credit)
                for account, (_, debit, credit) in trial_balance_totals(lines).items()}
    assert from_fec == expected
    assert summary.total_debit == summary.total_credit == sum(line.debit for line in lines)
    total = list(trial_balance_rows(iter(lines)))[-1]
    assert total[2] == total[3]                 # total debit == total credit
    assert total[4] - total[5] == 0             # balances sum to zero
