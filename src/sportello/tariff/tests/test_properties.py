"""Invariants of the tariff, checked with hypothesis (STYLE 2.5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sportello.tariff.engine import DEFAULT_TARIFF, quote
from sportello.tariff.tests.support import CALENDAR, ROME
from sportello.tariff.values import CENT, CHANNELS, InterventionFact, TicketFacts

ZONES = [ROME, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-7))]
DURATIONS = st.integers(min_value=0, max_value=200 * 60) | st.decimals(
    min_value=0, max_value=200 * 60, places=3, allow_nan=False, allow_infinity=False
)

starts = st.datetimes(
    min_value=datetime(2024, 1, 2),
    max_value=datetime(2027, 12, 30),
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)
interventions = st.builds(
    InterventionFact,
    kind=st.sampled_from(["phone", "remote", "pickup", "return"]),
    start=starts,
    seconds=DURATIONS,
    out_of_hours=st.none() | st.booleans(),
)
timed_interventions = st.builds(
    InterventionFact,
    kind=st.sampled_from(["phone", "remote"]),
    start=starts,
    seconds=DURATIONS,
    out_of_hours=st.none() | st.booleans(),
)
tickets = st.builds(
    TicketFacts,
    hourly_rate=st.decimals(min_value=0, max_value=500, places=2),
    opened_via=st.sampled_from(sorted(CHANNELS)),
    official_channels_possible=st.booleans(),
    in_district=st.booleans(),
    distance_km=st.decimals(min_value=0, max_value=500, places=1),
    written_messages=st.integers(min_value=0, max_value=20),
    out_of_hours_requested=st.booleans(),
    interventions=st.lists(interventions, max_size=5).map(tuple),
    waive_call_fee=st.booleans(),
    billable=st.booleans() | st.just(True),
)


def q(facts):
    return quote(facts, DEFAULT_TARIFF, CALENDAR)


@settings(max_examples=300, deadline=None)
@given(tickets, st.data())
def test_more_minutes_never_cost_less(facts, data):
    timed = [i for i, iv in enumerate(facts.interventions) if iv.kind in ("phone", "remote")]
    if not timed:  # make sure there is a duration to grow
        facts = replace(facts, interventions=(*facts.interventions, data.draw(timed_interventions)))
        timed = [len(facts.interventions) - 1]
    index = data.draw(st.sampled_from(timed))
    extra = data.draw(DURATIONS)
    longer = list(facts.interventions)
    longer[index] = replace(longer[index], seconds=longer[index].seconds + extra)
    assert q(replace(facts, interventions=tuple(longer))).net >= q(facts).net


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["phone", "remote"]), starts, DURATIONS, DURATIONS)
def test_a_longer_call_never_costs_less(kind, start, a, b):
    short, long_ = sorted([a, b])

    def fee(seconds):
        return q(
            TicketFacts(
                Decimal("60.00"), "email", interventions=((InterventionFact(kind, start, seconds)),)
            )
        ).net

    assert fee(short) <= fee(long_)


@settings(max_examples=300, deadline=None)
@given(tickets)
def test_out_of_hours_is_exactly_1_5_on_percentages_and_1_elsewhere(facts):
    def forced(flag):
        ivs = tuple(replace(iv, out_of_hours=flag) for iv in facts.interventions)
        return q(replace(facts, interventions=ivs, out_of_hours_requested=flag, billable=True))

    day, night = forced(False), forced(True)
    assert [line.code for line in day.lines] == [line.code for line in night.lines]
    for plain, surcharged in zip(day.lines, night.lines, strict=True):
        if plain.percent is not None:  # a percentage of R
            exact = plain.base * plain.percent / 100
            assert plain.amount == exact.quantize(CENT, ROUND_HALF_UP)
            assert surcharged.amount == (exact * Decimal("1.5")).quantize(CENT, ROUND_HALF_UP)
            assert (plain.factor, surcharged.factor) == (1, Decimal("1.5"))
            assert surcharged.surcharged and not plain.surcharged
        else:  # per km or fixed: never surcharged
            assert surcharged.amount == plain.amount
            assert surcharged.factor == plain.factor == 1
            assert not surcharged.surcharged


@settings(max_examples=300, deadline=None)
@given(tickets)
def test_totals_reconcile_to_the_cent_and_nothing_is_negative(facts):
    result = q(facts)
    assert result.net == sum((line.amount for line in result.lines), Decimal("0.00"))
    assert result.vat == (result.net * Decimal("0.22")).quantize(CENT, ROUND_HALF_UP)
    assert result.total == result.net + result.vat
    for amount in (result.net, result.vat, result.total, *(line.amount for line in result.lines)):
        assert amount >= 0
        assert amount.as_tuple().exponent == -2
    if not facts.billable:
        assert result.lines == () and result.total == 0
    codes = result.codes
    assert sum(code in ("written", "phone", "remote") for code in codes) <= 1
    assert codes.count("call_fee") <= 1
    assert all(line.description_it and line.description_en for line in result.lines)


@settings(max_examples=300, deadline=None)
@given(starts, st.sampled_from(ZONES))
def test_the_offset_an_instant_is_written_in_does_not_matter(instant, zone):
    assert CALENDAR.is_in_hours(instant) is CALENDAR.is_in_hours(instant.astimezone(zone))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=datetime(2024, 1, 2), max_value=datetime(2027, 12, 30)),
        min_size=3,
        max_size=3,
    )
)
def test_business_minutes_add_up(naive):
    a, b, c = sorted(d.replace(second=0, microsecond=0, tzinfo=UTC) for d in naive)
    total = CALENDAR.business_minutes_between(a, c)
    assert total == CALENDAR.business_minutes_between(a, b) + CALENDAR.business_minutes_between(
        b, c
    )
    assert 0 <= total <= (c - a) / timedelta(minutes=1)
