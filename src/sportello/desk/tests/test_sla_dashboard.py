"""SLA in the desk's lists and on the ticket page, and the dashboard: what an agent sees,
where each figure leads, and what it costs in queries."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sportello.billing.models import TicketCharges
from sportello.desk import selectors
from sportello.sla.models import SlaPolicy
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.services import Actor

from .support import PASSWORD

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ROME)


def open_ticket(people, subject, when=None, **kw):
    return tickets.ticket_open(
        subject=subject,
        channel="email",
        message=MessageInput(text="Testo", sender="alice@alice.example.it"),
        contact=people["alice"],
        created_at=when,
        **kw,
    )


@pytest.fixture
def policy(people):
    return SlaPolicy.objects.create(
        name="Normale", priority="normal", response_minutes=60, resolution_minutes=1020
    )


def queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content.decode()


def row_order(html: str, subjects) -> list[str]:
    found = [(html.index(s), s) for s in subjects if s in html]
    return [s for _i, s in sorted(found)]


def test_queue_rows_show_a_badge_with_words_and_sort_by_due_time(client, people, policy):
    client.login(username="bob", password=PASSWORD)
    now = timezone.now()
    late = open_ticket(people, "Vecchio guasto", when=now - timedelta(days=30))
    soon = open_ticket(people, "Guasto di ieri", when=now - timedelta(days=1))
    waiting = open_ticket(people, "Ticket in pausa", when=now - timedelta(days=40))
    tickets.ticket_change_status(ticket=waiting, status="waiting", when=waiting.created_at)
    open_ticket(people, "Senza SLA", priority="low")

    _n, html = queries(client, reverse("desk:queue") + "?queue=open")
    assert "violato" in html  # breached, in words
    assert "in pausa: in attesa del cliente" in html
    assert "Senza SLA" in html

    _n, html = queries(client, reverse("desk:queue") + "?queue=open&sort=due")
    assert row_order(html, ["Vecchio guasto", "Guasto di ieri", "Ticket in pausa", "Senza SLA"])[
        :2
    ] == ["Vecchio guasto", "Guasto di ieri"]
    assert late.pk and soon.pk

    _n, html = queries(client, reverse("desk:queue") + "?queue=open&sla=breached")
    assert "Vecchio guasto" in html and "Senza SLA" not in html


def test_the_due_sort_pages_by_keyset_through_tickets_without_a_due_time(client, people, policy):
    client.login(username="bob", password=PASSWORD)
    # One a day, Monday 2 to Friday 6 March 2026 at 10:00: each due at 11:00 that day.
    made = [
        open_ticket(people, f"Richiesta {i:02d}", when=at(2026, 3, 6 - i, 10)) for i in range(5)
    ]
    made += [open_ticket(people, f"Bassa {i}", priority="low") for i in range(3)]
    seen = []
    page = selectors.queue_page(agent=None, queue="open", sort="due", size=3)
    while True:
        seen += [t.pk for t in page.rows]
        if not page.next_cursor:
            break
        page = selectors.queue_page(
            agent=None, queue="open", sort="due", size=3, after=page.next_cursor
        )
    assert sorted(seen) == sorted(t.pk for t in made)
    assert len(seen) == len(set(seen))
    # The oldest (earliest due) first, the ones without a policy last.
    assert seen[:5] == [t.pk for t in reversed(made[:5])]


def test_queue_queries_stay_constant_with_sla_clocks(client, people, policy):
    client.login(username="bob", password=PASSWORD)
    for i in range(3):
        open_ticket(people, f"A{i}")
    queries(client, reverse("desk:queue") + "?queue=open&sort=due")
    small, _html = queries(client, reverse("desk:queue") + "?queue=open&sort=due")
    for i in range(15):
        open_ticket(people, f"B{i}")
    large, _html = queries(client, reverse("desk:queue") + "?queue=open&sort=due")
    assert small == large


def test_an_unknown_sla_filter_is_explained(client, people, policy):
    client.login(username="bob", password=PASSWORD)
    response = client.get(reverse("desk:queue") + "?queue=open&sla=presto", follow=True)
    assert "Stato SLA sconosciuto" in response.content.decode()
    response = client.get(reverse("desk:queue") + "?queue=all&day=ieri", follow=True)
    assert "non è una data" in response.content.decode()


def test_the_ticket_page_shows_both_clocks(client, people, policy):
    client.login(username="bob", password=PASSWORD)
    ticket = open_ticket(people, "Rete lenta", when=at(2026, 3, 9, 9))
    tickets.message_add(
        ticket=ticket,
        actor=Actor(user=people["bob"].user),
        message=MessageInput(
            kind="email",
            direction="out",
            text="Ci guardiamo",
            recipients=["alice@alice.example.it"],
            created_at=at(2026, 3, 9, 9, 20),
        ),
    )
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    panel = html[html.index('id="h-sla"') :]
    assert "Prima risposta" in panel and "rispettato" in panel
    assert "20 di 60 minuti lavorativi usati" in panel
    assert "Risoluzione" in panel and "violato" in panel
    # 1020 minutes: two business days, due Tuesday at 19:00.
    assert "10/03/2026 19:00" in panel


def _dashboard_world(people):
    bob, mario = people["bob"], people["mario"]
    now = timezone.now()
    a = open_ticket(people, "Uno")
    b = open_ticket(people, "Due")
    c = open_ticket(people, "Tre")
    tickets.ticket_assign(ticket=a, assignee=bob)
    tickets.ticket_assign(ticket=b, assignee=bob)
    tickets.ticket_assign(ticket=c, assignee=mario)
    tickets.ticket_change_status(ticket=c, status="waiting")
    tickets.intervention_add(ticket=a, kind="phone", started_at=now, duration_seconds=120)
    tickets.intervention_add(ticket=a, kind="phone", started_at=now, duration_seconds=60)
    tickets.intervention_add(ticket=b, kind="remote", started_at=now, duration_seconds=600)
    tickets.intervention_add(ticket=c, kind="pickup", started_at=now, km=Decimal("0"))
    old = open_ticket(people, "Ieri")
    tickets.intervention_add(
        ticket=old, kind="phone", started_at=now - timedelta(days=2), duration_seconds=60
    )
    return {"a": a, "b": b, "c": c, "old": old}


def test_the_dashboard_figures_and_where_they_lead(client, people, policy):
    world = _dashboard_world(people)
    client.login(username="bob", password=PASSWORD)
    html = client.get(reverse("desk:dashboard")).content.decode()
    assert "Cruscotto" in html
    today = timezone.localdate().isoformat()
    calls = re.search(r'href="([^"]*work=phone[^"]*)"><span class="n">(\d+)</span>', html)
    assert calls.group(2) == "2"  # two calls today; the one two days ago is not today
    assert f"day={today}" in calls.group(1)
    queue = client.get(calls.group(1).replace("&amp;", "&")).content.decode()
    assert "Uno" in queue and "Ieri" not in queue and "Due" not in queue
    assert re.search(r'work=remote[^"]*"><span class="n">1</span>', html)
    assert re.search(r'work=legs[^"]*"><span class="n">1</span>', html)
    assert re.search(rf'<a href="[^"]*assignee={people["bob"].pk}[^"]*">2</a>', html)
    assert re.search(rf'<a href="[^"]*assignee={people["mario"].pk}[^"]*">1</a>', html)
    waiting = re.search(r'href="([^"]*status=waiting[^"]*)"><span class="n">1</span>', html)
    queue = client.get(waiting.group(1).replace("&amp;", "&")).content.decode()
    assert "Tre" in queue and "Uno" not in queue
    # An agent does not see the money.
    assert "Non fatturato" not in html
    assert world["a"].pk


def test_billing_users_see_the_unbilled_value(client, people, policy):
    world = _dashboard_world(people)
    TicketCharges.objects.filter(ticket=world["a"]).update(net=Decimal("30.00"))
    TicketCharges.objects.filter(ticket=world["b"]).update(net=Decimal("60.00"))
    tickets.ticket_update(ticket=world["old"], billable=False, non_billable_reason="warranty")
    client.login(username="carla", password=PASSWORD)
    html = client.get(reverse("desk:dashboard")).content.decode()
    section = html[html.index('id="h-unbilled"') :]
    net = sum(
        TicketCharges.objects.filter(ticket__billable=True).values_list("net", flat=True),
        Decimal("0"),
    )
    assert net >= Decimal("90.00")
    assert f"{net:.2f}".replace(".", ",") in section
    assert reverse("billing:month") in section


def test_the_dashboard_costs_the_same_queries_with_more_data(client, people, policy):
    client.login(username="carla", password=PASSWORD)
    _dashboard_world(people)
    queries(client, reverse("desk:dashboard"))
    small, _html = queries(client, reverse("desk:dashboard"))
    _dashboard_world(people)
    for i in range(10):
        open_ticket(people, f"Altro {i}")
    large, _html = queries(client, reverse("desk:dashboard"))
    assert small == large
