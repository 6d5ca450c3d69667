import datetime as dt
from decimal import Decimal

import pytest

from backoffice.formatting import (
    format_date_fr,
    format_date_short,
    format_money,
    format_money_plain,
    money_in_words,
    to_money,
)

@pytest.fixture(autouse=True)
def db():
    """These are pure library tests: override the project's autouse database fixture so they
    need neither the application, the database nor Redis."""
    yield None


NNBSP = "\u202f"  # thousands separator
NBSP = "\u00a0"  # before the euro sign


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("1234.56"), f"1{NNBSP}234,56{NBSP}€"),
        (Decimal("1234.5"), f"1{NNBSP}234,50{NBSP}€"),
        (0, f"0,00{NBSP}€"),
        (Decimal("-0.00"), f"0,00{NBSP}€"),
        (Decimal("0.01"), f"0,01{NBSP}€"),
        (1000000, f"1{NNBSP}000{NNBSP}000,00{NBSP}€"),
        (Decimal("-12.5"), f"-12,50{NBSP}€"),
        ("80", f"80,00{NBSP}€"),
        (Decimal("1.500"), f"1,50{NBSP}€"),
    ],
)
def test_format_money(value, expected):
    assert format_money(value) == expected


def test_format_money_none_is_blank():
    assert format_money(None) == ""
    assert format_money_plain(None) == ""


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("1234.56"), "1234,56"),
        (Decimal("1000000"), "1000000,00"),
        (0, "0,00"),
        (Decimal("-0"), "0,00"),
        (Decimal("0.01"), "0,01"),
        (Decimal("-12.5"), "-12,50"),
        (0.1, "0,10"),
    ],
)
def test_format_money_plain(value, expected):
    assert format_money_plain(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("1234.56"), "mille deux cent trente-quatre euros et cinquante-six centimes"),
        (1, "un euro"),
        (0, "zéro euro"),
        (Decimal("0.00"), "zéro euro"),
        (Decimal("0.01"), "un centime"),
        (Decimal("0.5"), "cinquante centimes"),
        (Decimal("0.21"), "vingt et un centimes"),
        (2, "deux euros"),
        (Decimal("1.01"), "un euro et un centime"),
        (80, "quatre-vingts euros"),
        (81, "quatre-vingt-un euros"),
        (Decimal("80.80"), "quatre-vingts euros et quatre-vingts centimes"),
        (100, "cent euros"),
        (200, "deux cents euros"),
        (1000, "mille euros"),
        (1000000, "un million d'euros"),
        (2000000, "deux millions d'euros"),
        (2500000, "deux millions cinq cent mille euros"),
        (Decimal("1000000.10"), "un million d'euros et dix centimes"),
        (1000000000, "un milliard d'euros"),
        ("35.00", "trente-cinq euros"),
    ],
)
def test_money_in_words(value, expected):
    assert money_in_words(value) == expected


@pytest.mark.parametrize(
    "value",
    [Decimal("-1"), Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity"), float("inf"),
     Decimal("1.005"), Decimal("0.001"), None, "douze", True],
)
def test_money_in_words_refuses(value):
    with pytest.raises(ValueError):
        money_in_words(value)


def test_more_than_two_decimals_is_refused_not_rounded():
    with pytest.raises(ValueError, match="deux décimales"):
        format_money(Decimal("10.005"))
    with pytest.raises(ValueError):
        format_money_plain(Decimal("10.999"))
    assert to_money(Decimal("10.990")) == Decimal("10.99")


def test_to_money_type_errors():
    with pytest.raises(TypeError):
        to_money([1])
    with pytest.raises(TypeError):
        to_money(False)


@pytest.mark.parametrize(
    "value, long, short",
    [
        (dt.date(2026, 6, 8), "8 juin 2026", "08/06/2026"),
        (dt.date(2026, 6, 1), "1er juin 2026", "01/06/2026"),
        (dt.date(2025, 12, 31), "31 décembre 2025", "31/12/2025"),
        (dt.date(2026, 2, 11), "11 février 2026", "11/02/2026"),
        (dt.datetime(2026, 8, 1, 23, 59), "1er août 2026", "01/08/2026"),
        (dt.date(987, 3, 4), "4 mars 987", "04/03/0987"),
    ],
)
def test_dates(value, long, short):
    assert format_date_fr(value) == long
    assert format_date_short(value) == short


def test_dates_none_and_wrong_type():
    assert format_date_fr(None) == ""
    assert format_date_short(None) == ""
    with pytest.raises(TypeError):
        format_date_fr("2026-06-08")


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_money_in_words_properties(cents):
    amount = Decimal(cents) / 100
    words = money_in_words(amount)
    assert "zéro centime" not in words
    if cents // 100 == 1:
        assert words.startswith("un euro") and not words.startswith("un euros")
    if 0 < cents < 100:
        assert "euro" not in words  # cents alone: "cinquante centimes"
    assert words.endswith(("euro", "euros", "d'euros", "centime", "centimes"))
    if cents % 100:
        assert words.endswith("centime" if cents % 100 == 1 else "centimes")
    if cents >= 100 and cents % 100 == 0:
        assert words.endswith("euro" if cents == 100 else "euros")
    assert format_money_plain(amount).replace(",", ".") == f"{amount:.2f}"


@pytest.mark.parametrize("value, expected", [(0, "0"), (950, "950"), (3040, "3\u202f040"), (1234567, "1\u202f234\u202f567")])
def test_whole_numbers_group_thousands_the_french_way(value, expected):
    from backoffice.formatting import format_whole_number

    assert format_whole_number(value) == expected


@pytest.mark.parametrize("value, expected", [
    (1, "janvier"), (2, "février"), (8, "août"), (9, "septembre"), (12, "décembre"),
    (dt.date(2026, 3, 1), "mars"), (dt.datetime(2026, 7, 14, 9, 30), "juillet"), (None, ""),
])
def test_month_names_are_written_in_full(value, expected):
    from backoffice.formatting import month_name

    assert month_name(value) == expected


def test_month_name_refuses_what_is_no_month():
    from backoffice.formatting import MONTH_NAMES, month_name

    assert len(MONTH_NAMES) == 12 and len(set(MONTH_NAMES)) == 12
    for wrong in (0, 13):
        with pytest.raises(ValueError, match="Mois invalide"):
            month_name(wrong)
    with pytest.raises(TypeError):
        month_name("mars")
