"""The tariff (listino) of SPEC 5: a pure-Python engine, no Django anywhere (STYLE 2.1).

Build the parameters and the calendar once, then call :func:`quote` per ticket::

    from sportello.tariff import DEFAULT_TARIFF, default_calendar, quote
    calendar = default_calendar([2026])
    result = quote(facts, DEFAULT_TARIFF, calendar)

Modules: ``model`` (dataclasses), ``calendar`` (support hours, holidays, SLA minutes),
``rules`` (one function per SPEC rule), ``engine`` (``quote``), ``text`` (it/en
explanations), ``scenarios`` (SPEC 5.1 JSON in and out), ``cli`` (``tariff quote``).
"""

from sportello.tariff.calendar import BusinessCalendar, default_calendar, italian_holidays
from sportello.tariff.engine import in_force, quote, tariff_in_force
from sportello.tariff.errors import CalendarCoverageError, TariffError, TariffInputError
from sportello.tariff.values import (
    DEFAULT_TARIFF,
    InterventionFact,
    Quote,
    QuoteLine,
    TariffParams,
    TicketFacts,
)

__all__ = [
    "DEFAULT_TARIFF",
    "BusinessCalendar",
    "CalendarCoverageError",
    "QuoteLine",
    "InterventionFact",
    "Quote",
    "TariffError",
    "TariffInputError",
    "TariffParams",
    "TicketFacts",
    "default_calendar",
    "in_force",
    "italian_holidays",
    "quote",
    "tariff_in_force",
]
