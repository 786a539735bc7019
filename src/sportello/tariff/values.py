"""The tariff's values: parameters, facts in, charge lines and quotes out.

Plain frozen dataclasses (STYLE 2.1: "tariff/ takes plain dataclasses and returns plain
dataclasses"). Money is ``Decimal`` only, never a float (STYLE 2.4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sportello.tariff.errors import TariffInputError
from sportello.tariff.money import CENT, HUNDRED, ONE, ZERO_MONEY, share_of_rate, to_cent
from sportello.tariff.text import describe

__all__ = [
    "CALL_FEE_CHANNELS",
    "CENT",
    "CHANNELS",
    "Band",
    "DEFAULT_TARIFF",
    "INTERVENTION_KINDS",
    "LEG_KINDS",
    "LINE_CODES",
    "QuoteLine",
    "InterventionFact",
    "Quote",
    "TariffParams",
    "TicketFacts",
    # Re-exported from money.py, where the rounding lives.
    "HUNDRED",
    "ONE",
    "ZERO_MONEY",
    "share_of_rate",
    "to_cent",
]

# SPEC 5.1 `opened_via`; SPEC 2 lists them in the policy's order of preference.
CHANNELS: Final = frozenset({"email", "portal", "phone", "sms", "whatsapp", "other_email", "other"})
# SPEC 2.4 / policy "ALTRI CANALI": these always carry the call-out fee (phone only when
# the official channels were possible, decided by the rule).
CALL_FEE_CHANNELS: Final = frozenset({"sms", "whatsapp", "other_email", "other"})
INTERVENTION_KINDS: Final = frozenset({"phone", "remote", "pickup", "return"})
LEG_KINDS: Final = frozenset({"pickup", "return"})
LINE_CODES: Final = ("written", "phone", "remote", "leg", "call_fee")


def _decimal(value: object, *, field_name: str) -> Decimal:
    """Coerce a parameter to Decimal: Decimal, int or decimal string; never a float."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value)
        except ArithmeticError:
            result = Decimal("NaN")
    else:
        raise TariffInputError(
            f"{field_name} must be a Decimal, an int or a decimal string such as '25.00', "
            f"not {type(value).__name__} (floats are inexact for money).",
            field=field_name,
        )
    if not result.is_finite() or result < 0:
        raise TariffInputError(
            f"{field_name} must be a finite, non-negative number, got {value!r}.",
            field=field_name,
        )
    return result


@dataclass(frozen=True, slots=True)
class Band:
    """One band of a duration scale: up to ``up_to_minutes`` (included), ``percent`` of R.

    The rest is precomputed for the hot path (seconds, fraction of R, the previous band's
    limit). ``TariffParams`` takes bands as ``(up_to_minutes, percent)`` pairs, as the
    policy writes them, or as ``Band`` values, and keeps them as ``Band`` values.
    """

    up_to_minutes: int | Decimal
    up_to_seconds: int | Decimal
    percent: Decimal
    fraction: Decimal  # percent / 100
    over_minutes: int | Decimal | None  # the previous band's limit, None for the first

    @property
    def pair(self) -> tuple[int | Decimal, Decimal]:
        """``(up_to_minutes, percent)``, as the policy and the stored versions write it."""
        return (self.up_to_minutes, self.percent)


def _bands(raw: Iterable[object], *, field_name: str) -> tuple[Band, ...]:
    bands: list[Band] = []
    previous: int | Decimal | None = None
    for index, pair in enumerate(raw):
        if isinstance(pair, Band):
            pair = pair.pair
        try:
            minutes_raw, percent_raw = pair  # type: ignore[misc]
        except (TypeError, ValueError):
            raise TariffInputError(
                f"{field_name}[{index}] must be a (minutes, percent) pair.", field=field_name
            )
        minutes_dec = _decimal(minutes_raw, field_name=f"{field_name}[{index}].minutes")
        minutes: int | Decimal = (
            int(minutes_dec) if minutes_dec == minutes_dec.to_integral_value() else minutes_dec
        )
        if previous is not None and minutes <= previous:
            raise TariffInputError(
                f"{field_name}: limits must grow ({minutes} after {previous}).", field=field_name
            )
        percent = _decimal(percent_raw, field_name=f"{field_name}[{index}].percent")
        seconds = minutes * 60
        bands.append(Band(minutes, seconds, percent, percent / HUNDRED, previous))
        previous = minutes
    if not bands:
        raise TariffInputError(f"{field_name} needs at least one band.", field=field_name)
    return tuple(bands)


@dataclass(frozen=True)
class TariffParams:
    """Every number of SPEC 5, with the policy's values as defaults.

    Versioned (SPEC 5: "versioned with a validity date"): pick the one in force on the day
    the ticket was resolved with :func:`sportello.tariff.engine.tariff_in_force`.

    Duration bands are given as ``(up_to_minutes, percent_of_R)`` pairs and kept as
    :class:`Band` values, upper limit included: the policy says "massimo 5 minuti", and
    SPEC 5 "T <= 5 min: 25% R". Past the last band, every
    further *started* ``over_step_minutes`` adds ``over_step_percent`` (SPEC 5, T > 60).
    """

    version: str = "policy-2024"
    valid_from: date = date(2000, 1, 1)
    # Written: N <= 3 -> 25% R, N > 3 -> 50% R.
    written_low_max_messages: int = 3
    written_low_percent: Decimal = Decimal(25)
    written_high_percent: Decimal = Decimal(50)
    # Phone: T <= 5 -> 25%, <= 15 -> 50%, <= 60 -> 100%.
    phone_bands: tuple[Band, ...] = (  # given as pairs, kept as Band values
        (5, Decimal(25)),
        (15, Decimal(50)),
        (60, Decimal(100)),
    )
    # Remote (phone calls included): T <= 15 -> 50%, <= 60 -> 100%.
    remote_bands: tuple[Band, ...] = (  # given as pairs, kept as Band values
        (15, Decimal(50)),
        (60, Decimal(100)),
    )
    # T > 60: +25% R for every further started 15 minutes.
    over_step_minutes: int | Decimal = 15
    over_step_percent: Decimal = Decimal(25)
    # Legs: 50% R each inside the district, EUR 1.00 per km of the one-way distance outside.
    leg_in_district_percent: Decimal = Decimal(50)
    leg_per_km: Decimal = Decimal("1.00")
    call_fee: Decimal = Decimal("25.00")
    # "aumento del 50% del costo orario".
    out_of_hours_factor: Decimal = Decimal("1.5")
    vat_percent: Decimal = Decimal(22)
    call_fee_channels: frozenset[str] = CALL_FEE_CHANNELS

    # Precomputed for the hot path.
    over_step_seconds: int | Decimal = field(init=False, repr=False, compare=False)
    written_low_fraction: Decimal = field(init=False, repr=False, compare=False)
    written_high_fraction: Decimal = field(init=False, repr=False, compare=False)
    leg_fraction: Decimal = field(init=False, repr=False, compare=False)
    vat_fraction: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in (
            "written_low_percent",
            "written_high_percent",
            "over_step_percent",
            "leg_in_district_percent",
            "leg_per_km",
            "call_fee",
            "out_of_hours_factor",
            "vat_percent",
        ):
            set_(self, name, _decimal(getattr(self, name), field_name=name))
        if self.out_of_hours_factor < 1:
            raise TariffInputError(
                "out_of_hours_factor must be >= 1 (1.5 is the policy's +50%).",
                field="out_of_hours_factor",
            )
        n = self.written_low_max_messages
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise TariffInputError(
                "written_low_max_messages must be a non-negative int (policy: 3).",
                field="written_low_max_messages",
            )
        step = _decimal(self.over_step_minutes, field_name="over_step_minutes")
        if step <= 0:
            raise TariffInputError(
                "over_step_minutes must be positive (policy: 15).", field="over_step_minutes"
            )
        step_minutes: int | Decimal = int(step) if step == step.to_integral_value() else step
        set_(self, "over_step_minutes", step_minutes)
        set_(self, "over_step_seconds", step_minutes * 60)
        set_(self, "phone_bands", _bands(self.phone_bands, field_name="phone_bands"))
        set_(self, "remote_bands", _bands(self.remote_bands, field_name="remote_bands"))
        set_(self, "written_low_fraction", self.written_low_percent / HUNDRED)
        set_(self, "written_high_fraction", self.written_high_percent / HUNDRED)
        set_(self, "leg_fraction", self.leg_in_district_percent / HUNDRED)
        set_(self, "vat_fraction", self.vat_percent / HUNDRED)
        channels = frozenset(self.call_fee_channels)
        unknown = channels - CHANNELS
        if unknown:
            raise TariffInputError(
                f"call_fee_channels: unknown channel(s) {sorted(unknown)}; "
                f"use some of {sorted(CHANNELS)}.",
                field="call_fee_channels",
            )
        set_(self, "call_fee_channels", channels)


DEFAULT_TARIFF: Final = TariffParams()


@dataclass(frozen=True, slots=True)
class InterventionFact:
    """A phone call, remote session or logistics leg (SPEC 4).

    - ``kind``: ``phone``, ``remote``, ``pickup`` or ``return``;
    - ``start``: an *aware* datetime (any offset; the calendar converts it);
    - ``seconds``: exact duration of a call/session (int, or Decimal for fractions of a
      second); SPEC 5 "Durations are exact: a call of 5 min 20 s is over 5 minutes".
      Ignored for legs;
    - ``out_of_hours``: the agent's override (SPEC 4); ``None`` lets the calendar decide.

    Build calls with :meth:`of` to give minutes and seconds together.
    """

    kind: str
    start: datetime
    seconds: int | Decimal = 0
    out_of_hours: bool | None = None

    @classmethod
    def of(
        cls,
        kind: str,
        start: datetime,
        *,
        minutes: int | Decimal = 0,
        seconds: int | Decimal = 0,
        out_of_hours: bool | None = None,
    ) -> InterventionFact:
        """``InterventionFact.of("phone", start, minutes=5, seconds=20)``: 320 s."""
        return cls(kind, start, minutes * 60 + seconds, out_of_hours)

    @property
    def minutes(self) -> Decimal:
        """The exact duration in minutes (a Decimal, e.g. 5.5 for 5 min 30 s)."""
        return Decimal(self.seconds) / 60


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the engine needs to know about a ticket; nothing is looked up (SPEC 5).

    - ``hourly_rate``: R, chosen before the engine runs (STYLE 2.4);
    - ``opened_via``: one of :data:`CHANNELS`;
    - ``official_channels_possible``: for ``phone``, could the customer have used e-mail or
      the portal? Defaults to True: SPEC 2 says the call-out fee applies "unless an agent
      records why the customer could not use the official ones";
    - ``in_district`` / ``distance_km``: the organisation's place; ``distance_km`` (one
      way) is needed only for legs outside the district;
    - ``written_messages``: N, public messages written by people, both directions;
    - ``out_of_hours_requested``: the written-mode out-of-hours flag;
    - ``waive_call_fee``, ``billable``: SPEC 5.1 defaults False and True.
    """

    hourly_rate: Decimal
    opened_via: str
    official_channels_possible: bool = True
    in_district: bool = True
    distance_km: Decimal | int | None = None
    written_messages: int = 0
    out_of_hours_requested: bool = False
    interventions: tuple[InterventionFact, ...] = ()
    waive_call_fee: bool = False
    billable: bool = True


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One charge of a quote, with what produced it (SPEC 6: "a human explanation").

    Structured fields, so that billing can store and re-explain the line:

    - ``code``: ``written``, ``phone``, ``remote``, ``leg`` or ``call_fee``;
    - ``amount``: rounded once to the cent, half up (STYLE 2.4);
    - ``percent`` / ``base``: percent-of-R lines: ``percent`` of ``base`` (= R), times
      ``factor`` (1.5 when ``surcharged``); ``None`` for per-km and fixed lines;
    - ``quantity``: messages (written), seconds (phone/remote), km (leg outside the
      district), None otherwise;
    - ``unit_price``: EUR per km or the fixed fee, for lines that are not percent-of-R;
    - ``out_of_hours``: the intervention was out of hours (even when the line is per-km
      and therefore not ``surcharged``);
    - ``band_over`` / ``band_up_to``: the band that applied (minutes or messages), e.g.
      over 5 up to 15; ``steps``: started ``step_minutes`` blocks past the last band;
    - ``phone_seconds``: for ``remote``, how much of ``quantity`` was phone calls;
    - ``leg_kind``, ``start`` (local time of the leg), ``in_district``: for legs;
    - ``channel``: for ``call_fee``, the channel that triggered it.

    ``description_it`` / ``description_en`` are built on demand (kept off the hot path).
    """

    code: str
    amount: Decimal
    percent: Decimal | None = None
    base: Decimal | None = None
    factor: Decimal = ONE
    surcharged: bool = False
    out_of_hours: bool = False
    quantity: int | Decimal | None = None
    unit_price: Decimal | None = None
    band_over: int | Decimal | None = None
    band_up_to: int | Decimal | None = None
    steps: int = 0
    step_minutes: int | Decimal | None = None
    phone_seconds: int | Decimal = 0
    leg_kind: str | None = None
    start: datetime | None = None
    in_district: bool | None = None
    channel: str | None = None

    def description(self, lang: str = "it") -> str:
        """The human explanation in ``lang`` (``it`` or ``en``)."""
        return describe(self, lang)

    @property
    def description_it(self) -> str:
        return self.description("it")

    @property
    def description_en(self) -> str:
        return self.description("en")


@dataclass(frozen=True, slots=True)
class Quote:
    """Lines, net (sum of the rounded lines), VAT on the net (half up), total = net + VAT."""

    lines: tuple[QuoteLine, ...]
    net: Decimal
    vat: Decimal
    total: Decimal
    tariff_version: str = DEFAULT_TARIFF.version

    @property
    def codes(self) -> list[str]:
        return [line.code for line in self.lines]
