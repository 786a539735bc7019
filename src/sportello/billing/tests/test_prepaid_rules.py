"""The prepaid draw-down as a table: charges and balances in, allocations and overdraft
out (billing/prepaid_rules.py, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from sportello.billing.prepaid_rules import (
    Bundle,
    Charge,
    Return,
    amount_of,
    credit_return,
    draw_down,
    hours_of,
)


def nov(day: int) -> date:
    return date(2026, 11, day)


R60 = D("60.00")
# A: 5 h at 60 = 300.00, bought 1 Oct; B: 2 h at 60 = 120.00, bought 1 Nov;
# OLD: 10 h at 50 = 500.00 that expired on 31 Oct; LATE: bought on 20 Nov.
A = Bundle("A", date(2026, 10, 1), None, R60, D("300.00"))
B = Bundle("B", nov(1), None, R60, D("120.00"))
OLD = Bundle("OLD", date(2026, 1, 1), date(2026, 10, 31), D("50.00"), D("500.00"))
LATE = Bundle("LATE", nov(20), None, R60, D("600.00"))
A_SHORT = Bundle("A", date(2026, 10, 1), nov(10), R60, D("300.00"))

CASES = [
    # (case, charges, bundles, allocations (charge, bundle, euro, hours), overdraft, balances)
    ("no bundle: all overdraft", [Charge(1, nov(3), D("30.00"))], [], [], "30.00", {}),
    (
        "one bundle covers the month",
        [Charge(1, nov(3), D("30.00")), Charge(2, nov(4), D("55.00"))],
        [A],
        [(1, "A", "30.00", "0.50"), (2, "A", "55.00", "0.92")],
        "0.00",
        {"A": "215.00"},
    ),
    (
        "a bundle runs out mid-month: the rest is overdraft",
        [
            Charge(1, nov(3), D("120.00")),
            Charge(2, nov(12), D("150.00")),
            Charge(3, nov(20), D("80.00")),
        ],
        [A],
        [(1, "A", "120.00", "2.00"), (2, "A", "150.00", "2.50"), (3, "A", "30.00", "0.50")],
        "50.00",
        {"A": "0.00"},
    ),
    (
        "two bundles: the oldest first, a charge spills into the next",
        [Charge(1, nov(3), D("250.00")), Charge(2, nov(9), D("100.00"))],
        [B, A],  # the order given does not matter: purchase date decides
        [(1, "A", "250.00", "4.17"), (2, "A", "50.00", "0.83"), (2, "B", "50.00", "0.83")],
        "0.00",
        {"A": "0.00", "B": "70.00"},
    ),
    (
        "an expired bundle is skipped",
        [Charge(1, nov(3), D("45.00"))],
        [OLD, B],
        [(1, "B", "45.00", "0.75")],
        "0.00",
        {"OLD": "500.00", "B": "75.00"},
    ),
    (
        "a bundle expiring mid-month covers the work up to its last day",
        [Charge(1, nov(10), D("45.00")), Charge(2, nov(11), D("45.00"))],
        [A_SHORT],
        [(1, "A", "45.00", "0.75")],
        "45.00",
        {"A": "255.00"},
    ),
    (
        "a bundle bought later does not cover earlier work",
        [Charge(1, nov(12), D("60.00")), Charge(2, nov(25), D("60.00"))],
        [LATE],
        [(2, "LATE", "60.00", "1.00")],
        "60.00",
        {"LATE": "540.00"},
    ),
    (
        "contract and zero charges draw nothing",
        [Charge(1, nov(3), D("0.00")), Charge(2, nov(3), D("-5.00"))],
        [A],
        [],
        "0.00",
        {"A": "300.00"},
    ),
    (
        "hours at a rate that does not divide: half up to 0.01 h, euro to the cent",
        [Charge(1, nov(3), D("12.50"))],
        [Bundle("C", nov(1), None, D("45.00"), D("100.00"))],
        [(1, "C", "12.50", "0.28")],
        "0.00",
        {"C": "87.50"},
    ),
]


@pytest.mark.parametrize(
    "case, charges, bundles, allocations, overdraft, balances", CASES, ids=[c[0] for c in CASES]
)
def test_draw_down(case, charges, bundles, allocations, overdraft, balances):
    result = draw_down(charges, bundles)
    got = [(a.charge, a.bundle, str(a.amount), str(a.hours)) for a in result.allocations]
    assert got == allocations
    assert result.overdraft == D(overdraft)
    assert {k: str(v) for k, v in result.balances.items()} == balances
    # Nothing is lost: what was charged is what the bundles paid plus the overdraft.
    charged = sum((max(c.amount, D("0")) for c in charges), D("0"))
    assert result.used + result.overdraft == charged


RETURNS = [
    # (case, credit, drawn (bundle, still drawn), returns, money)
    ("a statement without prepaid: all money", "30.00", [], [], "30.00"),
    ("back to the one bundle", "30.00", [("A", "120.00")], [("A", "30.00")], "0.00"),
    (
        "last drawn first, then the one before",
        "100.00",
        [("A", "300.00"), ("B", "50.00")],
        [("B", "50.00"), ("A", "50.00")],
        "0.00",
    ),
    (
        "more than was drawn: the rest is money",
        "80.00",
        [("A", "50.00")],
        [("A", "50.00")],
        "30.00",
    ),
]


@pytest.mark.parametrize(
    "case, credit, drawn, returns, money", RETURNS, ids=[r[0] for r in RETURNS]
)
def test_a_credit_returns_hours_to_the_bundle_it_came_from(case, credit, drawn, returns, money):
    got, rest = credit_return(D(credit), [(k, D(v)) for k, v in drawn])
    assert got == [Return(k, D(v)) for k, v in returns]
    assert rest == D(money)


def test_hours_and_euro_convert_at_the_bundle_rate():
    assert amount_of(D("10"), D("60.00")) == D("600.00")
    assert hours_of(D("600.00"), D("60.00")) == D("10.00")
    assert hours_of(D("100.00"), D("45.00")) == D("2.22")
    assert hours_of(D("0.00"), D("0")) == D("0.00")
