"""Every desk URL for every role and for a portal customer (STYLE 2.8, issue 15 item 4).

What a role may not do answers 403, an object that does not exist 404, and neither
changes anything; anonymous visitors are sent to the desk's login page.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import get_resolver, resolve, reverse

from sportello.desk.models import CannedReply, RunningTimer
from sportello.mail.models import RawMessage
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Attachment, Intervention, Message, Ticket, TicketEvent

from .support import PASSWORD

pytestmark = pytest.mark.django_db

AGENT, BILLING, SUPERVISOR = "agent", "billing", "supervisor"
# Who may use each kind of URL.
ALLOWED = {
    AGENT: {"bob", "mario", "sara", "carla", "ada"},
    BILLING: {"carla", "ada"},
    SUPERVISOR: {"sara", "ada"},
}
EVERYONE = ["alice", "ugo", "bob", "mario", "sara", "carla", "ada"]


@pytest.fixture
def world(people, tmp_path):
    ticket = tickets.ticket_open(
        subject="Stampante",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="Non stampa", sender="alice@alice.example.it"),
    )
    call = tickets.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=ticket.created_at,
        duration_seconds=300,
        technician=people["bob"],
    )
    attachment = tickets.attachment_add(
        ticket=ticket, filename="log.txt", content=b"errore 42", content_type="text/plain"
    )
    raw = RawMessage(size=3, source="pipe", received_at=ticket.created_at, ticket=ticket)
    raw.file.save("raw-1.eml", ContentFile(b"Subject: x\r\n\r\nhi"), save=False)
    raw.sha256 = "0" * 64
    raw.save()
    timer = RunningTimer.objects.create(
        agent=people["bob"], ticket=ticket, kind="phone", started_at=ticket.created_at
    )
    canned = CannedReply.objects.create(title="Saluti", body="Gentile {{ contatto.nome }}")
    return {
        "canned": canned,
        "ticket": ticket,
        "call": call,
        "attachment": attachment,
        "raw": raw,
        "timer": timer,
    }


def urls(w):
    t = w["ticket"].pk
    # (method, url, data, who may)
    return [
        ("get", reverse("desk:queue"), {}, AGENT),
        ("get", reverse("desk:queue") + "?queue=open&sort=-updated", {}, AGENT),
        ("get", reverse("desk:queue") + "?queue=all&sort=due&sla=breached", {}, AGENT),
        ("get", reverse("desk:queue") + "?queue=all&work=phone&day=2026-12-03", {}, AGENT),
        ("get", reverse("desk:dashboard"), {}, AGENT),
        ("get", reverse("desk:call"), {}, AGENT),
        ("get", reverse("desk:call-lookup") + "?phone=0744123456", {}, AGENT),
        ("post", reverse("desk:call-start"), {}, AGENT),
        ("post", reverse("desk:call"), {"channel": "sms", "subject": "SMS", "text": "x"}, AGENT),
        ("post", reverse("desk:bulk"), {"ids": [t], "action": "priority", "value": "high"}, AGENT),
        ("get", reverse("desk:ticket", args=[t]), {}, AGENT),
        ("get", reverse("desk:ticket", args=[t]) + f"?canned={w['canned'].pk}", {}, AGENT),
        ("get", reverse("desk:canned"), {}, SUPERVISOR),
        ("post", reverse("desk:preferences"), {"shortcuts": "on"}, AGENT),
        ("post", reverse("desk:canned"), {"title": "Nuova", "body": "Testo"}, SUPERVISOR),
        ("get", reverse("desk:preview", args=[t]), {}, AGENT),
        ("get", reverse("desk:presence", args=[t]), {}, AGENT),
        ("post", reverse("desk:presence", args=[t]), {"replying": "1"}, AGENT),
        ("post", reverse("desk:reply", args=[t]), {"text": "Risposta"}, AGENT),
        ("post", reverse("desk:note", args=[t]), {"note": "Nota"}, AGENT),
        ("post", reverse("desk:fields", args=[t]), {"priority": "urgent"}, AGENT),
        ("post", reverse("desk:assign", args=[t]), {"assignee": "me"}, AGENT),
        ("post", reverse("desk:attach", args=[t]), {}, AGENT),
        ("post", reverse("desk:timer-start", args=[t]), {"kind": "remote"}, AGENT),
        ("post", reverse("desk:timer-stop", args=[t, w["timer"].pk]), {}, AGENT),
        ("post", reverse("desk:timer-discard", args=[t, w["timer"].pk]), {}, AGENT),
        (
            "post",
            reverse("desk:intervention-add", args=[t]),
            {"kind": "phone", "started_at": "2026-12-02T10:00", "minutes": "3"},
            AGENT,
        ),
        (
            "post",
            reverse("desk:intervention-override", args=[t, w["call"].pk]),
            {"choice": "out", "reason": "sera"},
            BILLING,
        ),
        (
            "post",
            reverse("desk:billing", args=[t]),
            {"waive_call_fee": "on", "waive_reason": "posta giù"},
            BILLING,
        ),
        ("get", reverse("desk:attachment", args=[w["attachment"].pk]), {}, AGENT),
        ("get", reverse("mail:raw-download", args=[w["raw"].pk]), {}, AGENT),
        ("get", reverse("search:results") + "?q=stampante", {}, AGENT),
        ("get", reverse("billing:month"), {}, BILLING),
        ("get", reverse("billing:month-csv") + "?month=2026-12", {}, BILLING),
        ("get", reverse("billing:month-zip") + "?month=2026-12", {}, BILLING),
        # No statement exists here: a billing user is told "not found", anyone else 403.
        ("get", reverse("billing:statement", args=[999999]), {}, BILLING),
        ("post", reverse("billing:statement", args=[999999]), {"action": "issue"}, BILLING),
        ("get", reverse("billing:statement-pdf", args=[999999]), {}, BILLING),
        ("get", reverse("billing:statement-xml", args=[999999]), {}, BILLING),
    ]


def test_the_matrix_walks_every_staff_url(world):
    """Every URL of the staff apps is in the matrix above, so a new page cannot skip it."""
    walked = {resolve(url.split("?")[0]).view_name for _m, url, _d, _w in urls(world)}
    resolver = get_resolver()
    staff = {"desk", "billing", "search", "mail"}
    every = {
        f"{namespace}:{name}"
        for namespace in staff
        for name in resolver.namespace_dict[namespace][1].reverse_dict
        if isinstance(name, str)
    }
    assert every - walked - {"desk:login", "desk:logout"} == set()


def snapshot():
    return (
        TicketEvent.objects.count(),
        Message.objects.count(),
        Intervention.objects.count(),
        Attachment.objects.count(),
        RunningTimer.objects.count(),
        Ticket.objects.count(),
        CannedReply.objects.count(),
        list(Ticket.objects.values_list("priority", "assignee", "waive_call_fee")),
    )


def call(client, method, url, data):
    return getattr(client, method)(url, data)


def test_anonymous_visitors_are_sent_to_the_desk_login(client, world):
    before = snapshot()
    for method, url, data, _who in urls(world):
        response = call(client, method, url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("desk:login")), url
    assert snapshot() == before


@pytest.mark.parametrize("who", EVERYONE)
def test_every_desk_url_answers_each_role_as_its_rules_say(client, people, world, who):
    assert client.login(username=who, password=PASSWORD)
    for method, url, data, need in urls(world):
        before = snapshot()
        response = call(client, method, url, data)
        if who in ALLOWED[need]:
            # A running timer is its agent's own: for anyone else (or once stopped) it is
            # not found.
            ok = (
                (200, 302, 404)
                if ("/timer/" in url and url.endswith(("stop/", "discard/")))
                or "/statement/" in url
                else (200, 302)
            )
            assert response.status_code in ok, (who, url, response.status_code)
            if response.status_code == 302:
                assert not response["Location"].startswith(reverse("desk:login")), (who, url)
        else:
            assert response.status_code == 403, (who, url, response.status_code)
            assert snapshot() == before, (who, url)


@pytest.mark.parametrize("who", ["bob", "carla"])
def test_objects_that_do_not_exist_answer_404_and_change_nothing(client, people, world, who):
    client.login(username=who, password=PASSWORD)
    before = snapshot()
    missing = [
        ("get", reverse("desk:ticket", args=[999999])),
        ("get", reverse("desk:preview", args=[999999])),
        ("post", reverse("desk:note", args=[999999])),
        ("post", reverse("desk:billing", args=[999999])),
        ("post", reverse("desk:timer-stop", args=[world["ticket"].pk, 999999])),
        ("get", reverse("desk:attachment", args=[999999])),
        ("get", reverse("mail:raw-download", args=[999999])),
    ]
    for method, url in missing:
        response = getattr(client, method)(url, {"note": "x", "waive_reason": "x"})
        assert response.status_code in (403, 404), url
        if who == "carla" or "billing" not in url:
            assert response.status_code == 404, url
    assert snapshot() == before


def test_an_agent_cannot_stop_another_agents_timer(client, people, world):
    client.login(username="mario", password=PASSWORD)
    response = client.post(reverse("desk:timer-stop", args=[world["ticket"].pk, world["timer"].pk]))
    assert response.status_code == 404
    assert RunningTimer.objects.filter(pk=world["timer"].pk).exists()


def test_private_pages_are_never_cached(client, people, world):
    client.login(username="bob", password=PASSWORD)
    for url in (reverse("desk:queue"), reverse("desk:ticket", args=[world["ticket"].pk])):
        cache = client.get(url)["Cache-Control"]
        assert "no-store" in cache and "private" in cache
