"""Server-rendered bar charts: the geometry of a grouped bar chart that a template draws as an
inline SVG (no JavaScript, no external library), with the figures kept on each bar so that the
template writes the same values in the bars' titles and in the data table beside them.

Used by the accounting's income and expense per month, by the grants programme page (amounts
committed, paid, remaining per funder; activity per quarter), and, on a round axis with its ticks,
by the membership dashboard and the SISA's expected ACI (expected and collected per year).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

ZERO = Decimal("0")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: Decimal | int
    kind: str   # the series: "income" | "expense", "committed" | "paid" | "remaining"…
    key: Any    # the group: a month, a funder's name, a quarter…


def nice_top(largest, steps):
    """The smallest round axis top (``steps`` × 1, 2, 2.5 or 5 × 10ⁿ) at or above ``largest``: an
    axis reads 0, 1 000, 2 000… rather than 0, 760, 1 520… Steps stay whole numbers (no 2.5
    below 10, whose tick would be written 2)."""
    largest = Decimal(largest)
    if largest <= 0:
        return Decimal(steps)
    magnitude = Decimal(10) ** max(0, (largest / steps).adjusted())
    factors = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
    step = next(magnitude * factor for factor in factors
                if magnitude * factor * steps >= largest and (magnitude * factor) % 1 == 0)
    return step * steps


def grouped_bars(groups: Sequence[Sequence], kinds: Sequence[str], width=720, height=270, margin=30,
                 label_space=60, max_bar_width=None, ticks=None, headroom=0) -> dict:
    """Geometry of a grouped bar chart: ``groups`` are ``(key, value of kinds[0], value of
    kinds[1], …)``; one bar per kind in each group's slot, heights relative to the largest value
    (negative values drawn as empty bars, their value kept). ``label_space`` under the axis holds
    the groups' names. ``max_bar_width``: bars no wider, centred in their slot (two quarters
    would otherwise be drawn as two walls).

    ``ticks``: the axis goes up to a round top (``nice_top``) in that many steps, listed in
    ``ticks`` as ``{"y", "value"}`` from 0 up; ``headroom``: room left above the top (for the top
    tick's label)."""
    largest = max([max(values[1:]) for values in groups if len(values) > 1] + [ZERO])
    peak = nice_top(largest, ticks) if ticks else max(largest, Decimal("1"))
    slot = (width - margin) / max(len(groups), 1)
    bar_width = max(slot / len(kinds) - 4, 2)
    padding = 0
    if max_bar_width is not None and bar_width > max_bar_width:
        bar_width = max_bar_width
        padding = (slot - len(kinds) * (bar_width + 2)) / 2
    usable = height - label_space  # the axis: bars stand on it
    tallest = usable - headroom
    bars = []
    for index, (key, *values) in enumerate(groups):
        for offset, (kind, value) in enumerate(zip(kinds, values)):
            shown = max(value, ZERO)
            bar_height = float(shown / peak) * tallest
            x = margin + index * slot + padding + offset * (bar_width + 2) + 2
            bars.append(Bar(round(x, 1), round(usable - bar_height, 1), round(bar_width, 1),
                            round(bar_height, 1), value, kind, key))
    chart = {"bars": bars, "width": width, "height": height, "margin": margin, "usable": usable,
             "peak": peak, "slot": slot, "groups": [values[0] for values in groups], "kinds": tuple(kinds)}
    if ticks:
        chart["ticks"] = [{"y": round(usable - tallest * i / ticks, 1), "value": int(peak * i / ticks)}
                          for i in range(ticks + 1)]
    return chart
