"""The stored clocks follow the ticket writes (receivers of ``tickets.signals``) and the
configuration they depend on (policies, the company calendar).

A ticket's clock is recomputed in the service's transaction when the ticket is opened,
changes status, gets a written message (a first response) or has a field changed (its
priority or organisation pick the policy): the due time a list sorts by is current when
the service returns. A policy or calendar edit recomputes the open tickets in the
background (``sla.tasks.clocks_refresh_open``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sportello.core.models import SupportSettings
from sportello.tickets.models import Ticket

from . import services
from .clock import TicketHistory
from .tasks import clocks_refresh_open


def on_ticket_opened(sender, *, ticket: Ticket, message=None, **kwargs) -> None:
    policies = services.policies_active()
    if not policies:
        return  # no policy at all: nothing to keep, no more queries
    answered = message.created_at if message is not None and services.is_response(message) else None
    history = TicketHistory(created_at=ticket.created_at, first_response_at=answered)
    services.clock_refresh(
        ticket,
        now=max(timezone.now(), ticket.created_at),
        history=history,
        policies=policies,
        new=True,
    )


def on_status_changed(sender, *, ticket: Ticket, **kwargs) -> None:
    services.clock_refresh(ticket)


def on_pricing_changed(sender, *, ticket: Ticket, opened_with_written=None, **kwargs) -> None:
    # Opening and status changes have their own signals (above).
    if opened_with_written is not None or "status" in kwargs or getattr(ticket, "opening", False):
        return
    services.clock_refresh(ticket)


def on_configuration_changed(sender, created: bool = False, **kwargs) -> None:
    if created and sender is SupportSettings:
        return  # the settings row made on first use, with the defaults: nothing changed
    transaction.on_commit(clocks_refresh_open)
