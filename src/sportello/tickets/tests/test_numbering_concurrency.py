"""Two processes creating tickets at the same instant never get the same number."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import date

import pytest
from django.db import connection

from sportello.billing.models import TariffVersion
from sportello.core.testenv import Output, child_env, stop
from sportello.tickets.models import Ticket

# Each worker says "ready" once Django is loaded, then blocks on its standard input until
# the test writes "go" to all of them: they start creating at the same instant.
WORKER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "sportello.settings"
django.setup()
from django.db import connections
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
print("ready", flush=True)
sys.stdin.readline()
for i in range(int(sys.argv[1])):
    services.ticket_open(subject=f"concurrent {i}", channel="email", message=MessageInput(text="x"))
connections.close_all()
"""


@pytest.mark.django_db(transaction=True)
def test_it_gives_unique_numbers_to_concurrent_processes(tmp_path):
    # The workers write to this test's own database, on PostgreSQL (.ci/run) or SQLite.
    env = child_env()
    per_process, processes = 40, 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(per_process)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        outputs = [Output(proc.stdout) for proc in procs]
        for output in outputs:
            output.wait_line("ready", timeout=120)
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            proc.stdin.close()
            proc.wait(timeout=120)
            assert proc.returncode == 0, proc.stderr.read()
    finally:
        for proc in procs:
            stop(proc)
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == per_process * processes
    assert [n for n, c in Counter(numbers).items() if c > 1] == []


# Opens a ticket, says "opened", and keeps its transaction open until its standard input
# is closed.
HOLDER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "sportello.settings"
django.setup()
from django.db import transaction
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
with transaction.atomic():
    services.ticket_open(subject="held open", channel="email", message=MessageInput(text="x"))
    print("opened", flush=True)
    sys.stdin.read()
"""


@pytest.mark.django_db(transaction=True)
def test_a_ticket_being_created_does_not_hold_up_the_next_on_postgresql(tmp_path):
    """A transaction that opened a ticket and is still running (a mail filing with its
    attachments, say) must not make other workers wait for a number on PostgreSQL. SQLite
    has a single writer: there the second waits, and gets the next number, no error."""
    TariffVersion.objects.create(label="Listino", valid_from=date(2000, 1, 1))  # a desk's
    env = child_env()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    second = None
    try:
        Output(holder.stdout).wait_line("opened", timeout=120)
        second = subprocess.Popen(
            [sys.executable, "-c", WORKER, "1"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        Output(second.stdout).wait_line("ready", timeout=120)
        second.stdin.write("go\n")
        second.stdin.close()
        if connection.vendor == "postgresql":
            # Its number does not wait for the held transaction: it finishes while held.
            second.wait(timeout=120)
            finished_while_held = True
        else:
            # SQLite's one writer is busy: the second waits (up to its 20 s lock timeout).
            try:
                second.wait(timeout=2)
                finished_while_held = True
            except subprocess.TimeoutExpired:
                finished_while_held = False
        holder.stdin.close()  # the holder commits
        second.wait(timeout=120)
        assert second.returncode == 0, second.stderr.read()
    finally:
        if holder.stdin and not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=120)
        held_err = holder.stderr.read()
        for proc in (holder, second):
            if proc is not None:
                stop(proc)
    assert holder.returncode == 0, held_err
    assert finished_while_held == (connection.vendor == "postgresql")
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 2
