"""SLA clocks: a pure function of a ticket's facts, its status history and the calendar.

No Django and no database here (STYLE 2.1): ``sla.selectors`` and ``sla.services`` read
the rows and call :func:`clocks`; the tests call it with hand-made facts.

Rules (docs/sla.md):

- a clock runs while the ticket is *new* or *open*, inside the business calendar's
  windows (hours, holidays, patron saint, closures: ``tariff.calendar``);
- it is paused while the ticket is *waiting for the customer*;
- it stops while the ticket is *resolved* or *closed*; a reopen continues it where it
  stopped (the minutes already used stay used);
- the first-response clock stops for good at the first response (the first outbound
  e-mail, portal or chat message written by staff); a ticket resolved before any written
  reply (a phone call solved it) stops it like the resolution clock;
- *warning* once the used minutes reach ``warn_percent`` of the target, *breached* once
  they reach the target (a breach stays a breach), *met* when stopped for good before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sportello.tariff.calendar import BusinessCalendar, ensure_aware

RUNNING = frozenset({"new", "open"})
PAUSED = frozenset({"waiting"})
STOPPED = frozenset({"resolved", "closed"})

RESPONSE = "response"
RESOLUTION = "resolution"

OK, WARNING, BREACHED, MET = "ok", "warning", "breached", "met"
STATES = (OK, WARNING, BREACHED, MET)


@dataclass(frozen=True, slots=True)
class Targets:
    """A policy's targets in business minutes (None: no target of that kind)."""

    response_minutes: int | None
    resolution_minutes: int | None
    warn_percent: int = 80


@dataclass(frozen=True, slots=True)
class TicketHistory:
    """What the clock needs of a ticket.

    ``changes``: ``(when, new status)`` after the creation, oldest first (the ticket
    starts *new* at ``created_at``). ``first_response_at``: the first written reply by
    staff, or None.
    """

    created_at: datetime
    changes: Sequence[tuple[datetime, str]] = ()
    first_response_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    """One target's clock at ``now``.

    ``due_at`` / ``warn_at``: the instants the used minutes reach the target / the warning
    share, past or future; None when the clock does not reach them while it runs as now
    (paused, stopped before). ``done``: stopped for good (answered; resolved for the
    resolution clock). ``paused``: waiting for the customer.
    """

    target: str
    minutes: int
    elapsed: float
    due_at: datetime | None
    warn_at: datetime | None
    running: bool
    paused: bool
    done: bool
    state: str

    @property
    def remaining(self) -> float:
        return max(self.minutes - self.elapsed, 0)


def state_at(
    *, due_at: datetime | None, warn_at: datetime | None, done: bool, now: datetime
) -> str:
    """The state from the crossing instants: the one rule the stored copy is read by too."""
    if due_at is not None and due_at <= now:
        return BREACHED
    if done:
        return MET
    if warn_at is not None and warn_at <= now:
        return WARNING
    return OK


def _intervals(
    history: TicketHistory, now: datetime, stop_at: datetime | None
) -> tuple[list[tuple[datetime, datetime | None]], str]:
    """The spans the clock ran (the last one open when it runs at ``now``) and the status
    at ``now``. ``stop_at`` ends the clock for good (the first response)."""
    spans: list[tuple[datetime, datetime | None]] = []
    status = "new"
    since = history.created_at
    for when, new in history.changes:
        if when > now:
            break
        if status in RUNNING and new not in RUNNING:
            spans.append((since, when))
        elif status not in RUNNING and new in RUNNING:
            since = when
        status = new
    if status in RUNNING:
        spans.append((since, None))
    if stop_at is not None:
        cut = []
        for start, end in spans:
            if start >= stop_at:
                break
            cut.append((start, stop_at if end is None or end > stop_at else end))
        spans = cut
    return spans, status


def _clock(
    target: str,
    minutes: int,
    warn_percent: int,
    spans: list[tuple[datetime, datetime | None]],
    *,
    now: datetime,
    paused: bool,
    done: bool,
    calendar: BusinessCalendar,
) -> Clock:
    warn_minutes = minutes * warn_percent / 100
    used = 0.0
    due_at = warn_at = None
    running = bool(spans) and spans[-1][1] is None
    for start, end in spans:
        stop = now if end is None else min(end, now)
        span = calendar.business_minutes_between(start, stop) if stop > start else 0
        for threshold, name in ((warn_minutes, "warn"), (minutes, "due")):
            if (name == "warn" and warn_at is not None) or (name == "due" and due_at is not None):
                continue
            if used + span >= threshold or end is None:
                instant = calendar.business_instant_after(start, max(threshold - used, 0))
                if end is not None and instant > end:
                    continue
                if name == "warn":
                    warn_at = instant
                else:
                    due_at = instant
        used += span
    return Clock(
        target=target,
        minutes=minutes,
        elapsed=used,
        due_at=due_at,
        warn_at=warn_at,
        running=running,
        paused=paused,
        done=done,
        state=state_at(due_at=due_at, warn_at=warn_at, done=done, now=now),
    )


def clocks(
    history: TicketHistory, targets: Targets, calendar: BusinessCalendar, *, now: datetime
) -> dict[str, Clock]:
    """The ticket's clocks at ``now``, by target (``response``, ``resolution``); a target
    the policy leaves empty has no clock."""
    ensure_aware(history.created_at, field_name="created_at")
    ensure_aware(now, field_name="now")
    out: dict[str, Clock] = {}
    answered = history.first_response_at
    if answered is not None and answered > now:
        answered = None
    if targets.response_minutes is not None:
        spans, status = _intervals(history, now, answered)
        out[RESPONSE] = _clock(
            RESPONSE,
            targets.response_minutes,
            targets.warn_percent,
            spans,
            now=now,
            paused=status in PAUSED and answered is None,
            done=answered is not None or status in STOPPED,
            calendar=calendar,
        )
    if targets.resolution_minutes is not None:
        spans, status = _intervals(history, now, None)
        out[RESOLUTION] = _clock(
            RESOLUTION,
            targets.resolution_minutes,
            targets.warn_percent,
            spans,
            now=now,
            paused=status in PAUSED,
            done=status in STOPPED,
            calendar=calendar,
        )
    return out


def current(found: dict[str, Clock]) -> Clock | None:
    """The clock a list shows: the first response until it is done, then the resolution."""
    response = found.get(RESPONSE)
    if response is not None and not response.done:
        return response
    return found.get(RESOLUTION) or response
