"""Business calendar: support hours, holidays, closures, for tariffs and SLA clocks.

Policy (assistenza.txt): "dal Lunedi al Venerdi dalle ore 9.00 alle ore 13.00 e dalle ore
14.30 alle ore 19.00"; SPEC 5 adds Europe/Rome, the Italian public holidays and the local
patron saint's day (Terni: 14 February). Everything here is data with those values as
defaults (SPEC: "as configuration ..., never as hard-coded constants").

Pure Python: no Django (STYLE 2.1). The holiday set is an argument (STYLE 2.6), so the hot
functions never look anything up; :func:`italian_holidays` builds it once, outside them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sportello.tariff.errors import CalendarCoverageError, TariffInputError

__all__ = [
    "DEFAULT_TZ_NAME",
    "DEFAULT_WEEKDAY_WINDOWS",
    "DEFAULT_WEEKLY_WINDOWS",
    "PATRON_DAYS",
    "BusinessCalendar",
    "Window",
    "default_calendar",
    "ensure_aware",
    "italian_holidays",
]

Window = tuple[time, time]
"""A support window ``(start, end)`` in local wall-clock time: start included, end excluded."""

DEFAULT_TZ_NAME = "Europe/Rome"
# Policy: 9.00-13.00 and 14.30-19.00.
DEFAULT_WEEKDAY_WINDOWS: tuple[Window, ...] = (
    (time(9, 0), time(13, 0)),
    (time(14, 30), time(19, 0)),
)
# Policy: "dal Lunedi al Venerdi"; index 0 is Monday, as in date.weekday().
DEFAULT_WEEKLY_WINDOWS: tuple[tuple[Window, ...], ...] = (DEFAULT_WEEKDAY_WINDOWS,) * 5 + ((),) * 2

# SPEC 5: "the local patron saint's day (Terni: 14 February)". Province code -> (month, day).
PATRON_DAYS: Mapping[str, tuple[tuple[int, int], ...]] = {"TR": ((2, 14),)}

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_ZERO = timedelta(0)


def ensure_aware(instant: datetime, *, field_name: str = "instant") -> None:
    """Raise :class:`TariffInputError` unless ``instant`` is an aware ``datetime``.

    A naive datetime would be read in the server's local time by ``astimezone``, which is
    exactly the silent error STYLE 2.6 forbids ("Aware datetimes only").
    """
    tzinfo = getattr(instant, "tzinfo", None)
    if tzinfo is None or tzinfo.utcoffset(instant) is None:
        if not isinstance(instant, datetime):
            raise TariffInputError(
                f"{field_name} must be a datetime, got {type(instant).__name__}.",
                code="wrong_type",
                field=field_name,
            )
        raise TariffInputError(
            f"{field_name} is a naive datetime ({instant.isoformat()}): give it a time zone, "
            "e.g. datetime(..., tzinfo=ZoneInfo('Europe/Rome')) or an ISO string with an offset.",
            code="naive_datetime",
            field=field_name,
        )


def _seconds_of_day(t: time, *, field_name: str) -> int:
    if t.tzinfo is not None:
        raise TariffInputError(
            f"{field_name}: support windows are local wall-clock times; drop the tzinfo.",
            field=field_name,
        )
    if t.microsecond:
        raise TariffInputError(
            f"{field_name}: support windows must start and end on a whole second.",
            field=field_name,
        )
    return t.hour * 3600 + t.minute * 60 + t.second


def _normalise_windows(
    windows: Iterable[Window], *, field_name: str
) -> tuple[tuple[Window, ...], tuple[tuple[int, int], ...]]:
    """Validate windows; return them sorted, plus their (start, end) seconds of day."""
    pairs_in = tuple(windows)
    for window in pairs_in:
        if not (
            isinstance(window, tuple)
            and len(window) == 2
            and all(isinstance(t, time) for t in window)
        ):
            raise TariffInputError(
                f"{field_name}: {window!r} is not a (start, end) pair of datetime.time; "
                "write e.g. (time(9, 0), time(13, 0)).",
                field=field_name,
            )
    pairs = sorted(pairs_in, key=lambda w: w[0])
    as_seconds: list[tuple[int, int]] = []
    for start, end in pairs:
        lo = _seconds_of_day(start, field_name=field_name)
        hi = _seconds_of_day(end, field_name=field_name)
        if hi <= lo:
            raise TariffInputError(
                f"{field_name}: window {start:%H:%M}-{end:%H:%M} ends before it starts; "
                "a window cannot cross midnight (split it in two days).",
                field=field_name,
            )
        if as_seconds and lo < as_seconds[-1][1]:
            raise TariffInputError(
                f"{field_name}: windows overlap at {start:%H:%M}; merge them.", field=field_name
            )
        as_seconds.append((lo, hi))
    return tuple(pairs), tuple(as_seconds)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When support is "in hours": weekly windows in one time zone, minus holidays/closures.

    Precedence for a local date: a *closure* is never open; an *extra opening* follows
    ``extra_opening_windows`` even on a weekend or holiday; a *holiday* is never open;
    any other day follows ``weekly_windows[date.weekday()]``. A date that is both a closure
    and an extra opening is rejected at construction.

    ``covered_years``: the years whose holidays ``holidays`` really lists. When set, asking
    about a plain day of another year raises :class:`CalendarCoverageError` instead of
    silently treating, say, 1 November of that year as a working day. ``None`` means the
    caller vouches for the holiday set.

    Build it once and reuse it: construction precomputes everything the hot path needs.
    """

    weekly_windows: tuple[tuple[Window, ...], ...] = DEFAULT_WEEKLY_WINDOWS
    tz_name: str = DEFAULT_TZ_NAME
    holidays: frozenset[date] = frozenset()
    closures: frozenset[date] = frozenset()
    extra_openings: frozenset[date] = frozenset()
    # None: the first weekday that has windows (Monday's, by default).
    extra_opening_windows: tuple[Window, ...] | None = None
    covered_years: frozenset[int] | None = None

    tz: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _week_seconds: tuple[tuple[tuple[int, int], ...], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _special_seconds: dict[date, tuple[tuple[int, int], ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _special_windows: dict[date, tuple[Window, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        try:
            tz = ZoneInfo(self.tz_name)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise TariffInputError(
                f"tz_name {self.tz_name!r} is not an IANA time zone; use e.g. 'Europe/Rome'.",
                field="tz_name",
            )
        setattr_(self, "tz", tz)

        weekly = tuple(self.weekly_windows)
        if len(weekly) != 7:
            raise TariffInputError(
                f"weekly_windows needs 7 entries (Monday first), got {len(weekly)}.",
                field="weekly_windows",
            )
        week_windows: list[tuple[Window, ...]] = []
        week_seconds: list[tuple[tuple[int, int], ...]] = []
        for index, day in enumerate(weekly):
            wins, secs = _normalise_windows(day, field_name=f"weekly_windows[{index}]")
            week_windows.append(wins)
            week_seconds.append(secs)
        setattr_(self, "weekly_windows", tuple(week_windows))
        setattr_(self, "_week_seconds", tuple(week_seconds))

        for name in ("holidays", "closures", "extra_openings"):
            value = frozenset(getattr(self, name))
            for d in value:
                if not isinstance(d, date) or isinstance(d, datetime):
                    raise TariffInputError(
                        f"{name} must hold datetime.date values, got {d!r}.", field=name
                    )
            setattr_(self, name, value)
        clash = self.closures & self.extra_openings
        if clash:
            raise TariffInputError(
                f"{min(clash).isoformat()} is both a closure and an extra opening; keep one.",
                field="closures",
            )

        extra = self.extra_opening_windows
        if extra is None:
            extra = next((w for w in week_windows if w), DEFAULT_WEEKDAY_WINDOWS)
        extra_windows, extra_seconds = _normalise_windows(extra, field_name="extra_opening_windows")
        setattr_(self, "extra_opening_windows", extra_windows)
        if self.covered_years is not None:
            setattr_(self, "covered_years", frozenset(self.covered_years))

        # One dict lookup per instant in the hot path: every non-ordinary date, resolved.
        special_seconds: dict[date, tuple[tuple[int, int], ...]] = {}
        special_windows: dict[date, tuple[Window, ...]] = {}
        for d in self.holidays | self.closures:
            special_seconds[d] = ()
            special_windows[d] = ()
        for d in self.extra_openings:  # an extra opening beats a holiday
            special_seconds[d] = extra_seconds
            special_windows[d] = extra_windows
        setattr_(self, "_special_seconds", special_seconds)
        setattr_(self, "_special_windows", special_windows)

    # -- queries ------------------------------------------------------------------------

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The support windows of a local date (empty on holidays, closures, weekends).

        Raises :class:`CalendarCoverageError` for an ordinary day of a year outside
        ``covered_years``.
        """
        windows = self._special_windows.get(day)
        if windows is None:
            self._check_covered(day)
            windows = self.weekly_windows[day.weekday()]
        return windows

    def is_business_day(self, day: date) -> bool:
        """True when the local date has at least one support window."""
        return bool(self.windows_on(day))

    def is_in_hours(self, instant: datetime) -> bool:
        """Whether ``instant`` falls inside a support window (SPEC 5, "Out of hours").

        Edge cases:
        - a start at a window's first second is in hours (09:00, 14:30), at its end it is
          out of hours (13:00, 19:00); 12:59:59.999999 is still in hours;
        - the instant may carry any offset (UTC, +05:30, ...): it is converted to the
          calendar's zone first, so the local wall clock decides, DST included;
        - naive datetimes raise :class:`TariffInputError` (they are ambiguous);
        - a plain day outside ``covered_years`` raises :class:`CalendarCoverageError`.
        """
        tzinfo = instant.tzinfo
        if tzinfo is None or tzinfo.utcoffset(instant) is None:
            ensure_aware(instant)
        local = instant.astimezone(self.tz)
        day = local.date()
        windows = self._special_seconds.get(day)
        if windows is None:
            covered = self.covered_years
            if covered is not None and day.year not in covered:
                self._check_covered(day)
            windows = self._week_seconds[day.weekday()]
        # Whole seconds suffice: windows start and end on whole seconds.
        second = local.hour * 3600 + local.minute * 60 + local.second
        for lo, hi in windows:
            if lo <= second < hi:
                return True
        return False

    def business_minutes_between(self, a: datetime, b: datetime) -> int | float:
        """Minutes of support windows between two aware instants (for SLA clocks).

        Edge cases:
        - the result is an ``int`` when it is a whole number of minutes, else a ``float``;
        - ``b`` before ``a`` gives the negated amount (the function is antisymmetric);
        - windows are local wall-clock times turned into instants with zoneinfo, so the
          short and long nights of DST change nothing: 09:00-13:00 is 4 hours either way;
        - a window boundary inside a DST gap (only possible with custom windows around
          02:00-03:00) is read with the pre-transition offset (``fold=0``);
        - days outside ``covered_years`` raise :class:`CalendarCoverageError`.
        """
        ensure_aware(a, field_name="a")
        ensure_aware(b, field_name="b")
        if b < a:
            result = self.business_minutes_between(b, a)
            return -result
        start = a.astimezone(UTC)
        end = b.astimezone(UTC)
        tz = self.tz
        day = start.astimezone(tz).date()
        last = end.astimezone(tz).date()
        total = _ZERO
        while day <= last:
            for lo, hi in self.windows_on(day):
                window_start = datetime.combine(day, lo, tzinfo=tz).astimezone(UTC)
                window_end = datetime.combine(day, hi, tzinfo=tz).astimezone(UTC)
                overlap_start = window_start if window_start > start else start
                overlap_end = window_end if window_end < end else end
                if overlap_end > overlap_start:
                    total += overlap_end - overlap_start
            day += _ONE_DAY
        whole, rest = divmod(total, _ONE_MINUTE)
        return whole if not rest else total / _ONE_MINUTE

    def business_instant_after(self, start: datetime, minutes: int | float) -> datetime:
        """The instant at which ``minutes`` of support windows have passed since ``start``
        (the inverse of :meth:`business_minutes_between`, for SLA due times).

        Edge cases:
        - ``minutes`` 0 gives ``start`` itself, even outside the windows;
        - a due time that falls exactly on a window's end is that end (13:00, not 14:30);
        - the result is in UTC; DST is handled as in :meth:`business_minutes_between`;
        - negative minutes raise :class:`TariffInputError`; a search that walks past
          ``covered_years`` raises :class:`CalendarCoverageError`.
        """
        ensure_aware(start, field_name="start")
        if minutes < 0:
            raise TariffInputError(
                f"minutes must be 0 or more, got {minutes}.", code="negative", field="minutes"
            )
        left = timedelta(minutes=minutes)
        at = start.astimezone(UTC)
        if not left:
            return at
        tz = self.tz
        day = at.astimezone(tz).date()
        # A calendar with no window at all would loop for ever: ten years is the limit.
        for _step in range(3700):
            for lo, hi in self.windows_on(day):
                window_start = datetime.combine(day, lo, tzinfo=tz).astimezone(UTC)
                window_end = datetime.combine(day, hi, tzinfo=tz).astimezone(UTC)
                if window_end <= at:
                    continue
                begin = window_start if window_start > at else at
                span = window_end - begin
                if span >= left:
                    return begin + left
                left -= span
            day += _ONE_DAY
        raise TariffInputError(
            "the calendar has no support window in ten years: give it some weekly windows.",
            code="no_windows",
            field="weekly_windows",
        )

    def _check_covered(self, day: date) -> None:
        covered = self.covered_years
        if covered is not None and day.year not in covered:
            years = ", ".join(str(y) for y in sorted(covered)) or "none"
            raise CalendarCoverageError(
                f"{day.isoformat()}: the business calendar has holidays for {years} only; "
                f"build it with year {day.year} included, e.g. default_calendar([{day.year}]).",
                code="calendar_coverage",
                field="start",
            )


def _years_tuple(years: int | Iterable[int]) -> tuple[int, ...]:
    if isinstance(years, int):
        years = (years,)
    result = tuple(sorted(set(years)))
    for y in result:
        if isinstance(y, bool) or not isinstance(y, int) or not 1 <= y <= 9999:
            raise TariffInputError(f"years: {y!r} is not a year such as 2026.", field="years")
    return result


def italian_holidays(
    years: int | Iterable[int],
    province: str | None = "TR",
    patron_days: Iterable[tuple[int, int]] | None = None,
) -> frozenset[date]:
    """Italian public holidays of ``years`` for ``province``, plus its patron saint's day.

    ``patron_days``: ``(month, day)`` pairs added to every year; ``None`` means the known
    day of the province in :data:`PATRON_DAYS` (Terni: 14 February, SPEC 5). The
    ``holidays`` package already lists 14 February for subdivision TR (checked with 0.109);
    we add it anyway, so an upstream change cannot drop it. ``province=None``: national
    holidays only. Easter Sunday is included (harmless: it is a Sunday).
    """
    import holidays as holidays_pkg  # lazy: only calendar construction needs it

    wanted = _years_tuple(years)
    if patron_days is None:
        patron_days = PATRON_DAYS.get(province or "", ())
    patron = tuple(patron_days)
    try:
        found = holidays_pkg.country_holidays("IT", subdiv=province, years=wanted)
    except NotImplementedError:
        raise TariffInputError(
            f"province {province!r} is not an Italian province code known to `holidays`; "
            "use a two-letter code such as 'TR' (Terni) or None for national holidays only.",
            field="province",
        )
    dates = {d for d in found if d.year in wanted}
    for year in wanted:
        for month, day in patron:
            dates.add(date(year, month, day))
    return frozenset(dates)


@functools.lru_cache(maxsize=32)
def _default_calendar(years: tuple[int, ...]) -> BusinessCalendar:
    return BusinessCalendar(holidays=italian_holidays(years), covered_years=frozenset(years))


def default_calendar(years: int | Iterable[int]) -> BusinessCalendar:
    """The policy's calendar (Mon-Fri 9-13, 14:30-19, Europe/Rome, Italy + Terni) for ``years``.

    Cached per set of years: calling it per quote costs a dict lookup, not a rebuild.
    """
    return _default_calendar(_years_tuple(years))
