"""One test per desk action, through the real services and a real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from sportello.billing.models import TicketCharges
from sportello.desk import selectors, services
from sportello.desk.errors import DeskInputError, DeskPermissionError
from sportello.desk.models import RunningTimer
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Intervention, Message, Ticket, TicketEvent

ROME = ZoneInfo("Europe/Rome")
# A Wednesday morning, in support hours.
IN_HOURS = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)

pytestmark = pytest.mark.django_db


def open_ticket(people, **kw):
    return tickets.ticket_open(
        subject=kw.pop("subject", "La stampante non stampa"),
        channel=kw.pop("channel", "email"),
        message=MessageInput(text="Da stamattina non stampa.", sender="alice@alice.example.it"),
        contact=people["alice"],
        **kw,
    )


def total(ticket) -> Decimal:
    return TicketCharges.objects.get(ticket=ticket).total


def test_it_lets_an_agent_take_an_unassigned_ticket(people):
    ticket = open_ticket(people)
    services.ticket_take(ticket=ticket, user=people["bob"].user)
    ticket.refresh_from_db()
    assert ticket.assignee == people["bob"]
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_it_refuses_an_agent_taking_another_agents_ticket(people):
    ticket = open_ticket(people)
    tickets.ticket_assign(ticket=ticket, assignee=people["mario"])
    with pytest.raises(DeskPermissionError):
        services.ticket_take(ticket=ticket, user=people["bob"].user)
    with pytest.raises(DeskPermissionError):
        services.ticket_assign_checked(
            ticket=open_ticket(people), assignee=people["mario"], user=people["bob"].user
        )
    ticket.refresh_from_db()
    assert ticket.assignee == people["mario"]


def test_it_lets_a_supervisor_assign_anyones_ticket(people):
    ticket = open_ticket(people)
    tickets.ticket_assign(ticket=ticket, assignee=people["mario"])
    services.ticket_assign_checked(ticket=ticket, assignee=people["bob"], user=people["sara"].user)
    ticket.refresh_from_db()
    assert ticket.assignee == people["bob"]


def test_it_sends_a_reply_by_email_and_moves_the_status(people, django_capture_on_commit_callbacks):
    ticket = open_ticket(people)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_send(
            ticket=ticket,
            user=people["bob"].user,
            text="Provate a riavviarla.",
            then_status="waiting",
        )
    ticket.refresh_from_db()
    assert ticket.status == "waiting"
    reply = Message.objects.get(ticket=ticket, direction="out", automatic=False)
    assert reply.recipients == ["alice@alice.example.it"]
    sent = [m for m in mail.outbox if "Provate a riavviarla." in m.body]
    assert sent and sent[0].to == ["alice@alice.example.it"]
    assert ticket.tag in sent[0].subject


def test_it_refuses_an_empty_or_huge_reply(people):
    ticket = open_ticket(people)
    with pytest.raises(DeskInputError):
        services.reply_send(ticket=ticket, user=people["bob"].user, text="   ")
    with pytest.raises(DeskInputError) as err:
        services.reply_send(ticket=ticket, user=people["bob"].user, text="x" * 100_001)
    assert "100000" in err.value.message
    assert not Message.objects.filter(ticket=ticket, direction="out", automatic=False).exists()


def test_it_adds_an_internal_note_that_the_tariff_does_not_count(people):
    ticket = open_ticket(people)
    before = total(ticket)
    services.note_add(ticket=ticket, user=people["bob"].user, text="Richiamare dopo le 15")
    note = Message.objects.get(ticket=ticket, kind="internal_note")
    assert note.direction == "internal" and not note.is_public
    assert total(ticket) == before


def test_it_changes_status_priority_and_team(people):
    ticket = open_ticket(people)
    services.ticket_fields_set(
        ticket=ticket, user=people["bob"].user, status="open", priority="high", team=None
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.team) == ("open", "high", None)


def test_it_times_a_call_from_a_start_stored_on_the_server(people):
    ticket = open_ticket(people)
    user = people["bob"].user
    timer = services.timer_start(user=user, ticket=ticket, now=IN_HOURS)
    # A second device (or a reload) finds the same running call.
    assert services.timer_start(user=user, ticket=ticket).pk == timer.pk
    assert selectors.timer_running(agent=people["bob"], ticket=ticket) == timer
    call = services.timer_stop(user=user, timer=timer, now=IN_HOURS + timedelta(minutes=12))
    assert call.duration_seconds == 720 and call.started_at == IN_HOURS
    assert not RunningTimer.objects.exists()
    # 12 minutes on the phone at 60 EUR/h: 50% of R.
    assert total(ticket) == Decimal("36.60")  # 30.00 + 22% VAT


def test_it_refuses_stopping_another_agents_timer(people):
    ticket = open_ticket(people)
    timer = services.timer_start(user=people["mario"].user, ticket=ticket)
    with pytest.raises(DeskPermissionError):
        services.timer_stop(user=people["bob"].user, timer=timer)
    assert RunningTimer.objects.filter(pk=timer.pk).exists()


def test_it_records_calls_sessions_and_legs_by_hand(people):
    ticket = open_ticket(people)
    user = people["bob"].user
    services.intervention_record(
        ticket=ticket, user=user, kind="phone", started_at=IN_HOURS, minutes="12"
    )
    services.intervention_record(
        ticket=ticket, user=user, kind="pickup", started_at=IN_HOURS + timedelta(hours=1)
    )
    kinds = list(Intervention.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["phone", "pickup"]
    lines = TicketCharges.objects.get(ticket=ticket).lines.values_list("description_it", flat=True)
    assert any("12 min" in line and "30,00 €" in line for line in lines)
    with pytest.raises(DeskInputError):
        services.intervention_record(
            ticket=ticket, user=user, kind="phone", started_at=IN_HOURS, minutes="dodici"
        )
    with pytest.raises(DeskInputError):
        services.intervention_record(
            ticket=ticket,
            user=user,
            kind="phone",
            started_at=datetime.now(ROME) + timedelta(days=1),
            minutes="5",
        )


def test_it_overrides_out_of_hours_only_with_a_reason(people):
    ticket = open_ticket(people)
    call = services.intervention_record(
        ticket=ticket, user=people["bob"].user, kind="phone", started_at=IN_HOURS, minutes="12"
    )
    with pytest.raises(DeskInputError):
        services.intervention_override(
            intervention=call, user=people["carla"].user, choice="out", reason=""
        )
    services.intervention_override(
        intervention=call, user=people["carla"].user, choice="out", reason="Chiamata alle 20"
    )
    assert total(ticket) == Decimal("54.90")  # 45.00 (1.5 R) + VAT
    services.intervention_override(
        intervention=call, user=people["carla"].user, choice="auto", reason=""
    )
    assert total(ticket) == Decimal("36.60")


def test_it_waives_the_call_out_fee_and_marks_non_billable_with_reasons(people):
    ticket = open_ticket(people, channel="whatsapp")
    assert total(ticket) > 0
    with pytest.raises(DeskInputError):
        services.billing_set(ticket=ticket, user=people["carla"].user, waive_call_fee=True)
    services.billing_set(
        ticket=ticket,
        user=people["carla"].user,
        waive_call_fee=True,
        waive_reason="Posta del cliente fuori uso",
    )
    lines = TicketCharges.objects.get(ticket=ticket).lines.values_list("code", flat=True)
    assert "call_fee" not in lines
    services.billing_set(
        ticket=ticket,
        user=people["carla"].user,
        waive_call_fee=False,
        billable=False,
        non_billable_reason="warranty",
    )
    assert total(ticket) == Decimal("0.00")


def test_it_applies_bulk_actions_all_or_nothing(people):
    a, b = open_ticket(people), open_ticket(people, subject="Rete lenta")
    user = people["bob"].user
    assert services.tickets_bulk(user=user, ticket_ids=[a.pk, b.pk], action="take") == 2
    services.tickets_bulk(user=user, ticket_ids=[a.pk, b.pk], action="priority", value="urgent")
    services.tickets_bulk(user=user, ticket_ids=[a.pk, b.pk], action="note", text="Guasto in zona")
    services.tickets_bulk(user=user, ticket_ids=[a.pk, b.pk], action="status", value="open")
    for t in Ticket.objects.filter(pk__in=[a.pk, b.pk]):
        assert (t.assignee, t.priority, t.status) == (people["bob"], "urgent", "open")
        assert t.messages.filter(kind="internal_note", text="Guasto in zona").exists()
    c = open_ticket(people)
    tickets.ticket_assign(ticket=c, assignee=people["mario"])
    with pytest.raises(DeskPermissionError):
        services.tickets_bulk(user=user, ticket_ids=[a.pk, c.pk], action="assign", value="")
    a.refresh_from_db()
    assert a.assignee == people["bob"]  # nothing changed: the whole batch rolled back


def test_it_files_a_phone_call_with_its_timed_duration(people, django_capture_on_commit_callbacks):
    user = people["bob"].user
    timer = services.timer_start(user=user, ticket=None, now=IN_HOURS)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.request_file(
            user=user,
            channel="phone",
            subject="Il server non risponde",
            text="Chiama Alice: il gestionale non parte.",
            contact=people["alice"],
            official_channels_possible=True,
            timer=timer,
            now=IN_HOURS + timedelta(minutes=4),
        )
    call = ticket.interventions.get()
    assert (call.kind, call.duration_seconds) == ("phone", 240)
    assert ticket.assignee == people["bob"] and ticket.official_channels_possible is True
    codes = set(TicketCharges.objects.get(ticket=ticket).lines.values_list("code", flat=True))
    assert codes == {"phone", "call_fee"}
    assert any(ticket.tag in m.subject for m in mail.outbox)  # the acknowledgement


def test_it_adds_a_call_to_an_open_ticket(people):
    ticket = open_ticket(people)
    user = people["bob"].user
    timer = services.timer_start(user=user, ticket=None, now=IN_HOURS)
    same = services.request_file(
        user=user,
        channel="phone",
        subject="",
        text="Richiama per la stampante",
        contact=people["alice"],
        timer=timer,
        add_to=ticket,
        now=IN_HOURS + timedelta(minutes=3),
    )
    assert same.pk == ticket.pk
    assert ticket.interventions.get().duration_seconds == 180
    assert Ticket.objects.count() == 1


def test_it_asks_the_policy_question_for_a_new_phone_ticket(people):
    with pytest.raises(DeskInputError) as err:
        services.request_file(
            user=people["bob"].user, channel="phone", subject="Aiuto", contact=people["alice"]
        )
    assert err.value.field == "official_channels_possible"
    assert not Ticket.objects.exists()


def test_it_files_a_whatsapp_request_with_attachment_and_fee(people):
    photo = SimpleUploadedFile("etichetta.png", b"\x89PNG fake", content_type="image/png")
    ticket = services.request_file(
        user=people["bob"].user,
        channel="whatsapp",
        subject="Foto dell'errore",
        text="Vi mando la foto dell'errore",
        contact=people["alice"],
        files=[photo],
    )
    assert ticket.channel == "whatsapp"
    assert ticket.attachments.get().filename == "etichetta.png"
    codes = set(TicketCharges.objects.get(ticket=ticket).lines.values_list("code", flat=True))
    assert "call_fee" in codes


def test_it_refuses_an_attachment_of_a_forbidden_type(people):
    ticket = open_ticket(people)
    evil = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(DeskInputError):
        services.attachments_add(
            ticket=ticket, user=people["bob"].user, files=[evil], max_bytes=10, allowed=[".png"]
        )
    assert not ticket.attachments.exists()


def test_it_renders_canned_reply_placeholders_again_at_send(people):
    from sportello.desk.placeholders import placeholder_context, placeholders_render

    ticket = open_ticket(people)
    reply = services.canned_reply_save(
        user=people["sara"].user,
        title="Presa in carico",
        body="Gentile {{ contatto.nome }}, il ticket {{ ticket.numero }} è in carico a "
        "{{ operatore.nome }}.",
    )
    shown = placeholders_render(
        reply.body, placeholder_context(ticket=ticket, user=people["bob"].user)
    )
    assert shown.text == f"Gentile Alice, il ticket {ticket.number} è in carico a Bob."
    assert shown.unknown == ()
    # Typed by hand after the insertion: rendered at send too.
    message = services.reply_send(
        ticket=ticket, user=people["bob"].user, text="Ticket {{ ticket.numero }}: fatto."
    )
    assert message.text == f"Ticket {ticket.number}: fatto."


def test_it_blocks_a_reply_with_an_unknown_placeholder(people):
    ticket = open_ticket(people)
    with pytest.raises(DeskInputError) as err:
        services.reply_send(
            ticket=ticket, user=people["bob"].user, text="Gentile {{ cliente.titolo }}, ..."
        )
    assert "{{ cliente.titolo }}" in err.value.message
    assert not Message.objects.filter(ticket=ticket, direction="out", automatic=False).exists()


def test_only_supervisors_keep_canned_replies(people):
    with pytest.raises(DeskPermissionError):
        services.canned_reply_save(user=people["bob"].user, title="X", body="Y")
    services.canned_reply_save(user=people["sara"].user, title="X", body="Y")
    with pytest.raises(DeskInputError):
        services.canned_reply_save(user=people["sara"].user, title="X", body="Z")
