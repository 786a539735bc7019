"""Two billing users closing the same month at the same instant (two processes): every
ticket ends up on exactly one issued statement and the numbers have no gaps. Runs on
SQLite and, in .ci/run, on PostgreSQL, where drafting locks the organisation's row."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sportello.billing.models import Statement, StatementTicket
from sportello.core.testenv import Output, child_env
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Status, Ticket
from sportello.tickets.tests.factories import ContactFactory, OrganisationFactory

ROME = ZoneInfo("Europe/Rome")

WORKER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "sportello.settings"
django.setup()
from datetime import date
from django.db import connections
from sportello.billing import statements as st
from sportello.billing.errors import BillingError
print("ready", flush=True)
sys.stdin.readline()  # "go", written to both workers once both are ready
period = date(2026, 11, 1)
for _ in range(3):
    try:
        st.statements_draft_month(period=period)
    except BillingError as exc:
        print("draft:", exc.code)
    for statement, error in st.statements_issue_month(period=period, issue_date=date(2026, 12, 1)):
        print("issue:", statement.pk, error.code if error else "ok")
connections.close_all()
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_billing_users_at_once_bill_each_ticket_once():
    orgs = [OrganisationFactory(name=f"Cliente {n}", sdi_code="M5UXCR1") for n in range(6)]
    for n, org in enumerate(orgs):
        contact = ContactFactory(organisation=org)
        for day in range(2, 6):
            ticket = services.ticket_open(
                subject=f"Richiesta {n}-{day}",
                channel="email",
                contact=contact,
                created_at=datetime(2026, 11, day, 10, tzinfo=ROME),
                message=MessageInput(text="x"),
            )
            services.ticket_change_status(
                ticket=ticket,
                status=Status.CLOSED,
                when=datetime(2026, 11, day, 12, tzinfo=ROME),
            )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [Output(proc.stdout) for proc in procs]
    for output in outputs:
        output.wait_line("ready", timeout=120)
    for proc in procs:  # both start drafting and issuing at the same instant
        proc.stdin.write("go\n")
        proc.stdin.close()
    for proc in procs:
        proc.wait(timeout=300)
        assert proc.returncode == 0, proc.stderr.read()
    issued = Statement.objects.filter(state="issued")
    assert issued.count() == len(orgs)  # one statement per organisation, none twice
    assert sorted(issued.values_list("number", flat=True)) == list(range(1, len(orgs) + 1))
    billed = list(StatementTicket.objects.values_list("ticket_id", flat=True))
    assert sorted(billed) == sorted(Ticket.objects.values_list("pk", flat=True))
    assert Statement.objects.filter(state="draft").count() == 0
