"""BusinessCalendar.business_instant_after: the inverse of business_minutes_between (SLA
due times), by hand-computed table (SPEC 5 hours, Italian holidays, Terni)."""

from __future__ import annotations

import pytest

from sportello.tariff.errors import TariffInputError
from sportello.tariff.tests.support import CALENDAR, rome


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (rome(2026, 3, 2, 9, 0), 0, rome(2026, 3, 2, 9, 0)),
        (rome(2026, 3, 2, 20, 0), 0, rome(2026, 3, 2, 20, 0)),  # 0 minutes: itself
        (rome(2026, 3, 2, 9, 0), 240, rome(2026, 3, 2, 13, 0)),  # a window's end, not 14:30
        (rome(2026, 3, 2, 9, 0), 241, rome(2026, 3, 2, 14, 31)),
        (rome(2026, 3, 2, 13, 30), 30, rome(2026, 3, 2, 15, 0)),  # starts in the lunch break
        (rome(2026, 3, 6, 18, 0), 120, rome(2026, 3, 9, 10, 0)),  # over a weekend
        (rome(2026, 3, 2, 9, 0), 510 * 5, rome(2026, 3, 6, 19, 0)),  # a working week
        (rome(2026, 4, 30, 18, 0), 90, rome(2026, 5, 4, 9, 30)),  # 1 May
        (rome(2026, 2, 13, 18, 0), 90, rome(2026, 2, 16, 9, 30)),  # 14 Feb is a Saturday
        (rome(2025, 2, 13, 18, 0), 90, rome(2025, 2, 17, 9, 30)),  # 14 Feb 2025: Friday
        (rome(2026, 3, 27, 18, 0), 120, rome(2026, 3, 30, 10, 0)),  # across the DST change
        (rome(2026, 3, 2, 9, 0), 0.5, rome(2026, 3, 2, 9, 0).replace(second=30)),
    ],
)
def test_business_instant_after(start, minutes, expected):
    due = CALENDAR.business_instant_after(start, minutes)
    assert due == expected
    assert CALENDAR.business_minutes_between(start, due) == minutes


def test_negative_minutes_are_refused():
    with pytest.raises(TariffInputError, match="0 or more"):
        CALENDAR.business_instant_after(rome(2026, 3, 2, 9, 0), -1)
