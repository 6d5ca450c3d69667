"""Typed French amounts and cent-exact allocation (``backoffice.money``)."""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.errors import ServiceError
from backoffice.money import MAX_AMOUNT, allocate, clean_amount, parse_amount

D = Decimal


# --------------------------------------------------------------------------------------------
# parse_amount
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, amount", [
    ("1 234,56", "1234.56"),
    ("1234.56", "1234.56"),
    ("1234,5", "1234.50"),
    ("30,00 €", "30.00"),
    ("50 €", "50.00"),
    ("€ 12", "12.00"),
    ("EUR 7,10", "7.10"),
    ("1\u00a0234,56", "1234.56"),      # NBSP, as a bank or a word processor writes it
    ("1\u202f234\u202f567,89", "1234567.89"),   # U+202F, as Babel itself formats it
    ("1.234,56", "1234.56"),
    ("  -30,00 ", "-30.00"),
    ("+ 5", "5.00"),
    ("\u22125,50", "-5.50"),         # the typographic minus sign
    (",50", "0.50"),
    ("12,", "12.00"),
    ("-0,00", "0.00"),
    (D("12.5"), "12.50"),
    (42, "42.00"),
])
def test_typed_french_amounts_are_read(typed, amount):
    assert parse_amount(typed) == D(amount)
    assert parse_amount(typed).as_tuple().exponent == -2


@pytest.mark.parametrize("blank", [None, "", "   ", "\u00a0", "€"])
def test_a_blank_amount_is_none(blank):
    assert parse_amount(blank) is None


@pytest.mark.parametrize("typed, message", [
    ("dix euros", "Le montant est invalide : « dix euros »"),
    ("1e5", "invalide"),
    ("NaN", "invalide"),
    ("Infinity", "invalide"),
    ("1 23", "invalide"),              # a thousands group of two digits: a typo, not 123
    ("1,234.56", "invalide"),          # English grouping
    ("1.234.567", "invalide"),
    ("1,2,3", "invalide"),
    ("--5", "invalide"),
    ("\uff11\uff12", "invalide"),      # full-width digits, which Decimal() would read
    ("\u0663\u0664", "invalide"),      # Arabic-Indic digits
    ("12,345", "au plus deux décimales"),
    ("12.345", "au plus deux décimales"),   # 12 345 or 12,345? Refused rather than guessed
    ("99 999 999 999", "dépasse le maximum"),
    (D("1.005"), "au plus deux décimales"),
    (D("NaN"), "invalide"),
    (1.5, "virgule flottante"),
    (True, "virgule flottante|invalide"),
])
def test_garbage_is_refused_in_french(typed, message):
    with pytest.raises(ServiceError, match=message) as error:
        parse_amount(typed, field="amount")
    assert error.value.field == "amount"


def test_messages_name_what_is_wrong():
    with pytest.raises(ServiceError, match=r"^Ligne 2 : le débit est invalide : « 12x »"):
        parse_amount("12x", what="Ligne 2 : le débit")


@pytest.mark.parametrize("value, allow_zero, message", [
    ("", False, "Le montant est obligatoire."),
    (None, True, "Le montant est obligatoire."),
    ("-5", False, "Le montant doit être positif."),
    ("-0,01", True, "Le montant doit être positif."),
    ("0", False, "Le montant doit être supérieur à zéro."),
    ("0,00 €", False, "Le montant doit être supérieur à zéro."),
])
def test_clean_amount_requires_a_positive_amount(value, allow_zero, message):
    with pytest.raises(ServiceError) as error:
        clean_amount(value, allow_zero=allow_zero)
    assert str(error.value) == message and error.value.field == "amount"


def test_clean_amount_accepts_zero_when_allowed():
    assert clean_amount("0", allow_zero=True) == D("0.00")
    assert clean_amount("9 999 999 999,99") == MAX_AMOUNT


@given(st.integers(min_value=-999_999_999_999, max_value=999_999_999_999))
def test_what_babel_writes_is_read_back(cents):
    from backoffice.formatting import format_money, format_money_plain

    amount = D(cents).scaleb(-2)
    assert parse_amount(format_money(amount)) == amount
    assert parse_amount(format_money_plain(amount)) == amount


@given(st.integers(min_value=-999_999_999_999, max_value=999_999_999_999))
def test_format_money_writes_what_babel_writes(cents):
    # format_money formats without Babel's pattern machinery (it is called for every audited
    # line): the same characters as Babel's fr_FR currency format, spaces included.
    from backoffice.formatting import _babel_money, format_money

    amount = D(cents).scaleb(-2)
    assert format_money(amount) == _babel_money(abs(amount) if not amount else amount)


@pytest.mark.parametrize("value, text", [
    (D("1234.5"), "1\u202f234,50\u00a0€"), (D("-0.00"), "0,00\u00a0€"), (30, "30,00\u00a0€"),
    (D("-1234567.89"), "-1\u202f234\u202f567,89\u00a0€"), ("12.5", "12,50\u00a0€"), (None, ""),
])
def test_format_money_examples(value, text):
    from backoffice.formatting import format_money

    assert format_money(value) == text


# --------------------------------------------------------------------------------------------
# allocate: worked examples
# --------------------------------------------------------------------------------------------

def test_three_equal_shares_tie_broken_by_the_smallest_key():
    shares = allocate(D("100.00"), {"chloé": 1, "anne": 1, "bruno": 1})
    assert shares == {"chloé": D("33.33"), "anne": D("33.34"), "bruno": D("33.33")}
    assert list(shares) == ["chloé", "anne", "bruno"]  # the mapping's order is kept


def test_largest_remainder_gets_the_cent_left():
    # 10,00 € by 1, 2, 3: exact shares 1,666…, 3,333…, 5,00 → 1,67 / 3,33 / 5,00.
    assert allocate(D("10.00"), {1: 1, 2: 2, 3: 3}) == {1: D("1.67"), 2: D("3.33"), 3: D("5.00")}


def test_decimal_weights_such_as_hours_and_a_zero_weight():
    shares = allocate(D("1000.00"), {101: D("12.5"), 102: D("7.25"), 103: 0})
    assert shares == {101: D("632.91"), 102: D("367.09"), 103: D("0.00")}


def test_a_negative_total_is_the_opposite_of_the_positive_one():
    assert allocate(D("-0.05"), {1: 1, 2: 1}) == {1: D("-0.03"), 2: D("-0.02")}


def test_zero_total_gives_zero_to_everyone():
    assert allocate(0, {1: 3, 2: 1}) == {1: D("0.00"), 2: D("0.00")}


@pytest.mark.parametrize("weights, message", [
    ({1: 2, 2: -1}, "Poids négatif pour « 2 »"),
    ({1: 0, 2: 0}, "somme des poids est nulle"),
    ({}, "somme des poids est nulle"),
    ({1: D("NaN")}, "Poids invalide"),
])
def test_bad_weights_are_refused_in_french(weights, message):
    with pytest.raises(ServiceError, match=message):
        allocate(D("10.00"), weights)


def test_bad_totals_are_refused_in_french():
    with pytest.raises(ServiceError, match="Le montant à répartir a au plus deux décimales"):
        allocate(D("10.005"), {1: 1})
    with pytest.raises(ServiceError, match="Le montant à répartir est obligatoire"):
        allocate(None, {1: 1})


def test_float_weights_and_incomparable_keys_are_programming_errors():
    with pytest.raises(TypeError):
        allocate(D("1.00"), {1: 0.5})
    with pytest.raises(TypeError, match="comparable"):
        allocate(D("1.00"), {1: 1, "a": 1})


# --------------------------------------------------------------------------------------------
# allocate: properties
# --------------------------------------------------------------------------------------------

totals = st.integers(min_value=0, max_value=10**10).map(lambda cents: D(cents).scaleb(-2))
weight_values = st.one_of(
    st.integers(min_value=0, max_value=10_000),
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
)
weight_maps = st.dictionaries(st.integers(min_value=1, max_value=10**6), weight_values, min_size=1, max_size=40) \
    .filter(lambda weights: sum(weights.values()) > 0)


def _exact(total, weights, key):
    return Fraction(total) * Fraction(weights[key]) / sum(Fraction(w) for w in weights.values())


@settings(max_examples=300)
@given(totals, weight_maps)
def test_shares_add_up_exactly_none_negative_each_within_a_cent(total, weights):
    shares = allocate(total, weights)
    assert set(shares) == set(weights)
    assert sum(shares.values()) == total
    assert all(share >= 0 and share.as_tuple().exponent == -2 for share in shares.values())
    for key, share in shares.items():
        assert abs(Fraction(share) - _exact(total, weights, key)) < Fraction(1, 100)


@given(totals, weight_maps, st.randoms(use_true_random=False))
def test_the_order_of_the_keys_does_not_matter(total, weights, rng):
    items = list(weights.items())
    rng.shuffle(items)
    assert allocate(total, dict(items)) == allocate(total, weights)


@given(totals, weight_maps, st.data())
def test_more_weight_never_means_less_money(total, weights, data):
    key = data.draw(st.sampled_from(sorted(weights)))
    extra = data.draw(weight_values.filter(lambda w: w > 0))
    heavier = {**weights, key: weights[key] + extra}
    assert allocate(total, heavier)[key] >= allocate(total, weights)[key]


@given(totals, weight_maps)
def test_a_negative_total_mirrors_the_positive_one(total, weights):
    assert allocate(-total, weights) == {key: -share for key, share in allocate(total, weights).items()}
