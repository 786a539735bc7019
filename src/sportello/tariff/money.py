"""The one rounding of money (STYLE 2.4), below both the values and their text.

``values`` (the engine's dataclasses) and ``text`` (what a customer reads, the listino
included) both price with these, so a page and a quote can never round differently.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

__all__ = ["CENT", "HUNDRED", "ONE", "ZERO_MONEY", "share_of_rate", "to_cent"]

CENT: Final = Decimal("0.01")
ZERO_MONEY: Final = Decimal("0.00")
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)


def to_cent(amount: Decimal) -> Decimal:
    """The one rounding of money (STYLE 2.4): to the cent, half up, once per line."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def share_of_rate(rate: Decimal, percent: Decimal, factor: Decimal = ONE) -> Decimal:
    """``percent`` % of the hourly ``rate`` (times ``factor`` out of hours), as a line of
    the tariff prices it; what a page showing the listino in euro must show too."""
    return to_cent(Decimal(rate) * (Decimal(str(percent)) / HUNDRED) * factor)
