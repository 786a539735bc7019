"""Helpers shared by the tariff tests (plain functions; no Django)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sportello.tariff.calendar import default_calendar
from sportello.tariff.values import InterventionFact, TicketFacts

ROME = ZoneInfo("Europe/Rome")
R60 = Decimal("60.00")
# Every year the tests touch: holidays are an argument, built once here (STYLE 2.6).
CALENDAR = default_calendar(range(2024, 2028))


def repo_root() -> Path:
    """The directory holding pyproject.toml and src/ (this file is src/sportello/tariff/tests)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src").is_dir():
            return parent
    raise RuntimeError("cannot find the repository root (pyproject.toml) above " + __file__)


from sportello.core.testenv import shared_dir  # noqa: E402,F401 (re-exported)


def rome(*args: int) -> datetime:
    """An aware datetime on the Rome wall clock: ``rome(2026, 3, 2, 10, 0)``."""
    return datetime(*args, tzinfo=ROME)  # type: ignore[misc]


def facts(**overrides: object) -> TicketFacts:
    """A billable e-mail ticket at R = 60.00, no messages, no interventions; override freely."""
    values: dict[str, object] = {
        "hourly_rate": R60,
        "opened_via": "email",
        "official_channels_possible": False,
        "in_district": True,
        "written_messages": 0,
    }
    values.update(overrides)
    return TicketFacts(**values)  # type: ignore[arg-type]


def call(
    kind: str, start: datetime, seconds: int | Decimal = 0, ooh: bool | None = None
) -> InterventionFact:
    return InterventionFact(kind, start, seconds, ooh)


# A Monday in hours, a Monday evening, a Saturday (all March 2026, CET).
MONDAY_10 = rome(2026, 3, 2, 10, 0)
MONDAY_20 = rome(2026, 3, 2, 20, 0)
SATURDAY_10 = rome(2026, 3, 7, 10, 0)
