"""What the desk reads of the SLA: a badge per list row from the stored clock (no query
of its own: the row's query joins ``sla_clock``), the due-time sort and the state
filter of the queues, the ticket page's live clocks, and the dashboard's counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from sportello.tickets.models import Ticket

from .clock import BREACHED, MET, OK, RESPONSE, WARNING, Clock, state_at
from .models import SlaClock, SlaNotice
from .services import OPEN_STATES, TicketClocks, ticket_clocks

# What a queue's row query joins (select_related) so that badges cost no query.
SELECT_RELATED = ("sla_clock",)

# The due-time sort of the queues: key, label, the annotated column. Tickets without a
# running clock (no policy, paused, resolved) sort after every due time.
SORT_KEY = "due"
SORT_LABEL = gettext_lazy("SLA due first")
SORT_COLUMN = "sla_due"

STATE_FILTERS = {
    BREACHED: gettext_lazy("SLA breached"),
    WARNING: gettext_lazy("SLA about to breach"),
}

LABELS = {
    OK: gettext_lazy("on time"),
    WARNING: gettext_lazy("about to breach"),
    BREACHED: gettext_lazy("breached"),
    MET: gettext_lazy("met"),
}
TARGET_LABELS = {
    RESPONSE: gettext_lazy("first response"),
    "resolution": gettext_lazy("resolution"),
}


@dataclass(frozen=True)
class Badge:
    state: str  # ok, warning, breached, met
    label: str
    target: str
    target_label: str
    due_at: datetime | None
    paused: bool


def badge(ticket: Ticket, *, now: datetime | None = None) -> Badge | None:
    """The SLA badge of a list row, from the stored clock joined to it (no query)."""
    try:
        clock = ticket.sla_clock
    except ObjectDoesNotExist:
        return None
    if clock is None:
        return None
    now = now or timezone.now()
    if clock.target:
        state = state_at(due_at=clock.due_at, warn_at=clock.warn_at, done=False, now=now)
    else:
        state = clock.final_state or MET
    target = clock.target or "resolution"
    return Badge(
        state=state,
        label=str(LABELS[state]),
        target=target,
        target_label=str(TARGET_LABELS.get(target, "")),
        due_at=clock.due_at if clock.target else None,
        paused=clock.paused,
    )


def with_due(qs: QuerySet) -> QuerySet:
    """Annotate ``sla_due`` for the due-time sort (no due time: the far future)."""
    return qs.annotate(
        sla_due=Coalesce(F("sla_clock__due_at"), Value(no_due(), output_field=DateTimeField()))
    )


def no_due() -> datetime:
    return datetime(9999, 12, 31, tzinfo=timezone.get_fixed_timezone(0))


def has_due(value: datetime | None) -> bool:
    return value is not None and value.year < 9999


def state_q(state: str, *, now: datetime | None = None) -> Q:
    """Tickets whose running clock is in ``state`` now (breached or warning), as a filter
    on Ticket."""
    now = now or timezone.now()
    running = ~Q(sla_clock__target="") & Q(sla_clock__isnull=False)
    if state == BREACHED:
        return running & Q(sla_clock__due_at__lte=now)
    if state == WARNING:
        return (
            running
            & Q(sla_clock__warn_at__lte=now)
            & (Q(sla_clock__due_at__gt=now) | Q(sla_clock__due_at__isnull=True))
        )
    raise ValueError(state)


@dataclass(frozen=True)
class TicketSla:
    clocks: list[Clock]
    policy_name: str
    notices: list[SlaNotice]


def ticket_sla(ticket: Ticket, *, now: datetime | None = None) -> TicketSla | None:
    """The ticket page's clocks, computed now from the ticket's rows, and the SLA e-mails
    sent for it. None when no policy applies."""
    found: TicketClocks = ticket_clocks(ticket, now=now)
    if found.policy is None:
        return None
    return TicketSla(
        clocks=list(found.clocks.values()),
        policy_name=found.policy.name,
        notices=list(SlaNotice.objects.filter(ticket=ticket).order_by("sent_at")),
    )


def open_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Open tickets breached and about to breach now, in one query."""
    now = now or timezone.now()
    return SlaClock.objects.filter(ticket__status__in=OPEN_STATES).aggregate(
        breached=Count("pk", filter=~Q(target="") & Q(due_at__lte=now)),
        warning=Count(
            "pk",
            filter=~Q(target="")
            & Q(warn_at__lte=now)
            & (Q(due_at__gt=now) | Q(due_at__isnull=True)),
        ),
    )
