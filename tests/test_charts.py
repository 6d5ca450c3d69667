"""``backoffice.charts``: the round axis (``ticks``) and the room above it (``headroom``); the
plain geometry is tested with the grants programme page (tests/grants/test_report.py)."""
from decimal import Decimal as D

import pytest

from backoffice.charts import grouped_bars, nice_top


@pytest.mark.parametrize("largest, top", [
    ("0.00", 4), ("3.00", 4), ("7.00", 8), ("9.00", 20), ("40.00", 40), ("95.50", 100),
    ("410.00", 800), ("3040.00", 4000), ("25115.04", 40000), (12, 20),
])
def test_the_axis_top_is_round_with_whole_steps(largest, top):
    # 9 € would be 4 × 2,5 = 10: a tick written "2 €" at 2,5 €; the next whole step is 5.
    assert nice_top(D(largest) if isinstance(largest, str) else largest, 4) == top


def test_ticks_put_the_axis_on_a_round_top_and_leave_room_above_it():
    groups = [(2025, D("1520.00"), D("760.00")), (2026, D("2900.00"), D("-10.00"))]
    plain = grouped_bars(groups, ("expected", "collected"), width=640, height=260, margin=40, label_space=40)
    assert "ticks" not in plain and plain["peak"] == D("2900.00")
    assert max(b.height for b in plain["bars"]) == 220.0   # the tallest bar fills the chart

    chart = grouped_bars(groups, ("expected", "collected"), width=640, height=260, margin=40, label_space=40,
                         headroom=40, ticks=4)
    assert chart["peak"] == D("4000") and chart["usable"] == 220
    assert chart["ticks"] == [{"y": 220.0, "value": 0}, {"y": 175.0, "value": 1000}, {"y": 130.0, "value": 2000},
                              {"y": 85.0, "value": 3000}, {"y": 40.0, "value": 4000}]
    heights = {(b.key, b.kind): b.height for b in chart["bars"]}
    # 180 points of height for 4 000 €: 2 900 € stands at 130,5, below the top tick (y 40).
    assert heights == {(2025, "expected"): 68.4, (2025, "collected"): 34.2,
                       (2026, "expected"): 130.5, (2026, "collected"): 0.0}
    assert all(b.y + b.height == pytest.approx(220) for b in chart["bars"])
    assert min(b.y for b in chart["bars"]) >= 40


def test_ticks_of_counts_and_of_nothing():
    assert [t["value"] for t in grouped_bars([("T1", 3, 7)], ("a", "b"), ticks=4)["ticks"]] == [0, 2, 4, 6, 8]
    empty = grouped_bars([(2026, D("0.00"), D("0.00"))], ("a", "b"), ticks=4)
    assert [t["value"] for t in empty["ticks"]] == [0, 1, 2, 3, 4] and [b.height for b in empty["bars"]] == [0, 0]
