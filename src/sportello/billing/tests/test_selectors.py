from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportello.billing.models import TicketCharges
from sportello.billing.selectors import tickets_priced
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Ticket
from sportello.tickets.tests.factories import cast

ROME = ZoneInfo("Europe/Rome")
pytestmark = pytest.mark.django_db


def make_tickets(people, n):
    for i in range(n):
        ticket = services.ticket_open(
            subject=f"t{i}",
            channel="email",
            contact=people["alice"],
            message=MessageInput(text="x"),
        )
        if i % 2:
            services.intervention_add(
                ticket=ticket,
                kind="remote",
                started_at=datetime(2026, 3, 4, 9, 30, tzinfo=ROME),
                duration_seconds=600,
            )


def priced_with_queries(batch_size):
    with CaptureQueriesContext(connection) as ctx:
        results = list(tickets_priced(Ticket.objects.all(), batch_size=batch_size))
    return results, len(ctx)


def test_bulk_pricing_matches_the_stored_charges_with_few_queries():
    people = cast()
    make_tickets(people, 6)
    results, few = priced_with_queries(batch_size=100)
    stored = dict(TicketCharges.objects.values_list("ticket_id", "total"))
    assert {t.pk: q.total for t, q, _ in results} == stored
    assert {q.total for _, q, _ in results} == {Decimal("18.30"), Decimal("36.60")}
    make_tickets(people, 14)
    results, more = priced_with_queries(batch_size=100)
    assert len(results) == 20
    assert more == few  # three times the tickets, the same queries
