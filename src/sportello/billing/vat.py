"""Money to the cent and VAT per rate: the arithmetic statements and FatturaPA share.

Plain functions on lines (anything with ``amount``, ``vat_percent`` and ``natura``), no
ORM: the month close (``statements``) totals a statement with them, and the e-invoice
(``fatturapa``) and the exports summarise a stored statement with the same rules, so
neither of those has to import the month close.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Half up to the cent (STYLE 2.4), the one rounding of the month close."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class VatGroup:
    """One DatiRiepilogo: the lines of one rate (and Natura), their net and VAT."""

    vat_percent: Decimal
    natura: str
    net: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    lines: int = 0


def totals(lines) -> tuple[Decimal, Decimal, list[VatGroup]]:
    """Net, VAT and the per-rate summary of ``lines``: VAT on each rate's net, half up."""
    groups: dict[tuple[Decimal, str], VatGroup] = {}
    for line in lines:
        key = (Decimal(line.vat_percent), line.natura or "")
        group = groups.setdefault(key, VatGroup(vat_percent=key[0], natura=key[1]))
        group.net += Decimal(line.amount)
        group.lines += 1
    for group in groups.values():
        group.net = money(group.net)
        group.vat = money(group.net * group.vat_percent / 100)
    summary = sorted(groups.values(), key=lambda g: (-g.vat_percent, g.natura))
    net = sum((g.net for g in summary), Decimal("0.00"))
    vat = sum((g.vat for g in summary), Decimal("0.00"))
    return net, vat, summary
