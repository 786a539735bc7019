"""Errors of the tariff engine (pure Python: no Django here, see STYLE.md 2.1)."""

from __future__ import annotations

from sportello.errors import SportelloError


class TariffError(SportelloError):
    """Root of the tariff package's errors."""

    code = "tariff_error"


class TariffInputError(TariffError, ValueError):
    """The input of a quote is wrong: the message names the field and says how to fix it.

    Also a ``ValueError``, so that plain-Python callers can catch it the usual way.
    ``field`` is a dotted path such as ``interventions[1].minutes``.
    """

    code = "tariff_input"


class CalendarCoverageError(TariffError, LookupError):
    """A date falls in a year whose holidays the business calendar was not given.

    Raised instead of silently treating, say, 1 November 2031 as a working day.
    """

    code = "calendar_coverage"
