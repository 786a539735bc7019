"""Two billing users issuing two statements of one organisation at the same instant (two
processes) draw one bundle once: the second draws from what the first left, so the
bundle never pays more than it holds. Runs on SQLite and on PostgreSQL (.ci/run), where
issuing locks the organisation's bundles."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum

from sportello.billing import prepaid
from sportello.billing import statements as st
from sportello.billing.models import PrepaidMovement, PrepaidStatementUse, Statement
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Status
from sportello.tickets.tests.factories import ContactFactory, OrganisationFactory

ROME = ZoneInfo("Europe/Rome")

WORKER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "sportello.settings"
django.setup()
from datetime import date
from django.db import connections
from sportello.billing import statements as st
from sportello.billing.models import Statement
barrier, pk = sys.argv[1], int(sys.argv[2])
while not os.path.exists(barrier):
    pass
issued = st.statement_issue(statement=Statement.objects.get(pk=pk), issue_date=date(2026, 12, 1))
print(issued.display_number)
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
@pytest.mark.slow
def test_two_statements_issued_at_once_draw_the_bundle_once(tmp_path):
    org = OrganisationFactory(name="Cliente monte ore", sdi_code="M5UXCR1")
    contact = ContactFactory(organisation=org)
    for month in (10, 11):
        for day in range(2, 6):
            ticket = services.ticket_open(
                subject=f"Richiesta {month}-{day}",
                channel="email",
                message=MessageInput(text="x"),
                contact=contact,
                created_at=datetime(2026, month, day, 10, tzinfo=ROME),
            )
            services.ticket_change_status(
                ticket=ticket,
                status=Status.CLOSED,
                when=datetime(2026, month, day, 12, tzinfo=ROME),
            )
    drafts = [
        st.statement_draft(organisation=org, period=date(2026, month, 1)).statement
        for month in (10, 11)
    ]
    per_month = [d.net for d in drafts]
    assert per_month[0] == per_month[1] > 0
    # A bundle worth one month and a half: both drafts project it in full.
    bundle = prepaid.bundle_buy(
        organisation=org,
        bought_in="euro",
        amount=per_month[0] * D("1.5"),
        purchased_on=date(2026, 9, 1),
    )
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    barrier = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(barrier), str(d.pk)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in drafts
    ]
    barrier.write_text("go")
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert Statement.objects.filter(state="issued").count() == 2
    drawn = -PrepaidMovement.objects.filter(kind="draw").aggregate(t=Sum("amount"))["t"]
    assert drawn == bundle.amount  # never more than it held
    assert prepaid.summary(org, on=date(2026, 12, 1)).balance == D("0.00")
    uses = PrepaidStatementUse.objects.all()
    assert sum(u.overdraft for u in uses) == per_month[0] * 2 - bundle.amount
    # What each statement says it drew is what it deducted, to the cent.
    for use in uses:
        deducted = -sum(line.amount for line in use.statement.lines.filter(code="prepaid"))
        assert deducted == use.used
        assert use.statement.net == use.overdraft
