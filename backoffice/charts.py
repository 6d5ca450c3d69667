"""Server-rendered bar charts: the geometry of a grouped bar chart that a template draws as an
inline SVG (no JavaScript, no external library), with the figures kept on each bar so that the
template writes the same values in the bars' titles and in the data table beside them.

Used by the accounting's income and expense per month and by the grants programme page
(amounts committed, paid, remaining per funder; activity per quarter).
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


def grouped_bars(groups: Sequence[Sequence], kinds: Sequence[str], width=720, height=270, margin=30,
                 label_space=60, max_bar_width=None) -> dict:
    """Geometry of a grouped bar chart: ``groups`` are ``(key, value of kinds[0], value of
    kinds[1], …)``; one bar per kind in each group's slot, heights relative to the largest value
    (negative values drawn as empty bars, their value kept). ``label_space`` under the axis holds
    the groups' names. ``max_bar_width``: bars no wider, centred in their slot (two quarters
    would otherwise be drawn as two walls)."""
    peak = max([max(values[1:]) for values in groups if len(values) > 1] + [Decimal("1")])
    slot = (width - margin) / max(len(groups), 1)
    bar_width = max(slot / len(kinds) - 4, 2)
    padding = 0
    if max_bar_width is not None and bar_width > max_bar_width:
        bar_width = max_bar_width
        padding = (slot - len(kinds) * (bar_width + 2)) / 2
    usable = height - label_space
    bars = []
    for index, (key, *values) in enumerate(groups):
        for offset, (kind, value) in enumerate(zip(kinds, values)):
            shown = max(value, ZERO)
            bar_height = float(shown / peak) * usable if peak else 0
            x = margin + index * slot + padding + offset * (bar_width + 2) + 2
            bars.append(Bar(round(x, 1), round(usable - bar_height, 1), round(bar_width, 1),
                            round(bar_height, 1), value, kind, key))
    return {"bars": bars, "width": width, "height": height, "margin": margin, "usable": usable,
            "peak": peak, "slot": slot, "groups": [values[0] for values in groups], "kinds": tuple(kinds)}
