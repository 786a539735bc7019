"""The ticket's audit trail: who did something, and the one writer of ``TicketEvent``.

Its own module, below the services, so that apps built on tickets (billing recording a
freeze, the portal recording an account change) write events without importing the
ticket services, and without a way around them for anything else (STYLE 1.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from .models import TicketEvent


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff or portal user, or just a label (an e-mail sender)."""

    user: object | None = None
    label: str = ""

    @property
    def display(self) -> str:
        if self.label:
            return self.label
        if self.user is not None:
            return self.user.get_username()
        return "system"


SYSTEM = Actor(label="system")


def record_event(
    *,
    ticket,
    kind: str,
    actor: Actor = SYSTEM,
    data: dict,
    when: datetime | None = None,
) -> TicketEvent:
    """Append to the ticket's audit trail; the only writer of TicketEvent rows."""
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor.user,
        actor_label=actor.display,
        data=data,
        created_at=when or timezone.now(),
    )
