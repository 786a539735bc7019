"""Horizontal bar charts as plain data for an inline SVG (``billing/chart.html``).

No script and no style attribute (the CSP allows neither): the template draws ``rect``
and ``text`` elements with the coordinates computed here and classes from
``billing.css``. Every bar carries its label and its value as text, so the chart reads
without colour, and the SVG has a ``<title>`` and a ``<desc>`` listing every value for
a screen reader; the table beside it holds the same figures.

Coordinates are strings with one decimal and a point (``"12.5"``), never localised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 320  # viewBox units; the SVG scales to its box (about 1:1 on a 360 px phone)
ROW = 40  # label line, bar, gap
LABEL_HEIGHT = 16
BAR_HEIGHT = 16
VALUE_ROOM = 90  # room right of the longest bar for its value
TOP = 4
LABEL_MAX = 40  # characters of a label drawn (the table has the whole name)


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # formatted, as drawn
    x: str
    y: str  # top of the bar
    width: str
    height: str
    label_y: str  # baseline of the label above the bar
    value_x: str  # start of the value text, right of the bar
    value_y: str


@dataclass(frozen=True)
class Chart:
    title: str
    desc: str
    width: int
    height: int
    bars: tuple[Bar, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _coord(value: float) -> str:
    return f"{value:.1f}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def bar_chart(
    values: Sequence[tuple[str, Decimal | int]],
    *,
    title: str,
    fmt: Callable[[Decimal | int], str] = str,
    empty: str = "",
) -> Chart:
    """One bar per ``(label, value)``, in the given order, scaled to the largest value.

    Negative values draw no bar (the text still says them); a positive value too small
    to see gets one unit, so it never looks like zero. ``desc`` lists ``label: value``
    for every bar (``empty`` when there are none).
    """
    largest = max((Decimal(v) for _label, v in values if Decimal(v) > 0), default=Decimal(0))
    room = WIDTH - VALUE_ROOM
    bars = []
    for index, (label, value) in enumerate(values):
        top = TOP + index * ROW
        amount = Decimal(value)
        if amount > 0 and largest > 0:
            width = max(float(amount / largest) * room, 1.0)
        else:
            width = 0.0
        bars.append(
            Bar(
                label=_short(str(label)),
                value=fmt(value),
                x="0.0",
                y=_coord(top + LABEL_HEIGHT + 2),
                width=_coord(width),
                height=_coord(BAR_HEIGHT),
                label_y=_coord(top + LABEL_HEIGHT - 3),
                value_x=_coord(width + 6),
                value_y=_coord(top + LABEL_HEIGHT + 2 + BAR_HEIGHT - 3),
            )
        )
    desc = "; ".join(f"{label}: {fmt(value)}" for label, value in values) or empty
    height = TOP + max(len(bars), 1) * ROW
    return Chart(title=title, desc=desc, width=WIDTH, height=height, bars=tuple(bars))
