"""Tickets created per second through the service layer (ticket + first message + events).

Usage: python bench/bench_ticket_create.py [N] [PROCESSES]. Uses the database of
DATABASE_URL (or a fresh SQLite file in a temporary data dir); run it on an empty,
migrated database. With PROCESSES above 1, that many processes create N tickets between
them at once, as web and mail workers do (the ticket numbers they draw never collide).
Prints one JSON line.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from sportello.customers.models import Contact, Organisation  # noqa: E402
from sportello.tickets import services  # noqa: E402
from sportello.tickets.inputs import MessageInput  # noqa: E402
from sportello.tickets.models import Ticket  # noqa: E402


def create(count: int, offset: int, contact, actor) -> None:
    for i in range(offset, offset + count):
        services.ticket_open(
            subject=f"Stampante {i} non stampa",
            channel="email",
            contact=contact,
            actor=actor,
            message=MessageInput(
                text="Buongiorno, la stampante non stampa da stamattina.",
                sender="bench@example.it",
                message_id=f"bench-{i}@example.it",
            ),
        )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="Bench S.r.l.")
    contact = Contact.objects.create(organisation=org, first_name="Bench")
    actor = services.Actor(label="bench@example.it")
    share = count // processes
    start = time.perf_counter()
    if processes == 1:
        create(count, 0, contact, actor)
    else:
        connections.close_all()  # each child opens its own connection
        context = multiprocessing.get_context("fork")
        workers = [
            context.Process(target=create, args=(share, n * share, contact, actor))
            for n in range(processes)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
            assert worker.exitcode == 0, worker.exitcode
    elapsed = time.perf_counter() - start
    created = Ticket.objects.count()
    assert created == share * processes, created
    print(
        json.dumps(
            {
                "bench": "ticket_create",
                "database": connection.vendor,
                "processes": processes,
                "tickets": created,
                "seconds": round(elapsed, 2),
                "tickets_per_second": round(created / elapsed, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
