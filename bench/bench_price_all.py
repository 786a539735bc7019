"""Price every ticket of the database (e.g. the bench-data set) from the database.

Run against a database filled by `sportello bench-data`. Prints one JSON line with the
ticket count, the seconds, and the number of SQL queries (which must not grow with the
number of tickets: a few per batch of 2,000).
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from sportello.billing.selectors import tickets_priced  # noqa: E402
from sportello.billing.services import tariff_version_in_force  # noqa: E402
from sportello.tickets.models import Ticket  # noqa: E402


def main() -> None:
    tariff_version_in_force(on=django.utils.timezone.localdate())  # ensure one exists
    start = time.perf_counter()
    count = priced = 0
    with CaptureQueriesContext(connection) as queries:
        for _ticket, result, _problem in tickets_priced(Ticket.objects.all()):
            count += 1
            priced += result is not None
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "bench": "price_all_tickets",
                "database": connection.vendor,
                "tickets": count,
                "priced": priced,
                "seconds": round(elapsed, 2),
                "queries": len(queries),
                "tickets_per_second": round(count / elapsed, 1) if elapsed else None,
            }
        )
    )


if __name__ == "__main__":
    main()
