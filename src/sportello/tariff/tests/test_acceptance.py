"""Every worked case of shared/tariff-scenarios.json (SPEC 5.1), through ``cli.main``."""

from __future__ import annotations

import io
import json

import pytest

from sportello.tariff import cli
from sportello.tariff.tests.support import shared_dir

SCENARIOS_FILE = shared_dir() / "tariff-scenarios.json"


def load_cases() -> list[dict]:
    return json.loads(SCENARIOS_FILE.read_text(encoding="utf-8"))


def run(argv: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, out, err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["name"])
def test_it_quotes_each_scenario_as_expected(case, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    status, out, err = run(["quote", str(path)])
    assert (status, err) == (0, "")
    result = json.loads(out)
    expected = case["expected"]
    assert result["net"] == expected["net"]
    assert result["vat"] == expected["vat"]
    assert result["total"] == expected["total"]
    assert [line["code"] for line in result["lines"]] == expected["codes"]
    assert all(line["description"] for line in result["lines"])


def test_it_answers_a_list_with_a_list_in_the_same_order():
    status, out, err = run(["quote", str(SCENARIOS_FILE)])
    assert (status, err) == (0, "")
    results = json.loads(out)
    cases = load_cases()
    assert isinstance(results, list) and len(results) == len(cases)
    assert [r["total"] for r in results] == [c["expected"]["total"] for c in cases]
    assert out.startswith("[\n  {\n")  # indent 2


def test_it_reads_stdin_and_answers_an_object_with_an_object():
    case = load_cases()[0]
    status, out, _ = run(["quote", "-"], stdin=json.dumps(case))
    assert status == 0
    result = json.loads(out)
    assert set(result) == {"lines", "net", "vat", "total"}
    assert set(result["lines"][0]) == {"code", "description", "amount"}
    assert result["lines"][0]["amount"] == "15.00"


def test_it_describes_lines_in_italian_by_default_and_in_english_on_request():
    case = next(c for c in load_cases() if c["name"] == "phone 12 min at 20:00")
    _, out_it, _ = run(["quote", "-"], stdin=json.dumps(case))
    _, out_en, _ = run(["quote", "-", "--lang", "en"], stdin=json.dumps(case))
    assert json.loads(out_it)["lines"][0]["description"] == (
        "Assistenza telefonica: 12 min (oltre 5, fino a 15) = 50% di 60,00 €, "
        "fuori orario +50% = 45,00 €"
    )
    assert json.loads(out_en)["lines"][0]["description"] == (
        "Phone support: 12 min (over 5, up to 15) = 50% of €60.00, out of hours +50% = €45.00"
    )


def test_it_ignores_the_expected_member():
    case = dict(load_cases()[0], expected={"anything": ["goes", 1.5]})
    status, out, _ = run(["quote", "-"], stdin=json.dumps(case))
    assert status == 0 and json.loads(out)["total"] == "18.30"
