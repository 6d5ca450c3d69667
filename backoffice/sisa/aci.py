"""The expected ACI of a contract year, from the points grid the SISA keeps and the indicators it
reached, compared with what the Assurance Maladie actually paid.

For each indicator of the year's grid::

    points = (fixed points + variable points × patients / reference patientèle) × achievement %

the variable points being written for the reference patientèle (the patients whose médecin
traitant is in the structure, against 4 000 by default). The expected remuneration is the sum
of the points × the value of a point (7 € by default), rounded half up to the cent, and shared
back among the indicators by ``allocate`` so that their amounts add up to it exactly; the
advance is a percentage of it (60 % by default) rounded half up, the balance the rest.

``expected`` is pure (plain values in, cents out); the other functions read and write the
grid and flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.money import CENT, allocate
from backoffice.sisa.models import IncomeKind, SisaAciGrid, SisaAciIndicator, SisaIncome

ZERO = Decimal("0.00")
DEFAULT_POINT_VALUE = Decimal("7.00")
DEFAULT_ADVANCE = Decimal("60.00")
DEFAULT_REFERENCE_PATIENTS = 4000
INDICATOR_ROWS = 12  # rows of the grid form (blank ones are skipped)


@dataclass(frozen=True)
class IndicatorInput:
    position: int
    label: str
    fixed_points: Decimal
    variable_points: Decimal
    achievement: Decimal = Decimal(100)


@dataclass(frozen=True)
class IndicatorResult:
    indicator: IndicatorInput
    points: Decimal  # reached, to the hundredth (display); the amount comes from the exact points
    amount: Decimal


@dataclass(frozen=True)
class Expected:
    year: int
    point_value: Decimal
    advance_percentage: Decimal
    patients: int
    reference_patients: int
    indicators: tuple[IndicatorResult, ...]
    total: Decimal
    advance: Decimal

    @property
    def balance(self):
        return self.total - self.advance

    @property
    def points(self):
        return sum((i.points for i in self.indicators), Decimal(0))


def _half_up_cents(value: Fraction) -> Decimal:
    cents = (value * 100 + Fraction(1, 2)).__floor__()
    return (Decimal(cents) / 100).quantize(CENT)


def expected(year, indicators, *, point_value=DEFAULT_POINT_VALUE, advance_percentage=DEFAULT_ADVANCE,
             patients=0, reference_patients=DEFAULT_REFERENCE_PATIENTS):
    """The expected remuneration of ``indicators`` (see the module docstring); exact: the
    indicators' amounts add up to the total, the advance and the balance too."""
    if reference_patients <= 0:
        raise ValueError("the reference patientèle is positive")
    scale = Fraction(patients, reference_patients)
    exact = {i.position: (Fraction(i.fixed_points) + Fraction(i.variable_points) * scale) * Fraction(i.achievement) / 100
             for i in indicators}
    total = _half_up_cents(sum(exact.values(), Fraction(0)) * Fraction(point_value))
    amounts = allocate(total, exact) if total > 0 else {position: ZERO for position in exact}
    advance = _half_up_cents(Fraction(total) * Fraction(advance_percentage) / 100)
    return Expected(year, Decimal(point_value), Decimal(advance_percentage), patients, reference_patients,
                    tuple(IndicatorResult(i, _half_up_cents(exact[i.position]), amounts[i.position])
                          for i in indicators), total, advance)


# --------------------------------------------------------------------------------------------
# The grid, kept per contract year
# --------------------------------------------------------------------------------------------

def grid(organisation, year):
    return db.session.scalar(select(SisaAciGrid).where(SisaAciGrid.organisation_id == organisation.id,
                                                       SisaAciGrid.year == year))


def starting_grid(organisation, year):
    """What the grid form of ``year`` starts from: its grid, else the latest earlier year's
    (the grid rarely changes between avenants), else the defaults with no indicator. Nothing stored."""
    found = grid(organisation, year) or db.session.scalar(
        select(SisaAciGrid).where(SisaAciGrid.organisation_id == organisation.id, SisaAciGrid.year < year)
        .order_by(SisaAciGrid.year.desc()).limit(1))
    if found is None:
        return SisaAciGrid(year=year, point_value=DEFAULT_POINT_VALUE, advance_percentage=DEFAULT_ADVANCE,
                           reference_patients=DEFAULT_REFERENCE_PATIENTS, patients=0), []
    return found, list(found.indicators)


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator as typed on the form (text), before it is checked."""

    label: str = ""
    fixed_points: str = ""
    variable_points: str = ""
    achievement: str = ""


def _number(text, what, *, upper=None, integer=False, default=None):
    from backoffice.sisa.services import SisaError

    raw = str(text or "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("%", "")
    raw = raw.replace("€", "").replace(",", ".")
    if not raw:
        if default is not None:
            return default
        raise SisaError(f"{what} est obligatoire.", "grid")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise SisaError(f"{what} est illisible : « {text} ».", "grid") from None
    if not value.is_finite() or value < 0 or (upper is not None and value > upper):
        bound = f" et {upper}" if upper is not None else ""
        raise SisaError(f"{what} doit être compris entre 0{bound} (« {text} »).", "grid")
    if integer:
        if value != value.to_integral_value():
            raise SisaError(f"{what} est un nombre entier (« {text} »).", "grid")
        return int(value)
    if value != value.quantize(CENT):
        raise SisaError(f"{what} a au plus deux décimales (« {text} »).", "grid")
    return value.quantize(CENT)


def save_grid(organisation, year, *, point_value, advance_percentage, reference_patients, patients, rows):
    """Create or replace the grid of ``year``: its settings and its indicators (``IndicatorRow``,
    in order; blank rows skipped). French ``SisaError`` naming the indicator or setting that is
    wrong; nothing is changed then."""
    from backoffice.sisa.services import SisaError

    point_value = _number(point_value, "La valeur du point")
    if point_value <= 0:
        raise SisaError("La valeur du point doit être positive.", "grid")
    advance_percentage = _number(advance_percentage, "Le pourcentage de l'avance", upper=Decimal(100))
    reference_patients = _number(reference_patients, "La patientèle de référence", integer=True)
    if reference_patients <= 0:
        raise SisaError("La patientèle de référence doit être positive.", "grid")
    patients = _number(patients, "La patientèle médecin traitant de la structure", integer=True, default=0)
    indicators = []
    for row in rows:
        if not any(str(value or "").strip() for value in (row.label, row.fixed_points, row.variable_points)):
            continue
        label = " ".join((row.label or "").split())
        if not label:
            raise SisaError("Chaque indicateur a un libellé.", "grid")
        fixed = _number(row.fixed_points, f"Les points fixes de « {label} »", default=Decimal(0))
        variable = _number(row.variable_points, f"Les points variables de « {label} »", default=Decimal(0))
        achievement = _number(row.achievement, f"Le taux d'atteinte de « {label} »", upper=Decimal(100),
                              default=Decimal(100))
        indicators.append(SisaAciIndicator(position=len(indicators) + 1, label=label[:200], fixed_points=fixed,
                                           variable_points=variable, achievement=achievement))
    if not indicators:
        raise SisaError("La grille n'a aucun indicateur : saisissez au moins une ligne.", "grid")
    row = grid(organisation, year)
    if row is None:
        row = SisaAciGrid(organisation_id=organisation.id, year=year)
        db.session.add(row)
    row.point_value, row.advance_percentage = point_value, advance_percentage
    row.reference_patients, row.patients = reference_patients, patients
    row.indicators.clear()
    db.session.flush()  # the old positions go before the new ones come (unique per grid)
    row.indicators.extend(indicators)
    db.session.flush()
    return row


def expected_of(row):
    """``expected`` for a stored grid."""
    return expected(row.year, [IndicatorInput(i.position, i.label, Decimal(i.fixed_points), Decimal(i.variable_points),
                                              Decimal(i.achievement)) for i in row.indicators],
                    point_value=Decimal(row.point_value), advance_percentage=Decimal(row.advance_percentage),
                    patients=row.patients, reference_patients=row.reference_patients)


# --------------------------------------------------------------------------------------------
# Expected against received
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    year: int
    expected: Expected | None
    advance_received: Decimal
    balance_received: Decimal

    @property
    def received(self):
        return self.advance_received + self.balance_received

    @property
    def balance_expected(self):
        """What the balance should bring in N+1: the expected total less the advance received."""
        return self.expected.total - self.advance_received if self.expected else None

    @property
    def advance_gap(self):
        return self.advance_received - self.expected.advance if self.expected else None

    @property
    def gap(self):
        """Received less expected (negative: the Assurance Maladie paid less than the grid gives)."""
        return self.received - self.expected.total if self.expected else None

    @property
    def balance_outstanding(self):
        """The balance still to come (None once it is received, or without a grid)."""
        if self.expected is None or self.balance_received > 0:
            return None
        return self.balance_expected


def _received(organisation, years):
    """{(year, kind): total} of the ACI advance and balance received for ``years`` (one query)."""
    return {(year, kind): Decimal(total).quantize(CENT) for year, kind, total in db.session.execute(
        select(SisaIncome.year, SisaIncome.kind, func.sum(SisaIncome.amount)).where(
            SisaIncome.organisation_id == organisation.id, SisaIncome.year.in_(list(years)),
            SisaIncome.kind.in_([IncomeKind.ADVANCE.value, IncomeKind.BALANCE.value]))
        .group_by(SisaIncome.year, SisaIncome.kind))}


def comparison(organisation, year):
    row = grid(organisation, year)
    received = _received(organisation, [year])
    return Comparison(year, expected_of(row) if row else None, received.get((year, "advance"), ZERO),
                      received.get((year, "balance"), ZERO))


@dataclass(frozen=True)
class HistoryPoint:
    year: int
    expected: Decimal
    collected: Decimal  # the name membership's bar chart reads


def history(organisation):
    """[HistoryPoint] of every year with a grid or ACI income, oldest first (a few queries)."""
    grids = {g.year: g for g in db.session.scalars(select(SisaAciGrid).where(
        SisaAciGrid.organisation_id == organisation.id))}
    income_years = set(db.session.scalars(select(SisaIncome.year).distinct().where(
        SisaIncome.organisation_id == organisation.id,
        SisaIncome.kind.in_([IncomeKind.ADVANCE.value, IncomeKind.BALANCE.value]))))
    years = sorted(set(grids) | income_years)
    received = _received(organisation, years) if years else {}
    return [HistoryPoint(year, expected_of(grids[year]).total if year in grids else ZERO,
                         received.get((year, "advance"), ZERO) + received.get((year, "balance"), ZERO))
            for year in years]


def chart(points):
    """The grouped bars (expected, received) of ``history`` for an inline SVG: membership's chart
    of the years (``backoffice.charts``, a round axis)."""
    from backoffice.membership.stats import bar_chart

    return bar_chart(points) if points else None
