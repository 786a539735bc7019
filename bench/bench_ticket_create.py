"""Tickets created per second through the service layer (ticket + first message + events).

Usage: python bench/bench_ticket_create.py [N]. Uses the database of DATABASE_URL (or a
fresh SQLite file in a temporary data dir); run it on an empty, migrated database.
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from sportello.customers.models import Contact, Organisation  # noqa: E402
from sportello.tickets import services  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="Bench S.r.l.")
    contact = Contact.objects.create(organisation=org, first_name="Bench")
    actor = services.Actor(label="bench@example.it")
    start = time.perf_counter()
    for i in range(count):
        services.ticket_open(
            subject=f"Stampante {i} non stampa",
            channel="email",
            text="Buongiorno, la stampante non stampa da stamattina.",
            contact=contact,
            actor=actor,
            sender="bench@example.it",
            message_id=f"bench-{i}@example.it",
        )
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "bench": "ticket_create",
                "database": connection.vendor,
                "tickets": count,
                "seconds": round(elapsed, 2),
                "tickets_per_second": round(count / elapsed, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
