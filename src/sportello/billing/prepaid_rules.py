"""Prepaid hours draw-down as plain data (no ORM): charges and bundles' balances in,
allocations and overdraft out. Tested by a table (tests/test_prepaid_rules.py).

Rules (docs/billing.md, *Prepaid hours*):

- Charges are in euro; a bundle's balance is in euro too (its hours at the rate it was
  bought at). Each charge consumes the oldest usable bundle first (purchase date, then
  id), spilling into the next one when a bundle runs out; what no bundle covers is
  overdraft, billed normally.
- A bundle covers a charge of a day from its purchase date to its expiry date (both
  included); an expired bundle, or one bought later, is skipped.
- Hours of an allocation are its euro at the bundle's rate, half up to 0.01 h; the
  balance's hours are computed from the euro balance (never summed from rounded hours).
- A credit gives back to the bundles the credited statement drew from, the most recently
  drawn first, never more than was drawn; the rest of the credit is money.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .vat import money

ZERO = Decimal("0.00")
HUNDREDTH = Decimal("0.01")


def hours_of(amount: Decimal, rate: Decimal) -> Decimal:
    """``amount`` euro at ``rate`` euro an hour, half up to 0.01 h."""
    if not rate:
        return ZERO
    return (Decimal(amount) / Decimal(rate)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def amount_of(hours: Decimal, rate: Decimal) -> Decimal:
    return money(Decimal(hours) * Decimal(rate))


@dataclass(frozen=True)
class Charge:
    key: Hashable  # the ticket
    day: date
    amount: Decimal


@dataclass(frozen=True)
class Bundle:
    key: Hashable
    purchased_on: date
    expires_on: date | None
    rate: Decimal
    balance: Decimal  # euro left

    def usable_on(self, day: date) -> bool:
        return self.purchased_on <= day and (self.expires_on is None or day <= self.expires_on)


@dataclass(frozen=True)
class Allocation:
    charge: Hashable
    bundle: Hashable
    amount: Decimal
    hours: Decimal


@dataclass
class DrawDown:
    allocations: list[Allocation] = field(default_factory=list)
    overdraft: Decimal = ZERO
    uncovered: dict = field(default_factory=dict)  # charge key -> euro not covered
    balances: dict = field(default_factory=dict)  # bundle key -> euro left after

    @property
    def used(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)

    def by_bundle(self) -> dict:
        out: dict = {}
        for a in self.allocations:
            amount, hours = out.get(a.bundle, (ZERO, ZERO))
            out[a.bundle] = (amount + a.amount, hours + a.hours)
        return out


def draw_down(charges: Iterable[Charge], bundles: Sequence[Bundle]) -> DrawDown:
    """Allocate ``charges`` (taken by day, in the order given within a day) to
    ``bundles``, oldest usable first. Negative or zero charges draw nothing."""
    ordered = sorted(bundles, key=lambda b: (b.purchased_on, str(b.key)))
    left = {b.key: money(b.balance) for b in ordered}
    result = DrawDown()
    for charge in sorted(charges, key=lambda c: c.day):
        need = money(charge.amount)
        if need <= 0:
            continue
        for bundle in ordered:
            if need <= 0:
                break
            if left[bundle.key] <= 0 or not bundle.usable_on(charge.day):
                continue
            take = min(need, left[bundle.key])
            left[bundle.key] -= take
            need -= take
            result.allocations.append(
                Allocation(charge.key, bundle.key, take, hours_of(take, bundle.rate))
            )
        if need > 0:
            result.uncovered[charge.key] = result.uncovered.get(charge.key, ZERO) + need
            result.overdraft += need
    result.balances = left
    return result


@dataclass(frozen=True)
class Return:
    bundle: Hashable
    amount: Decimal


def credit_return(
    amount: Decimal, drawn: Sequence[tuple[Hashable, Decimal]]
) -> tuple[list[Return], Decimal]:
    """A credit of ``amount`` on a statement that drew ``drawn`` ((bundle, euro still
    drawn), in the order drawn): back to the bundles, last drawn first, up to what each
    drew; the rest is money. Returns (returns, money credited)."""
    rest = money(amount)
    out = []
    for bundle, still in reversed(list(drawn)):
        if rest <= 0:
            break
        give = min(rest, money(still))
        if give > 0:
            out.append(Return(bundle, give))
            rest -= give
    return out, rest
