"""The SLA clock, a pure function, against hand-computed expectations (no database).

The calendar is the policy's: Monday to Friday 9-13 and 14:30-19, Europe/Rome, Italian
holidays, Terni's patron saint (14 February), plus a company closure on Monday
7 December 2026 (the day before the Immacolata, a Tuesday).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sportello.sla.clock import (
    BREACHED,
    MET,
    OK,
    RESOLUTION,
    RESPONSE,
    WARNING,
    Targets,
    TicketHistory,
    clocks,
    current,
    state_at,
)
from sportello.tariff.calendar import BusinessCalendar, italian_holidays

ROME = ZoneInfo("Europe/Rome")
CALENDAR = BusinessCalendar(
    holidays=italian_holidays(range(2025, 2028)),
    closures=frozenset({date(2026, 12, 7)}),
    covered_years=frozenset(range(2025, 2028)),
)


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ROME)


def response(minutes, warn=80):
    return Targets(response_minutes=minutes, resolution_minutes=None, warn_percent=warn)


def resolution(minutes, warn=80):
    return Targets(response_minutes=None, resolution_minutes=minutes, warn_percent=warn)


# (case, history, targets, now, target, expected due, expected warn, elapsed, state)
CASES = [
    (
        # Fri 17:00-19:00 = 120 min, then Monday 9:00 + 120 = 11:00; 80% = 192 min:
        # Monday 9:00 + 72 = 10:12.
        "weekend",
        TicketHistory(created_at=at(2026, 3, 6, 17)),
        response(240),
        at(2026, 3, 9, 10, 30),
        RESPONSE,
        at(2026, 3, 9, 11),
        at(2026, 3, 9, 10, 12),
        120 + 90,
        WARNING,
    ),
    (
        # Thu 18:00-19:00 = 60; Friday 1 May is a holiday; Monday 4 May 9:00 + 60.
        "holiday",
        TicketHistory(created_at=at(2026, 4, 30, 18)),
        response(120),
        at(2026, 5, 1, 12),
        RESPONSE,
        at(2026, 5, 4, 10),
        at(2026, 5, 4, 9, 36),
        60,
        OK,
    ),
    (
        # Thu 13 Feb 2025 18:30-19:00 = 30; Friday 14 February is Terni's patron saint;
        # Monday 17 9:00 + 30 = 9:30: breached at 9:45.
        "patron saint",
        TicketHistory(created_at=at(2025, 2, 13, 18, 30)),
        response(60),
        at(2025, 2, 17, 9, 45),
        RESPONSE,
        at(2025, 2, 17, 9, 30),
        at(2025, 2, 17, 9, 18),
        75,
        BREACHED,
    ),
    (
        # Fri 4 Dec 18:00-19:00 = 60; Monday 7 closed; Tuesday 8 Immacolata; Wednesday 9
        # 9:00 + 180 = 12:00.
        "closure",
        TicketHistory(created_at=at(2026, 12, 4, 18)),
        resolution(240),
        at(2026, 12, 8, 12),
        RESOLUTION,
        at(2026, 12, 9, 12),
        at(2026, 12, 9, 11, 12),
        60,
        OK,
    ),
    (
        # 12:00-13:00 = 60, lunch, 14:30 + 60 = 15:30.
        "lunch break",
        TicketHistory(created_at=at(2026, 3, 9, 12)),
        response(120),
        at(2026, 3, 9, 15, 10),
        RESPONSE,
        at(2026, 3, 9, 15, 30),
        at(2026, 3, 9, 15, 6),
        100,
        WARNING,
    ),
    (
        # Monday 9:00-10:00 runs (60), waiting 10:00-16:00 does not count, then
        # 16:00-19:00 (180) and Tuesday 9:00 + 60 = 10:00. 80% of 300 = 240: at 19:00.
        "pause",
        TicketHistory(
            created_at=at(2026, 3, 9, 9),
            changes=((at(2026, 3, 9, 10), "waiting"), (at(2026, 3, 9, 16), "open")),
        ),
        resolution(300),
        at(2026, 3, 9, 17),
        RESOLUTION,
        at(2026, 3, 10, 10),
        at(2026, 3, 9, 19),
        120,
        OK,
    ),
    (
        # Still waiting: the clock stands at 60 and has no due time.
        "paused now",
        TicketHistory(created_at=at(2026, 3, 9, 9), changes=((at(2026, 3, 9, 10), "waiting"),)),
        resolution(300),
        at(2026, 3, 10, 17),
        RESOLUTION,
        None,
        None,
        60,
        OK,
    ),
    (
        # Resolved at 11:00 after 120 of 240 minutes: met.
        "resolved in time",
        TicketHistory(created_at=at(2026, 3, 9, 9), changes=((at(2026, 3, 9, 11), "resolved"),)),
        resolution(240),
        at(2026, 3, 9, 12),
        RESOLUTION,
        None,
        None,
        120,
        MET,
    ),
    (
        # Reopened on Tuesday 9:00: the 120 minutes used stay used, 120 are left, so due
        # at 11:00; at 12:00 it is breached with 300 minutes used. The warning share
        # (192) was reached at 10:12.
        "reopen",
        TicketHistory(
            created_at=at(2026, 3, 9, 9),
            changes=((at(2026, 3, 9, 11), "resolved"), (at(2026, 3, 10, 9), "open")),
        ),
        resolution(240),
        at(2026, 3, 10, 12),
        RESOLUTION,
        at(2026, 3, 10, 11),
        at(2026, 3, 10, 10, 12),
        300,
        BREACHED,
    ),
    (
        # Answered at 9:30, within 60: met, the clock stops there.
        "answered in time",
        TicketHistory(created_at=at(2026, 3, 9, 9), first_response_at=at(2026, 3, 9, 9, 30)),
        response(60),
        at(2026, 3, 9, 15),
        RESPONSE,
        None,
        None,
        30,
        MET,
    ),
    (
        # Answered at 10:30, after the 10:00 due time: breached for good.
        "answered late",
        TicketHistory(created_at=at(2026, 3, 9, 9), first_response_at=at(2026, 3, 9, 10, 30)),
        response(60),
        at(2026, 3, 9, 15),
        RESPONSE,
        at(2026, 3, 9, 10),
        at(2026, 3, 9, 9, 48),
        90,
        BREACHED,
    ),
    (
        # Opened on Saturday evening: nothing runs before Monday 9:00.
        "opened out of hours",
        TicketHistory(created_at=at(2026, 3, 7, 20)),
        response(30, warn=50),
        at(2026, 3, 9, 9, 20),
        RESPONSE,
        at(2026, 3, 9, 9, 30),
        at(2026, 3, 9, 9, 15),
        20,
        WARNING,
    ),
]


@pytest.mark.parametrize(
    ("history", "targets", "now", "target", "due", "warn", "elapsed", "state"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_clock(history, targets, now, target, due, warn, elapsed, state):
    clock = clocks(history, targets, CALENDAR, now=now)[target]
    assert clock.due_at == due
    assert clock.warn_at == warn
    assert clock.elapsed == elapsed
    assert clock.state == state


def test_both_targets_and_the_one_a_list_shows():
    history = TicketHistory(created_at=at(2026, 3, 9, 9), first_response_at=at(2026, 3, 9, 9, 20))
    both = Targets(response_minutes=60, resolution_minutes=510)
    found = clocks(history, both, CALENDAR, now=at(2026, 3, 9, 10))
    assert found[RESPONSE].state == MET
    assert found[RESOLUTION].state == OK
    # One business day, 510 minutes, ends at 19:00 sharp (not the next morning).
    assert found[RESOLUTION].due_at == at(2026, 3, 9, 19)
    assert current(found) is found[RESOLUTION]
    unanswered = TicketHistory(created_at=at(2026, 3, 9, 9))
    assert current(clocks(unanswered, both, CALENDAR, now=at(2026, 3, 9, 10))).target == RESPONSE


def test_a_ticket_resolved_without_a_written_reply_stops_the_response_clock():
    history = TicketHistory(
        created_at=at(2026, 3, 9, 9), changes=((at(2026, 3, 9, 9, 40), "resolved"),)
    )
    clock = clocks(history, response(60), CALENDAR, now=at(2026, 3, 10, 12))[RESPONSE]
    assert (clock.state, clock.elapsed, clock.done) == (MET, 40, True)


def test_the_waiting_response_clock_is_paused():
    history = TicketHistory(
        created_at=at(2026, 3, 9, 9), changes=((at(2026, 3, 9, 9, 10), "waiting"),)
    )
    clock = clocks(history, response(60), CALENDAR, now=at(2026, 3, 9, 12))[RESPONSE]
    assert (clock.paused, clock.running, clock.due_at, clock.elapsed) == (True, False, None, 10)


@pytest.mark.parametrize(
    ("due", "warn", "done", "expected"),
    [
        (at(2026, 3, 9, 11), at(2026, 3, 9, 10), False, OK),
        (at(2026, 3, 9, 11), at(2026, 3, 9, 9), False, WARNING),
        (at(2026, 3, 9, 9), at(2026, 3, 9, 8), False, BREACHED),
        (at(2026, 3, 9, 9), at(2026, 3, 9, 8), True, BREACHED),
        (None, None, True, MET),
        (None, at(2026, 3, 9, 9), False, WARNING),
        (None, None, False, OK),
    ],
)
def test_state_at(due, warn, done, expected):
    assert state_at(due_at=due, warn_at=warn, done=done, now=at(2026, 3, 9, 9, 30)) == expected
