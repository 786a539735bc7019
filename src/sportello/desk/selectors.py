"""Reads of the desk: queues with their counts, one page of a queue, a ticket's timeline
and its charge preview. Every read has a fixed number of queries, whatever the page
size or the ticket's length (a test holds it)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportello.billing.models import TicketCharges
from sportello.sla import selectors as sla
from sportello.staff.models import Agent, Team
from sportello.territory.text import visit_sentence
from sportello.tickets.models import (
    LEG_KINDS,
    OPEN_STATUSES,
    Attachment,
    Intervention,
    InterventionKind,
    Message,
    MessageKind,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)

from .errors import DeskInputError
from .models import RunningTimer
from .organise_text import ORGANISE_KINDS, organise_sentence
from .templatetags.desk import euro as euro_filter

OPEN_STATES = OPEN_STATUSES

# The queues, in the order the sidebar lists them: key -> (label, filter for the agent).
QUEUES = {
    "mine": gettext_lazy("My tickets"),
    "unassigned": gettext_lazy("Unassigned"),
    "team": gettext_lazy("My team"),
    "open": gettext_lazy("All open"),
    "waiting": gettext_lazy("Waiting for the customer"),
    "resolved": gettext_lazy("Resolved"),
    "all": gettext_lazy("All tickets"),
}
# Queues without a count in the sidebar: counting every ticket ever is not worth a poll.
UNCOUNTED = frozenset({"all"})


def _queue_q(queue: str, agent: Agent | None) -> Q:
    agent_id = agent.pk if agent else None
    team_id = agent.team_id if agent else None
    if queue == "mine":
        return Q(assignee_id=agent_id, status__in=OPEN_STATES)
    if queue == "unassigned":
        return Q(assignee__isnull=True, status__in=OPEN_STATES)
    if queue == "team":
        return Q(team_id=team_id, status__in=OPEN_STATES)
    if queue == "open":
        return Q(status__in=OPEN_STATES)
    if queue == "waiting":
        return Q(status=Status.WAITING)
    if queue == "resolved":
        return Q(status=Status.RESOLVED)
    if queue == "all":
        return Q()
    raise DeskInputError(
        _("Unknown queue %(queue)s: choose one from the list on the left.") % {"queue": queue},
        field="queue",
    )


# The counts are read on every queue page and every 20 s poll; on 100,000 tickets their
# one query reads the ~20,000 live ones (20-90 ms on PostgreSQL here, with the machine's
# load). Kept per agent for a few seconds in the shared cache: counts at most
# COUNTS_SECONDS old beside rows that are always current.
COUNTS_SECONDS = 10


def queue_counts(*, agent: Agent | None, fresh: bool = False) -> dict[str, int]:
    """How many tickets each queue holds, in one query (cached for COUNTS_SECONDS)."""
    from django.core.cache import cache

    key = f"desk-counts-{agent.pk if agent else 0}-{agent.team_id if agent else 0}"
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    aggregates = {
        name: Count("pk", filter=_queue_q(name, agent)) for name in QUEUES if name not in UNCOUNTED
    }
    counts = Ticket.objects.filter(status__in=(*OPEN_STATES, Status.RESOLVED)).aggregate(
        **aggregates
    )
    cache.set(key, counts, COUNTS_SECONDS)
    return counts


# Sort keys a person may choose: key -> (label, column, descending).
SORTS = {
    "-created": (gettext_lazy("Newest first"), "created_at", True),
    "created": (gettext_lazy("Oldest first"), "created_at", False),
    "-updated": (gettext_lazy("Recently changed"), "updated_at", True),
    "updated": (gettext_lazy("Least recently changed"), "updated_at", False),
    sla.SORT_KEY: (sla.SORT_LABEL, sla.SORT_COLUMN, False),
}

FILTERS = (
    "status",
    "priority",
    "organisation",
    "channel",
    "assignee",
    "team",
    "billable",
    "tag",
    "sla",
    "work",
    "day",
)

# The "work" filter: tickets with an intervention of these kinds (on "day", else ever).
WORK_KINDS = {
    "phone": (InterventionKind.PHONE,),
    "remote": (InterventionKind.REMOTE,),
    "legs": tuple(LEG_KINDS),
}

# Columns a queue can show (a saved view chooses them): key -> heading.
COLUMNS = {
    "number": gettext_lazy("Number"),
    "subject": gettext_lazy("Subject"),
    "organisation": gettext_lazy("Organisation"),
    "contact": gettext_lazy("Contact"),
    "status": gettext_lazy("Status"),
    "priority": gettext_lazy("Priority"),
    "assignee": gettext_lazy("Assignee"),
    "team": gettext_lazy("Team"),
    "channel": gettext_lazy("Channel"),
    "updated": gettext_lazy("Changed"),
    "created": gettext_lazy("Opened"),
    "tags": gettext_lazy("Tags"),
    "sla": gettext_lazy("SLA"),
}
DEFAULT_COLUMNS = ("subject", "organisation", "status", "assignee", "created", "tags", "sla")


def columns_clean(columns) -> list[str]:
    """The chosen columns in the table's order; the default ones when none is chosen."""
    chosen = [c for c in COLUMNS if c in set(columns or ())]
    return chosen or list(DEFAULT_COLUMNS)


@dataclass
class QueuePage:
    rows: list[Ticket]
    next_cursor: str
    sort: str
    filters: dict = field(default_factory=dict)


def cursor_encode(value: datetime, pk: int) -> str:
    raw = f"{value.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        value = datetime.fromisoformat(stamp)
        if timezone.is_naive(value):
            raise ValueError
        return value, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise DeskInputError(
            _("The page link is damaged: go back to the first page of the queue."),
            field="after",
        )


def _apply_filters(qs: QuerySet, filters: dict) -> QuerySet:
    return qs.filter(filters_q(filters))


def filters_q(filters: dict) -> Q:
    """The queue filters as one condition on Ticket (a tag as a subquery, so that a count
    or a keyset page never multiplies rows)."""
    q = Q()

    def ids(name):
        try:
            return int(filters[name])
        except (TypeError, ValueError):
            raise DeskInputError(
                _("The filter %(name)s needs a number from the list.") % {"name": name},
                field=name,
            )

    if filters.get("status"):
        if filters["status"] not in Status.values:
            raise DeskInputError(_("Unknown status: choose one from the list."), field="status")
        q &= Q(status=filters["status"])
    if filters.get("priority"):
        if filters["priority"] not in Priority.values:
            raise DeskInputError(_("Unknown priority: choose one from the list."), field="priority")
        q &= Q(priority=filters["priority"])
    if filters.get("channel"):
        q &= Q(channel=filters["channel"])
    if filters.get("organisation"):
        q &= Q(organisation_id=ids("organisation"))
    if filters.get("assignee") == "none":
        q &= Q(assignee__isnull=True)
    elif filters.get("assignee"):
        q &= Q(assignee_id=ids("assignee"))
    if filters.get("team"):
        q &= Q(team_id=ids("team"))
    if filters.get("billable") in ("yes", "no"):
        q &= Q(billable=filters["billable"] == "yes")
    if filters.get("tag"):
        tagged = Ticket.tags.through.objects.filter(tag__name=str(filters["tag"]).strip().lower())
        q &= Q(pk__in=tagged.values("ticket_id"))
    if filters.get("sla"):
        if filters["sla"] not in sla.STATE_FILTERS:
            raise DeskInputError(_("Unknown SLA state: choose one from the list."), field="sla")
        q &= sla.state_q(filters["sla"])
    if filters.get("work") or filters.get("day"):
        q &= Q(Exists(_work_filter(filters)))
    return q


def day_span(day: date) -> tuple[datetime, datetime]:
    """The local day as [start, end) instants (23 or 25 hours on DST days)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _work_filter(filters: dict) -> QuerySet:
    work = Intervention.objects.filter(ticket=OuterRef("pk"))
    if filters.get("work"):
        if filters["work"] not in WORK_KINDS:
            raise DeskInputError(
                _("Unknown kind of work: choose calls, remote sessions or legs."), field="work"
            )
        work = work.filter(kind__in=WORK_KINDS[filters["work"]])
    if filters.get("day"):
        try:
            day = date.fromisoformat(filters["day"])
        except ValueError:
            raise DeskInputError(
                _("The day %(day)s is not a date: write it as YYYY-MM-DD, e.g. 2026-12-03.")
                % {"day": filters["day"]},
                field="day",
            )
        start, end = day_span(day)
        work = work.filter(started_at__gte=start, started_at__lt=end)
    return work


def queue_page(
    *,
    agent: Agent | None,
    queue: str,
    filters: dict | None = None,
    sort: str = "-created",
    after: str = "",
    size: int = 25,
) -> QueuePage:
    """One page of a queue, by keyset: the page after ``after`` (a cursor from the
    previous page), so page 200 costs what page 1 costs."""
    filters = {k: v for k, v in (filters or {}).items() if k in FILTERS and v}
    if sort not in SORTS:
        sort = "-created"
    _label, column, descending = SORTS[sort]
    qs = _apply_filters(Ticket.objects.filter(_queue_q(queue, agent)), filters)
    if column == sla.SORT_COLUMN:
        qs = sla.with_due(qs)
    if after:
        value, pk = cursor_decode(after)
        if descending:
            qs = qs.filter(Q(**{f"{column}__lt": value}) | Q(**{column: value, "pk__lt": pk}))
        else:
            qs = qs.filter(Q(**{f"{column}__gt": value}) | Q(**{column: value, "pk__gt": pk}))
    order = [f"-{column}", "-pk"] if descending else [column, "pk"]
    rows = list(
        qs.select_related("organisation", "contact", "assignee__user", "team", *sla.SELECT_RELATED)
        .prefetch_related("tags")
        .order_by(*order)[: size + 1]
    )
    next_cursor = ""
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = cursor_encode(getattr(last, column), last.pk)
    return QueuePage(rows=rows, next_cursor=next_cursor, sort=sort, filters=filters)


def ticket_get_for(*, user, pk: int) -> Ticket:
    """A ticket for a desk page; the caller has checked the role (every agent reads every
    ticket of the company, SPEC 1). Unknown ids answer 404."""
    ticket = (
        Ticket.objects.select_related(
            "organisation", "contact", "assignee__user", "team", "merged_into", "linked_to"
        )
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


@dataclass
class Entry:
    """One line of the timeline: a message, an intervention or an event."""

    at: datetime
    kind: str  # "message", "intervention", "event": which template block draws it
    obj: object
    text: str = ""


def _agents_by_id() -> dict[int, str]:
    return {
        a.pk: (a.user.get_full_name() or a.user.get_username())
        for a in Agent.objects.select_related("user")
    }


def _teams_by_id() -> dict[int, str]:
    return dict(Team.objects.values_list("pk", "name"))


def event_sentence(event: TicketEvent, agents: dict, teams: dict) -> str:
    """An event as a sentence a person reads: no codes, no JSON (STYLE 2.10)."""
    data = event.data or {}
    if event.kind == TicketEvent.Kind.CREATED:
        return _("Ticket opened")
    if event.kind == TicketEvent.Kind.STATUS:
        old, new = data.get("status", ["", ""])
        return _("Status: %(old)s → %(new)s") % {
            "old": _label(Status, old),
            "new": _label(Status, new),
        }
    if event.kind == TicketEvent.Kind.ASSIGNED:
        parts = []
        if "assignee" in data:
            new = data["assignee"][1]
            parts.append(
                _("Assigned to %(name)s") % {"name": agents.get(new, "?")}
                if new
                else _("Assignment removed")
            )
        if "team" in data:
            new = data["team"][1]
            parts.append(_("Team: %(name)s") % {"name": teams.get(new, "—")})
        return "; ".join(parts) or _("Assignment confirmed")
    if event.kind == TicketEvent.Kind.BILLING:
        if data.get("charges") == "frozen":
            return _("Charges frozen at closing: %(total)s") % {"total": euro(data.get("total"))}
        if data.get("charges") == "unfrozen":
            return _("Charges reopened (they were %(total)s)") % {
                "total": euro(data.get("previous_total"))
            }
        return _("Billing changed: %(fields)s") % {"fields": _field_names(data)}
    if event.kind == TicketEvent.Kind.CHANGED:
        return _("Changed: %(fields)s") % {"fields": _field_names(data)}
    if event.kind == TicketEvent.Kind.VISIT:
        return visit_sentence(data, agents)
    if event.kind == TicketEvent.Kind.INTERVENTION_CHANGED:
        reason = (data.get("override_reason") or ["", ""])[1]
        new = (data.get("out_of_hours_override") or [None, None])[1]
        if new is None:
            return _("Out-of-hours decision back to the calendar")
        state = _("out of hours") if new else _("in hours")
        return _("Intervention set %(state)s: %(reason)s") % {"state": state, "reason": reason}
    if event.kind in ORGANISE_KINDS:
        return organise_sentence(event)
    return ""


FIELD_LABELS = {
    "subject": gettext_lazy("subject"),
    "priority": gettext_lazy("priority"),
    "category": gettext_lazy("category"),
    "organisation": gettext_lazy("organisation"),
    "contact": gettext_lazy("contact"),
    "team": gettext_lazy("team"),
    "official_channels_possible": gettext_lazy("e-mail or portal were possible"),
    "channel_justification": gettext_lazy("why an official channel was not used"),
    "billable": gettext_lazy("billable"),
    "non_billable_reason": gettext_lazy("why not billable"),
    "waive_call_fee": gettext_lazy("call-out fee waived"),
    "waive_reason": gettext_lazy("waiver reason"),
    "out_of_hours_requested": gettext_lazy("out-of-hours service requested"),
}


def _field_names(data: dict) -> str:
    return ", ".join(str(FIELD_LABELS.get(k, k)) for k in data if k in FIELD_LABELS) or "—"


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "—")


def euro(value) -> str:
    """A Decimal (or its string) as Italian money: ``30,00 €`` (English: ``€30.00``)."""
    return euro_filter(value)


# Events the timeline draws as their own item (the message, the intervention itself).
EVENTS_SHOWN_AS_ITEMS = (
    TicketEvent.Kind.MESSAGE,
    TicketEvent.Kind.ATTACHMENT,
    TicketEvent.Kind.INTERVENTION,
)


def ticket_timeline(*, ticket: Ticket) -> list[Entry]:
    """Messages, interventions and events of a ticket, oldest first, in six queries."""
    messages = (
        Message.objects.filter(ticket=ticket)
        .select_related("author_user", "author_contact")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("pk")), "raw_messages"
        )
    )
    interventions = Intervention.objects.filter(ticket=ticket).select_related("technician__user")
    events = (
        TicketEvent.objects.filter(ticket=ticket)
        .exclude(kind__in=EVENTS_SHOWN_AS_ITEMS)
        .select_related("actor")
    )
    agents, teams = _agents_by_id(), _teams_by_id()
    entries = [Entry(m.created_at, "message", m) for m in messages]
    entries += [Entry(i.started_at, "intervention", i) for i in interventions]
    for event in events:
        text = event_sentence(event, agents, teams)
        if text:
            entries.append(Entry(event.created_at, "event", event, text))
    entries.sort(key=lambda e: e.at)
    return entries


@dataclass
class Preview:
    lines: list
    net: Decimal
    vat: Decimal
    total: Decimal
    problem: str
    frozen: bool


def charge_preview(*, ticket: Ticket) -> Preview | None:
    """What the ticket costs now: the stored charges, which every ticket service
    recomputes in the same transaction as the change (billing.services.charges_refresh)."""
    charges = TicketCharges.objects.filter(ticket=ticket).prefetch_related("lines").first()
    if charges is None:
        return None
    return Preview(
        lines=list(charges.lines.all()),
        net=charges.net,
        vat=charges.vat,
        total=charges.total,
        problem=charges.problem,
        frozen=charges.frozen,
    )


def timer_running(*, agent: Agent | None, ticket: Ticket | None) -> RunningTimer | None:
    if agent is None:
        return None
    return RunningTimer.objects.filter(agent=agent, ticket=ticket).first()


def open_tickets_of(*, contact=None, organisation=None, limit: int = 10) -> list[Ticket]:
    """Open tickets of the caller's contact first, then of the organisation."""
    if contact is None and organisation is None:
        return []
    q = Q(contact=contact) if contact is not None else Q()
    if organisation is not None:
        q = (
            q | Q(organisation=organisation)
            if contact is not None
            else Q(organisation=organisation)
        )
    return list(
        Ticket.objects.filter(q, status__in=OPEN_STATES)
        .select_related("contact")
        .order_by("-created_at")[:limit]
    )


# Message kinds an agent writes from the desk (the rest come from channels).
AGENT_KINDS = (MessageKind.EMAIL, MessageKind.INTERNAL_NOTE)


def ticket_last_event(*, ticket: Ticket) -> int:
    """The newest event of the ticket: what a draft has "seen" when it begins."""
    return (
        TicketEvent.objects.filter(ticket=ticket)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def ticket_changes_since(*, ticket: Ticket, after_event: int, exclude_user) -> list[str]:
    """What others (people, the customer, the system) changed after ``after_event``, as
    sentences; a message counts once, as a message."""
    events = list(
        TicketEvent.objects.filter(ticket=ticket, pk__gt=after_event)
        .exclude(actor=exclude_user)
        .select_related("actor")
        .order_by("pk")
    )
    if not events:
        return []
    agents, teams = _agents_by_id(), _teams_by_id()
    out = []
    for event in events:
        who = (event.actor.get_full_name() if event.actor else "") or event.actor_label
        if event.kind == TicketEvent.Kind.MESSAGE:
            kind = _label(MessageKind, event.data.get("kind"))
            text = _("New %(kind)s") % {"kind": kind}
        else:
            text = event_sentence(event, agents, teams) or str(event.get_kind_display())
        out.append(f"{text} ({who})")
    return out


# Presence: who has a ticket open, kept in the cache (shared by the web workers through
# Redis or the file cache) for PRESENCE_SECONDS after their last heartbeat.
PRESENCE_SECONDS = 45


def _presence_key(ticket: Ticket) -> str:
    return f"desk-presence-{ticket.pk}"


def presence_beat(*, ticket: Ticket, user, replying: bool) -> None:
    from django.core.cache import cache

    now = timezone.now().timestamp()
    seen = {
        uid: entry
        for uid, entry in (cache.get(_presence_key(ticket)) or {}).items()
        if now - entry["at"] < PRESENCE_SECONDS
    }
    seen[user.pk] = {
        "name": user.get_full_name() or user.get_username(),
        "replying": replying,
        "at": now,
    }
    cache.set(_presence_key(ticket), seen, PRESENCE_SECONDS * 2)


def presence_others(*, ticket: Ticket, user) -> list[dict]:
    from django.core.cache import cache

    now = timezone.now().timestamp()
    return [
        entry
        for uid, entry in sorted((cache.get(_presence_key(ticket)) or {}).items())
        if uid != user.pk and now - entry["at"] < PRESENCE_SECONDS
    ]
