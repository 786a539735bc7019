"""The demo data's month, closed end to end as the README's worked example does."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db.models.functions import TruncMonth

from sportello.billing import exports, fatturapa
from sportello.billing import statements as st
from sportello.billing.closing import tickets_close_expired
from sportello.billing.models import Statement, TicketCharges
from sportello.core.demo import load_demo
from sportello.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_month_closes_with_statements_equal_to_the_tickets_charges():
    load_demo()
    tickets_close_expired()
    months = (
        Ticket.objects.filter(status=Status.CLOSED)
        .annotate(month=TruncMonth("resolved_at"))
        .values_list("month", flat=True)
    )
    period = max(months).date()
    results = st.statements_draft_month(period=period)
    assert results and all(r.statement is not None for r in results)
    for result in results:
        # The demo has open tickets with work logged: move them on, as the README shows.
        for blocker in result.blockers:
            assert blocker.code == "open_with_interventions", blocker.message
            st.ticket_defer(
                ticket=Ticket.objects.get(number=blocker.ticket), period=period, reason="in corso"
            )
    issued = [s for s, error in st.statements_issue_month(period=period) if error is None]
    assert len(issued) == len(results)
    for statement in issued:
        tickets = [row.ticket_id for row in statement.ticket_rows.all()]
        charged = sum(
            (c.net for c in TicketCharges.objects.filter(ticket__in=tickets, frozen=True)),
            Decimal("0.00"),
        )
        assert statement.net == charged
        assert statement.vat == (charged * Decimal("0.22")).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        root = ET.fromstring(fatturapa.render(statement))
        assert Decimal(root.findtext(".//ImportoTotaleDocumento")) == statement.total
    rows = list(csv.DictReader(io.StringIO(exports.statements_csv(exports.issued(period)))))
    assert sum(Decimal(r["imponibile"]) for r in rows) == sum(s.net for s in issued)
    assert Statement.objects.filter(state="issued").count() == len(issued)
