"""How billing follows the apps below it, which announce and do not import billing
(STYLE 2.1). Connected in ``apps.py``; each runs in the announcing service's
transaction, so charges are never behind the ticket."""

from __future__ import annotations

from sportello.tickets.events import SYSTEM
from sportello.tickets.models import Status

from . import services


def on_pricing_changed(
    sender, *, ticket, opened_with_written=None, status=None, actor=SYSTEM, **_kwargs
) -> None:
    """Reprice an open ticket; freeze the charges on close, unfreeze them on reopening."""
    if status is not None:
        old, new = status
        if new == Status.CLOSED:
            services.charges_freeze(ticket=ticket, actor=actor)
            return
        if old == Status.CLOSED:
            services.charges_unfreeze(ticket=ticket, actor=actor)
            return
    services.charges_refresh(ticket=ticket, opened_with_written=opened_with_written)


def district_comuni(sender, *, on, **_kwargs) -> frozenset[str]:
    """The district of the tariff version in force ``on``, each comune as
    ``identifiers.comune_key`` writes it."""
    return services.tariff_version_in_force(on=on).district_comuni_folded
