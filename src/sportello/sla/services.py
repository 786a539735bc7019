"""SLA writes: each ticket's stored clock after a ticket change, and the SLA e-mails.

The clock itself is the pure function ``sla.clock.clocks``; this module reads its
inputs from the rows (status events, the first staff reply, the policy, the company
calendar) and keeps ``SlaClock`` current. Only :func:`notices_send` sends mail, from the
periodic task (``sla.tasks``) or ``sportello sla check``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from sportello.core.calendars import business_calendar
from sportello.staff.models import Agent, Role
from sportello.staff.roles import SUPERVISING_ROLES, agents_in_roles
from sportello.tariff import BusinessCalendar
from sportello.tickets.models import (
    Direction,
    Message,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
)

from .clock import RESOLUTION, Clock, Targets, TicketHistory, clocks, current
from .models import SlaClock, SlaNotice, SlaPolicy

log = logging.getLogger(__name__)

OPEN_STATES = (Status.NEW, Status.OPEN, Status.WAITING)

# A first response: a written message to the customer by staff (not an automatic one).
RESPONSE_KINDS = (MessageKind.EMAIL, MessageKind.PORTAL, MessageKind.CHAT)


def is_response(message: Message) -> bool:
    return (
        message.direction == Direction.OUTBOUND
        and message.kind in RESPONSE_KINDS
        and not message.automatic
    )


def response_messages() -> Q:
    return Q(direction=Direction.OUTBOUND, kind__in=RESPONSE_KINDS, automatic=False)


# -- policies -----------------------------------------------------------------------------


def policy_choose(
    policies: Iterable[SlaPolicy], *, priority: str, organisation_id: int | None
) -> SlaPolicy | None:
    """The active policy of the ticket: the organisation's own for its priority, else the
    general one of the priority, else none."""
    general = None
    for policy in policies:
        if not policy.active or policy.priority != priority:
            continue
        if organisation_id is not None and policy.organisation_id == organisation_id:
            return policy
        if policy.organisation_id is None:
            general = policy
    return general


def policies_active() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(active=True))


def targets_of(policy: SlaPolicy) -> Targets:
    return Targets(
        response_minutes=policy.response_minutes,
        resolution_minutes=policy.resolution_minutes,
        warn_percent=policy.warn_percent,
    )


def calendar_for(created_at: datetime, now: datetime) -> BusinessCalendar:
    """The company calendar over the ticket's life and the year after (due times)."""
    first = timezone.localtime(created_at).year
    last = timezone.localtime(now).year + 1
    return business_calendar(years=range(min(first, last - 1), last + 1))


# -- a ticket's history -------------------------------------------------------------------


def history_of(ticket: Ticket) -> TicketHistory:
    """Status changes from the ticket's events and its first staff reply: two queries."""
    changes: list[tuple[datetime, str]] = []
    for when, data in (
        TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.STATUS)
        .order_by("created_at", "pk")
        .values_list("created_at", "data")
    ):
        pair = (data or {}).get("status") or []
        if len(pair) == 2:
            changes.append((when, pair[1]))
    # Rows written without events (bulk loads) keep their status: assume it since the
    # ticket's resolution, or its last change.
    last = changes[-1][1] if changes else Status.NEW
    if last != ticket.status:
        when = ticket.resolved_at if ticket.status in (Status.RESOLVED, Status.CLOSED) else None
        changes.append((when or ticket.updated_at or ticket.created_at, ticket.status))
    first = (
        Message.objects.filter(response_messages(), ticket=ticket)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return TicketHistory(
        created_at=ticket.created_at, changes=tuple(changes), first_response_at=first
    )


@dataclass(frozen=True)
class TicketClocks:
    policy: SlaPolicy | None
    clocks: dict[str, Clock]

    @property
    def current(self) -> Clock | None:
        return current(self.clocks)


def ticket_clocks(
    ticket: Ticket,
    *,
    now: datetime | None = None,
    history: TicketHistory | None = None,
    policies: Sequence[SlaPolicy] | None = None,
) -> TicketClocks:
    """The ticket's clocks, computed now from its rows."""
    now = now or timezone.now()
    policy = policy_choose(
        policies_active() if policies is None else policies,
        priority=ticket.priority,
        organisation_id=ticket.organisation_id,
    )
    if policy is None:
        return TicketClocks(policy=None, clocks={})
    history = history or history_of(ticket)
    found = clocks(history, targets_of(policy), calendar_for(ticket.created_at, now), now=now)
    return TicketClocks(policy=policy, clocks=found)


# -- the stored copy ----------------------------------------------------------------------


def clock_refresh(
    ticket: Ticket,
    *,
    now: datetime | None = None,
    history: TicketHistory | None = None,
    policies: Sequence[SlaPolicy] | None = None,
    new: bool = False,
) -> SlaClock | None:
    """Compute the ticket's clocks and store the one lists show (``SlaClock``);
    ``new``: the ticket was just opened (it has no row yet)."""
    now = now or timezone.now()
    found = ticket_clocks(ticket, now=now, history=history, policies=policies)
    shown = found.current
    if shown is None:
        if not new:
            SlaClock.objects.filter(ticket=ticket).delete()
        return None
    stopped = shown.done and not shown.running and shown.target == RESOLUTION
    stopped = stopped or (shown.done and RESOLUTION not in found.clocks)
    values = {
        "policy": found.policy,
        "target": "" if stopped else shown.target,
        "warn_at": shown.warn_at,
        "due_at": None if stopped else shown.due_at,
        "paused": shown.paused,
        "final_state": shown.state if stopped else "",
        "computed_at": now,
    }
    # One statement: an UPDATE, or the INSERT of a new ticket's row (no SELECT, no
    # savepoint: this runs on every ticket write).
    if not new and SlaClock.objects.filter(ticket=ticket).update(**values):
        return SlaClock(ticket=ticket, **values)
    return SlaClock.objects.create(ticket=ticket, **values)


def clocks_refresh_open(*, batch_size: int = 500) -> int:
    """Recompute every open ticket's stored clock (a policy or the calendar changed)."""
    policies = policies_active()
    done = 0
    ids = list(
        Ticket.objects.filter(status__in=OPEN_STATES).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(ids), batch_size):
        for ticket in Ticket.objects.filter(pk__in=ids[start : start + batch_size]):
            with transaction.atomic():
                clock_refresh(ticket, policies=policies)
            done += 1
    return done


# -- the e-mails --------------------------------------------------------------------------


def escalation_recipients(ticket: Ticket, supervisors: Sequence[Agent]) -> list[Agent]:
    """Who hears of a breach: the supervisors of the ticket's team; without a team (or a
    team without one), every supervisor; without supervisors, the admins."""
    if ticket.team_id is not None:
        mine = [a for a in supervisors if a.team_id == ticket.team_id]
        if mine:
            return mine
    plain = [a for a in supervisors if a.role == Role.SUPERVISOR]
    return plain or list(supervisors)


@dataclass(frozen=True)
class Sent:
    ticket: int
    target: str
    kind: str
    recipients: tuple[str, ...]


def _candidates(now: datetime):
    """Open tickets whose stored clock reached its warning or due instant without the
    matching e-mail: an indexed read of a few rows, not a scan of clocks."""
    sent = SlaNotice.objects.filter(ticket=OuterRef("ticket_id"), target=OuterRef("target"))
    return (
        SlaClock.objects.filter(ticket__status__in=OPEN_STATES)
        .exclude(target="")
        .filter(
            (Q(warn_at__lte=now) & ~Exists(sent.filter(kind=SlaNotice.Kind.WARNING)))
            | (Q(due_at__lte=now) & ~Exists(sent.filter(kind=SlaNotice.Kind.BREACH)))
        )
        .order_by("warn_at", "ticket_id")
        .values_list("ticket_id", flat=True)
    )


def notices_send(*, now: datetime | None = None, limit: int = 500) -> list[Sent]:
    """Send the warnings and escalations that are due, each once per ticket and target.

    Each ticket's clock is computed afresh before anything is sent. A notice row and
    its e-mail share a transaction: a failed send leaves no row, so the next run tries
    again; a row already there (another run) means it was sent.
    """
    now = now or timezone.now()
    policies = policies_active()
    supervisors = agents_in_roles(SUPERVISING_ROLES)
    out: list[Sent] = []
    for pk in list(_candidates(now)[:limit]):
        ticket = (
            Ticket.objects.select_related("assignee__user", "team", "organisation")
            .filter(pk=pk)
            .first()
        )
        if ticket is None:
            continue
        found = ticket_clocks(ticket, now=now, policies=policies)
        shown = found.current
        with transaction.atomic():
            clock_refresh(ticket, now=now, policies=policies)
        if shown is None or shown.done:
            continue
        if shown.warn_at is not None and shown.warn_at <= now:
            to = [ticket.assignee] if ticket.assignee and ticket.assignee.user.email else []
            sent = _notify(ticket, shown, SlaNotice.Kind.WARNING, to, now)
            if sent:
                out.append(sent)
        if shown.due_at is not None and shown.due_at <= now:
            to = escalation_recipients(ticket, supervisors)
            sent = _notify(ticket, shown, SlaNotice.Kind.BREACH, to, now)
            if sent:
                out.append(sent)
    return out


def _notify(ticket: Ticket, clock: Clock, kind: str, agents: list[Agent], now) -> Sent | None:
    if not agents:
        return None  # nobody to tell (unassigned): tried again at the next run
    if SlaNotice.objects.filter(ticket=ticket, target=clock.target, kind=kind).exists():
        return None
    addresses = tuple(a.user.email for a in agents)
    try:
        with transaction.atomic():
            SlaNotice.objects.create(
                ticket=ticket,
                target=clock.target,
                kind=kind,
                recipients=list(addresses),
                due_at=clock.due_at,
                sent_at=now,
            )
            for agent in agents:
                _mail(ticket, clock, kind, agent)
    except IntegrityError:
        return None  # another run sent it meanwhile
    except Exception:
        log.exception("SLA e-mail failed", extra={"ticket": ticket.pk, "kind": kind})
        return None
    return Sent(ticket=ticket.pk, target=clock.target, kind=kind, recipients=addresses)


def _mail(ticket: Ticket, clock: Clock, kind: str, agent: Agent) -> None:
    with translation.override(agent.language_code):
        context = {
            "ticket": ticket,
            "clock": clock,
            "agent": agent,
            "due_local": timezone.localtime(clock.due_at) if clock.due_at else None,
            "link": settings.SPORTELLO_SITE_URL.rstrip("/")
            + reverse("desk:ticket", args=[ticket.pk]),
        }
        subject = render_to_string(f"sla/mail/{kind}_subject.txt", context).strip()
        body = render_to_string(f"sla/mail/{kind}.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[agent.user.email],
    ).send()
