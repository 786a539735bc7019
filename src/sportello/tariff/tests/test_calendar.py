"""Business calendar: support windows, holidays, DST, offsets, SLA minutes (SPEC 5, STYLE 2.6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from sportello.tariff.calendar import (
    BusinessCalendar,
    default_calendar,
    italian_holidays,
)
from sportello.tariff.errors import CalendarCoverageError, TariffInputError
from sportello.tariff.tests.support import CALENDAR, rome

IST = timezone(timedelta(hours=5, minutes=30))
NYC_WINTER = timezone(timedelta(hours=-5))
KIRIBATI = timezone(timedelta(hours=14))


# -- window edges (Monday 2 March 2026) -----------------------------------------------------------
@pytest.mark.parametrize(
    ("hour", "minute", "second", "micro", "expected"),
    [
        (0, 0, 0, 0, False),
        (8, 59, 0, 0, False),
        (8, 59, 59, 999999, False),
        (9, 0, 0, 0, True),  # "a start at 09:00 ... is in hours"
        (12, 59, 0, 0, True),
        (12, 59, 59, 999999, True),
        (13, 0, 0, 0, False),  # "at 13:00 ... out of hours"
        (14, 29, 0, 0, False),
        (14, 29, 59, 0, False),
        (14, 30, 0, 0, True),
        (18, 59, 0, 0, True),
        (19, 0, 0, 0, False),
        (23, 59, 59, 0, False),
    ],
)
def test_it_applies_window_edges(hour, minute, second, micro, expected):
    instant = datetime(2026, 3, 2, hour, minute, second, micro, tzinfo=rome(2026, 1, 1).tzinfo)
    assert CALENDAR.is_in_hours(instant) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 6), True),  # Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2024, 11, 1), False),  # All Saints', a Friday
        (date(2027, 11, 1), False),  # All Saints', a Monday
        (date(2027, 11, 2), True),
        (date(2026, 4, 6), False),  # Easter Monday 2026
        (date(2025, 4, 21), False),  # Easter Monday 2025
        (date(2025, 4, 22), True),
        (date(2025, 2, 14), False),  # Terni's patron saint, a Friday
        (date(2024, 2, 14), False),  # ... a Wednesday
        (date(2025, 2, 13), True),
        (date(2026, 1, 1), False),
        (date(2026, 1, 6), False),
        (date(2025, 4, 25), False),
        (date(2026, 5, 1), False),
        (date(2026, 6, 2), False),
        (date(2025, 8, 15), False),
        (date(2025, 12, 8), False),
        (date(2025, 12, 24), True),
        (date(2025, 12, 25), False),
        (date(2025, 12, 26), False),
    ],
)
def test_it_knows_weekends_and_holidays(day, expected):
    instant = datetime.combine(day, time(10, 0), tzinfo=rome(2026, 1, 1).tzinfo)
    assert CALENDAR.is_in_hours(instant) is expected
    assert CALENDAR.is_business_day(day) is expected


def test_it_takes_holidays_as_an_argument():
    bare = BusinessCalendar()  # no holidays given: Easter Monday is a plain Monday
    assert bare.is_in_hours(rome(2026, 4, 6, 10, 0)) is True
    with_it = BusinessCalendar(holidays=frozenset({date(2026, 4, 6)}))
    assert with_it.is_in_hours(rome(2026, 4, 6, 10, 0)) is False


# -- holidays helper ------------------------------------------------------------------------------
def test_italian_holidays_include_terni_patron_day_easter_monday_and_all_saints():
    days = italian_holidays([2026, 2027])
    for d in (date(2026, 2, 14), date(2027, 2, 14), date(2026, 4, 6), date(2027, 3, 29)):
        assert d in days
    assert date(2026, 11, 1) in days and date(2027, 11, 1) in days
    assert all(d.year in (2026, 2027) for d in days)
    assert isinstance(days, frozenset)


def test_italian_holidays_add_patron_days_explicitly():
    national = italian_holidays(2025, province=None)
    assert date(2025, 2, 14) not in national
    assert date(2025, 2, 14) in italian_holidays(2025, province=None, patron_days=[(2, 14)])
    assert date(2025, 9, 1) in italian_holidays(2025, province=None, patron_days=[(9, 1)])


def test_italian_holidays_reject_an_unknown_province():
    with pytest.raises(TariffInputError) as info:
        italian_holidays(2026, province="XX")
    assert info.value.field == "province"


def test_default_calendar_is_built_once_per_set_of_years():
    assert default_calendar([2026, 2025]) is default_calendar((2025, 2026, 2026))
    assert default_calendar(2026).covered_years == frozenset({2026})


# -- DST and offsets ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # Last Sunday of March 2026 is the 29th: 07:30 UTC is 08:30 before, 09:30 after.
        (datetime(2026, 3, 27, 7, 30, tzinfo=UTC), False),
        (datetime(2026, 3, 30, 7, 30, tzinfo=UTC), True),
        (datetime(2026, 3, 30, 6, 59, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 30, 16, 59, tzinfo=UTC), True),
        (datetime(2026, 3, 30, 17, 0, tzinfo=UTC), False),
        # Last Sunday of October 2026 is the 25th: 12:30 UTC is 14:30 before, 13:30 after.
        (datetime(2026, 10, 23, 12, 30, tzinfo=UTC), True),
        (datetime(2026, 10, 26, 12, 30, tzinfo=UTC), False),
        (datetime(2026, 10, 26, 13, 30, tzinfo=UTC), True),
        (datetime(2026, 10, 26, 17, 59, tzinfo=UTC), True),
        (datetime(2026, 10, 26, 18, 0, tzinfo=UTC), False),
        # The DST nights themselves are weekend nights.
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), False),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), False),
    ],
)
def test_it_follows_the_rome_wall_clock_across_dst(instant, expected):
    assert CALENDAR.is_in_hours(instant) is expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 3, 2, 13, 30, tzinfo=IST), True),  # 09:00 Rome
        (datetime(2026, 3, 2, 13, 29, 59, tzinfo=IST), False),
        (datetime(2026, 3, 2, 17, 59, 59, tzinfo=UTC), True),  # 18:59:59 Rome
        (datetime(2026, 3, 2, 18, 0, tzinfo=UTC), False),  # 19:00 Rome
        (datetime(2026, 3, 2, 3, 0, tzinfo=NYC_WINTER), True),  # 09:00 Rome
        (datetime(2026, 3, 3, 1, 0, tzinfo=KIRIBATI), True),  # Monday 12:00 Rome
        (datetime(2026, 3, 7, 0, 30, tzinfo=KIRIBATI), True),  # Friday 11:30 Rome
        (datetime(2026, 3, 6, 22, 0, tzinfo=NYC_WINTER), False),  # Saturday 04:00 Rome
        (datetime.fromisoformat("2026-03-02T11:00:00Z"), True),
    ],
)
def test_it_accepts_any_offset(instant, expected):
    assert CALENDAR.is_in_hours(instant) is expected


def test_it_refuses_naive_datetimes():
    with pytest.raises(TariffInputError, match="naive") as info:
        CALENDAR.is_in_hours(datetime(2026, 3, 2, 10, 0))
    assert info.value.field == "instant"
    with pytest.raises(TariffInputError, match="naive"):
        CALENDAR.business_minutes_between(rome(2026, 3, 2, 9, 0), datetime(2026, 3, 2, 10, 0))


def test_it_refuses_days_of_years_without_holidays():
    only_2026 = default_calendar([2026])
    with pytest.raises(CalendarCoverageError, match="2027"):
        only_2026.is_in_hours(rome(2027, 11, 1, 10, 0))
    assert only_2026.is_in_hours(rome(2026, 11, 2, 10, 0)) is True


# -- closures, extra openings, custom windows -----------------------------------------------------
def test_closures_and_extra_openings():
    cal = BusinessCalendar(
        holidays=frozenset({date(2026, 4, 6)}),
        closures=frozenset({date(2026, 3, 2)}),
        extra_openings=frozenset({date(2026, 3, 7), date(2026, 4, 6)}),
    )
    assert cal.is_in_hours(rome(2026, 3, 2, 10, 0)) is False  # company closure
    assert cal.is_in_hours(rome(2026, 3, 7, 10, 0)) is True  # Saturday opening
    assert cal.is_in_hours(rome(2026, 3, 7, 13, 0)) is False  # weekday windows apply
    assert cal.is_in_hours(rome(2026, 4, 6, 14, 30)) is True  # opening beats holiday


def test_a_date_cannot_be_closed_and_open():
    with pytest.raises(TariffInputError, match="both a closure and an extra opening"):
        BusinessCalendar(closures={date(2026, 3, 2)}, extra_openings={date(2026, 3, 2)})


@pytest.mark.parametrize(
    ("weekly", "field"),
    [
        (((time(9), time(13)),) * 6, "weekly_windows"),
        ((((time(13), time(9)),),) * 7, "weekly_windows[0]"),
        (((time(9), time(13)),) * 7, "weekly_windows[0]"),  # a window, not a day of windows
        ((((time(9), time(13)), (time(12), time(14))),) * 7, "weekly_windows[0]"),
        ((((time(9, 0, 0, 5), time(13)),),) * 7, "weekly_windows[0]"),
    ],
)
def test_it_validates_windows(weekly, field):
    with pytest.raises(TariffInputError) as info:
        BusinessCalendar(weekly_windows=weekly)
    assert info.value.field == field


def test_it_validates_the_time_zone():
    with pytest.raises(TariffInputError) as info:
        BusinessCalendar(tz_name="Europe/Terni")
    assert info.value.field == "tz_name"


# -- business minutes (SLA clocks) ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [
        (rome(2026, 3, 2, 9, 0), rome(2026, 3, 2, 10, 0), 60),
        (rome(2026, 3, 2, 12, 0), rome(2026, 3, 2, 15, 0), 90),  # lunch break skipped
        (rome(2026, 3, 2, 0, 0), rome(2026, 3, 3, 0, 0), 510),  # 4 h + 4 h 30
        (rome(2026, 3, 2, 19, 0), rome(2026, 3, 3, 9, 0), 0),
        # Over a weekend: Friday 18:00 -> Monday 10:00.
        (rome(2026, 3, 6, 18, 0), rome(2026, 3, 9, 10, 0), 120),
        # Over the spring DST weekend, and a whole DST week either way.
        (rome(2026, 3, 27, 18, 0), rome(2026, 3, 30, 10, 0), 120),
        (rome(2026, 3, 23, 0, 0), rome(2026, 3, 30, 0, 0), 5 * 510),
        (rome(2026, 3, 30, 0, 0), rome(2026, 3, 31, 0, 0), 510),
        (rome(2026, 10, 23, 18, 0), rome(2026, 10, 26, 10, 0), 120),
        (rome(2026, 10, 19, 0, 0), rome(2026, 10, 26, 0, 0), 5 * 510),
        # Over Easter Monday 2026 and All Saints' 2027 (a Monday).
        (rome(2026, 4, 3, 18, 0), rome(2026, 4, 7, 10, 0), 120),
        (rome(2027, 10, 29, 18, 0), rome(2027, 11, 2, 10, 0), 120),
        # Mixed offsets: 08:00 UTC is 09:00 Rome; 15:30 +05:30 is 11:00 Rome.
        (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), datetime(2026, 3, 2, 15, 30, tzinfo=IST), 120),
        (rome(2026, 3, 2, 9, 0, 30), rome(2026, 3, 2, 9, 1, 0), 0.5),
        (rome(2026, 3, 2, 10, 0), rome(2026, 3, 2, 10, 0), 0),
    ],
)
def test_business_minutes_between(a, b, minutes):
    result = CALENDAR.business_minutes_between(a, b)
    assert result == minutes
    assert isinstance(result, int) is isinstance(minutes, int)
    assert CALENDAR.business_minutes_between(b, a) == -minutes


def test_business_minutes_count_real_time_across_a_dst_night():
    # Windows that span the DST change (01:00-04:00 local, every day).
    night = ((time(1, 0), time(4, 0)),)
    cal = BusinessCalendar(weekly_windows=(night,) * 7)
    # 29 March 2026: 02:00-03:00 does not exist, so the window lasts 2 hours.
    assert cal.business_minutes_between(rome(2026, 3, 29, 0, 0), rome(2026, 3, 29, 12, 0)) == 120
    # 25 October 2026: 02:00-03:00 happens twice, so the window lasts 4 hours.
    assert cal.business_minutes_between(rome(2026, 10, 25, 0, 0), rome(2026, 10, 25, 12, 0)) == 240
    assert cal.business_minutes_between(rome(2026, 10, 24, 0, 0), rome(2026, 10, 24, 12, 0)) == 180
