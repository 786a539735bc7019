"""What an agent sees of notifications (the bell, the list, mark read, the switches), the
highlighted @mentions of a note, and linking an unknown caller's number to a contact."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sportello.customers.models import Contact, ContactPhone
from sportello.desk import services
from sportello.desk.models import DeskPreference, Notification
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput

from .support import PASSWORD

pytestmark = pytest.mark.django_db


def open_ticket(people, subject="La stampante non stampa"):
    return tickets.ticket_open(
        subject=subject,
        channel="email",
        message=MessageInput(text="Da stamattina non stampa.", sender="alice@alice.example.it"),
        contact=people["alice"],
    )


def assigned_by_sara(people, n=1):
    made = [open_ticket(people, subject=f"Richiesta {i}") for i in range(n)]
    for ticket in made:
        services.ticket_assign_checked(
            ticket=ticket, assignee=people["mario"], user=people["sara"].user
        )
    return made


def bell(html: str) -> str:
    return re.search(r'<a id="notify-bell".*?</a>', html, re.S).group(0)


def test_the_header_bell_counts_the_unread_and_the_list_links_each_ticket(client, people):
    first, second = assigned_by_sara(people, 2)
    client.login(username="mario", password=PASSWORD)
    queue = client.get(reverse("desk:queue")).content.decode()
    assert ">2</span>" in bell(queue) and "Notifiche" in bell(queue)
    page = client.get(reverse("desk:notifications")).content.decode()
    assert f"Sara Test ti ha assegnato il ticket {first.number}" in page
    assert f"Sara Test ti ha assegnato il ticket {second.number}" in page
    assert page.index(second.number) < page.index(first.number)  # newest first
    # Opening one marks it read and goes to its ticket.
    entry = Notification.objects.get(ticket=first)
    response = client.post(reverse("desk:notification-open", args=[entry.pk]))
    assert response["Location"] == reverse("desk:ticket", args=[first.pk])
    entry.refresh_from_db()
    assert entry.read_at is not None
    polled = client.get(reverse("desk:notifications-bell"), headers={"HX-Request": "true"})
    assert ">1</span>" in polled.content.decode()
    unread = client.get(reverse("desk:notifications") + "?unread=1").content.decode()
    assert second.number in unread and first.number not in unread
    # Mark all read: the bell shows no number any more.
    response = client.post(reverse("desk:notifications-read"), follow=True)
    assert "1 notifiche segnate come lette." in response.content.decode()
    assert "</span>" not in bell(client.get(reverse("desk:queue")).content.decode())


def test_the_list_costs_the_same_queries_for_3_or_30_notifications(client, people):
    assigned_by_sara(people, 3)
    client.login(username="mario", password=PASSWORD)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("desk:notifications")).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first page after signing in also saves the session
    few = count()
    assigned_by_sara(people, 27)
    assert count() == few


def test_an_agent_cannot_read_or_open_another_agents_notification(client, people):
    (ticket,) = assigned_by_sara(people)
    entry = Notification.objects.get(ticket=ticket)
    client.login(username="bob", password=PASSWORD)
    assert client.post(reverse("desk:notification-open", args=[entry.pk])).status_code == 404
    assert client.post(reverse("desk:notification-read", args=[entry.pk])).status_code == 404
    assert ticket.number not in client.get(reverse("desk:notifications")).content.decode()
    entry.refresh_from_db()
    assert entry.read_at is None


def test_the_switches_page_saves_each_kind_and_says_mentions_are_always_on(client, people):
    client.login(username="mario", password=PASSWORD)
    page = client.get(reverse("desk:notify-settings")).content.decode()
    assert page.count("checked") == 4  # everything on by default
    assert "Menzioni nelle note interne" in page and "Sempre" in page
    response = client.post(
        reverse("desk:notify-settings"),
        {"notify_assignment_list": "on", "notify_reply_email": "on"},
        follow=True,
    )
    assert "Preferenze delle notifiche salvate." in response.content.decode()
    preference = DeskPreference.objects.get(agent=people["mario"])
    assert (preference.notify_assignment_list, preference.notify_assignment_email) == (True, False)
    assert (preference.notify_reply_list, preference.notify_reply_email) == (False, True)
    assert response.content.decode().count("checked") == 2
    # The keyboard switch of the header leaves these as they are.
    client.post(reverse("desk:preferences"), {"shortcuts": "off"})
    preference.refresh_from_db()
    assert preference.notify_assignment_list and not preference.notify_assignment_email


def test_a_note_shows_its_mentions_highlighted_and_the_mentioned_agent_is_told(client, people):
    ticket = open_ticket(people)
    client.login(username="bob", password=PASSWORD)
    client.post(
        reverse("desk:note", args=[ticket.pk]),
        {"note": "@mario puoi guardare <b>tu</b>? Scrivi a mario@init-s.it"},
    )
    page = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert '<mark class="mention">@mario</mark> puoi guardare &lt;b&gt;tu&lt;/b&gt;?' in page
    assert "mario@init-s.it" in page and '<mark class="mention">@init' not in page
    [entry] = Notification.objects.filter(agent=people["mario"])
    client.logout()
    client.login(username="mario", password=PASSWORD)
    listed = client.get(reverse("desk:notifications")).content.decode()
    assert f"Bob ti ha menzionato sul ticket {ticket.number}" in listed
    assert "@mario puoi guardare" in listed
    assert entry.kind == "mention"


# --- an unknown caller's number -------------------------------------------------------


def test_an_unknown_number_offers_to_link_it_and_a_picked_contact_gets_it(client, people):
    client.login(username="bob", password=PASSWORD)
    lookup = client.get(reverse("desk:call-lookup") + "?phone=0744 999888").content.decode()
    assert "non è ancora di nessun contatto" in lookup
    assert "Collega il numero a un contatto" in lookup
    form = client.get(reverse("desk:call-link") + "?phone=%2B390744999888").content.decode()
    assert 'name="link_phone" value="+390744999888"' in form
    found = client.get(reverse("desk:call-contacts") + "?who=charlie").content.decode()
    assert "Charlie Verdi" in found and "Charlie S.p.A." in found and "Alice" not in found
    by_org = client.get(reverse("desk:call-contacts") + "?who=alice co").content.decode()
    assert "Alice Rossi" in by_org
    nobody = client.get(reverse("desk:call-contacts") + "?who=zzz").content.decode()
    assert "Nessun contatto corrisponde a “zzz”" in nobody
    linked = client.post(
        reverse("desk:call-link"),
        {
            "link_phone": "+390744999888",
            "link_action": "pick",
            "link_contact": people["charlie"].pk,
        },
    ).content.decode()
    assert "ora è un numero di Charlie Verdi" in linked
    assert f'name="contact" value="{people["charlie"].pk}" checked' in linked
    assert ContactPhone.objects.filter(contact=people["charlie"], number="+390744999888").exists()
    # The next call from that number finds Charlie.
    again = client.get(reverse("desk:call-lookup") + "?phone=0744999888").content.decode()
    assert "Charlie Verdi" in again and "non è ancora" not in again


def test_an_unknown_caller_can_become_a_new_contact(client, people):
    client.login(username="bob", password=PASSWORD)
    org = people["org_a"]
    linked = client.post(
        reverse("desk:call-link"),
        {
            "link_phone": "+393351234567",
            "link_action": "create",
            "new_first_name": "Piero",
            "new_last_name": "Neri",
            "new_organisation": org.pk,
            "new_email": "Piero.Neri@alice.example.it",
        },
    ).content.decode()
    piero = Contact.objects.get(first_name="Piero", last_name="Neri")
    assert piero.organisation == org and not piero.needs_review
    assert piero.emails.get().address == "piero.neri@alice.example.it"
    assert piero.phones.get().number == "+393351234567"
    assert f'name="contact" value="{piero.pk}" checked' in linked


@pytest.mark.parametrize(
    "data, says",
    [
        ({"link_action": "pick"}, "Scegli il contatto a cui collegare il numero"),
        ({"link_action": "create", "new_first_name": " "}, "Scrivi il nome del contatto"),
        (
            {
                "link_action": "create",
                "new_last_name": "Neri",
                "new_email": "alice@alice.example.it",
            },
            "alice@alice.example.it è già di Alice Rossi",
        ),
        (
            {"link_action": "create", "new_last_name": "Neri", "new_email": "nope"},
            "non è un indirizzo",
        ),
    ],
)
def test_linking_a_number_with_something_missing_says_what_and_keeps_the_form(
    client, people, data, says
):
    client.login(username="bob", password=PASSWORD)
    contacts = Contact.objects.count()
    response = client.post(reverse("desk:call-link"), {"link_phone": "+393351234567", **data})
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps it in place of the caller box
    assert says in html and 'name="new_last_name"' in html
    assert Contact.objects.count() == contacts
    assert not ContactPhone.objects.filter(number="+393351234567").exists()
