"""The distribution calculation, pure: plain inputs in, cents out, no database.

``compute(Inputs)`` shares the distributable amount first among the keys by their percentages,
then each key's amount among the associates by the key's basis, both with
``backoffice.money.allocate`` (largest remainder, ties to the smallest party id): the shares add
up exactly to the distributable amount, none is negative, and the result does not depend on the
order of the associates. A key's weight for an associate is::

    basis (1, his hours, or his mission points) × his profession's weight (1 if not listed)
    × his days of presence in the year (only if the key is prorated)

Inputs are stored as JSON with a frozen distribution (``Inputs.to_json`` / ``from_json``):
recomputing them gives the same cents years later.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from backoffice.errors import ServiceError
from backoffice.money import allocate, parse_amount

HUNDRED = Decimal("100")
BASES = ("equal", "hours", "points")


class DistributionError(ServiceError):
    """A distribution cannot be computed; French message naming what is wrong."""


@dataclass(frozen=True)
class AssociateInput:
    party_id: int
    name: str
    profession: str | None
    starts_on: date
    ends_on: date | None
    hours: Decimal = Decimal(0)
    points: Decimal = Decimal(0)


@dataclass(frozen=True)
class KeyInput:
    position: int
    label: str
    percentage: Decimal
    basis: str
    prorate_presence: bool = False
    profession_weights: dict = field(default_factory=dict)  # {profession code: Decimal}


@dataclass(frozen=True)
class Inputs:
    year: int
    distributable: Decimal
    associates: tuple[AssociateInput, ...]
    keys: tuple[KeyInput, ...]

    def to_json(self):
        return {
            "year": self.year, "distributable": str(self.distributable),
            "associates": [{"party_id": a.party_id, "name": a.name, "profession": a.profession,
                            "starts_on": a.starts_on.isoformat(), "ends_on": a.ends_on.isoformat() if a.ends_on else None,
                            "hours": str(a.hours), "points": str(a.points)} for a in self.associates],
            "keys": [{"position": k.position, "label": k.label, "percentage": str(k.percentage), "basis": k.basis,
                      "prorate_presence": k.prorate_presence,
                      "profession_weights": {p: str(w) for p, w in sorted(k.profession_weights.items())}}
                     for k in self.keys],
        }

    @classmethod
    def from_json(cls, data):
        return cls(
            year=data["year"], distributable=Decimal(data["distributable"]),
            associates=tuple(AssociateInput(
                party_id=a["party_id"], name=a["name"], profession=a["profession"],
                starts_on=date.fromisoformat(a["starts_on"]),
                ends_on=date.fromisoformat(a["ends_on"]) if a["ends_on"] else None,
                hours=Decimal(a["hours"]), points=Decimal(a["points"])) for a in data["associates"]),
            keys=tuple(KeyInput(position=k["position"], label=k["label"], percentage=Decimal(k["percentage"]),
                                basis=k["basis"], prorate_presence=k["prorate_presence"],
                                profession_weights={p: Decimal(w) for p, w in k["profession_weights"].items()})
                       for k in data["keys"]),
        )


@dataclass(frozen=True)
class KeyResult:
    key: KeyInput
    amount: Decimal


@dataclass(frozen=True)
class AssociateResult:
    associate: AssociateInput
    days: int
    by_key: dict  # {key position: Decimal}
    total: Decimal


@dataclass(frozen=True)
class Result:
    inputs: Inputs
    keys: tuple[KeyResult, ...]
    associates: tuple[AssociateResult, ...]  # by name, then party id

    @property
    def total(self):
        return sum((a.total for a in self.associates), Decimal("0.00"))

    def by_party(self):
        return {a.associate.party_id: a for a in self.associates}


def presence_days(year, starts_on, ends_on):
    """Days of ``year`` (inclusive) between ``starts_on`` and ``ends_on`` (None: still)."""
    first = max(date(year, 1, 1), starts_on)
    last = min(date(year, 12, 31), ends_on or date(year, 12, 31))
    return max((last - first).days + 1, 0)


def check_keys(keys):
    """French ``DistributionError`` unless the keys are valid and add up to exactly 100 %."""
    if not keys:
        raise DistributionError("Aucune clé de répartition : ajoutez-en au moins une (100 % au total).")
    positions = [k.position for k in keys]
    if len(set(positions)) != len(positions):
        raise DistributionError("Deux clés ont le même rang.")
    for key in keys:
        if key.basis not in BASES:
            raise DistributionError(f"La clé « {key.label} » a une base inconnue ({key.basis}).")
        if not (0 < key.percentage <= HUNDRED):
            raise DistributionError(f"La clé « {key.label} » doit valoir entre 0 et 100 % ({key.percentage} %).")
        for profession, weight in key.profession_weights.items():
            if weight < 0:
                raise DistributionError(f"La clé « {key.label} » : le poids de « {profession} » est négatif.")
    total = sum((k.percentage for k in keys), Decimal(0))
    if total != HUNDRED:
        shown = format(total.normalize(), "f").replace(".", ",")
        raise DistributionError(f"Les clés de répartition totalisent {shown} % au lieu de 100 %.")


def compute(inputs: Inputs) -> Result:
    """The shares of ``inputs`` (see the module docstring); French ``DistributionError`` for keys
    that do not add up to 100 %, a distributable amount that is not positive, no associate, or a
    key nobody can receive (no hours recorded for a time key, no points for a missions key)."""
    distributable = parse_amount(inputs.distributable, what="Le montant à répartir")
    if distributable is None or distributable <= 0:
        raise DistributionError(f"Le montant à répartir doit être positif (il est de {_fr(distributable)}) : "
                                "vérifiez les recettes et les retenues de l'année.")
    check_keys(inputs.keys)
    present = {a.party_id: presence_days(inputs.year, a.starts_on, a.ends_on) for a in inputs.associates}
    associates = sorted((a for a in inputs.associates if present[a.party_id] > 0),
                        key=lambda a: (a.name.casefold(), a.party_id))
    if not associates:
        raise DistributionError(f"Aucun associé présent en {inputs.year} : rien ne peut être réparti.")
    if len({a.party_id for a in associates}) != len(associates):
        raise DistributionError("Un associé figure deux fois dans la répartition.")
    key_amounts = allocate(distributable, {k.position: k.percentage for k in inputs.keys})
    by_party = {a.party_id: {} for a in associates}
    for key in inputs.keys:
        weights = {a.party_id: _weight(key, a, present[a.party_id]) for a in associates}
        if not any(weights.values()):
            raise DistributionError(_nobody_message(key, inputs.year))
        for party_id, amount in allocate(key_amounts[key.position], weights).items():
            by_party[party_id][key.position] = amount
    return Result(
        inputs=inputs,
        keys=tuple(KeyResult(k, key_amounts[k.position]) for k in sorted(inputs.keys, key=lambda k: k.position)),
        associates=tuple(AssociateResult(a, present[a.party_id], by_party[a.party_id],
                                         sum(by_party[a.party_id].values(), Decimal("0.00"))) for a in associates),
    )


def _weight(key, associate, days):
    base = {"equal": Decimal(1), "hours": associate.hours, "points": associate.points}[key.basis]
    if base < 0:
        raise DistributionError(f"{associate.name} : les heures et les points ne peuvent être négatifs.")
    weight = base * Decimal(key.profession_weights.get(associate.profession, 1))
    return weight * days if key.prorate_presence else weight


def _nobody_message(key, year):
    what = {"hours": f"aucune heure de coordination n'est enregistrée en {year}",
            "points": f"aucun point de mission n'est enregistré en {year}"}.get(
        key.basis, "tous les poids par profession sont à zéro")
    return f"La clé « {key.label} » ne peut être répartie : {what}."


def _fr(amount):
    from backoffice.formatting import format_money

    return format_money(amount) if amount is not None else "0,00 €"
