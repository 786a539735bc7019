"""Reads for billing: price many tickets with a bounded number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from sportello.tariff import Quote, quote
from sportello.tickets.models import Intervention, Status, Ticket, written_messages

from .calendars import business_calendar
from .models import Statement, TariffVersion, TicketCharges
from .services import tariff_params, tariff_version_in_force, ticket_facts


def tickets_priced(
    tickets: QuerySet[Ticket], *, batch_size: int = 2000
) -> Iterator[tuple[Ticket, Quote | None, str]]:
    """Yield ``(ticket, quote or None, problem)`` for every ticket of ``tickets``.

    Three queries per batch (tickets with organisation and written-message count,
    their interventions, nothing else): the cost grows with the number of batches, not
    with the number of tickets. Tariff versions and calendars are loaded once.
    """
    versions = list(TariffVersion.objects.order_by("valid_from"))
    params = {v.pk: tariff_params(v) for v in versions}
    today = timezone.localdate()
    calendars: dict[tuple[int, ...], object] = {}
    written = Count("messages", filter=written_messages("messages__"))
    ids = list(tickets.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        batch = (
            Ticket.objects.filter(pk__in=chunk)
            .select_related("organisation")
            .annotate(written=written)
            .prefetch_related(
                Prefetch("interventions", queryset=Intervention.objects.order_by("started_at"))
            )
            .order_by("pk")
        )
        for ticket in batch:
            interventions = list(ticket.interventions.all())
            on = timezone.localdate(ticket.resolved_at) if ticket.resolved_at else today
            version = tariff_version_in_force(on=on, versions=versions)
            facts = ticket_facts(
                ticket,
                written_messages=ticket.written,
                interventions=interventions,
                version=version,
            )
            if isinstance(facts, str):
                yield ticket, None, facts
                continue
            years = tuple(
                sorted(
                    {on.year - 1, on.year, on.year + 1}
                    | {timezone.localtime(i.started_at).year for i in interventions}
                )
            )
            calendar = calendars.get(years)
            if calendar is None:
                calendar = calendars[years] = business_calendar(years=years)
            yield ticket, quote(facts, params[version.pk], calendar), ""


def unbilled_month(*, now=None) -> dict:
    """What the month's work is worth before it is billed (the desk's dashboard): the net
    charges of billable tickets resolved this month, or still open, that are on no issued
    statement (a draft does not count as billed). One query; ``{"net", "tickets"}``."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=local.tzinfo)
    month = Q(ticket__resolved_at__gte=start, ticket__resolved_at__lte=now) | Q(
        ticket__status__in=(Status.NEW, Status.OPEN, Status.WAITING)
    )
    issued = Q(ticket__statement_row__statement__state=Statement.State.ISSUED)
    found = (
        TicketCharges.objects.filter(month, ticket__billable=True)
        .exclude(issued)
        .aggregate(net=Sum("net"), tickets=Count("pk"))
    )
    return {"net": found["net"] or Decimal("0.00"), "tickets": found["tickets"]}
