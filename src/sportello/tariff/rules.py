"""The tariff's rules (SPEC 5), one small function each.

Each rule is ``(facts, params, calendar) -> list[QuoteLine]`` (STYLE 2.4) and rounds each
of its lines once, half up, to the cent. :data:`RULES` is the order the engine applies
them in, which is also the order of the lines of a quote:

1. :func:`resolution_fee`: at most one line, ``remote``, ``phone`` or ``written``;
2. :func:`logistics_legs`: one ``leg`` line per pick-up/return, in input order;
3. :func:`call_out_fee`: at most one ``call_fee`` line.

Rules trust their input types (the scenario parser and the billing shell validate); they
still refuse values that would make a quote negative or meaningless.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sportello.tariff.calendar import BusinessCalendar
from sportello.tariff.errors import TariffInputError
from sportello.tariff.values import (
    CHANNELS,
    HUNDRED,
    ONE,
    Band,
    QuoteLine,
    TariffParams,
    TicketFacts,
    to_cent,
)

__all__ = ["RULES", "Rule", "call_out_fee", "logistics_legs", "resolution_fee"]

Rule = Callable[[TicketFacts, TariffParams, BusinessCalendar], list[QuoteLine]]


def _duration_line(
    code: str,
    seconds: int | Decimal,
    bands: tuple[Band, ...],
    params: TariffParams,
    rate: Decimal,
    out_of_hours: bool,
    phone_seconds: int | Decimal = 0,
) -> QuoteLine:
    """The phone or remote fee for a total duration ``seconds`` (upper limits included)."""
    steps = 0
    for band in bands:
        if seconds <= band.up_to_seconds:
            percent = band.percent
            fraction = band.fraction
            over = band.over_minutes
            up_to: int | Decimal | None = band.up_to_minutes
            break
    else:
        # SPEC 5: "T > 60: 100% R plus 25% R for every further started 15 minutes".
        last = bands[-1]
        whole, rest = divmod(seconds - last.up_to_seconds, params.over_step_seconds)
        steps = int(whole) + (1 if rest else 0)
        percent = last.percent + steps * params.over_step_percent
        fraction = percent / HUNDRED
        over = last.up_to_minutes
        up_to = None
    if out_of_hours:
        factor = params.out_of_hours_factor
        amount = to_cent(rate * fraction * factor)
    else:
        factor = ONE
        amount = to_cent(rate * fraction)
    return QuoteLine(
        code,
        amount,
        percent=percent,
        base=rate,
        factor=factor,
        surcharged=out_of_hours,
        out_of_hours=out_of_hours,
        quantity=seconds,
        band_over=over,
        band_up_to=up_to,
        steps=steps,
        step_minutes=params.over_step_minutes if steps else None,
        phone_seconds=phone_seconds,
    )


def resolution_fee(
    facts: TicketFacts, params: TariffParams, calendar: BusinessCalendar
) -> list[QuoteLine]:
    """One fee per billable ticket, by the highest mode used: remote > phone > written.

    Edge cases:
    - remote: T is remote sessions *plus* phone calls (SPEC 5: "a phone call that turns
      into a remote connection is billed at the remote tariff");
    - phone/remote: surcharged when *any* billed call or session started out of hours,
      the agent's per-intervention override winning over the calendar;
    - written: surcharged only when ``out_of_hours_requested`` (SPEC 5, "Written: only when
      the ticket is flagged"); the flag does not touch phone or remote fees;
    - written needs at least one message: a ticket with no messages, calls or sessions
      (e.g. a pick-up booked at the counter) has no resolution fee, only its other lines;
    - a call of 0 seconds still counts as the phone mode (first band).
    """
    rate = facts.hourly_rate
    if rate < 0:
        raise TariffInputError(
            f"hourly_rate must not be negative, got {rate}.", field="hourly_rate"
        )
    phone_seconds: int | Decimal = 0
    remote_seconds: int | Decimal = 0
    has_phone = has_remote = False
    out_of_hours = False
    is_in_hours = calendar.is_in_hours
    for index, iv in enumerate(facts.interventions):
        kind = iv.kind
        if kind == "phone":
            has_phone = True
            phone_seconds += iv.seconds
        elif kind == "remote":
            has_remote = True
            remote_seconds += iv.seconds
        else:
            continue  # legs: see logistics_legs, which also rejects unknown kinds
        if iv.seconds < 0:
            raise TariffInputError(
                f"interventions[{index}].seconds must not be negative, got {iv.seconds}.",
                field=f"interventions[{index}].seconds",
            )
        if not out_of_hours:
            flag = iv.out_of_hours
            out_of_hours = (not is_in_hours(iv.start)) if flag is None else flag

    if has_remote:
        return [
            _duration_line(
                "remote",
                phone_seconds + remote_seconds,
                params.remote_bands,
                params,
                rate,
                out_of_hours,
                phone_seconds,
            )
        ]
    if has_phone:
        return [
            _duration_line("phone", phone_seconds, params.phone_bands, params, rate, out_of_hours)
        ]

    n = facts.written_messages
    if n <= 0:
        if n < 0:
            raise TariffInputError(
                f"written_messages must not be negative, got {n}.", field="written_messages"
            )
        return []
    low = params.written_low_max_messages
    if n <= low:
        percent, fraction, over, up_to = (
            params.written_low_percent,
            params.written_low_fraction,
            None,
            low,
        )
    else:
        percent, fraction, over, up_to = (
            params.written_high_percent,
            params.written_high_fraction,
            low,
            None,
        )
    surcharged = facts.out_of_hours_requested
    factor = params.out_of_hours_factor if surcharged else ONE
    amount = to_cent(rate * fraction * factor)
    return [
        QuoteLine(
            "written",
            amount,
            percent=percent,
            base=rate,
            factor=factor,
            surcharged=surcharged,
            out_of_hours=surcharged,
            quantity=n,
            band_over=over,
            band_up_to=up_to,
        )
    ]


def logistics_legs(
    facts: TicketFacts, params: TariffParams, calendar: BusinessCalendar
) -> list[QuoteLine]:
    """One line per pick-up or return (SPEC 5, "Logistics legs"), in input order.

    Edge cases:
    - inside the district: ``leg_in_district_percent`` of R, surcharged by the leg's own
      start (or its override);
    - outside: ``distance_km`` x ``leg_per_km`` per leg (one way), never surcharged
      (SPEC 5: "Fees in EUR per km ... are never surcharged"); a missing distance raises;
    - "pick-up and return" is simply two legs.
    """
    lines: list[QuoteLine] = []
    rate = facts.hourly_rate
    for index, iv in enumerate(facts.interventions):
        kind = iv.kind
        if kind == "phone" or kind == "remote":
            continue
        if kind != "pickup" and kind != "return":
            raise TariffInputError(
                f"interventions[{index}].kind {kind!r} is unknown; "
                "use phone, remote, pickup or return.",
                field=f"interventions[{index}].kind",
            )
        flag = iv.out_of_hours
        out_of_hours = (not calendar.is_in_hours(iv.start)) if flag is None else flag
        start = iv.start.astimezone(calendar.tz)
        if facts.in_district:
            factor = params.out_of_hours_factor if out_of_hours else ONE
            amount = to_cent(rate * params.leg_fraction * factor)
            lines.append(
                QuoteLine(
                    "leg",
                    amount,
                    percent=params.leg_in_district_percent,
                    base=rate,
                    factor=factor,
                    surcharged=out_of_hours,
                    out_of_hours=out_of_hours,
                    leg_kind=kind,
                    start=start,
                    in_district=True,
                )
            )
        else:
            km = facts.distance_km
            if km is None or km < 0:
                raise TariffInputError(
                    "distance_km is required (one-way km, >= 0) for a leg outside the "
                    f"district; got {km!r}. Set distance_km, or in_district to true.",
                    field="distance_km",
                )
            amount = to_cent(km * params.leg_per_km)
            lines.append(
                QuoteLine(
                    "leg",
                    amount,
                    out_of_hours=out_of_hours,
                    quantity=km,
                    unit_price=params.leg_per_km,
                    leg_kind=kind,
                    start=start,
                    in_district=False,
                )
            )
    return lines


def call_out_fee(
    facts: TicketFacts, params: TariffParams, calendar: BusinessCalendar
) -> list[QuoteLine]:
    """The call-out fee (diritto di chiamata), SPEC 5 and policy "ALTRI CANALI".

    Due when the ticket came through SMS, WhatsApp, another e-mail address or any other
    channel, or by phone when e-mail or the portal could have been used; never when
    ``waive_call_fee`` (an agent recorded why). A fixed fee: never surcharged.
    """
    via = facts.opened_via
    if via not in CHANNELS:
        raise TariffInputError(
            f"opened_via {via!r} is unknown; use one of {', '.join(sorted(CHANNELS))}.",
            field="opened_via",
        )
    if facts.waive_call_fee:
        return []
    if via in params.call_fee_channels or (via == "phone" and facts.official_channels_possible):
        fee = to_cent(params.call_fee)
        return [QuoteLine("call_fee", fee, unit_price=params.call_fee, channel=via)]
    return []


RULES: tuple[Rule, ...] = (resolution_fee, logistics_legs, call_out_fee)
