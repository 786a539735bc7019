"""Notifications to agents and @mentions: the parser by a table, each kind through the
real services and signals, the agent's switches, and the e-mails in the agent's language."""

from __future__ import annotations

import pytest
from django.core import mail

from sportello.desk import notify, services
from sportello.desk.errors import DeskPermissionError
from sportello.desk.mentions import MentionTarget, mentioned_agents, mentions_find
from sportello.desk.models import Notification, NotificationKind
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Direction, MessageKind

pytestmark = pytest.mark.django_db

DIRECTORY = [
    MentionTarget(1, "mario", "Mario"),
    MentionTarget(2, "lucia", "Lucia"),
    MentionTarget(3, "luca.b", "Luca"),
    MentionTarget(4, "lbianchi", "Luca"),
    MentionTarget(5, "anna-m", ""),
]


@pytest.mark.parametrize(
    "text, named",
    [
        ("@mario guarda qui", [("@mario", 1)]),
        ("Ciao @Lucia.", [("@Lucia", 2)]),  # a full stop ends the sentence, not the name
        ("(@MARIO)", [("@MARIO", 1)]),  # any case, in brackets
        ("@luca.b sì, @anna-m no", [("@luca.b", 3), ("@anna-m", 5)]),
        ("@luca, quale dei due?", []),  # two agents are called Luca: a username is needed
        ("@lbianchi", [("@lbianchi", 4)]),
        ("scrivi a mario@init-s.it", []),  # an address, not a mention
        ("@nessuno", []),
        ("@", []),
        ("@mario, @mario e @lucia-", [("@mario", 1), ("@mario", 1), ("@lucia", 2)]),
        ("riga 1\n@lucia riga 2", [("@lucia", 2)]),
        ("", []),
    ],
)
def test_mentions_find_names_the_agents_a_note_mentions(text, named):
    found = mentions_find(text, DIRECTORY)
    assert [(text[m.start : m.end], m.agent_id) for m in found] == named


def test_each_agent_mentioned_is_counted_once_in_reading_order():
    found = mentions_find("@lucia @mario @lucia", DIRECTORY)
    assert mentioned_agents(found) == [2, 1]


def open_ticket(people, **kw):
    return tickets.ticket_open(
        subject="La stampante non stampa",
        channel="email",
        message=MessageInput(text="Da stamattina non stampa.", sender="alice@alice.example.it"),
        contact=people["alice"],
        **kw,
    )


def customer_writes(ticket, people, text="Il modello è una HP 400."):
    return tickets.message_add(
        ticket=ticket,
        message=MessageInput(
            kind=MessageKind.EMAIL,
            direction=Direction.INBOUND,
            text=text,
            sender="alice@alice.example.it",
        ),
        author_contact=people["alice"],
        actor=tickets.Actor(label="alice@alice.example.it"),
    )


def sent_to(address):
    return [m for m in mail.outbox if address in m.to]


def test_a_supervisor_assigning_a_ticket_notifies_the_agent_in_the_list_and_by_email(
    people, django_capture_on_commit_callbacks
):
    ticket = open_ticket(people)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign_checked(
            ticket=ticket, assignee=people["mario"], user=people["sara"].user
        )
    [entry] = Notification.objects.filter(agent=people["mario"])
    assert entry.kind == NotificationKind.ASSIGNMENT and entry.ticket == ticket
    assert entry.actor_label == "Sara Test" and entry.read_at is None
    [email] = sent_to("mario@init-s.it")
    assert "Ticket assegnato a te: La stampante non stampa" in email.subject
    assert f"Sara Test ti ha assegnato il ticket {ticket.number}." in email.body
    assert f"/desk/ticket/{ticket.pk}/" in email.body


def test_taking_a_ticket_yourself_or_the_mail_routing_notifies_nobody(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_take(ticket=open_ticket(people), user=people["bob"].user)
        tickets.ticket_assign(ticket=open_ticket(people), assignee=people["mario"])  # SYSTEM
    assert not Notification.objects.exists()
    assert sent_to("bob@example.com") == sent_to("mario@init-s.it") == []


def test_the_customer_writing_notifies_the_assigned_agent_once(
    people, django_capture_on_commit_callbacks
):
    ticket = open_ticket(people)
    tickets.ticket_assign(ticket=ticket, assignee=people["bob"])
    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(ticket, people)
    [entry] = Notification.objects.filter(agent=people["bob"])
    assert entry.kind == NotificationKind.CUSTOMER_REPLY
    assert entry.actor_label == "Alice Rossi" and "HP 400" in entry.text
    [email] = sent_to("bob@example.com")
    assert "Nuovo messaggio dal cliente" in email.subject and "HP 400" in email.body
    # Nobody else hears of it; an unassigned ticket tells nobody.
    assert Notification.objects.count() == 1
    other = open_ticket(people)
    customer_writes(other, people)
    assert Notification.objects.count() == 1


def test_a_mention_notifies_whatever_the_switches_say_but_never_the_author(
    people, django_capture_on_commit_callbacks
):
    mario, bob = people["mario"], people["bob"]
    mario.language = "en"
    mario.save()
    for agent_user in (mario.user, bob.user):
        notify.notify_preferences_set(
            user=agent_user, **{f: False for f in notify.PREFERENCE_FIELDS}
        )
    ticket = open_ticket(people)
    with django_capture_on_commit_callbacks(execute=True):
        services.note_add(
            ticket=ticket, user=bob.user, text="@mario puoi guardare? (io, @bob, non ci sono)"
        )
    [entry] = Notification.objects.all()
    assert entry.agent == mario and entry.kind == NotificationKind.MENTION
    assert entry.actor_label == "Bob" and entry.text.startswith("@mario puoi guardare?")
    [email] = sent_to("mario@init-s.it")
    assert "You were mentioned: La stampante non stampa" in email.subject  # Mario's English
    assert f"Bob mentioned you in an internal note on ticket {ticket.number}:" in email.body
    assert "@mario puoi guardare?" in email.body
    assert sent_to("bob@example.com") == []


def test_a_mention_by_first_name_from_the_bulk_bar_notifies_too(people):
    tickets_ = [open_ticket(people), open_ticket(people)]
    services.tickets_bulk(
        user=people["sara"].user,
        ticket_ids=[t.pk for t in tickets_],
        action="note",
        text="@Carla controlla la fatturazione",
    )
    assert Notification.objects.filter(agent=people["carla"]).count() == 2


@pytest.mark.parametrize(
    "switches, in_list, by_email",
    [
        ({}, True, True),  # the default: both on
        ({"notify_assignment_list": False}, False, True),
        ({"notify_assignment_email": False}, True, False),
        ({"notify_assignment_list": False, "notify_assignment_email": False}, False, False),
        ({"notify_reply_list": False, "notify_reply_email": False}, True, True),  # other kind
    ],
)
def test_the_assignment_switches_decide_the_list_and_the_email(
    people, django_capture_on_commit_callbacks, switches, in_list, by_email
):
    if switches:
        notify.notify_preferences_set(user=people["mario"].user, **switches)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign_checked(
            ticket=open_ticket(people), assignee=people["mario"], user=people["sara"].user
        )
    assert Notification.objects.filter(agent=people["mario"]).exists() is in_list
    assert bool(sent_to("mario@init-s.it")) is by_email


@pytest.mark.parametrize(
    "switches, in_list, by_email",
    [
        ({"notify_reply_list": False}, False, True),
        ({"notify_reply_email": False}, True, False),
        ({"notify_assignment_list": False, "notify_assignment_email": False}, True, True),
    ],
)
def test_the_customer_reply_switches_decide_the_list_and_the_email(
    people, django_capture_on_commit_callbacks, switches, in_list, by_email
):
    notify.notify_preferences_set(user=people["bob"].user, **switches)
    ticket = open_ticket(people)
    tickets.ticket_assign(ticket=ticket, assignee=people["bob"])
    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(ticket, people)
    assert Notification.objects.filter(agent=people["bob"]).exists() is in_list
    assert bool(sent_to("bob@example.com")) is by_email


def test_marking_read_one_and_all(people):
    sara = people["sara"].user
    for _ in range(3):
        services.ticket_assign_checked(
            ticket=open_ticket(people), assignee=people["mario"], user=sara
        )
    user = people["mario"].user
    assert notify.unread_count(user=user) == 3
    first = notify.notifications_for(user=user)[0]
    notify.notification_read(user=user, notification=first)
    assert notify.unread_count(user=user) == 2
    assert [n.pk for n in notify.notifications_for(user=user, unread_only=True)] == [
        n.pk for n in notify.notifications_for(user=user)[1:]
    ]
    assert notify.notifications_read_all(user=user) == 2
    assert notify.unread_count(user=user) == 0
    with pytest.raises(DeskPermissionError):
        notify.notification_read(user=people["bob"].user, notification=first)
    with pytest.raises(Notification.DoesNotExist):
        notify.notification_get(user=people["bob"].user, pk=first.pk)
