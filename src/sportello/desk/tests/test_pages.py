"""What an agent sees: the queue, the ticket page, the phone flow; and what they cost in
queries (constant in the page size and in the ticket's length)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sportello.desk import selectors
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Ticket

from .support import PASSWORD

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


def make_tickets(people, n, **kw):
    made = []
    for i in range(n):
        made.append(
            tickets.ticket_open(
                subject=f"Richiesta {i}",
                channel="email",
                message=MessageInput(text="Testo", sender="alice@alice.example.it"),
                contact=people["alice"],
                **kw,
            )
        )
    return made


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_the_demo_agents_sign_in_at_the_desk_and_work(client):
    call_command("demo")
    for username in ("bob", "mario", "lucia", "carla"):
        client.logout()
        response = client.post(
            reverse("desk:login"), {"username": username, "password": "sportello-agent"}
        )
        assert response.status_code == 302 and response["Location"] == reverse("desk:queue")
        page = client.get(reverse("desk:queue")).content.decode()
        assert "Non hai i permessi" not in page
        assert "I miei ticket" in page and "Non assegnati" in page
        ticket = Ticket.objects.order_by("pk").first()
        assert client.get(reverse("desk:ticket", args=[ticket.pk])).status_code == 200
    # The admin site is the admin's: agents are not let in, the admin is.
    client.logout()
    client.login(username="mario", password="sportello-agent")
    assert client.get("/admin/").status_code == 302
    client.logout()
    client.login(username="admin", password="sportello-admin")
    assert "Ticket" in client.get("/admin/").content.decode()


def test_an_agent_of_the_admin_role_uses_the_admin_without_being_superuser(client, people):
    client.login(username="ada", password=PASSWORD)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Non hai i permessi" not in page.content.decode()
    assert client.get("/admin/tickets/ticket/").status_code == 200


def test_the_queue_shows_counts_and_pages_by_keyset(client, people):
    made = make_tickets(people, 7)
    tickets.ticket_assign(ticket=made[0], assignee=people["bob"])
    client.login(username="bob", password=PASSWORD)
    counts = selectors.queue_counts(agent=people["bob"])
    assert counts["mine"] == 1 and counts["unassigned"] == 6 and counts["open"] == 7
    seen = []
    url = reverse("desk:queue") + "?queue=open"
    for _ in range(4):
        page = selectors.queue_page(
            agent=people["bob"], queue="open", after=url.split("after=")[-1] if seen else "", size=3
        )
        seen += [t.pk for t in page.rows]
        if not page.next_cursor:
            break
        url = f"?after={page.next_cursor}"
    assert seen == [t.pk for t in sorted(made, key=lambda t: (t.created_at, t.pk), reverse=True)]
    html = client.get(reverse("desk:queue") + "?queue=unassigned").content.decode()
    assert html.count("data-row") == 6
    assert 'aria-current="page"' in html


def test_a_broken_page_link_says_so_and_shows_the_first_page(client, people):
    make_tickets(people, 2)
    client.login(username="bob", password=PASSWORD)
    page = client.get(reverse("desk:queue") + "?queue=open&after=rotto").content.decode()
    assert "link della pagina" in page.lower() or "pagina" in page
    assert page.count("data-row") == 2


def test_the_live_refresh_keeps_the_selection(client, people):
    a, b = make_tickets(people, 2)
    client.login(username="bob", password=PASSWORD)
    response = client.get(
        reverse("desk:queue") + f"?queue=open&ids={a.pk}", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html  # the rows partial only
    assert re.search(rf'value="{a.pk}"[^>]*checked', html)
    assert not re.search(rf'value="{b.pk}"[^>]*checked', html)


def test_queue_queries_do_not_grow_with_the_page_size(client, people, monkeypatch):
    client.login(username="bob", password=PASSWORD)
    make_tickets(people, 3)
    queries(client, reverse("desk:queue") + "?queue=open")
    monkeypatch.setattr(selectors, "queue_page", _sized(selectors.queue_page, 3))
    small = queries(client, reverse("desk:queue") + "?queue=open")
    make_tickets(people, 30)
    monkeypatch.setattr(selectors, "queue_page", _sized(selectors.queue_page.__wrapped__, 30))
    large = queries(client, reverse("desk:queue") + "?queue=open")
    assert small == large


def _sized(fn, size):
    def wrapper(**kw):
        kw["size"] = size
        return fn(**kw)

    wrapper.__wrapped__ = fn
    return wrapper


def test_ticket_page_queries_do_not_grow_with_the_ticket(client, people):
    client.login(username="bob", password=PASSWORD)
    (ticket,) = make_tickets(people, 1)
    start = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)
    tickets.intervention_add(ticket=ticket, kind="phone", started_at=start, duration_seconds=60)
    url = reverse("desk:ticket", args=[ticket.pk])
    queries(client, url)  # the first visit fills the per-process calendar cache
    short = queries(client, url)
    for i in range(20):
        message = tickets.message_add(
            ticket=ticket,
            message=MessageInput(
                kind="email", direction="in", text=f"Messaggio {i}", sender="a@b.it"
            ),
        )
        tickets.attachment_add(ticket=ticket, message=message, filename=f"f{i}.txt", content=b"x")
        tickets.intervention_add(
            ticket=ticket, kind="remote", started_at=start + timedelta(hours=i), duration_seconds=90
        )
    tickets.ticket_change_status(ticket=ticket, status="open")
    assert queries(client, url) == short


def test_the_ticket_page_reads_as_a_person_writes(client, people):
    (ticket,) = make_tickets(people, 1)
    tickets.ticket_assign(ticket=ticket, assignee=people["bob"])
    tickets.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=datetime(2026, 12, 2, 10, 0, tzinfo=ROME),
        duration_seconds=720,
    )
    client.login(username="bob", password=PASSWORD)
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "30,00\u00a0€" in html  # amounts as Italians write them
    assert "02/12/2026 10:00" in html  # Europe/Rome, not UTC (09:00)
    assert "12 min" in html
    assert "Assegnato a Bob" in html
    # Codes and raw JSON never reach the page.
    for raw in ("{&quot;", "{'", "[&#x27;", ">phone<", ">written<", "call_fee", "+00:00<"):
        assert raw not in html


def test_the_phone_flow_finds_the_caller_and_saves_the_timed_call(client, people):
    (open_one,) = make_tickets(people, 1)
    client.login(username="bob", password=PASSWORD)
    lookup = client.get(reverse("desk:call-lookup") + "?phone=0744 123456").content.decode()
    assert "Alice Rossi" in lookup and "Alice &amp; Co. S.r.l." in lookup
    assert open_one.subject in lookup
    timer = client.post(reverse("desk:call-start"), headers={"HX-Request": "true"})
    timer_pk = re.search(r'name="timer" value="(\d+)"', timer.content.decode()).group(1)
    response = client.post(
        reverse("desk:call"),
        {
            "channel": "phone",
            "phone": "0744 123456",
            "contact": people["alice"].pk,
            "official_channels_possible": "no",
            "subject": "Gestionale bloccato",
            "text": "Non si apre",
            "timer": timer_pk,
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Gestionale bloccato")
    assert ticket.channel == "phone" and ticket.official_channels_possible is False
    assert ticket.interventions.get().kind == "phone"


def test_the_phone_flow_keeps_what_was_typed_when_the_question_is_missing(client, people):
    client.login(username="bob", password=PASSWORD)
    response = client.post(
        reverse("desk:call"),
        {"channel": "phone", "subject": "Gestionale bloccato", "text": "Non si apre"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "e-mail o il portale" in html
    assert "Gestionale bloccato" in html and "Non si apre" in html
    assert not Ticket.objects.exists()


def test_a_canned_reply_is_inserted_rendered_and_its_unknown_placeholder_shown(client, people):
    from sportello.desk.models import CannedReply

    (ticket,) = make_tickets(people, 1)
    good = CannedReply.objects.create(title="Saluti", body="Gentile {{ contatto.nome }},")
    bad = CannedReply.objects.create(title="Vecchia", body="Gentile {{ cliente.titolo }},")
    client.login(username="bob", password=PASSWORD)
    url = reverse("desk:ticket", args=[ticket.pk])
    html = client.get(f"{url}?canned={good.pk}").content.decode()
    assert ">Gentile Alice,</textarea>" in html
    html = client.get(f"{url}?canned={bad.pk}").content.decode()
    assert "Segnaposto sconosciuti" in html and "{{ cliente.titolo }}" in html
    response = client.post(reverse("desk:reply", args=[ticket.pk]), {"text": bad.body})
    assert response.status_code == 302
    assert "cliente.titolo" in client.get(url).content.decode()  # the error, on the page
    assert not ticket.messages.filter(direction="out", automatic=False).exists()


def test_a_reply_to_a_ticket_that_changed_meanwhile_asks_for_confirmation(client, people):
    (ticket,) = make_tickets(people, 1)
    client.login(username="bob", password=PASSWORD)
    url = reverse("desk:ticket", args=[ticket.pk])
    seen = re.search(r'name="seen" value="(\d+)"', client.get(url).content.decode()).group(1)
    # Meanwhile the customer writes again and Mario changes the priority.
    tickets.message_add(
        ticket=ticket, message=MessageInput(kind="email", direction="in", text="Ancora niente")
    )
    tickets.ticket_update(
        ticket=ticket, priority="high", actor=tickets.Actor(user=people["mario"].user)
    )
    response = client.post(
        reverse("desk:reply", args=[ticket.pk]), {"text": "Riavviate", "seen": seen}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Il ticket è cambiato" in html
    assert "Nuovo messaggio: e-mail" in html
    assert "Modificato: priorità (Mario Test)" in html
    assert ">Riavviate</textarea>" in html  # nothing typed is lost
    assert not ticket.messages.filter(direction="out", automatic=False).exists()
    response = client.post(
        reverse("desk:reply", args=[ticket.pk]),
        {"text": "Riavviate", "seen": seen, "confirm": "1"},
    )
    assert response.status_code == 302
    assert ticket.messages.filter(direction="out", automatic=False, text="Riavviate").exists()


def test_presence_shows_who_else_is_on_the_ticket(client, people):
    from django.test import Client

    (ticket,) = make_tickets(people, 1)
    other = Client()
    other.login(username="mario", password=PASSWORD)
    other.post(reverse("desk:presence", args=[ticket.pk]), {"replying": "1"})
    client.login(username="bob", password=PASSWORD)
    html = client.post(reverse("desk:presence", args=[ticket.pk]), {"replying": "0"}).content
    assert "Mario Test sta scrivendo una risposta" in html.decode()
    alone = other.post(reverse("desk:presence", args=[ticket.pk]), {"replying": "0"}).content
    assert "Bob" in alone.decode() and "sta guardando" in alone.decode()


def test_an_agent_switches_the_keyboard_shortcuts_off_and_on(client, people):
    client.login(username="bob", password=PASSWORD)
    assert 'data-shortcuts="on"' in client.get(reverse("desk:queue")).content.decode()
    client.post(reverse("desk:preferences"), {"shortcuts": "off"})
    html = client.get(reverse("desk:queue")).content.decode()
    assert 'data-shortcuts="off"' in html and "Attiva le scorciatoie" in html
    client.post(reverse("desk:preferences"), {"shortcuts": "on"})
    assert 'data-shortcuts="on"' in client.get(reverse("desk:queue")).content.decode()


def test_the_desk_speaks_english_to_an_agent_who_chose_it_and_italian_to_the_others(client, people):
    bob = people["bob"]
    bob.language = "en"
    bob.save()
    client.login(username="bob", password=PASSWORD)
    response = client.get(reverse("desk:queue"))
    html = response.content.decode()
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in html and ">Queues<" in html and ">Sign out<" in html
    assert ">Code<" not in html
    client.logout()
    client.login(username="mario", password=PASSWORD)  # no choice: the site's Italian
    html = client.get(reverse("desk:queue")).content.decode()
    assert '<html lang="it">' in html and ">Code<" in html and ">Esci<" in html


def test_an_agent_chooses_the_desk_language_in_the_desk_form(client, people):
    client.login(username="bob", password=PASSWORD)
    html = client.get(reverse("desk:queue")).content.decode()
    assert '<option value="" selected>Predefinita del sito (italiano)</option>' in html
    saved = client.post(
        reverse("desk:preferences"), {"language": "en", "next": reverse("desk:queue")}, follow=True
    )
    html = saved.content.decode()
    assert "Preferences saved." in html and ">Queues<" in html
    assert '<option value="en" selected>English</option>' in html
    people["bob"].refresh_from_db()
    assert people["bob"].language == "en"
    # The shortcuts' switch leaves the language alone, and the other way round.
    client.post(reverse("desk:preferences"), {"shortcuts": "off"})
    html = client.get(reverse("desk:queue")).content.decode()
    assert 'data-shortcuts="off"' in html and ">Queues<" in html
    # A language the site does not have is refused with the reason; nothing changes.
    refused = client.post(reverse("desk:preferences"), {"language": "xx"}, follow=True)
    assert "Unknown language xx: choose one of it, en" in refused.content.decode()
    people["bob"].refresh_from_db()
    assert people["bob"].language == "en"
    # Back to the site's default: Italian again.
    client.post(reverse("desk:preferences"), {"language": ""})
    html = client.get(reverse("desk:queue")).content.decode()
    assert ">Code<" in html and 'data-shortcuts="off"' in html
