"""Reads of the territory: which zone an organisation is in, who should take a ticket,
a technician's agenda, and whose calendar feed a token opens."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from sportello.core.identifiers import comune_key
from sportello.customers.models import Organisation
from sportello.staff.models import Agent, Role, Zone
from sportello.tickets.models import OPEN_STATUSES, Ticket

from .models import AgendaFeed, Visit, VisitKind, VisitState
from .ranking import Candidate, Need, Suggestion, rank

# Who takes tickets and drives to customers: agents and supervisors. Billing and admin
# roles work in the desk too, but are not handed new tickets by a suggestion.
TECHNICIAN_ROLES = (Role.AGENT, Role.SUPERVISOR)


def zone_map() -> dict[str, Zone]:
    """Every listed comune (as ``comune_key`` writes it) to its zone, in one query."""
    found: dict[str, Zone] = {}
    for zone in Zone.objects.order_by("name"):
        for name in zone.comuni or ():
            found.setdefault(comune_key(name), zone)
    return found


def zone_for_comune(comune: str, *, zones: dict[str, Zone] | None = None) -> Zone | None:
    """The zone listing ``comune``, or None (an empty comune, or one no zone lists)."""
    key = comune_key(comune)
    if not key:
        return None
    return (zone_map() if zones is None else zones).get(key)


def organisation_zone(
    *, organisation: Organisation | None, zones: dict[str, Zone] | None = None
) -> Zone | None:
    """The organisation's zone follows from its comune; None when no zone lists it."""
    if organisation is None:
        return None
    return zone_for_comune(organisation.comune, zones=zones)


def zone_organisations(*, zone: Zone) -> list[Organisation]:
    """The active organisations whose comune the zone lists."""
    keys = zone.comune_keys
    if not keys:
        return []
    rows = Organisation.objects.filter(active=True).exclude(comune="").order_by("name")
    return [o for o in rows if comune_key(o.comune) in keys]


def agent_loads() -> dict[int, int]:
    """Open tickets (new, open, waiting) assigned to each agent, in one query."""
    rows = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("pk"))
    )
    return {row["assignee"]: row["n"] for row in rows}


def candidates() -> list[Candidate]:
    """The active technicians with their zone, skills and load (three queries)."""
    loads = agent_loads()
    agents = (
        Agent.objects.filter(active=True, user__is_active=True, role__in=TECHNICIAN_ROLES)
        .select_related("user", "home_zone")
        .prefetch_related("skills")
    )
    return [
        Candidate(
            agent_id=a.pk,
            name=str(a),
            zone_id=a.home_zone_id,
            zone_name=a.home_zone.name if a.home_zone else "",
            skills=tuple(s.name for s in a.skills.all()),
            load=loads.get(a.pk, 0),
        )
        for a in agents
    ]


def ticket_wants(ticket: Ticket) -> tuple[str, ...]:
    """What the ticket asks a technician to know: its category and its tags."""
    wants = [ticket.category] if ticket.category else []
    if ticket.pk and hasattr(ticket, "tags"):
        wants += [tag.name for tag in ticket.tags.all()]
    return tuple(wants)


@dataclass
class TicketTerritory:
    """What the ticket page shows of the territory: the organisation's zone (or none)
    and, for an unassigned ticket, who should take it."""

    zone: Zone | None
    has_organisation: bool
    comune: str
    suggestions: list[Suggestion]
    visits: list[Visit]
    technicians: list[Agent]
    visit_kinds: list[tuple[str, str]]


def assignee_suggestions(
    *, ticket: Ticket, limit: int = 3, zone: Zone | None = None
) -> list[Suggestion]:
    """The best technicians for ``ticket`` (territory.ranking), best first."""
    if zone is None:
        zone = organisation_zone(organisation=ticket.organisation)
    need = Need(
        zone_id=zone.pk if zone else None,
        zone_name=zone.name if zone else "",
        wants=ticket_wants(ticket),
    )
    return rank(need, candidates(), limit=limit)


def ticket_territory(*, ticket: Ticket) -> TicketTerritory:
    """The ticket page's territory panel: zone, suggested assignees, visits."""
    zone = organisation_zone(organisation=ticket.organisation)
    suggestions = []
    if ticket.assignee_id is None and ticket.status in OPEN_STATUSES:
        suggestions = assignee_suggestions(ticket=ticket, zone=zone)
    return TicketTerritory(
        zone=zone,
        has_organisation=ticket.organisation_id is not None,
        comune=ticket.organisation.comune if ticket.organisation else "",
        suggestions=suggestions,
        visits=visits_of_ticket(ticket=ticket),
        technicians=technicians(),
        visit_kinds=list(VisitKind.choices),
    )


def organisation_suggestions(*, organisation: Organisation | None, limit: int = 1):
    """For the phone flow, before the ticket exists: the caller's zone and who is in it."""
    zone = organisation_zone(organisation=organisation)
    if organisation is None:
        return zone, []
    need = Need(zone_id=zone.pk if zone else None, zone_name=zone.name if zone else "")
    return zone, rank(need, candidates(), limit=limit)


# --- the agenda ------------------------------------------------------------------------


def visits_of_ticket(*, ticket: Ticket) -> list[Visit]:
    return list(
        Visit.objects.filter(ticket=ticket)
        .select_related("technician__user")
        .order_by("scheduled_at", "pk")
    )


@dataclass
class AgendaDay:
    day: date
    visits: list[Visit]


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def agenda_days(*, agent: Agent, start: date, days: int = 7) -> list[AgendaDay]:
    """The agent's visits from ``start`` for ``days`` days, grouped by local day (days
    without visits included, so the week reads as a week); cancelled visits are left out."""
    begin, end = _local_midnight(start), _local_midnight(start + timedelta(days=days))
    visits = (
        Visit.objects.filter(technician=agent, scheduled_at__gte=begin, scheduled_at__lt=end)
        .exclude(state=VisitState.CANCELLED)
        .select_related("ticket__organisation", "ticket__contact")
        .order_by("scheduled_at", "pk")
    )
    by_day: dict[date, list[Visit]] = {start + timedelta(days=i): [] for i in range(days)}
    for visit in visits:
        by_day[timezone.localdate(visit.scheduled_at)].append(visit)
    return [AgendaDay(day, items) for day, items in by_day.items()]


def agenda_overdue(*, agent: Agent, before: date) -> list[Visit]:
    """Scheduled visits of the agent before ``before`` still neither done nor cancelled."""
    return list(
        Visit.objects.filter(
            technician=agent, state=VisitState.SCHEDULED, scheduled_at__lt=_local_midnight(before)
        )
        .select_related("ticket__organisation", "ticket__contact")
        .order_by("scheduled_at", "pk")
    )


# How far the feed looks back and ahead: a phone shows last month and what is coming.
FEED_PAST = timedelta(days=31)
FEED_AHEAD = timedelta(days=366)


def feed_visits(*, agent: Agent, now: datetime | None = None) -> list[Visit]:
    now = now or timezone.now()
    return list(
        Visit.objects.filter(
            technician=agent,
            scheduled_at__gte=now - FEED_PAST,
            scheduled_at__lt=now + FEED_AHEAD,
        )
        .exclude(state=VisitState.CANCELLED)
        .select_related("ticket__organisation", "ticket__contact", "technician__user")
        .order_by("scheduled_at", "pk")
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def feed_agent(*, token: str) -> Agent:
    """The active technician whose feed ``token`` opens; 404 for a wrong, revoked or
    malformed token, and for a technician no longer active. The token is looked up by its
    SHA-256, so the comparison in the database is of digests, not of the secret."""
    token = token or ""
    if not (20 <= len(token) <= 100):
        raise Http404(_("No such calendar."))
    feed = (
        AgendaFeed.objects.filter(token_sha256=token_digest(token))
        .select_related("agent__user")
        .first()
    )
    if feed is None or not feed.agent.active or not feed.agent.user.is_active:
        raise Http404(_("No such calendar."))
    return feed.agent


def feed_of(*, agent: Agent | None) -> AgendaFeed | None:
    if agent is None:
        return None
    return AgendaFeed.objects.filter(agent=agent).first()


def visit_get_for(*, user, pk: int) -> Visit:
    """A visit for a desk action; the caller has checked the role. Unknown ids: 404."""
    visit = (
        Visit.objects.select_related("ticket__organisation", "technician__user")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404(_("No such visit."))
    return visit


def technicians() -> list[Agent]:
    """Who can be sent on a visit: the active technicians (agents and supervisors)."""
    return list(
        Agent.objects.filter(
            active=True, user__is_active=True, role__in=TECHNICIAN_ROLES
        ).select_related("user")
    )
