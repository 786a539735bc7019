"""The SVG bar chart builder: values in, bars and labels out (a table of cases)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sportello.billing.charts import VALUE_ROOM, WIDTH, bar_chart

ROOM = WIDTH - VALUE_ROOM  # the longest bar


@pytest.mark.parametrize(
    ("values", "widths", "desc"),
    [
        ([("A", D("100")), ("B", D("50"))], [ROOM, ROOM / 2], "A: 100; B: 50"),
        ([("A", 3), ("B", 0)], [ROOM, 0], "A: 3; B: 0"),
        ([("tiny", D("0.01")), ("big", D("10000"))], [1.0, ROOM], "tiny: 0.01; big: 10000"),
        ([("refund", D("-5")), ("B", D("5"))], [0, ROOM], "refund: -5; B: 5"),
        ([("A", 0), ("B", 0)], [0, 0], "A: 0; B: 0"),
        ([], [], "nothing"),
    ],
)
def test_bars_scale_to_the_largest_value(values, widths, desc):
    chart = bar_chart(values, title="T", empty="nothing")
    assert [float(b.width) for b in chart.bars] == pytest.approx(widths, abs=0.05)
    assert [b.label for b in chart.bars] == [label for label, _v in values]
    assert chart.desc == desc
    assert chart.height >= 40 * max(len(values), 1)


def test_each_bar_carries_its_label_and_formatted_value_below_each_other():
    chart = bar_chart(
        [("Gennaio", D("1234.5")), ("Febbraio", D("0"))],
        title="Ricavi",
        fmt=lambda v: f"{v} €",
    )
    first, second = chart.bars
    assert (first.value, second.value) == ("1234.5 €", "0 €")
    assert float(first.label_y) < float(first.y) < float(second.label_y)
    assert float(first.value_x) == pytest.approx(float(first.width) + 6)
    assert chart.view_box == f"0 0 {WIDTH} {chart.height}"
    # Coordinates are never localised (an Italian page must not write 12,5 in an SVG).
    assert all("," not in b.y + b.width + b.label_y for b in chart.bars)


def test_long_labels_are_shortened_with_an_ellipsis():
    (bar,) = bar_chart([("x" * 80, 1)], title="T").bars
    assert len(bar.label) == 40 and bar.label.endswith("…")
