"""The company's business calendar, built from the admin's data: for the tariff engine
(billing) and the SLA clocks (sla)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from django.db.models import Count, Max

from sportello.core.models import CalendarDay, SupportSettings
from sportello.tariff import BusinessCalendar, italian_holidays

_cache: dict[tuple, BusinessCalendar] = {}


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _stamp() -> tuple:
    """Changes whenever an admin edits the calendar data, in any process."""
    days = CalendarDay.objects.aggregate(n=Count("pk"), last=Max("updated_at"))
    support = SupportSettings.objects.filter(pk=1).values_list("updated_at", flat=True).first()
    return (days["n"], days["last"], support)


def business_calendar(*, years: Iterable[int]) -> BusinessCalendar:
    """The calendar for ``years`` (holidays are listed per year), cached per process.

    Support windows, time zone, holiday province and patron days come from
    SupportSettings; closures and extra opening days from CalendarDay.
    """
    wanted = tuple(sorted(set(years)))
    key = (wanted, _stamp())
    calendar = _cache.get(key)
    if calendar is None:
        if len(_cache) > 64:
            _cache.clear()
        calendar = _cache[key] = _build(wanted)
    return calendar


def _build(years: tuple[int, ...]) -> BusinessCalendar:
    support = SupportSettings.load()
    weekly = tuple(
        tuple((_hhmm(a), _hhmm(b)) for a, b in support.support_windows.get(str(day), []))
        for day in range(7)
    )
    patron = [
        (int(part[:2]), int(part[3:]))
        for part in (p.strip() for p in support.patron_days.split(","))
        if part
    ]
    holidays = italian_holidays(
        years, province=support.holiday_province or None, patron_days=patron
    )
    days = CalendarDay.objects.filter(date__year__in=years)
    return BusinessCalendar(
        weekly_windows=weekly,
        tz_name=support.time_zone,
        holidays=holidays,
        closures=frozenset(d.date for d in days if d.kind == CalendarDay.Kind.CLOSURE),
        extra_openings=frozenset(d.date for d in days if d.kind == CalendarDay.Kind.OPENING),
        covered_years=frozenset(years),
    )
