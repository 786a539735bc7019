"""Benchmark of the pure tariff engine: quotes per second, facts already in memory.

Builds ~10,000 varied TicketFacts (channels, written/phone/remote modes, legs in and out
of the district, in and out of hours, weekends, holidays, non-billable tickets), builds
the calendar once, then times several rounds of ``quote`` over all of them and prints one
JSON line: ``{"bench": "tariff_engine", "quotes_per_second": ...}`` (best round).

Run: ``.venv/bin/python bench/bench_tariff_engine.py [--tickets N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sportello.tariff.calendar import default_calendar  # noqa: E402
from sportello.tariff.engine import quote  # noqa: E402
from sportello.tariff.values import DEFAULT_TARIFF, InterventionFact, TicketFacts  # noqa: E402

ROME = ZoneInfo("Europe/Rome")
CHANNELS = ["email", "portal", "phone", "sms", "whatsapp", "other_email", "other"]
RATES = [Decimal(r) for r in ("45.00", "47.50", "60.00", "72.25", "90.00")]


def build_facts(count: int, *, seed: int = 2026) -> list[TicketFacts]:
    rng = random.Random(seed)
    origin = datetime(2026, 1, 1, tzinfo=ROME)
    facts: list[TicketFacts] = []
    for _ in range(count):
        interventions: list[InterventionFact] = []
        mode = rng.random()
        for _ in range(rng.choice((0, 1, 1, 2, 3)) if mode > 0.3 else 0):
            start = origin + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
            kind = rng.choice(("phone", "phone", "remote", "pickup", "return"))
            seconds = rng.randrange(0, 100 * 60) if kind in ("phone", "remote") else 0
            override = rng.choice((None, None, None, True, False))
            interventions.append(InterventionFact(kind, start, seconds, override))
        in_district = rng.random() < 0.7
        facts.append(
            TicketFacts(
                hourly_rate=rng.choice(RATES),
                opened_via=rng.choice(CHANNELS),
                official_channels_possible=rng.random() < 0.5,
                in_district=in_district,
                distance_km=None if in_district else Decimal(rng.randrange(5, 200)),
                written_messages=rng.randrange(0, 9),
                out_of_hours_requested=rng.random() < 0.1,
                interventions=tuple(interventions),
                waive_call_fee=rng.random() < 0.1,
                billable=rng.random() < 0.95,
            )
        )
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    facts = build_facts(args.tickets)
    calendar = default_calendar([2026, 2027])  # built once, as billing does
    params = DEFAULT_TARIFF
    for f in facts[:1000]:  # warm-up
        quote(f, params, calendar)
    rates: list[float] = []
    for _ in range(args.rounds):
        began = time.perf_counter()
        for f in facts:
            quote(f, params, calendar)
        rates.append(len(facts) / (time.perf_counter() - began))
    rates.sort()
    result = {
        "bench": "tariff_engine",
        "quotes_per_second": round(rates[-1]),
        "median_quotes_per_second": round(rates[len(rates) // 2]),
        "tickets": len(facts),
        "rounds": args.rounds,
        "python": platform.python_version(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
