"""Every desk URL for every role and for a portal customer (STYLE 2.8, issue 15 item 4).

What a role may not do answers 403, an object that does not exist 404, and neither
changes anything; anonymous visitors are sent to the desk's login page.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.urls import get_resolver, resolve, reverse

from sportello.billing.models import PrepaidBundle
from sportello.customers.models import ContactPhone
from sportello.desk.models import CannedReply, Notification, RunningTimer, SavedView
from sportello.mail.models import RawMessage
from sportello.territory import services as territory
from sportello.territory.models import AgendaFeed, Visit
from sportello.tickets import services as tickets
from sportello.tickets import tagging
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Attachment, Intervention, Message, Tag, Ticket, TicketEvent

from .support import PASSWORD

pytestmark = pytest.mark.django_db

AGENT, BILLING, SUPERVISOR = "agent", "billing", "supervisor"
# Bob's visit: closed by its technician or a supervisor (territory.services).
BOBS_VISIT = "bob's visit"
# Who may use each kind of URL.
ALLOWED = {
    AGENT: {"bob", "mario", "sara", "carla", "ada"},
    BILLING: {"carla", "ada"},
    SUPERVISOR: {"sara", "ada"},
    BOBS_VISIT: {"bob", "sara", "ada"},
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
    visits = [
        territory.visit_schedule(
            ticket=ticket,
            technician=people["bob"],
            kind="pickup",
            scheduled_at=ticket.created_at,
            user=people["bob"].user,
        )
        for _n in range(2)
    ]
    notification = Notification.objects.create(
        agent=people["bob"], kind="mention", ticket=ticket, created_at=ticket.created_at
    )
    other = tickets.ticket_open(
        subject="Stampante, secondo messaggio",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="Ancora non stampa", sender="alice@alice.example.it"),
    )
    third = tickets.ticket_open(
        subject="Rete", channel="email", contact=people["alice"], message=MessageInput(text="Lenta")
    )
    tagging.ticket_tags_change(ticket=ticket, add=["stampante"])
    shared = SavedView.objects.create(
        owner=people["sara"], name="Urgenti", shared=True, queue="open"
    )
    return {
        "visits": visits,
        "other": other,
        "third": third,
        "shared_view": shared,
        "notification": notification,
        "contact": people["alice"].pk,
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
        ("post", reverse("desk:tags", args=[t]), {"tags": "stampante, toner"}, AGENT),
        ("post", reverse("desk:tag-remove", args=[t]), {"name": "toner"}, AGENT),
        ("post", reverse("desk:link", args=[t]), {"number": w["third"].number}, AGENT),
        ("post", reverse("desk:unlink", args=[t, w["third"].pk]), {}, AGENT),
        ("get", reverse("desk:views"), {}, AGENT),
        (
            "post",
            reverse("desk:views"),
            {"name": "Le mie", "queue": "open", "sort": "-created", "columns": ["subject"]},
            AGENT,
        ),
        ("get", reverse("desk:queue") + f"?view={w['shared_view'].pk}", {}, AGENT),
        (
            "post",
            reverse("desk:view-rename", args=[w["shared_view"].pk]),
            {"name": "Top"},
            SUPERVISOR,
        ),
        ("post", reverse("desk:view-delete", args=[w["shared_view"].pk]), {}, SUPERVISOR),
        (
            "post",
            reverse("desk:split", args=[w["other"].pk, w["other"].first_message.pk]),
            {"subject": "A parte"},
            AGENT,
        ),
        ("get", reverse("desk:merge", args=[t]), {}, AGENT),
        ("get", reverse("desk:merge", args=[t]) + f"?into={w['other'].pk}", {}, AGENT),
        ("post", reverse("desk:merge", args=[t]), {"into": w["other"].pk}, AGENT),
        (
            "get",
            reverse("desk:merge-selected") + f"?ids={w['other'].pk}&ids={w['third'].pk}",
            {},
            AGENT,
        ),
        (
            "post",
            reverse("desk:merge-selected"),
            {"ids": [w["other"].pk, w["third"].pk], "target": w["other"].pk},
            AGENT,
        ),
        ("get", reverse("desk:attachment", args=[w["attachment"].pk]), {}, AGENT),
        ("get", reverse("mail:raw-download", args=[w["raw"].pk]), {}, AGENT),
        ("get", reverse("search:results") + "?q=stampante", {}, AGENT),
        ("get", reverse("desk:notifications"), {}, AGENT),
        ("get", reverse("desk:notifications-bell"), {}, AGENT),
        ("post", reverse("desk:notifications-read"), {}, AGENT),
        ("get", reverse("desk:notify-settings"), {}, AGENT),
        ("post", reverse("desk:notify-settings"), {"notify_reply_list": "on"}, AGENT),
        # Bob's own notification: for any other agent it is not found.
        ("post", reverse("desk:notification-read", args=[w["notification"].pk]), {}, AGENT),
        ("post", reverse("desk:notification-open", args=[w["notification"].pk]), {}, AGENT),
        ("get", reverse("desk:call-contacts") + "?who=rossi", {}, AGENT),
        ("get", reverse("desk:call-link") + "?phone=%2B390744999888", {}, AGENT),
        (
            "post",
            reverse("desk:call-link"),
            {"link_phone": "+390744999888", "link_action": "pick", "link_contact": w["contact"]},
            AGENT,
        ),
        ("get", reverse("billing:month"), {}, BILLING),
        ("get", reverse("billing:month-csv") + "?month=2026-12", {}, BILLING),
        ("get", reverse("billing:month-zip") + "?month=2026-12", {}, BILLING),
        # No statement exists here: a billing user is told "not found", anyone else 403.
        ("get", reverse("billing:statement", args=[999999]), {}, BILLING),
        ("post", reverse("billing:statement", args=[999999]), {"action": "issue"}, BILLING),
        ("get", reverse("billing:statement-pdf", args=[999999]), {}, BILLING),
        ("get", reverse("billing:statement-xml", args=[999999]), {}, BILLING),
        ("get", reverse("billing:drafting") + "?month=2026-11", {}, BILLING),
        ("get", reverse("billing:reports") + "?from=2026-01&to=2026-12", {}, BILLING),
        ("get", reverse("billing:report-csv", args=["by_month"]) + "?excel=1", {}, BILLING),
        ("get", reverse("billing:audit") + "?category=waiver", {}, BILLING),
        ("get", reverse("territory:agenda"), {}, AGENT),
        ("get", reverse("territory:agenda") + "?from=2026-12-07", {}, AGENT),
        ("post", reverse("territory:feed-token"), {"action": "issue"}, AGENT),
        ("post", reverse("territory:feed-token"), {"action": "revoke"}, AGENT),
        (
            "post",
            reverse("territory:visit-schedule", args=[t]),
            {"kind": "return", "scheduled_at": "2026-12-09T09:30", "duration_minutes": "30"},
            AGENT,
        ),
        ("post", reverse("territory:visit-done", args=[w["visits"][0].pk]), {}, BOBS_VISIT),
        (
            "post",
            reverse("territory:visit-cancel", args=[w["visits"][1].pk]),
            {"reason": "ferie"},
            BOBS_VISIT,
        ),
        ("get", reverse("billing:prepaid"), {}, BILLING),
        ("get", reverse("billing:prepaid-org", args=[w["ticket"].organisation_id]), {}, BILLING),
        (
            "post",
            reverse("billing:prepaid-org", args=[w["ticket"].organisation_id]),
            {"action": "buy", "bought_in": "hours", "hours": "1", "purchased_on": "2026-12-01"},
            BILLING,
        ),
    ]


def test_the_matrix_walks_every_staff_url(world):
    """Every URL of the staff apps is in the matrix above, so a new page cannot skip it."""
    walked = {resolve(url.split("?")[0]).view_name for _m, url, _d, _w in urls(world)}
    resolver = get_resolver()
    staff = {"desk", "billing", "search", "mail", "territory"}
    every = {
        f"{namespace}:{name}"
        for namespace in staff
        for name in resolver.namespace_dict[namespace][1].reverse_dict
        if isinstance(name, str)
    }
    # The calendar feed is public by token, no session: territory/tests/test_feed.py.
    assert every - walked - {"desk:login", "desk:logout", "territory:feed"} == set()


def snapshot():
    return (
        TicketEvent.objects.count(),
        Message.objects.count(),
        Intervention.objects.count(),
        Attachment.objects.count(),
        RunningTimer.objects.count(),
        Ticket.objects.count(),
        CannedReply.objects.count(),
        list(Visit.objects.order_by("pk").values_list("state", "technician")),
        list(AgendaFeed.objects.values_list("agent", "token_sha256")),
        list(
            Ticket.objects.order_by("pk").values_list(
                "priority", "assignee", "waive_call_fee", "status", "merged_into"
            )
        ),
        list(SavedView.objects.order_by("pk").values_list("name", "shared")),
        Tag.objects.count(),
        Ticket.tags.through.objects.count(),
        Ticket.related.through.objects.count(),
        list(Notification.objects.values_list("pk", "read_at")),
        ContactPhone.objects.count(),
        PrepaidBundle.objects.count(),
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
                or re.search(r"/notifications/\d+/", url)
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
        ("get", reverse("billing:prepaid-org", args=[999999])),
        ("post", reverse("billing:prepaid-org", args=[999999])),
        ("post", reverse("desk:timer-stop", args=[world["ticket"].pk, 999999])),
        ("get", reverse("desk:attachment", args=[999999])),
        ("get", reverse("mail:raw-download", args=[999999])),
        ("post", reverse("territory:visit-done", args=[999999])),
        ("post", reverse("territory:visit-cancel", args=[999999])),
        ("post", reverse("territory:visit-schedule", args=[999999])),
        ("post", reverse("desk:tags", args=[999999])),
        ("post", reverse("desk:merge", args=[999999])),
        ("post", reverse("desk:unlink", args=[world["ticket"].pk, 999999])),
        ("post", reverse("desk:split", args=[world["ticket"].pk, 999999])),
        ("post", reverse("desk:view-rename", args=[999999])),
        ("post", reverse("desk:view-delete", args=[999999])),
        ("post", reverse("desk:notification-open", args=[999999])),
        ("post", reverse("desk:notification-read", args=[999999])),
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


def test_another_agents_personal_view_is_not_found_and_stays(client, people, world):
    mine = SavedView.objects.create(owner=people["bob"], name="Mie", queue="mine")
    client.login(username="mario", password=PASSWORD)
    before = snapshot()
    assert client.get(reverse("desk:queue") + f"?view={mine.pk}").status_code == 404
    assert (
        client.post(reverse("desk:view-rename", args=[mine.pk]), {"name": "x"}).status_code == 404
    )
    assert client.post(reverse("desk:view-delete", args=[mine.pk])).status_code == 404
    # Not even a supervisor opens or changes someone's personal view.
    client.login(username="sara", password=PASSWORD)
    assert client.post(reverse("desk:view-delete", args=[mine.pk])).status_code == 404
    assert snapshot() == before


def test_private_pages_are_never_cached(client, people, world):
    client.login(username="bob", password=PASSWORD)
    for url in (reverse("desk:queue"), reverse("desk:ticket", args=[world["ticket"].pk])):
        cache = client.get(url)["Cache-Control"]
        assert "no-store" in cache and "private" in cache
