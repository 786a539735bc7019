"""Which tickets are final: a resolved ticket closes itself when its reopen window ends.

Until then the customer may reopen it and its charges are provisional; once closed they
are frozen, as on any close (``tickets.services.ticket_change_status``). The sweep runs
every 15 minutes (``billing.tasks.tickets_close_expired``) and can be run by hand.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sportello.core.models import SupportSettings
from sportello.tickets.models import Status, Ticket, TicketEvent
from sportello.tickets.services import Actor, record_event, ticket_change_status

log = logging.getLogger(__name__)

REOPEN_WINDOW_ACTOR = Actor(label="system: reopen window ended")


def tickets_close_expired(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Close every resolved ticket resolved longer ago than the reopen window; return how
    many were closed. Each ticket in its own transaction, locked and re-checked, so a
    customer reopening it at the same moment wins and nothing is closed twice."""
    now = now or timezone.now()
    days = SupportSettings.load().reopen_window_days
    cutoff = now - timedelta(days=days)
    closed = 0
    failed: set[int] = set()
    while True:
        ids = list(
            Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff)
            .exclude(pk__in=failed)
            .order_by("resolved_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return closed
        for pk in ids:
            try:
                closed += _close_one(pk, cutoff, days, now)
            except Exception:
                # One ticket that cannot close must not stop the others, nor loop forever:
                # it is logged and tried again at the next sweep.
                log.exception("closing after the reopen window failed", extra={"ticket": pk})
                failed.add(pk)


def _close_one(pk: int, cutoff: datetime, days: int, now: datetime) -> int:
    """Close one ticket if it is still resolved past the window: 1 if closed."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update()
            .filter(pk=pk, status=Status.RESOLVED, resolved_at__lte=cutoff)
            .first()
        )
        if ticket is None:
            return 0  # reopened or closed by someone else meanwhile
        resolved_at = ticket.resolved_at
        record_event(
            ticket=ticket,
            kind=TicketEvent.Kind.CHANGED,
            actor=REOPEN_WINDOW_ACTOR,
            data={
                "closed": "reopen_window_ended",
                "resolved_at": resolved_at.isoformat(),
                "reopen_window_days": days,
            },
            when=now,
        )
        # Closing keeps resolved_at: the tariff of that day priced the ticket.
        ticket_change_status(
            ticket=ticket,
            status=Status.CLOSED,
            actor=REOPEN_WINDOW_ACTOR,
            when=now,
            notify=False,
        )
        return 1
