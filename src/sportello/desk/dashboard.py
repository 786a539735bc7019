"""The desk's dashboard: the day at a glance, each figure a link to the queue that lists
it (the queue's own filter query string). A fixed number of queries, whatever the data
(a test holds it): one per panel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from sportello.billing.selectors import unbilled_month
from sportello.sla import selectors as sla
from sportello.tickets.models import Intervention, InterventionKind, Status, Ticket

from .selectors import LEG_KINDS, OPEN_STATES, day_span


@dataclass
class Figure:
    label: str
    value: object
    url: str


@dataclass
class Dashboard:
    by_status: list[Figure]
    by_team: list[Figure]
    sla: list[Figure]
    load: list[Figure]
    today: list[Figure]
    unbilled: Figure | None
    open_total: int
    generated_at: datetime = field(default_factory=timezone.now)


def queue_url(**params) -> str:
    return reverse("desk:queue") + "?" + urlencode({k: v for k, v in params.items() if v != ""})


def dashboard(*, with_billing: bool, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    live = Ticket.objects.filter(status__in=OPEN_STATES)
    statuses = dict(live.values_list("status").annotate(n=Count("pk")).order_by())
    by_status = [
        Figure(str(Status(s).label), statuses.get(s, 0), queue_url(queue="open", status=s))
        for s in OPEN_STATES
    ]
    teams = live.values_list("team_id", "team__name").annotate(n=Count("pk")).order_by("team__name")
    by_team = [
        Figure(name or "", n, queue_url(queue="open", team=team_id or ""))
        for team_id, name, n in teams
    ]
    counts = sla.open_counts(now=now)
    sla_figures = [
        Figure(str(sla.STATE_FILTERS[state]), counts[state], queue_url(queue="open", sla=state))
        for state in ("breached", "warning")
    ]
    load = [
        Figure(
            " ".join(filter(None, (first, last))) or username,
            n,
            queue_url(queue="open", assignee=pk),
        )
        for pk, first, last, username, n in live.filter(assignee__isnull=False)
        .values_list(
            "assignee_id",
            "assignee__user__first_name",
            "assignee__user__last_name",
            "assignee__user__username",
        )
        .annotate(n=Count("pk"))
        .order_by("-n", "assignee__user__last_name")
    ]
    day = timezone.localtime(now).date()
    start, end = day_span(day)
    kinds = dict(
        Intervention.objects.filter(started_at__gte=start, started_at__lt=end)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    legs = sum(kinds.get(k, 0) for k in LEG_KINDS)
    iso = day.isoformat()
    today = [
        Figure(
            "phone",
            kinds.get(InterventionKind.PHONE, 0),
            queue_url(queue="all", work="phone", day=iso),
        ),
        Figure(
            "remote",
            kinds.get(InterventionKind.REMOTE, 0),
            queue_url(queue="all", work="remote", day=iso),
        ),
        Figure("legs", legs, queue_url(queue="all", work="legs", day=iso)),
    ]
    unbilled = None
    if with_billing:
        found = unbilled_month(now=now)
        unbilled = Figure(found["tickets"], found["net"], reverse("billing:month"))
    return Dashboard(
        by_status=by_status,
        by_team=by_team,
        sla=sla_figures,
        load=load,
        today=today,
        unbilled=unbilled,
        open_total=sum(statuses.values()),
        generated_at=now,
    )
