"""Portal response times for a contact-manager of a large organisation.

Run against a database filled by `sportello bench-data --tickets 100000` (see
bench/run.sh). Picks the organisation whose ticket count is closest to 2,000 (and, for
comparison, the largest one), gives its contact-manager a portal account, signs in with
the test client, then times ~200 requests of the ticket list (first page) and of ticket
pages. Query counts of the list at 25, 50 and 100 rows per page must be equal: the count
does not grow with the tickets shown. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from sportello.customers.models import Contact  # noqa: E402
from sportello.tickets.models import Ticket  # noqa: E402

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
TARGET_TICKETS = 2000


def manager_client(org_id: int) -> Client:
    """A test client signed in as the organisation's contact-manager (made if missing)."""
    contact = Contact.objects.filter(organisation_id=org_id).order_by("-is_manager", "pk").first()
    if not contact.is_manager or contact.needs_review:
        Contact.objects.filter(pk=contact.pk).update(is_manager=True, needs_review=False)
    if contact.user_id is None:
        email = f"bench-manager-{org_id}@example.invalid"
        user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
        Contact.objects.filter(pk=contact.pk).update(user=user)
        contact.user = user
    client = Client()
    client.force_login(contact.user)
    return client


def timed(client: Client, urls: list[str]) -> dict:
    for url in urls[:10]:  # warm-up: connections, template cache
        assert client.get(url).status_code == 200, url
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    times.sort()
    return {
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "max_ms": round(times[-1], 1),
    }


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    return len(ctx)


def measure(org_id: int, tickets: int) -> dict:
    client = manager_client(org_id)
    numbers = list(
        Ticket.objects.filter(organisation_id=org_id)
        .order_by("-created_at")
        .values_list("number", flat=True)[:REQUESTS]
    )
    pages = [f"/portale/ticket/{n}/" for n in numbers]
    pages = (pages * (REQUESTS // len(pages) + 1))[:REQUESTS]
    return {
        "organisation_tickets": tickets,
        "list": timed(client, ["/portale/"] * REQUESTS),
        "list_search": timed(client, ["/portale/?q=stampante&status=closed"] * (REQUESTS // 4)),
        "ticket_page": timed(client, pages),
        "list_queries_by_page_size": {
            size: queries(client, f"/portale/?per_page={size}") for size in (25, 50, 100)
        },
        "ticket_page_queries": sorted({queries(client, url) for url in pages[:20]}),
    }


def main() -> None:
    counts = list(
        Ticket.objects.values("organisation_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("organisation_id", "n")
    )
    if not counts:
        raise SystemExit("No tickets: fill the database with `sportello bench-data` first.")
    near = min(counts, key=lambda row: abs(row[1] - TARGET_TICKETS))
    largest = counts[0]
    result = {
        "bench": "portal",
        "database": connection.vendor,
        "tickets": sum(n for _org, n in counts),
        **measure(*near),
        "largest_organisation": measure(*largest),
    }
    sizes = result["list_queries_by_page_size"]
    result["constant_queries"] = (
        len(set(sizes.values())) == 1
        and len(set(result["largest_organisation"]["list_queries_by_page_size"].values())) == 1
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
