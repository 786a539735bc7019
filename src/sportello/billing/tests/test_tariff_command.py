"""`sportello tariff quote` through the real console entry point, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[4].parent / "shared"
SCENARIOS = SHARED / "tariff-scenarios.json"


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "sportello", "tariff", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_shared_scenario_matches_its_expected_figures():
    cases = json.loads(SCENARIOS.read_text())
    result = run("quote", str(SCENARIOS))
    assert result.returncode == 0, result.stderr
    quotes = json.loads(result.stdout)
    assert len(quotes) == len(cases)
    for case, got in zip(cases, quotes, strict=True):
        expected = case["expected"]
        assert (got["net"], got["vat"], got["total"]) == (
            expected["net"],
            expected["vat"],
            expected["total"],
        ), case["name"]
        assert [line["code"] for line in got["lines"]] == expected["codes"], case["name"]
        assert all(line["description"] for line in got["lines"])


def test_one_object_in_one_object_out_from_stdin():
    case = json.loads(SCENARIOS.read_text())[10]  # phone 12 min at 20:00
    result = run("quote", "-", "--lang", "en", stdin=json.dumps(case))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["total"] == case["expected"]["total"]
    assert "out of hours" in body["lines"][0]["description"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"opened_via": "fax"}, "opened_via"),
        ({"hourly_rate": "sessanta"}, "hourly_rate"),
        (
            {"interventions": [{"kind": "phone", "start": "2026-03-02T10:00:00", "minutes": 4}]},
            "start",
        ),
        (
            {
                "interventions": [
                    {"kind": "phone", "start": "2026-03-02T10:00:00+01:00", "minutes": -4}
                ]
            },
            "minutes",
        ),
        (
            {
                "in_district": False,
                "interventions": [{"kind": "pickup", "start": "2026-03-02T10:00:00+01:00"}],
            },
            "distance_km",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_field(change, field, tmp_path):
    case = {**json.loads(SCENARIOS.read_text())[3], **change}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(case))
    result = run("quote", str(path))
    assert result.returncode == 2
    assert field in result.stderr
    assert result.stdout == ""


def test_a_missing_file_is_a_clear_error():
    result = run("quote", "/nonexistent/scenarios.json")
    assert result.returncode == 2
    assert "/nonexistent/scenarios.json" in result.stderr
