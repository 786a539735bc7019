"""The billing reports page on the bench-data set: the eight reports of one year.

Run against a database filled by `sportello bench-data`. Set-up, not timed, in one
transaction rolled back at the end: the year's resolved tickets are priced (bench-data
stores no charges) and a tenth of the phone ones get their call-out fee waived. Then
each report is built three times; prints one JSON line with the best seconds of each
and the query count of all eight.
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from sportello.billing import reports  # noqa: E402
from sportello.billing.services import charges_refresh  # noqa: E402
from sportello.billing.statements import month_parse  # noqa: E402
from sportello.tickets.models import Ticket  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    last = timezone.localdate(Ticket.objects.aggregate(m=Max("resolved_at"))["m"])
    end = last.replace(day=1)
    start = month_parse(f"{end.year - 1}-{end.month:02d}")
    start = start.replace(month=start.month % 12 + 1, year=start.year + (start.month == 12))
    flt = reports.ReportFilter(start=start, end=end)
    figures: dict = {"bench": "reports", "database": connection.vendor}
    try:
        with transaction.atomic():
            tickets = list(reports.billable_tickets(flt).select_related("organisation"))
            began = time.perf_counter()
            for n, ticket in enumerate(tickets):
                if ticket.channel == "phone" and n % 10 == 0:
                    Ticket.objects.filter(pk=ticket.pk).update(
                        waive_call_fee=True, waive_reason="bench"
                    )
                    ticket.waive_call_fee = True
                charges_refresh(ticket=ticket)
            figures["setup_priced_tickets"] = len(tickets)
            figures["setup_seconds"] = round(time.perf_counter() - began, 1)
            with CaptureQueriesContext(connection) as queries:
                reports.all_reports(flt)
            figures["queries"] = len(queries)
            for slug, build in reports.REPORTS.items():
                best = min(_timed(build, flt) for _ in range(3))
                figures[slug] = round(best, 3)
            figures["all_eight"] = round(sum(figures[s] for s in reports.REPORTS), 3)
            raise Rollback
    except Rollback:
        pass
    print(json.dumps(figures))


def _timed(build, flt) -> float:
    began = time.perf_counter()
    build(flt)
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
