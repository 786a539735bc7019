"""Read the quote-scenario JSON of SPEC 5.1 into :class:`TicketFacts`, and write quotes back.

The format (one scenario object, or a list of them)::

    {"name": "phone 12 min", "hourly_rate": "60.00", "opened_via": "phone",
     "official_channels_possible": true, "in_district": true, "written_messages": 0,
     "interventions": [{"kind": "phone", "start": "2026-03-02T11:00:00+01:00",
                        "minutes": 12}],
     "expected": {...}}

Validation is strict, and every :class:`TariffInputError` names the scenario, the field
(``field`` attribute: e.g. ``interventions[0].minutes``) and how to fix it. Choices:

- numbers (``hourly_rate``, ``minutes``, ``distance_km``): ints, decimal strings ("60.00")
  and ``Decimal`` are accepted; :func:`parse_json` reads JSON numbers such as ``47.50`` as
  ``Decimal`` (exact), so they are fine too. A Python ``float`` (from a plain
  ``json.loads``) is rejected: it is not the number that was written (STYLE 2.4);
- ``NaN``/``Infinity``, negatives, absurd sizes (rate > 1,000,000 EUR/h, a call over
  100,000 minutes, a distance over 100,000 km) and absurd precision (more than 4 decimals
  in a rate, 6 in minutes, 3 in km) are rejected;
- required: ``hourly_rate``, ``opened_via``, ``written_messages``; also
  ``official_channels_possible`` when ``opened_via`` is ``phone`` (it decides the
  call-out fee, so it is never guessed), ``in_district`` when there are legs, and
  ``distance_km`` for legs outside the district;
- defaults: ``interventions`` [], ``out_of_hours_requested`` false, ``waive_call_fee``
  false, ``billable`` true (SPEC 5.1); ``official_channels_possible`` is ignored for
  channels other than ``phone``;
- ``minutes`` is required for phone/remote and refused on legs; ``start`` needs an
  offset (``+01:00`` or ``Z``); ``out_of_hours`` may be true, false or null (calendar);
- unknown fields are refused (a typo would otherwise be silently ignored); duplicate keys
  in one object are refused by :func:`parse_json`; ``expected`` is ignored.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sportello.tariff.calendar import DEFAULT_TZ_NAME
from sportello.tariff.errors import TariffInputError
from sportello.tariff.values import (
    CHANNELS,
    INTERVENTION_KINDS,
    LEG_KINDS,
    InterventionFact,
    Quote,
    TicketFacts,
)

__all__ = [
    "SCENARIO_FIELDS",
    "INTERVENTION_FIELDS",
    "load_scenarios",
    "parse_json",
    "parse_scenario",
    "parse_scenarios",
    "quote_to_json",
    "scenario_years",
]

SCENARIO_FIELDS = frozenset(
    {
        "name",
        "hourly_rate",
        "opened_via",
        "official_channels_possible",
        "in_district",
        "distance_km",
        "written_messages",
        "out_of_hours_requested",
        "interventions",
        "waive_call_fee",
        "billable",
        "expected",
    }
)
INTERVENTION_FIELDS = frozenset({"kind", "start", "minutes", "out_of_hours"})

MAX_RATE = Decimal(1_000_000)
MAX_MINUTES = Decimal(100_000)
MAX_KM = Decimal(100_000)


class _Where:
    """Names the scenario in messages: ``scenarios[2] ("phone 12 min")``."""

    def __init__(self, index: int | None, name: object) -> None:
        self.index = index
        self.name = name if isinstance(name, str) else None

    def __str__(self) -> str:
        label = "scenario" if self.index is None else f"scenarios[{self.index}]"
        return f"{label} ({json.dumps(self.name, ensure_ascii=False)})" if self.name else label

    def fail(self, field: str, problem: str, *, code: str = "invalid") -> NoReturn:
        error = TariffInputError(f"{self}: {field}: {problem}", code=code, field=field)
        error.scenario_index = self.index  # type: ignore[attr-defined]
        raise error


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _hint(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_fields(where: _Where, obj: dict[str, Any], known: frozenset[str], prefix: str) -> None:
    for key in obj:
        if key not in known:
            where.fail(
                f"{prefix}{key}",
                f"unknown field{_hint(key, known)}; allowed fields: {', '.join(sorted(known))}.",
                code="unknown_field",
            )


def _bool(
    where: _Where,
    obj: dict[str, Any],
    key: str,
    default: bool | None,
    path: str,
    *,
    why: str = "",
) -> bool:
    if key not in obj:
        if default is None:
            where.fail(path, f"is required{why}: true or false.", code="required")
        return default
    value = obj[key]
    if not isinstance(value, bool):
        where.fail(path, f"must be true or false, not {_type_name(value)}.", code="wrong_type")
    return value


def _decimal(
    where: _Where, value: object, path: str, *, maximum: Decimal, places: int, example: str
) -> Decimal:
    """A non-negative, finite number: int, Decimal or decimal string; never a float."""
    if isinstance(value, bool) or value is None:
        where.fail(
            path, f"must be a number such as {example}, not {_type_name(value)}.", code="wrong_type"
        )
    if isinstance(value, float):
        where.fail(
            path,
            f"{value!r} is a binary float, which is not exact; write it as a decimal string "
            f'such as "{example}" (or read the JSON with parse_float=Decimal).',
            code="float",
        )
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            comma = " (use a dot as the decimal separator)" if "," in value else ""
            where.fail(path, f'{value!r} is not a decimal number{comma}; write e.g. "{example}".')
    else:
        where.fail(
            path, f"must be a number such as {example}, not {_type_name(value)}.", code="wrong_type"
        )
    if not number.is_finite():
        where.fail(path, f'{value!r} is not a finite number; write e.g. "{example}".')
    if number < 0:
        where.fail(path, f"must not be negative (got {value}).", code="negative")
    if number > maximum:
        where.fail(
            path,
            f"{value} is implausibly large (the limit is {maximum}); check the unit.",
            code="too_large",
        )
    if number.normalize().as_tuple().exponent < -places:  # type: ignore[operator]
        where.fail(
            path,
            f"{value} has more than {places} decimal places; round it, e.g. {example}.",
            code="too_precise",
        )
    return number


def _start(where: _Where, value: object, path: str) -> datetime:
    example = "2026-03-02T10:00:00+01:00"
    if not isinstance(value, str):
        where.fail(
            path,
            f"must be an ISO 8601 string such as {example}, not {_type_name(value)}.",
            code="wrong_type",
        )
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        where.fail(path, f"{value!r} is not an ISO 8601 date-time; write e.g. {example}.")
    if start.tzinfo is None or start.utcoffset() is None:
        where.fail(
            path,
            f"{value!r} has no time-zone offset, so the hour is ambiguous; add one, "
            f"e.g. {example} (Rome in winter) or ...Z for UTC.",
            code="naive_datetime",
        )
    return start


def _intervention(where: _Where, value: object, index: int) -> InterventionFact:
    prefix = f"interventions[{index}]."
    if not isinstance(value, dict):
        where.fail(
            f"interventions[{index}]",
            f"must be an object, not {_type_name(value)}.",
            code="wrong_type",
        )
    _check_fields(where, value, INTERVENTION_FIELDS, prefix)
    if "kind" not in value:
        where.fail(
            prefix + "kind", "is required: phone, remote, pickup or return.", code="required"
        )
    kind = value["kind"]
    if not isinstance(kind, str) or kind not in INTERVENTION_KINDS:
        shown = repr(kind) if isinstance(kind, str) else _type_name(kind)
        hint = _hint(kind, INTERVENTION_KINDS) if isinstance(kind, str) else ""
        where.fail(
            prefix + "kind",
            f"{shown} is not an intervention kind{hint}; use phone, remote, pickup or return.",
            code="unknown_kind",
        )
    if "start" not in value:
        where.fail(
            prefix + "start", "is required: an ISO 8601 date-time with offset.", code="required"
        )
    start = _start(where, value["start"], prefix + "start")
    if kind in LEG_KINDS:
        if "minutes" in value:
            where.fail(
                prefix + "minutes",
                f"is not used for a {kind} leg (legs are billed per leg, or per km); remove it.",
                code="minutes_on_leg",
            )
        seconds: int | Decimal = 0
    else:
        if "minutes" not in value:
            where.fail(
                prefix + "minutes",
                f"is required for a {kind} intervention: its duration, e.g. 12.",
                code="required",
            )
        minutes = _decimal(
            where, value["minutes"], prefix + "minutes", maximum=MAX_MINUTES, places=6, example="12"
        )
        exact = minutes * 60
        seconds = int(exact) if exact == exact.to_integral_value() else exact
    flag = value.get("out_of_hours")
    if flag is not None and not isinstance(flag, bool):
        where.fail(
            prefix + "out_of_hours",
            f"must be true, false or null (let the calendar decide), not {_type_name(flag)}.",
            code="wrong_type",
        )
    return InterventionFact(kind, start, seconds, flag)


def parse_scenario(obj: object, *, index: int | None = None) -> TicketFacts:
    """One scenario object -> :class:`TicketFacts` (see the module docstring for the rules).

    ``index`` is the position in a list, used only in messages.
    """
    where = _Where(index, obj.get("name") if isinstance(obj, dict) else None)
    if not isinstance(obj, dict):
        where.fail(
            "(scenario)", f"must be a JSON object, not {_type_name(obj)}.", code="wrong_type"
        )
    _check_fields(where, obj, SCENARIO_FIELDS, "")
    name = obj.get("name")
    if name is not None and not isinstance(name, str):
        where.fail("name", f"must be a string, not {_type_name(name)}.", code="wrong_type")

    if "hourly_rate" not in obj:
        where.fail(
            "hourly_rate", 'is required: R as a decimal string, e.g. "60.00".', code="required"
        )
    rate = _decimal(
        where, obj["hourly_rate"], "hourly_rate", maximum=MAX_RATE, places=4, example="60.00"
    )

    if "opened_via" not in obj:
        where.fail(
            "opened_via", f"is required: one of {', '.join(sorted(CHANNELS))}.", code="required"
        )
    via = obj["opened_via"]
    if not isinstance(via, str) or via not in CHANNELS:
        shown = repr(via) if isinstance(via, str) else _type_name(via)
        hint = _hint(via, CHANNELS) if isinstance(via, str) else ""
        where.fail(
            "opened_via",
            f"{shown} is not a channel{hint}; use one of {', '.join(sorted(CHANNELS))}.",
            code="unknown_channel",
        )
    # SPEC 5.1: only meaningful for phone, where it decides the call-out fee: never guessed.
    official = _bool(
        where,
        obj,
        "official_channels_possible",
        None if via == "phone" else True,
        "official_channels_possible",
        why=" for a ticket opened by phone (could the customer have used e-mail or the portal?)",
    )

    if "written_messages" not in obj:
        where.fail(
            "written_messages",
            "is required: N, the public messages written by people (0 if none).",
            code="required",
        )
    messages = obj["written_messages"]
    if isinstance(messages, bool) or not isinstance(messages, int):
        where.fail(
            "written_messages",
            f"must be a whole number such as 3, not {_type_name(messages)}.",
            code="wrong_type",
        )
    if messages < 0:
        where.fail("written_messages", f"must not be negative (got {messages}).", code="negative")
    if messages > 1_000_000:
        where.fail(
            "written_messages",
            f"{messages} is implausibly large; check the count.",
            code="too_large",
        )

    raw_interventions = obj.get("interventions", [])
    if not isinstance(raw_interventions, list):
        where.fail(
            "interventions",
            f"must be a list (possibly empty), not {_type_name(raw_interventions)}.",
            code="wrong_type",
        )
    interventions = tuple(_intervention(where, item, i) for i, item in enumerate(raw_interventions))
    has_legs = any(iv.kind in LEG_KINDS for iv in interventions)

    in_district = True
    if "in_district" in obj or has_legs:
        in_district = _bool(
            where, obj, "in_district", None, "in_district", why=" when there are pickup/return legs"
        )
    distance: Decimal | None = None
    if obj.get("distance_km") is not None:
        distance = _decimal(
            where, obj["distance_km"], "distance_km", maximum=MAX_KM, places=3, example="37"
        )
    if has_legs and not in_district and distance is None:
        where.fail(
            "distance_km",
            "is required for pickup/return legs outside the district: the one-way road "
            "distance in km, e.g. 37 (or set in_district to true).",
            code="required",
        )

    return TicketFacts(
        hourly_rate=rate,
        opened_via=via,
        official_channels_possible=official,
        in_district=in_district,
        distance_km=distance,
        written_messages=messages,
        out_of_hours_requested=_bool(
            where, obj, "out_of_hours_requested", False, "out_of_hours_requested"
        ),
        interventions=interventions,
        waive_call_fee=_bool(where, obj, "waive_call_fee", False, "waive_call_fee"),
        billable=_bool(where, obj, "billable", True, "billable"),
    )


def parse_scenarios(data: object) -> tuple[list[TicketFacts], bool]:
    """A scenario object or a list of them -> (facts, whether the input was a list)."""
    if isinstance(data, list):
        return [parse_scenario(item, index=i) for i, item in enumerate(data)], True
    return [parse_scenario(data)], False


def _reject_constant(name: str) -> NoReturn:
    raise TariffInputError(
        f"JSON contains {name}, which is not a number; write a decimal string instead.",
        code="invalid_json",
        field="json",
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise TariffInputError(
                f"{key}: given twice in the same object; keep one.",
                code="duplicate_field",
                field=key,
            )
        result[key] = value
    return result


def parse_json(text: str | bytes) -> object:
    """Strict JSON: numbers with a fraction become ``Decimal`` (exact), NaN/Infinity and
    duplicate keys are refused. Errors are :class:`TariffInputError` with ``field="json"``
    (or the duplicated key)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TariffInputError(
                f"input is not UTF-8 (byte {exc.start}); save the file as UTF-8.",
                code="invalid_json",
                field="json",
            )
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise TariffInputError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.",
            code="invalid_json",
            field="json",
        )
    except ValueError as exc:  # e.g. an integer with thousands of digits
        if isinstance(exc, TariffInputError):
            raise
        raise TariffInputError(f"invalid JSON: {exc}.", code="invalid_json", field="json")


def load_scenarios(text: str | bytes) -> tuple[list[TicketFacts], bool]:
    """JSON text -> (facts, whether the input was a list): :func:`parse_json` then
    :func:`parse_scenarios`."""
    return parse_scenarios(parse_json(text))


def scenario_years(facts: Iterable[TicketFacts], *, tz_name: str = DEFAULT_TZ_NAME) -> set[int]:
    """The local years of every intervention start: what the business calendar must cover."""
    tz = ZoneInfo(tz_name)
    return {iv.start.astimezone(tz).year for f in facts for iv in f.interventions}


def quote_to_json(quote: Quote, *, lang: str = "it") -> dict[str, Any]:
    """SPEC 5.1 output: ``{"lines": [{"code", "description", "amount"}], "net", "vat",
    "total"}``, amounts as decimal strings with two decimals ("15.00")."""
    return {
        "lines": [
            {"code": line.code, "description": line.description(lang), "amount": str(line.amount)}
            for line in quote.lines
        ],
        "net": str(quote.net),
        "vat": str(quote.vat),
        "total": str(quote.total),
    }
