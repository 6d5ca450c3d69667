"""Money helpers shared by every feature: reading a typed amount, sharing a total to the cent.

Amounts are ``Decimal`` euros with two decimals (``Numeric(12, 2)`` columns), never ``float``.
Formatting for screens and files lives in ``backoffice.formatting`` (``format_money`` gives
``1 234,56 €``).

Reading what a user typed::

    parse_amount("1 234,56")         # Decimal("1234.56"); also "1234.56", "30,00 €", "50 €",
                                     # "1.234,56", NBSP or U+202F thousands separators
    parse_amount("")                 # None: a blank field
    clean_amount("0", allow_zero=True, what="La remise")   # required, not negative

Both raise ``ServiceError`` with a French message (``field`` as given) for anything that is not
an amount: letters, ``1e5``, ``NaN``, non-ASCII digits, badly grouped thousands (``1 23``),
more than two decimals (``12,345``: refused rather than rounded, and ``12.345`` is ambiguous
in French anyway), more than ``MAX_AMOUNT``, a ``float`` (a bug upstream).

Sharing a total to the cent (``allocate``)::

    allocate(Decimal("100.00"), {"anne": 1, "bruno": 1, "chloé": 1})
    # {"anne": Decimal("33.34"), "bruno": Decimal("33.33"), "chloé": Decimal("33.33")}

The shares add up **exactly** to the total (largest remainder method): each key first gets the
whole cents of its exact pro-rata share, and the cents left over go one each to the keys with
the largest fractional remainders. A tie in remainders is broken by the keys themselves, in
ascending order (above, "anne" < "bruno" < "chloé"): the result does not depend on the order
of the mapping, so keys must be comparable with each other (ids, strings, tuples). Each share
is within one cent of its exact pro-rata share, none is negative for a positive total (a
negative total is shared as the opposite of the positive one), and a key's share never
decreases when only its own weight grows.
"""
from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from math import lcm
from typing import Hashable, Mapping

from babel.numbers import NumberFormatError, parse_decimal

from backoffice.errors import ServiceError

__all__ = ["CENT", "MAX_AMOUNT", "parse_amount", "clean_amount", "allocate"]

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-"})
_CURRENCY = re.compile(r"^(?:€|eur)\s*|\s*(?:€|eur)$", re.IGNORECASE)
# Thousands grouped by spaces (1 234 567) or, before a decimal comma, by dots (1.234,56); the
# decimal separator is a comma or a dot. ASCII digits only: Decimal() would read other scripts.
_AMOUNT = re.compile(
    r"(?P<sign>[+-]?) ?"
    r"(?P<whole>[0-9]{1,3}(?: [0-9]{3})+|[0-9]{1,3}(?:\.[0-9]{3})+(?=,)|[0-9]+)?"
    r"(?:[,.](?P<cents>[0-9]*))?")


def _invalid(text, what, field):
    return ServiceError(f"{what} est invalide : « {text} » (exemple : 1 234,56).", field)


def parse_amount(value, *, what="Le montant", field=None):
    """The amount ``value`` (typed text, ``Decimal`` or ``int``) as a ``Decimal`` with two
    decimals, signed; ``None`` when blank. ``what`` starts the French messages (``"Ligne 2 :
    le débit"``), ``field`` is the form field they blame."""
    if value is None:
        return None
    if isinstance(value, (bool, float)):
        raise ServiceError(f"{what} doit être un nombre décimal exact, pas un nombre à virgule flottante.", field)
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _invalid(value, what, field)
        return _cents(value, value, what, field)
    text = str(value)
    raw = " ".join(_CURRENCY.sub("", text.translate(_SPACES).strip()).split())
    if not raw:
        return None
    match = _AMOUNT.fullmatch(raw)
    if match is None or not (match["whole"] or match["cents"]):
        raise _invalid(text.strip(), what, field)
    canonical = match["sign"] + (match["whole"] or "0").replace(" ", "").replace(".", "")
    if match["cents"]:
        canonical += "," + match["cents"]
    try:
        amount = parse_decimal(canonical, locale="fr_FR")
    except NumberFormatError:  # pragma: no cover - the pattern only lets through what Babel reads
        raise _invalid(text.strip(), what, field) from None
    return _cents(amount, text.strip(), what, field)


def _cents(amount, shown, what, field):
    if amount != amount.quantize(CENT):
        raise ServiceError(f"{what} a au plus deux décimales (« {shown} »).", field)
    if abs(amount) > MAX_AMOUNT:
        raise ServiceError(f"{what} dépasse le maximum autorisé (9 999 999 999,99 €).", field)
    amount = amount.quantize(CENT)
    return amount if amount else abs(amount)  # no -0.00


def clean_amount(value, *, what="Le montant", allow_zero=False, field="amount"):
    """A required amount, positive (or zero if ``allow_zero``); the rules of ``parse_amount``
    otherwise."""
    amount = parse_amount(value, what=what, field=field)
    if amount is None:
        raise ServiceError(f"{what} est obligatoire.", field)
    if amount < 0:
        raise ServiceError(f"{what} doit être positif.", field)
    if amount == 0 and not allow_zero:
        raise ServiceError(f"{what} doit être supérieur à zéro.", field)
    return amount


def allocate(total, weights: Mapping[Hashable, object]) -> dict:
    """Share ``total`` (euros, two decimals) among the keys of ``weights`` in proportion to
    their weights (``Decimal`` or ``int``, none negative, not all zero), to the cent, by largest
    remainder; returns ``{key: Decimal share}`` in the mapping's order. See the module docstring
    for the tie-break (ascending keys) and the guarantees. French ``ServiceError`` for a
    negative weight, weights that are all zero (or none at all), or a total that is not an
    amount."""
    total = parse_amount(total, what="Le montant à répartir")
    if total is None:
        raise ServiceError("Le montant à répartir est obligatoire.")
    ratios = {}
    for key, weight in weights.items():
        if isinstance(weight, (bool, float)) or not isinstance(weight, (int, Decimal, Fraction)):
            raise TypeError(f"weights are Decimal, int or Fraction, not {type(weight).__name__}: {weight!r}")
        if isinstance(weight, Decimal) and not weight.is_finite():
            raise ServiceError(f"Poids invalide pour « {key} » : {weight}.")
        if weight < 0:
            raise ServiceError(f"Poids négatif pour « {key} » ({weight}) : une clé de répartition ne peut "
                               "pas être négative.")
        ratios[key] = weight.as_integer_ratio()
    # The exact weights as integers over one common denominator: the quotas and remainders are
    # then integer divisions (the same cents as with fractions, without a Fraction per party —
    # a distribution among 10,000 associates is shared in milliseconds).
    denominator = lcm(*{d for _, d in ratios.values()}) if ratios else 1
    exact = {key: n * (denominator // d) for key, (n, d) in ratios.items()}
    weight_sum = sum(exact.values())
    if weight_sum == 0:
        raise ServiceError("Répartition impossible : la somme des poids est nulle (personne à qui "
                           "répartir, ou tous les poids à zéro).")
    cents = int(abs(total) * 100)
    sign = -1 if total < 0 else 1
    shares, remainders = {}, []
    for key, weight in exact.items():
        whole, remainder = divmod(cents * weight, weight_sum)
        shares[key] = whole
        remainders.append((remainder, key))
    left = cents - sum(shares.values())
    try:
        # Largest remainder first; equal remainders by ascending key (sorted on the key as well,
        # so the mapping's order never matters).
        remainders.sort(key=lambda item: (-item[0], item[1]))
    except TypeError:
        raise TypeError("allocate() breaks ties by the keys: they must be comparable "
                        "(all ids, or all strings)") from None
    for _, key in remainders[:left]:
        shares[key] += 1
    return {key: Decimal(sign * share).scaleb(-2) for key, share in shares.items()}
