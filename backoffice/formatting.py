"""French formatting of money and dates, shared by web pages and generated documents.

Decisions, so that every screen, file and document says the same thing:

* Amounts are handled as :class:`~decimal.Decimal` in euros. ``int`` and ``str`` are accepted
  (``"12.50"``); ``float`` is accepted through ``str()`` (``0.1`` stays ``0.1``) so a stray float
  does not grow fake cents, but money should never be a float in the first place. ``bool`` is
  refused.
* An amount with more than two significant decimals (``1.005``) is refused with ``ValueError``
  rather than rounded: an amount that is not a whole number of cents is a bug upstream, and
  rounding it silently on a receipt would hide it. Trailing zeros are fine (``1.500``).
* ``format_money`` keeps Babel's narrow no-break space (U+202F, thousands) and no-break space
  (U+00A0, before ``€``), so that an amount never breaks across lines on screen or in Word.
  Files for accountants use :func:`format_money_plain` (``1234,56``) instead.
* ``format_money``/``format_money_plain``/the date functions turn ``None`` into ``''`` (a blank
  cell); :func:`money_in_words` refuses ``None``: a receipt must never leave the amount blank.
* :func:`money_in_words` follows the usual French rules: ``un euro``, ``zéro euro``,
  ``deux euros``, ``un million d'euros`` (``de`` after million/milliard), ``un centime``; an
  amount under one euro is said in cents alone (``cinquante centimes``, not
  ``zéro euro et cinquante centimes``), and there is never ``zéro centime``. Traditional
  spelling (``mille deux cent trente-quatre``), as num2words writes it.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import get_month_names as _babel_month_names
from babel.numbers import format_currency as _babel_format_currency
from babel.numbers import format_decimal as _babel_format_decimal
from num2words import num2words

__all__ = [
    "format_money",
    "format_money_plain",
    "format_whole_number",
    "money_in_words",
    "format_date_fr",
    "format_date_short",
    "MONTH_NAMES",
    "month_name",
    "to_money",
]

# Parsing the locale once: Locale.parse() on every call shows up when a document has hundreds of
# amounts.
_FR = Locale.parse("fr_FR")
_CENT = Decimal("0.01")


def to_money(value) -> Decimal:
    """Return ``value`` as a finite Decimal with exactly two decimals.

    Raises ``TypeError`` for values that are not amounts and ``ValueError`` for non-finite
    amounts or amounts that are not a whole number of cents.
    """
    if isinstance(value, bool) or value is None:
        raise TypeError(f"Montant invalide : {value!r}")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(str(value))
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"Montant invalide : {value!r}") from None
    else:
        raise TypeError(f"Montant invalide : {value!r}")
    if not amount.is_finite():
        raise ValueError(f"Montant invalide : {value!r}")
    quantized = amount.quantize(_CENT)
    if quantized != amount:
        raise ValueError(f"Montant avec plus de deux décimales : {value!r}")
    return quantized


def format_money(value) -> str:
    """``Decimal('1234.56')`` → ``'1 234,56 €'`` (no-break spaces); ``None`` → ``''``."""
    if value is None:
        return ""
    amount = to_money(value)
    if amount == 0:
        amount = abs(amount)  # no "-0,00 €"
    return _format_euros(amount)


def _format_euros(amount: Decimal) -> str:
    """What Babel writes for ``amount`` (two decimals) in EUR and fr_FR — ``-1 234,56 €``, a
    narrow no-break space between thousands, a no-break space before the sign — without its
    pattern machinery, which parses the locale's pattern on every call (some 0.1 ms): the audit
    summaries of a workbook import's fees and payments, and of each of a closing's tens of
    thousands of lettered lines, name their amounts — a cache of the texts rarely hits the
    latter's distinct amounts. ``tests/test_money.py`` compares the two."""
    text = f"{amount:,.2f}"
    return text.replace(",", "\u202f").replace(".", ",") + "\u00a0€"


def _babel_money(amount: Decimal) -> str:
    return _babel_format_currency(amount, "EUR", locale=_FR)


def format_whole_number(value) -> str:
    """``3040`` → ``'3 040'`` (narrow no-break space), for counts and chart axes."""
    return _babel_format_decimal(value, format="#,##0", locale=_FR)


def format_money_plain(value) -> str:
    """``Decimal('1234.56')`` → ``'1234,56'``: comma decimal, no thousands separator, for files."""
    if value is None:
        return ""
    amount = to_money(value)
    if amount == 0:
        amount = abs(amount)  # no "-0,00"
    return f"{amount:.2f}".replace(".", ",")


def _euros_words(euros: int) -> str:
    words = num2words(euros, lang="fr")
    if euros <= 1:
        return f"{words} euro"  # "zéro euro", "un euro"
    last = words.rsplit(" ", 1)[-1]
    if last in ("million", "millions", "milliard", "milliards"):
        return f"{words} d'euros"
    return f"{words} euros"


def money_in_words(value) -> str:
    """Amount in French words, for receipts.

    ``Decimal('1234.56')`` → ``mille deux cent trente-quatre euros et cinquante-six centimes``;
    ``1`` → ``un euro``; ``1000000`` → ``un million d'euros``; ``Decimal('0.50')`` →
    ``cinquante centimes``; ``0`` → ``zéro euro``. Negative, non-finite amounts, amounts with
    more than two decimals and ``None`` raise ``ValueError``.
    """
    if value is None:
        raise ValueError("Montant manquant")
    try:
        amount = to_money(value)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    if amount < 0:
        raise ValueError(f"Montant négatif : {value!r}")
    cents_total = int(amount * 100)
    euros, cents = divmod(cents_total, 100)
    if cents == 0:
        return _euros_words(euros)
    cents_words = num2words(cents, lang="fr") + (" centime" if cents == 1 else " centimes")
    if euros == 0:
        return cents_words
    return f"{_euros_words(euros)} et {cents_words}"


def _as_date(value) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    raise TypeError(f"Date invalide : {value!r}")


def format_date_fr(value) -> str:
    """``date(2026, 6, 8)`` → ``'8 juin 2026'``; the first of the month is ``'1er juin 2026'``.

    A datetime is shown by its own (local) date, without conversion. ``None`` → ``''``.
    """
    if value is None:
        return ""
    day = _as_date(value)
    text = _babel_format_date(day, "d MMMM y", locale=_FR)
    if day.day == 1:
        text = "1er" + text[1:]
    return text


def format_date_short(value) -> str:
    """``date(2026, 6, 8)`` → ``'08/06/2026'``; ``None`` → ``''``."""
    if value is None:
        return ""
    day = _as_date(value)
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


# The months written in full (« janvier » … « décembre »), as Babel's French locale says them:
# the same words on charts, in forms and in documents.
MONTH_NAMES = tuple(_babel_month_names("wide", context="format", locale=_FR)[month] for month in range(1, 13))


def month_name(value) -> str:
    """``3`` or ``date(2026, 3, 1)`` → ``'mars'``: the month written in full; ``None`` → ``''``."""
    if value is None:
        return ""
    month = value if isinstance(value, int) and not isinstance(value, bool) else _as_date(value).month
    if not 1 <= month <= 12:
        raise ValueError(f"Mois invalide : {value!r}")
    return MONTH_NAMES[month - 1]


# --- French wording -------------------------------------------------------------------------

# The first word of an organisation's name decides its article: « de la CPTS du Pays Blanc »,
# « du Pôle de santé… », « de l'Association… ».
_FEMININE_HEADS = {"cpts", "sisa", "msp", "maison", "communaute", "association", "societe", "federation", "union",
                   "plateforme", "mutuelle", "clinique", "selarl", "scm"}
_MASCULINE_HEADS = {"pole", "centre", "groupement", "cabinet", "reseau", "gie", "syndicat", "collectif", "comite"}


def _folded_first_word(name: str) -> str:
    import unicodedata

    word = (name.split() or [""])[0]
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


def of_name(name) -> str:
    """``« CPTS du Pays Blanc »`` → ``« de la CPTS du Pays Blanc »``; ``« Pôle de santé… »`` →
    ``« du Pôle de santé… »``; a name of unknown kind → ``« de … »`` (``« d'… »`` before a vowel)."""
    name = str(name or "").strip()
    head = _folded_first_word(name)
    if head[:1] and head[:1] in "aeiouy":
        return f"de l'{name}" if head in _FEMININE_HEADS | _MASCULINE_HEADS else f"d'{name}"
    if head in _FEMININE_HEADS:
        return f"de la {name}"
    if head in _MASCULINE_HEADS:
        return f"du {name}"
    return f"de {name}"


def is_feminine(party) -> bool | None:
    """From the person's civility: True for « Mme », False for « M. », None when unknown (« Dr »)."""
    civility = (getattr(party, "civility", None) or "").strip().lower().rstrip(".")
    if civility in ("mme", "mlle", "madame", "mademoiselle"):
        return True
    if civility in ("m", "mr", "monsieur"):
        return False
    return None


def by_civility(party, masculine: str, feminine: str, unknown: str | None = None) -> str:
    """``by_civility(anne, "adhérent", "adhérente")``: the word that agrees with the person
    (``unknown``, default the masculine, when the civility says nothing)."""
    feminine_party = is_feminine(party)
    if feminine_party is None:
        return masculine if unknown is None else unknown
    return feminine if feminine_party else masculine
