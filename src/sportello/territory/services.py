"""Writes of the territory: visits scheduled, done and cancelled, and the calendar feed's
secret address issued and revoked. Keyword-only ``<entity>_<action>`` functions (STYLE
1.3); each visit change leaves an event on the ticket.

Scheduling bills nothing. ``visit_done`` records the real leg through
``tickets.services.intervention_add``, which prices it like any leg logged by hand
(outside the district the organisation's distance is the default km).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sportello.staff import roles
from sportello.staff.models import Agent
from sportello.tickets import services as tickets
from sportello.tickets.events import Actor, record_event
from sportello.tickets.models import Intervention, Status, Ticket, TicketEvent

from .errors import TerritoryInputError, TerritoryPermissionError
from .models import AgendaFeed, Visit, VisitKind, VisitState
from .selectors import token_digest

MAX_MINUTES = 12 * 60
# A leg "done" may be recorded with a start this far ahead of now (clocks differ).
FUTURE_SLACK = timedelta(minutes=5)


def _actor(user) -> Actor:
    return Actor(user=user)


def _may_act_for(user, technician: Agent) -> None:
    """An agent plans and closes their own visits; a supervisor or admin anyone's."""
    me = roles.agent_for(user)
    if roles.can_supervise(user) or (me is not None and me.pk == technician.pk):
        return
    raise TerritoryPermissionError(
        _(
            "Only a supervisor can plan or close another technician's visits: schedule "
            "your own, or ask a supervisor."
        )
    )


def _visit_event(visit: Visit, user, state: str, **extra) -> None:
    record_event(
        ticket=visit.ticket,
        kind=TicketEvent.Kind.VISIT,
        actor=_actor(user),
        data={
            "visit": visit.pk,
            "visit_state": state,
            "kind": visit.kind,
            "scheduled_at": visit.scheduled_at.isoformat(),
            "technician": visit.technician_id,
            **extra,
        },
    )


def _open_ticket(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise TerritoryInputError(
            _("Ticket %(number)s is closed: reopen it before planning or recording a visit.")
            % {"number": ticket.number},
            field="ticket",
        )


def visit_schedule(
    *,
    ticket: Ticket,
    technician: Agent,
    kind: str,
    scheduled_at: datetime,
    duration_minutes: int = 60,
    notes: str = "",
    user,
) -> Visit:
    """Plan a pick-up or a return on ``ticket`` for ``technician``; nothing is billed."""
    _may_act_for(user, technician)
    if kind not in VisitKind.values:
        raise TerritoryInputError(
            _("Choose whether the visit is a pick-up or a return."), field="kind"
        )
    if not technician.active:
        raise TerritoryInputError(
            _("%(name)s is no longer active: choose another technician.") % {"name": technician},
            field="technician",
        )
    if scheduled_at is None or timezone.is_naive(scheduled_at):
        raise TerritoryInputError(
            _("The visit needs a date and a time, e.g. 04/12/2026 09:30."), field="scheduled_at"
        )
    if not isinstance(duration_minutes, int) or not 0 < duration_minutes <= MAX_MINUTES:
        raise TerritoryInputError(
            _("The expected duration is in minutes, between 1 and %(max)d, e.g. 60.")
            % {"max": MAX_MINUTES},
            field="duration_minutes",
        )
    _open_ticket(ticket)
    with transaction.atomic():
        visit = Visit(
            ticket=ticket,
            technician=technician,
            kind=kind,
            scheduled_at=scheduled_at,
            duration_minutes=duration_minutes,
            notes=(notes or "").strip(),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        visit.full_clean(exclude=["ticket", "technician", "intervention", "created_by"])
        visit.save()
        _visit_event(visit, user, VisitState.SCHEDULED)
    return visit


def _locked_scheduled(visit: Visit) -> Visit:
    """The visit's row, locked, still scheduled (a second click finds it done)."""
    fresh = Visit.objects.select_for_update().select_related("ticket").get(pk=visit.pk)
    if fresh.state != VisitState.SCHEDULED:
        raise TerritoryInputError(
            _("This visit is %(state)s already: nothing to change.")
            % {"state": fresh.get_state_display()},
            field="state",
        )
    return fresh


def visit_done(
    *,
    visit: Visit,
    user,
    started_at: datetime | None = None,
    km: Decimal | None = None,
    notes: str = "",
) -> Intervention:
    """The visit happened: record the real leg (start, km) as an intervention on the
    ticket, which prices it, and mark the visit done. ``started_at`` defaults to the
    scheduled start; ``km`` to the organisation's distance when it is outside the
    district (``intervention_add``)."""
    _may_act_for(user, visit.technician)
    started_at = started_at or visit.scheduled_at
    if timezone.is_naive(started_at):
        raise TerritoryInputError(
            _("Write the real start as a date and a time, e.g. 04/12/2026 09:30."),
            field="started_at",
        )
    if started_at > timezone.now() + FUTURE_SLACK:
        raise TerritoryInputError(
            _(
                "The real start is in the future: a visit is marked done after it happened. "
                "Check the date, or wait until the visit is over."
            ),
            field="started_at",
        )
    if km is not None and km < 0:
        raise TerritoryInputError(_("The km cannot be negative."), field="km")
    with transaction.atomic():
        visit = _locked_scheduled(visit)
        _open_ticket(visit.ticket)
        intervention = tickets.intervention_add(
            ticket=visit.ticket,
            kind=visit.kind,
            started_at=started_at,
            km=km,
            technician=visit.technician,
            notes=(notes or "").strip() or visit.notes,
            actor=_actor(user),
        )
        visit.state = VisitState.DONE
        visit.intervention = intervention
        visit.save(update_fields=["state", "intervention", "updated_at"])
        _visit_event(visit, user, VisitState.DONE, started_at=started_at.isoformat())
    return intervention


def visit_cancel(*, visit: Visit, user, reason: str = "") -> Visit:
    """The visit will not happen; nothing was billed, nothing is."""
    _may_act_for(user, visit.technician)
    reason = (reason or "").strip()[:255]
    with transaction.atomic():
        visit = _locked_scheduled(visit)
        visit.state = VisitState.CANCELLED
        visit.cancel_reason = reason
        visit.save(update_fields=["state", "cancel_reason", "updated_at"])
        extra = {"reason": reason} if reason else {}
        _visit_event(visit, user, VisitState.CANCELLED, **extra)
    return visit


# --- the calendar feed -----------------------------------------------------------------


def agenda_feed_issue(*, agent: Agent) -> str:
    """A new secret address for the agent's feed; the old one stops working at once.
    Returns the token, which is not stored (only its SHA-256): show it now or never."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        AgendaFeed.objects.update_or_create(
            agent=agent,
            defaults={
                "token_sha256": token_digest(token),
                "created_at": timezone.now(),
                "last_used_at": None,
            },
        )
    return token


def agenda_feed_revoke(*, agent: Agent) -> bool:
    """The feed's address answers 404 from now on. False when there was none."""
    deleted, _rows = AgendaFeed.objects.filter(agent=agent).delete()
    return bool(deleted)


SEEN_EVERY = timedelta(minutes=5)


def agenda_feed_seen(*, agent: Agent, now: datetime | None = None) -> None:
    """Note when a calendar last read the feed (at most one write every five minutes),
    so the agenda page can say that the phone is subscribed."""
    now = now or timezone.now()
    AgendaFeed.objects.filter(agent=agent).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - SEEN_EVERY)
    ).update(last_used_at=now)
