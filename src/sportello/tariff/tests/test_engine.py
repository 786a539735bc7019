"""Tariff rules of SPEC 5, one row per case (STYLE 2.5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from sportello.tariff.engine import DEFAULT_TARIFF, quote, tariff_in_force
from sportello.tariff.errors import TariffInputError
from sportello.tariff.tests.support import (
    CALENDAR,
    MONDAY_10,
    MONDAY_20,
    SATURDAY_10,
    call,
    facts,
    rome,
)
from sportello.tariff.values import InterventionFact, TariffParams

D = Decimal


def q(f, params=DEFAULT_TARIFF):
    return quote(f, params, CALENDAR)


# -- phone: T <= 5: 25%; 5 < T <= 15: 50%; 15 < T <= 60: 100%; then +25% per started 15 min -------
@pytest.mark.parametrize(
    ("seconds", "percent", "amount"),
    [
        (0, 25, "15.00"),
        (299, 25, "15.00"),
        (300, 25, "15.00"),  # 5 min 00 s
        (301, 50, "30.00"),  # 5 min 01 s
        (320, 50, "30.00"),  # SPEC: "a call of 5 min 20 s is over 5 minutes"
        (D("300.001"), 50, "30.00"),
        (900, 50, "30.00"),
        (901, 100, "60.00"),
        (3600, 100, "60.00"),  # 60 min
        (3601, 125, "75.00"),  # 60 min 1 s: one started step
        (61 * 60, 125, "75.00"),
        (75 * 60, 125, "75.00"),
        (75 * 60 + 1, 150, "90.00"),
        (90 * 60, 150, "90.00"),
        (90 * 60 + 1, 175, "105.00"),
        (180 * 60, 300, "180.00"),
    ],
)
def test_phone_bands(seconds, percent, amount):
    result = q(facts(interventions=(call("phone", MONDAY_10, seconds),)))
    (line,) = result.lines
    assert (line.code, line.percent, line.amount) == ("phone", D(percent), D(amount))


@pytest.mark.parametrize(
    ("seconds", "percent"),
    [(0, 50), (900, 50), (901, 100), (3600, 100), (3601, 125), (4500, 125), (4501, 150)],
)
def test_remote_bands(seconds, percent):
    (line,) = q(facts(interventions=(call("remote", MONDAY_10, seconds),))).lines
    assert (line.code, line.percent, line.amount) == ("remote", D(percent), D(60) * percent / 100)


def test_phone_calls_are_summed_exactly():
    two = (call("phone", MONDAY_10, 150), call("phone", MONDAY_10, 150))
    assert q(facts(interventions=two)).lines[0].percent == 25
    two = (call("phone", MONDAY_10, D("150.5")), call("phone", MONDAY_10, D("149.5")))
    assert q(facts(interventions=two)).lines[0].percent == 25
    three = (*two, call("phone", MONDAY_10, 1))
    assert q(facts(interventions=three)).lines[0].percent == 50


def test_remote_time_includes_phone_calls():
    # SPEC 5: "a phone call that turns into a remote connection is billed at the remote tariff".
    ivs = (call("phone", MONDAY_10, 300), call("remote", MONDAY_10, 600))
    (line,) = q(facts(interventions=ivs)).lines
    assert (line.code, line.quantity, line.phone_seconds, line.percent) == ("remote", 900, 300, 50)
    ivs = (call("phone", MONDAY_10, 300), call("remote", MONDAY_10, 601))
    assert q(facts(interventions=ivs)).lines[0].percent == 100


def test_intervention_of_takes_minutes_and_seconds():
    iv = InterventionFact.of("phone", MONDAY_10, minutes=5, seconds=20)
    assert iv.seconds == 320 and iv.minutes == D(320) / 60


# -- written: N <= 3: 25%; N > 3: 50% -------------------------------------------------------------
@pytest.mark.parametrize(
    ("messages", "codes", "net"),
    [
        (0, [], "0.00"),  # no mode used: no resolution fee (documented choice)
        (1, ["written"], "15.00"),
        (3, ["written"], "15.00"),
        (4, ["written"], "30.00"),
        (40, ["written"], "30.00"),
    ],
)
def test_written_bands(messages, codes, net):
    result = q(facts(written_messages=messages))
    assert (result.codes, result.net) == (codes, D(net))


@pytest.mark.parametrize(
    ("interventions", "messages", "code"),
    [
        ((call("phone", MONDAY_10, 60),), 9, "phone"),
        ((call("remote", MONDAY_10, 60),), 9, "remote"),
        ((call("remote", MONDAY_10, 60), call("phone", MONDAY_10, 60)), 9, "remote"),
        ((call("pickup", MONDAY_10),), 2, "written"),
    ],
)
def test_one_fee_by_the_highest_mode(interventions, messages, code):
    result = q(facts(interventions=interventions, written_messages=messages))
    resolution = [c for c in result.codes if c in ("written", "phone", "remote")]
    assert resolution == [code]


# -- out of hours ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("interventions", "surcharged"),
    [
        ((call("phone", MONDAY_10, 720),), False),
        ((call("phone", MONDAY_20, 720),), True),
        ((call("phone", rome(2026, 3, 2, 13, 0), 720),), True),
        ((call("phone", rome(2026, 3, 2, 12, 59), 720),), False),
        ((call("phone", rome(2026, 3, 2, 8, 59), 720),), True),
        ((call("phone", rome(2026, 3, 2, 9, 0), 720),), False),
        ((call("phone", rome(2026, 3, 2, 14, 29), 720),), True),
        ((call("phone", rome(2026, 3, 2, 14, 30), 720),), False),
        ((call("phone", rome(2026, 3, 2, 18, 59), 720),), False),
        ((call("phone", rome(2026, 3, 2, 19, 0), 720),), True),
        ((call("phone", SATURDAY_10, 720),), True),
        ((call("phone", rome(2026, 4, 6, 10, 0), 720),), True),  # Easter Monday
        ((call("phone", rome(2025, 2, 14, 10, 0), 720),), True),  # 14 Feb, Terni
        ((call("phone", rome(2027, 11, 1, 10, 0), 720),), True),  # All Saints'
        # Any billed call out of hours surcharges the fee.
        ((call("phone", MONDAY_10, 300), call("phone", MONDAY_20, 420)), True),
        ((call("phone", MONDAY_20, 300), call("remote", MONDAY_10, 420)), True),
        # The agent's override wins over the calendar (SPEC 4).
        ((call("phone", MONDAY_20, 720, ooh=False),), False),
        ((call("phone", MONDAY_10, 720, ooh=True),), True),
        ((call("phone", MONDAY_20, 300, ooh=False), call("phone", MONDAY_10, 420)), False),
    ],
)
def test_resolution_fee_surcharge(interventions, surcharged):
    (line,) = q(facts(interventions=interventions)).lines
    assert line.surcharged is surcharged
    assert line.factor == (D("1.5") if surcharged else 1)
    assert line.amount == (D("45.00") if surcharged else D("30.00"))


def test_written_is_surcharged_only_on_request():
    assert q(facts(written_messages=2, out_of_hours_requested=True)).net == D("22.50")
    assert q(facts(written_messages=2)).net == D("15.00")
    # The flag is the written mode's: it does not touch a phone fee in hours.
    f = facts(interventions=(call("phone", MONDAY_10, 720),), out_of_hours_requested=True)
    assert q(f).net == D("30.00")


def test_a_written_fee_is_not_surcharged_by_an_evening_leg():
    result = q(facts(written_messages=2, interventions=(call("pickup", MONDAY_20),)))
    assert [(line.code, line.amount, line.surcharged) for line in result.lines] == [
        ("written", D("15.00"), False),
        ("leg", D("45.00"), True),
    ]


# -- legs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("leg", "in_district", "km", "amount", "surcharged"),
    [
        (call("pickup", MONDAY_10), True, None, "30.00", False),
        (call("return", SATURDAY_10), True, None, "45.00", True),  # by its own start
        (call("return", SATURDAY_10, ooh=False), True, None, "30.00", False),
        (call("pickup", MONDAY_10, ooh=True), True, None, "45.00", True),
        (call("pickup", MONDAY_10), False, D(37), "37.00", False),
        (call("pickup", SATURDAY_10), False, D(37), "37.00", False),  # per km: never surcharged
        (call("pickup", MONDAY_10), False, D("12.345"), "12.35", False),
        (call("pickup", MONDAY_10), False, 0, "0.00", False),
    ],
)
def test_legs(leg, in_district, km, amount, surcharged):
    f = facts(interventions=(leg,), in_district=in_district, distance_km=km)
    (line,) = q(f).lines
    assert (line.code, line.amount, line.surcharged) == ("leg", D(amount), surcharged)


def test_pickup_and_return_are_two_legs_in_input_order():
    ivs = (call("return", rome(2026, 3, 12, 17, 0)), call("pickup", MONDAY_10))
    result = q(facts(interventions=ivs))
    assert [(line.code, line.leg_kind) for line in result.lines] == [
        ("leg", "return"),
        ("leg", "pickup"),
    ]
    assert result.net == D("60.00")  # "pick-up & return: 100% R" in the district


def test_a_leg_outside_the_district_needs_a_distance():
    with pytest.raises(TariffInputError) as info:
        q(facts(interventions=(call("pickup", MONDAY_10),), in_district=False))
    assert info.value.field == "distance_km"


# -- call-out fee ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("via", "official_possible", "waived", "fee"),
    [
        ("email", True, False, False),
        ("portal", True, False, False),
        ("phone", False, False, False),
        ("phone", True, False, True),
        ("phone", True, True, False),
        ("sms", False, False, True),
        ("whatsapp", False, False, True),
        ("other_email", False, False, True),
        ("other", False, False, True),
        ("other", False, True, False),
    ],
)
def test_call_out_fee(via, official_possible, waived, fee):
    f = facts(
        opened_via=via,
        official_channels_possible=official_possible,
        waive_call_fee=waived,
        written_messages=1,
    )
    assert ("call_fee" in q(f).codes) is fee


def test_call_out_fee_is_never_surcharged():
    f = facts(opened_via="whatsapp", interventions=(call("phone", SATURDAY_10, 60),))
    result = q(f)
    assert [(line.code, line.amount) for line in result.lines] == [
        ("phone", D("22.50")),
        ("call_fee", D("25.00")),
    ]


# -- non-billable, rounding, VAT ------------------------------------------------------------------
def test_a_non_billable_ticket_has_no_charges():
    f = facts(
        billable=False,
        opened_via="whatsapp",
        written_messages=9,
        interventions=(call("remote", SATURDAY_10, 9000),),
    )
    result = q(f)
    assert (result.lines, result.net, result.vat, result.total) == ((), D(0), D(0), D(0))
    assert str(result.total) == "0.00"


@pytest.mark.parametrize(
    ("rate", "kwargs", "net", "vat", "total"),
    [
        ("47.50", {"written_messages": 2}, "11.88", "2.61", "14.49"),
        ("0.10", {"written_messages": 1}, "0.03", "0.01", "0.04"),  # 0.025 -> 0.03, half up
        ("3.00", {"written_messages": 1}, "0.75", "0.17", "0.92"),  # VAT 0.165 -> 0.17
        # Rounded once: 0.30 x 25% x 1.5 = 0.1125 -> 0.11 (twice would give 0.12).
        ("0.30", {"written_messages": 1, "out_of_hours_requested": True}, "0.11", "0.02", "0.13"),
        ("47.50", {"interventions": (call("phone", MONDAY_20, 720),)}, "35.63", "7.84", "43.47"),
    ],
)
def test_rounding(rate, kwargs, net, vat, total):
    result = q(facts(hourly_rate=D(rate), **kwargs))
    assert (result.net, result.vat, result.total) == (D(net), D(vat), D(total))
    assert result.net == sum(line.amount for line in result.lines)


# -- bad facts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"opened_via": "fax"}, "opened_via"),
        ({"interventions": (call("visit", MONDAY_10),)}, "interventions[0].kind"),
        ({"interventions": (call("phone", MONDAY_10, -1),)}, "interventions[0].seconds"),
        ({"hourly_rate": D("-1")}, "hourly_rate"),
        ({"written_messages": -1}, "written_messages"),
    ],
)
def test_it_refuses_bad_facts(overrides, field):
    with pytest.raises(TariffInputError) as info:
        q(facts(**overrides))
    assert info.value.field == field


def test_a_naive_start_is_refused():
    from datetime import datetime

    with pytest.raises(TariffInputError, match="naive"):
        q(facts(interventions=(call("phone", datetime(2026, 3, 2, 10, 0), 60),)))


# -- parameters are data --------------------------------------------------------------------------
def test_parameters_can_change_every_number():
    params = TariffParams(
        version="custom",
        written_low_max_messages=5,
        written_low_percent=D(20),
        call_fee=D("30.00"),
        vat_percent=D(10),
        out_of_hours_factor=D(2),
        phone_bands=((10, D(40)), (30, D(80))),
        over_step_minutes=30,
        over_step_percent=D(40),
    )
    result = quote(facts(opened_via="sms", written_messages=5), params, CALENDAR)
    assert (result.net, result.vat, result.tariff_version) == (D("42.00"), D("4.20"), "custom")
    (line,) = quote(
        facts(interventions=(call("phone", MONDAY_20, 31 * 60),)), params, CALENDAR
    ).lines
    assert (line.percent, line.amount) == (D(120), D("144.00"))  # (80 + 40)% x 60 x 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"call_fee": 25.0}, "call_fee"),
        ({"vat_percent": D(-1)}, "vat_percent"),
        ({"out_of_hours_factor": D("0.5")}, "out_of_hours_factor"),
        ({"phone_bands": ((15, D(50)), (5, D(25)))}, "phone_bands"),
        ({"remote_bands": ()}, "remote_bands"),
        ({"over_step_minutes": 0}, "over_step_minutes"),
        ({"call_fee_channels": frozenset({"fax"})}, "call_fee_channels"),
    ],
)
def test_parameters_are_validated(kwargs, field):
    with pytest.raises(TariffInputError) as info:
        TariffParams(**kwargs)
    assert info.value.field == field


def test_tariff_in_force():
    old = replace(DEFAULT_TARIFF, version="2025", valid_from=date(2025, 1, 1))
    new = replace(DEFAULT_TARIFF, version="2026", valid_from=date(2026, 7, 1), call_fee=D(30))
    assert tariff_in_force([new, old], on=date(2026, 6, 30)) is old
    assert tariff_in_force([new, old], on=date(2026, 7, 1)) is new
    with pytest.raises(TariffInputError, match="no tariff is in force"):
        tariff_in_force([new, old], on=date(2024, 12, 31))
    with pytest.raises(TariffInputError, match="both start"):
        tariff_in_force([old, replace(old, version="dup")], on=date(2026, 1, 1))


# -- explanations ---------------------------------------------------------------------------------
def describe_all(f, lang):
    return [line.description(lang) for line in q(f).lines]


@pytest.mark.parametrize(
    ("f", "italian", "english"),
    [
        (
            facts(interventions=(InterventionFact.of("phone", MONDAY_10, minutes=5, seconds=20),)),
            "Assistenza telefonica: 5 min 20 s (oltre 5, fino a 15) = 50% di 60,00 € = 30,00 €",
            "Phone support: 5 min 20 s (over 5, up to 15) = 50% of €60.00 = €30.00",
        ),
        (
            facts(interventions=(call("remote", MONDAY_10, 3601),)),
            "Assistenza remota: 60 min 1 s (oltre 60, 1 blocco di 15 min iniziato) "
            "= 125% di 60,00 € = 75,00 €",
            "Remote support: 60 min 1 s (over 60, 1 started 15-min block) "
            "= 125% of €60.00 = €75.00",
        ),
        (
            facts(hourly_rate=D("1234.50"), written_messages=4),
            "Assistenza scritta: 4 messaggi (oltre 3) = 50% di 1.234,50 € = 617,25 €",
            "Written support: 4 messages (over 3) = 50% of €1,234.50 = €617.25",
        ),
        (
            facts(
                interventions=(call("pickup", SATURDAY_10),),
                in_district=False,
                distance_km=D("37.5"),
            ),
            "Ritiro materiale del 07/03/2026 ore 10:00, fuori circondario: 37,5 km × 1,00 €/km, "
            "fuori orario (tariffa a km non maggiorata) = 37,50 €",
            "Hardware pick-up on 2026-03-07 at 10:00, outside the district: 37.5 km × €1.00/km, "
            "out of hours (per-km fee not surcharged) = €37.50",
        ),
        (
            facts(opened_via="other_email"),
            "Diritto di chiamata: richiesta a un indirizzo e-mail diverso da quello "
            "dell'assistenza = 25,00 €",
            "Call-out fee: request to an e-mail address other than the support one = €25.00",
        ),
    ],
)
def test_lines_explain_themselves(f, italian, english):
    (it,) = describe_all(f, "it")
    (en,) = describe_all(f, "en")
    assert (it, en) == (italian, english)
    line = q(f).lines[0]
    assert (line.description_it, line.description_en) == (italian, english)


def test_leg_times_are_shown_on_the_rome_clock():
    from datetime import UTC, datetime

    f = facts(interventions=(call("return", datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),))
    assert describe_all(f, "it") == [
        "Riconsegna materiale del 01/07/2026 ore 15:00, nel circondario = 50% di 60,00 € = 30,00 €"
    ]
