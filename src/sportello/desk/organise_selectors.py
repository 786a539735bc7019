"""Reads of the desk's organising tools: saved views with their counts, the candidates
of a merge, what a ticket page shows of tags, links and merges."""

from __future__ import annotations

import hashlib

from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _

from sportello.staff import roles
from sportello.staff.models import Agent
from sportello.tickets.models import Status, Tag, Ticket

from .errors import DeskInputError
from .models import SavedView
from .selectors import COUNTS_SECONDS, FILTERS, OPEN_STATES, _queue_q, filters_q


def saved_views_for(*, agent: Agent | None) -> list[SavedView]:
    """The agent's own views and every shared one, by name."""
    q = Q(shared=True)
    if agent is not None:
        q |= Q(owner=agent)
    return list(SavedView.objects.filter(q).select_related("owner__user").order_by("name", "pk"))


def saved_view_get(*, user, pk: int) -> SavedView:
    """A view the user may open: their own or a shared one (else 404, not 403: another
    agent's personal views are not for others to know of)."""
    agent = roles.agent_for(user)
    view = SavedView.objects.filter(pk=pk).first()
    if view is None or not (view.shared or (agent is not None and view.owner_id == agent.pk)):
        raise Http404(_("No such view."))
    return view


def saved_view_may_change(*, user, view: SavedView) -> bool:
    """Own views by their owner; shared ones by supervisors and admins."""
    agent = roles.agent_for(user)
    if view.shared:
        return roles.can_supervise(user)
    return agent is not None and view.owner_id == agent.pk


def saved_view_counts(*, agent: Agent | None, views: list[SavedView]) -> dict[int, int]:
    """How many tickets each view shows, in one query (cached like the queues' counts)."""
    from django.core.cache import cache

    if not views:
        return {}
    stamp = "|".join(f"{v.pk}:{v.updated_at.isoformat()}" for v in views)
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    who = f"{agent.pk}-{agent.team_id}" if agent else "0-0"
    key = f"desk-view-counts-{who}-{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    aggregates = {}
    for view in views:
        try:
            condition = _queue_q(view.queue, agent) & filters_q(
                {k: v for k, v in (view.filters or {}).items() if k in FILTERS and v}
            )
        except DeskInputError:  # a view saved before a filter changed: it counts nothing
            condition = Q(pk__in=[])
        aggregates[f"v{view.pk}"] = Count("pk", filter=condition)
    row = Ticket.objects.filter(status__in=(*OPEN_STATES, Status.RESOLVED)).aggregate(**aggregates)
    counts = {view.pk: row[f"v{view.pk}"] for view in views}
    cache.set(key, counts, COUNTS_SECONDS)
    return counts


def tag_names() -> list[str]:
    """Every tag, for the filter's and the tag field's suggestions."""
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:500])


def merge_candidates(*, ticket: Ticket, query: str = "", limit: int = 20) -> list[Ticket]:
    """Tickets ``ticket`` could be merged into: not closed, not merged; those of the same
    organisation first, newest first; ``query`` narrows by number or subject."""
    qs = (
        Ticket.objects.exclude(pk=ticket.pk)
        .exclude(status=Status.CLOSED)
        .filter(merged_into__isnull=True)
        .select_related("organisation", "contact")
    )
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(number__icontains=query) | Q(subject__icontains=query))
    same = []
    others = qs
    if ticket.organisation_id:
        same = list(
            qs.filter(organisation_id=ticket.organisation_id).order_by("-created_at")[:limit]
        )
        others = qs.exclude(organisation_id=ticket.organisation_id)
    rest = list(others.order_by("-created_at")[: max(0, limit - len(same))])
    for t in same:
        t.same_organisation = True
    return same + rest


def ticket_by_number(*, number: str) -> Ticket | None:
    return Ticket.objects.filter(number=(number or "").strip()).first()


def ticket_organise(*, ticket: Ticket) -> dict:
    """Tags, related tickets, what was merged here and where this one went: three
    queries whatever their number."""
    related = list(ticket.related.select_related("organisation").order_by("-created_at"))
    merged = list(ticket.merged_tickets.order_by("number").values("pk", "number", "subject"))
    return {
        "tags": sorted(t.name for t in ticket.tags.all()),
        "related": related,
        "merged_here": merged,
    }
