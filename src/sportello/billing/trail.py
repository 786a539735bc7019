"""The billing audit trail's one writer: who, when, what, before and after
(``BillingAudit``), used by the month close (``statements``) and prepaid hours
(``prepaid``)."""

from __future__ import annotations

from sportello.tickets.events import Actor

from .models import BillingAudit, Statement


def audit(
    statement: Statement | None, action: str, actor: Actor, before=None, after=None
) -> BillingAudit:
    return BillingAudit.objects.create(
        statement=statement,
        action=action,
        actor=actor.user,
        actor_label=actor.display,
        before=before or {},
        after=after or {},
    )
