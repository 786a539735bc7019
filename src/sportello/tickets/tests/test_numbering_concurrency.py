"""Two processes creating tickets at the same instant never get the same number."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from django.db import connection

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


@pytest.mark.django_db(transaction=True)
def test_it_gives_unique_numbers_to_concurrent_processes(tmp_path):
    # The workers write to this test's own database, on PostgreSQL (.ci/run) or SQLite.
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        url = (
            f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    else:
        url = f"sqlite:///{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
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
