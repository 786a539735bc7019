"""Scenario JSON (SPEC 5.1): strict parsing, and the command's exit status 2 on bad input."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal

import pytest

from sportello.tariff import cli
from sportello.tariff.engine import DEFAULT_TARIFF, quote
from sportello.tariff.errors import TariffInputError
from sportello.tariff.scenarios import load_scenarios, parse_json, parse_scenario, quote_to_json
from sportello.tariff.tests.support import CALENDAR

BASE = {
    "name": "base",
    "hourly_rate": "60.00",
    "opened_via": "phone",
    "official_channels_possible": False,
    "in_district": True,
    "written_messages": 0,
    "interventions": [{"kind": "phone", "start": "2026-03-02T10:00:00+01:00", "minutes": 4}],
}


def mutate(change):
    scenario = copy.deepcopy(BASE)
    change(scenario)
    return scenario


def set_(key, value):
    return lambda s: s.__setitem__(key, value)


def drop(key):
    return lambda s: s.pop(key)


def set_iv(key, value, index=0):
    return lambda s: s["interventions"][index].__setitem__(key, value)


def drop_iv(key, index=0):
    return lambda s: s["interventions"][index].pop(key)


def leg(s):
    s["interventions"] = [{"kind": "pickup", "start": "2026-03-02T10:00:00+01:00"}]


# (id, change, field, words in the message)
INVALID = [
    ("unknown channel", set_("opened_via", "fax"), "opened_via", "not a channel"),
    ("channel typo", set_("opened_via", "whatsap"), "opened_via", "did you mean 'whatsapp'"),
    ("channel not a string", set_("opened_via", 3), "opened_via", "not a channel"),
    ("missing channel", drop("opened_via"), "opened_via", "is required"),
    ("unknown kind", set_iv("kind", "visit"), "interventions[0].kind", "not an intervention kind"),
    ("missing kind", drop_iv("kind"), "interventions[0].kind", "is required"),
    ("negative minutes", set_iv("minutes", -1), "interventions[0].minutes", "negative"),
    ("minutes not a number", set_iv("minutes", "ten"), "interventions[0].minutes", "not a decimal"),
    ("minutes huge", set_iv("minutes", 10**9), "interventions[0].minutes", "implausibly large"),
    ("missing minutes phone", drop_iv("minutes"), "interventions[0].minutes", "is required"),
    (
        "missing minutes remote",
        lambda s: s["interventions"].__setitem__(
            0, {"kind": "remote", "start": "2026-03-02T10:00:00Z"}
        ),
        "interventions[0].minutes",
        "is required",
    ),
    (
        "minutes on a leg",
        lambda s: (leg(s), s["interventions"][0].__setitem__("minutes", 5)),
        "interventions[0].minutes",
        "remove it",
    ),
    ("naive start", set_iv("start", "2026-03-02T10:00:00"), "interventions[0].start", "offset"),
    ("start not a date", set_iv("start", "lunedì"), "interventions[0].start", "not an ISO 8601"),
    ("start not a string", set_iv("start", 1740909600), "interventions[0].start", "ISO 8601"),
    ("missing start", drop_iv("start"), "interventions[0].start", "is required"),
    (
        "override not a bool",
        set_iv("out_of_hours", "yes"),
        "interventions[0].out_of_hours",
        "true, false or null",
    ),
    (
        "unknown intervention field",
        set_iv("duration", 4),
        "interventions[0].duration",
        "unknown field",
    ),
    ("intervention not an object", set_("interventions", ["phone"]), "interventions[0]", "object"),
    ("interventions not a list", set_("interventions", {}), "interventions", "must be a list"),
    ("rate as binary float", set_("hourly_rate", 60.5), "hourly_rate", "binary float"),
    ("rate with a comma", set_("hourly_rate", "60,00"), "hourly_rate", "decimal separator"),
    ("rate not a number", set_("hourly_rate", "sixty"), "hourly_rate", "not a decimal"),
    ("rate negative", set_("hourly_rate", "-1"), "hourly_rate", "negative"),
    ("rate NaN", set_("hourly_rate", "NaN"), "hourly_rate", "finite"),
    ("rate huge", set_("hourly_rate", "1e400"), "hourly_rate", "implausibly large"),
    ("rate too precise", set_("hourly_rate", "1e-999"), "hourly_rate", "decimal places"),
    (
        "minutes too precise",
        set_iv("minutes", "1e-30"),
        "interventions[0].minutes",
        "decimal places",
    ),
    ("rate a boolean", set_("hourly_rate", True), "hourly_rate", "not a boolean"),
    ("rate null", set_("hourly_rate", None), "hourly_rate", "not null"),
    ("missing rate", drop("hourly_rate"), "hourly_rate", "is required"),
    (
        "leg without district",
        lambda s: (leg(s), s.pop("in_district")),
        "in_district",
        "is required",
    ),
    (
        "leg outside without km",
        lambda s: (leg(s), s.__setitem__("in_district", False)),
        "distance_km",
        "outside the district",
    ),
    ("negative km", set_("distance_km", -3), "distance_km", "negative"),
    ("unknown field", set_("minute", 3), "minute", "unknown field"),
    ("unknown field typo", set_("bilable", False), "bilable", "did you mean 'billable'"),
    ("messages as string", set_("written_messages", "3"), "written_messages", "whole number"),
    (
        "messages fractional",
        set_("written_messages", Decimal("2.5")),
        "written_messages",
        "whole number",
    ),
    ("messages negative", set_("written_messages", -1), "written_messages", "negative"),
    ("missing messages", drop("written_messages"), "written_messages", "is required"),
    ("billable not a bool", set_("billable", "no"), "billable", "true or false"),
    ("waive not a bool", set_("waive_call_fee", 1), "waive_call_fee", "true or false"),
    (
        "flag not a bool",
        set_("out_of_hours_requested", None),
        "out_of_hours_requested",
        "true or false",
    ),
    (
        "phone without official flag",
        drop("official_channels_possible"),
        "official_channels_possible",
        "is required",
    ),
    ("name not a string", set_("name", 5), "name", "string"),
]


@pytest.mark.parametrize(
    ("change", "field", "words"), [r[1:] for r in INVALID], ids=[r[0] for r in INVALID]
)
def test_parse_scenario_names_the_field(change, field, words):
    with pytest.raises(TariffInputError) as info:
        parse_scenario(mutate(change))
    assert info.value.field == field
    message = str(info.value)
    assert field in message and words in message
    assert "\n" not in message


# The command reads JSON numbers as exact Decimals, so a float never reaches the parser there.
CLI_INVALID = [r for r in INVALID if r[0] != "rate as binary float"]


@pytest.mark.parametrize(
    ("change", "field", "words"), [r[1:] for r in CLI_INVALID], ids=[r[0] for r in CLI_INVALID]
)
def test_the_command_exits_2_naming_the_field(change, field, words, tmp_path):
    path = tmp_path / "bad.json"
    # Decimal is not JSON-serialisable: write it as a JSON number (it comes back a Decimal).
    path.write_text(json.dumps(mutate(change), default=float), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["quote", str(path)], out, err) == 2
    assert out.getvalue() == ""
    line = err.getvalue()
    assert line.count("\n") == 1 and field in line and words in line


def test_it_names_the_scenario_of_a_list():
    scenarios = [
        BASE,
        mutate(lambda s: (s.__setitem__("name", "the bad one"), set_iv("minutes", -2)(s))),
    ]
    with pytest.raises(TariffInputError) as info:
        load_scenarios(json.dumps(scenarios))
    assert str(info.value).startswith('scenarios[1] ("the bad one"): interventions[0].minutes:')
    assert info.value.scenario_index == 1


def test_a_scenario_must_be_an_object():
    with pytest.raises(TariffInputError, match="must be a JSON object"):
        load_scenarios("[1]")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "invalid JSON at line 1"),
        ('{"hourly_rate": NaN}', "NaN"),
        ('{"hourly_rate": "60", "hourly_rate": "70"}', "given twice"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_parse_json_is_strict(text, words):
    with pytest.raises(TariffInputError, match=words):
        parse_json(text)


def test_json_numbers_are_read_exactly():
    scenario = '{"hourly_rate": 47.50, "opened_via": "email", "written_messages": 2}'
    (facts,), is_list = load_scenarios(scenario)
    assert is_list is False
    assert facts.hourly_rate == Decimal("47.50") and isinstance(facts.hourly_rate, Decimal)
    assert quote(facts, DEFAULT_TARIFF, CALENDAR).net == Decimal("11.88")


def test_minutes_become_exact_seconds_and_defaults_apply():
    scenario = mutate(set_iv("minutes", "5.5"))
    facts = parse_scenario(scenario)
    assert facts.interventions[0].seconds == 330
    assert (facts.billable, facts.waive_call_fee, facts.out_of_hours_requested) == (
        True,
        False,
        False,
    )
    fraction = parse_scenario(mutate(set_iv("minutes", Decimal("5.0001"))))
    assert fraction.interventions[0].seconds == Decimal("300.006000")
    assert quote(fraction, DEFAULT_TARIFF, CALENDAR).lines[0].percent == 50


def test_optional_fields_may_be_absent_or_null():
    minimal = {"hourly_rate": 60, "opened_via": "email", "written_messages": 1, "distance_km": None}
    facts = parse_scenario(minimal)
    assert (facts.interventions, facts.in_district, facts.distance_km) == ((), True, None)
    override = parse_scenario(mutate(set_iv("out_of_hours", None)))
    assert override.interventions[0].out_of_hours is None


def test_quote_to_json_uses_decimal_strings():
    facts = parse_scenario(BASE)
    result = quote_to_json(quote(facts, DEFAULT_TARIFF, CALENDAR), lang="en")
    assert result == {
        "lines": [
            {
                "code": "phone",
                "description": "Phone support: 4 min (up to 5) = 25% of €60.00 = €15.00",
                "amount": "15.00",
            }
        ],
        "net": "15.00",
        "vat": "3.30",
        "total": "18.30",
    }


# -- the command's own failures -------------------------------------------------------------------
def run(argv, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, out, err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "stdin", "words"),
    [
        (["quote", "/nonexistent/scenarios.json"], None, "cannot read /nonexistent/scenarios.json"),
        (["quote", "-"], "{not json", "invalid JSON at line 1"),
        (["quote", "-"], "", "invalid JSON"),
        (["quote"], None, "FILE"),
        ([], None, "COMMAND"),
        (["price", "x.json"], None, "invalid choice"),
        (["quote", "-", "--lang", "de"], None, "--lang"),
    ],
)
def test_the_command_exits_2_on_unreadable_input_or_bad_usage(argv, stdin, words):
    status, out, err = run(argv, stdin)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and words in err


def test_the_command_helps():
    status, out, err = run(["quote", "--help"])
    assert (status, err) == (0, "")
    assert "FILE" in out and "--lang" in out


def test_the_command_reports_the_directory_case(tmp_path):
    status, _, err = run(["quote", str(tmp_path)])
    assert status == 2 and "cannot read" in err


def test_an_empty_list_gives_an_empty_list():
    assert run(["quote", "-"], "[]") == (0, "[]\n", "")
