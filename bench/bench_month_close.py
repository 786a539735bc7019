"""The month close on the bench-data set: drafts, issue, PDFs, FatturaPA XML and CSV for
every organisation of the busiest month (about 3,000 tickets of 100,000).

Run against a database filled by `sportello bench-data`. Everything happens inside one
transaction that is rolled back at the end, so the data set is left as it was for the
other benchmarks. Set-up, not timed: the month's closed tickets are priced and frozen
(bench-data inserts no charges), the organisations get an SDI code (bench-data leaves it
empty, which blocks a statement), and billing starts with that month (older tickets were
"billed before Sportello"). Prints one JSON line with the seconds of each part.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.db.models.functions import TruncMonth  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from sportello.billing import exports  # noqa: E402
from sportello.billing import statements as st  # noqa: E402
from sportello.billing.models import (  # noqa: E402
    BillingSettings,
    StatementLine,
    TicketCharges,
    TicketDeferral,
)
from sportello.billing.services import charges_freeze  # noqa: E402
from sportello.customers.models import Organisation  # noqa: E402
from sportello.tickets.models import Status, Ticket  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    busiest = (
        Ticket.objects.filter(status=Status.CLOSED)
        .annotate(month=TruncMonth("resolved_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    period = busiest["month"].date().replace(day=1)
    figures: dict = {"bench": "month_close", "database": connection.vendor}
    try:
        with transaction.atomic():
            t0 = time.perf_counter()
            Organisation.objects.filter(sdi_code="", pec="").update(sdi_code="M5UXCR1")
            settings = BillingSettings.load()
            settings.billing_start = period
            settings.save()
            start = st._billing_start()
            month = Ticket.objects.filter(
                resolved_at__gte=start, resolved_at__lt=st.month_end(period)
            ).exclude(charges__frozen=True)
            for ticket in month.filter(status=Status.CLOSED).select_related("organisation"):
                charges_freeze(ticket=ticket)
            # bench-data leaves thousands of tickets open for years with work logged, each
            # a blocker: the billing user moves them on (one row each, as `billing defer`).
            long_open = Ticket.objects.filter(
                status__in=st.OPEN_STATUSES, interventions__started_at__lt=st.month_end(period)
            ).distinct()
            TicketDeferral.objects.bulk_create(
                [TicketDeferral(ticket=t, until=st.month_next(period)) for t in long_open],
                batch_size=2000,
            )
            figures["setup_pricing_seconds"] = round(time.perf_counter() - t0, 1)
            figures["month"] = f"{period:%Y-%m}"
            figures["tickets_in_month"] = Ticket.objects.filter(
                resolved_at__gte=start, resolved_at__lt=st.month_end(period)
            ).count()
            figures["priced_tickets"] = TicketCharges.objects.filter(frozen=True).count()

            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                drafts = st.statements_draft_month(period=period)
                figures["drafts_seconds"] = round(time.perf_counter() - t, 2)
                figures["drafts_queries"] = len(queries)
            figures["statements"] = sum(1 for d in drafts if d.statement is not None)
            figures["blocked"] = sum(1 for d in drafts if d.blockers)
            figures["billed_tickets"] = sum(d.tickets for d in drafts)
            figures["lines"] = StatementLine.objects.count()

            t = time.perf_counter()
            results = st.statements_issue_month(period=period)
            figures["issue_seconds"] = round(time.perf_counter() - t, 2)
            figures["issued"] = sum(1 for _s, e in results if e is None)

            with tempfile.TemporaryDirectory() as out:
                for fmt in ("fatturapa", "pdf", "csv"):
                    t = time.perf_counter()
                    written = exports.export_month(period=period, fmt=fmt, out=Path(out) / fmt)
                    figures[f"{fmt}_seconds"] = round(time.perf_counter() - t, 2)
                    figures[f"{fmt}_files"] = len(written)
            figures["close_seconds"] = round(
                figures["drafts_seconds"]
                + figures["issue_seconds"]
                + figures["fatturapa_seconds"]
                + figures["pdf_seconds"],
                2,
            )
            raise Rollback
    except Rollback:
        pass
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
