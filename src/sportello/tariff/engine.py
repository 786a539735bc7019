"""The tariff engine: ``quote(facts, params, calendar) -> Quote`` (SPEC 5).

Pure and fast: no Django, no I/O, no look-ups. The caller (``billing/services.py``, the
imperative shell of STYLE 2.1, or the ``tariff quote`` command) chooses the rate, the
tariff in force and the calendar beforehand, and builds each of them once.

Money (STYLE 2.4): every line is rounded once, half up, to the cent; the net is the sum
of the rounded lines; VAT is computed on the net and rounded half up; total = net + VAT.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypeVar

from sportello.tariff.calendar import BusinessCalendar
from sportello.tariff.errors import TariffInputError
from sportello.tariff.rules import RULES
from sportello.tariff.values import (
    DEFAULT_TARIFF,
    ZERO_MONEY,
    InterventionFact,
    Quote,
    QuoteLine,
    TariffParams,
    TicketFacts,
    to_cent,
)

__all__ = [
    "DEFAULT_TARIFF",
    "QuoteLine",
    "InterventionFact",
    "Quote",
    "TariffParams",
    "TicketFacts",
    "in_force",
    "quote",
    "tariff_in_force",
]

_ZERO_QUOTES: dict[str, Quote] = {}


def quote(facts: TicketFacts, params: TariffParams, calendar: BusinessCalendar) -> Quote:
    """Price one ticket.

    Lines come in the order of :data:`sportello.tariff.rules.RULES`: resolution fee,
    legs, call-out fee. Edge cases:
    - a non-billable ticket (warranty, contract, out of scope, ...) has no lines and zero
      totals, whatever else it says (SPEC 5, last line);
    - an unknown channel or intervention kind, a negative rate/duration/message count, or
      a leg outside the district without ``distance_km`` raise :class:`TariffInputError`;
    - a start on an ordinary day of a year the calendar has no holidays for raises
      :class:`~sportello.tariff.errors.CalendarCoverageError`.
    """
    if not facts.billable:
        zero = _ZERO_QUOTES.get(params.version)
        if zero is None:
            zero = Quote((), ZERO_MONEY, ZERO_MONEY, ZERO_MONEY, params.version)
            _ZERO_QUOTES[params.version] = zero
        return zero
    lines: list[QuoteLine] = []
    for rule in RULES:
        lines += rule(facts, params, calendar)
    net = ZERO_MONEY
    for line in lines:
        net += line.amount
    vat = to_cent(net * params.vat_fraction)
    return Quote(tuple(lines), net, vat, net + vat, params.version)


V = TypeVar("V")


def in_force(versions: Iterable[V], *, on: date) -> V | None:
    """The one rule for "the version in force on a date" (SPEC 5: billed "by the tariff
    in force when it was resolved"): of anything with a ``valid_from`` date (the engine's
    TariffParams, billing's TariffVersion rows), the one with the latest ``valid_from``
    not after ``on``; None when none had started yet. On a tie the first one wins."""
    best = None
    for version in versions:
        if version.valid_from <= on and (best is None or version.valid_from > best.valid_from):
            best = version
    return best


def tariff_in_force(tariffs: Iterable[TariffParams], *, on: date) -> TariffParams:
    """The tariff valid on ``on`` (SPEC 5: billed "by the tariff in force when it was
    resolved"): the one with the latest ``valid_from`` not after ``on``.

    Raises :class:`TariffInputError` when none had started yet or two share a start date.
    """
    tariffs = list(tariffs)
    best = in_force(tariffs, on=on)
    twin = next(
        (
            t
            for t in tariffs
            if best is not None and t is not best and t.valid_from == best.valid_from
        ),
        None,
    )
    if twin is not None:
        raise TariffInputError(
            f"tariffs {best.version!r} and {twin.version!r} both start on "
            f"{best.valid_from.isoformat()}; give them different valid_from dates.",
            field="valid_from",
        )
    if best is None:
        raise TariffInputError(
            f"no tariff is in force on {on.isoformat()}; add one with an earlier valid_from.",
            field="valid_from",
        )
    return best
