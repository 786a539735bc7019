"""Two processes creating tickets at the same instant never get the same number."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import pytest
from django.db import connection

from sportello.billing.models import TariffVersion
from sportello.tickets.models import Ticket

WORKER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "sportello.settings"
django.setup()
from django.db import connections
from sportello.tickets import services
barrier = sys.argv[1]
while not os.path.exists(barrier):
    pass
for i in range(int(sys.argv[2])):
    services.ticket_open(subject=f"concurrent {i}", channel="email", text="x")
connections.close_all()
"""


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        return (
            f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    return f"sqlite:///{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_it_gives_unique_numbers_to_concurrent_processes(tmp_path):
    # The workers write to this test's own database, on PostgreSQL (.ci/run) or SQLite.
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    barrier = tmp_path / "go"
    per_process, processes = 40, 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(barrier), str(per_process)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    barrier.write_text("go")
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == per_process * processes
    assert [n for n, c in Counter(numbers).items() if c > 1] == []


HOLDER = """
import os, sys, time, django
os.environ["DJANGO_SETTINGS_MODULE"] = "sportello.settings"
django.setup()
from django.db import transaction
from sportello.tickets import services
ready, release = sys.argv[1], sys.argv[2]
with transaction.atomic():
    services.ticket_open(subject="held open", channel="email", text="x")
    open(ready, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
"""


@pytest.mark.django_db(transaction=True)
def test_a_ticket_being_created_does_not_hold_up_the_next_on_postgresql(tmp_path):
    """A transaction that opened a ticket and is still running (a mail filing with its
    attachments, say) must not make other workers wait for a number on PostgreSQL. SQLite
    has a single writer: there the second waits, and gets the next number, no error."""
    TariffVersion.objects.create(label="Listino", valid_from=date(2000, 1, 1))  # a desk's
    env = {**os.environ, "DATABASE_URL": _database_url()}
    ready, release = tmp_path / "ready", tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ready), str(release)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the first ticket was never opened"
        second = subprocess.Popen(
            [sys.executable, "-c", WORKER.replace("while not", "while False and not"), "-", "1"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            second.wait(timeout=10)  # SQLite gives up on its lock after 20 s
            finished_while_held = True
        except subprocess.TimeoutExpired:
            finished_while_held = False
        release.write_text("go")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
    finally:
        release.write_text("go")
        _, held_err = holder.communicate(timeout=60)
    assert holder.returncode == 0, held_err
    assert finished_while_held == (connection.vendor == "postgresql")
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 2
