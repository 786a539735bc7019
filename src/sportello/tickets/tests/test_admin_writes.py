"""The admin's pages for interventions, messages, attachments and events write only
through the services: what is saved there has its charge lines and its event."""

from __future__ import annotations

import pytest

from sportello.billing.models import TicketCharges
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Attachment, Intervention, Message, TicketEvent

from .factories import cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_desk(client):
    people = cast()
    bob = people["bob"].user
    bob.is_superuser = True
    bob.save()
    client.force_login(bob)
    ticket = services.ticket_open(
        subject="Il server non risponde",
        channel="phone",
        official_channels_possible=False,
        organisation=people["org_a"],
        contact=people["alice"],
    )
    return client, ticket, people


def test_a_call_added_on_the_intervention_page_is_charged_and_recorded(admin_desk):
    client, ticket, people = admin_desk
    response = client.post(
        "/admin/tickets/intervention/add/",
        {
            "ticket": ticket.pk,
            "kind": "phone",
            "started_at_0": "2026-03-02",
            "started_at_1": "10:00:00",
            "duration_seconds": 40 * 60,
            "km": "",
            "technician": people["bob"].pk,
            "notes": "Riavviato il servizio.",
            "out_of_hours_override": "unknown",
            "override_reason": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    [call] = Intervention.objects.filter(ticket=ticket)
    assert call.duration_seconds == 2400 and call.notes == "Riavviato il servizio."
    charges = TicketCharges.objects.get(ticket=ticket)
    assert [line.code for line in charges.lines.all()] == ["phone"]
    assert charges.net == people["org_a"].hourly_rate  # 40 minutes: 100% of R
    event = ticket.events.get(kind=TicketEvent.Kind.INTERVENTION)
    assert event.data["intervention"] == call.pk and event.actor == people["bob"].user


def test_an_override_changed_on_the_intervention_page_is_recorded(admin_desk):
    client, ticket, _people = admin_desk
    call = services.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=services.timezone.now(),
        duration_seconds=600,
    )
    page = client.get(f"/admin/tickets/intervention/{call.pk}/change/")
    assert page.status_code == 200
    response = client.post(
        f"/admin/tickets/intervention/{call.pk}/change/",
        {"out_of_hours_override": "true", "override_reason": "Chiamata alle 22 dal cliente"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    call.refresh_from_db()
    assert call.out_of_hours_override is True
    assert ticket.events.filter(kind=TicketEvent.Kind.INTERVENTION_CHANGED).count() == 1


def test_a_call_on_the_admin_page_gets_the_services_error(admin_desk):
    client, ticket, _people = admin_desk
    response = client.post(
        "/admin/tickets/intervention/add/",
        {
            "ticket": ticket.pk,
            "kind": "phone",
            "started_at_0": "2026-03-02",
            "started_at_1": "10:00:00",
            "duration_seconds": "",
            "out_of_hours_override": "unknown",
        },
    )
    assert response.status_code == 200
    assert "duration_seconds" in response.context["adminform"].form.errors
    assert not Intervention.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("model", [Message, Attachment, TicketEvent])
def test_messages_attachments_and_events_cannot_be_added_or_edited_by_hand(admin_desk, model):
    client, ticket, _people = admin_desk
    note = services.message_add(
        ticket=ticket, message=MessageInput(kind="phone_note", direction="in", text="Nota")
    )
    services.attachment_add(ticket=ticket, message=note, filename="log.txt", content=b"errore")
    name = model._meta.model_name
    assert client.get(f"/admin/tickets/{name}/add/").status_code == 403
    before = model.objects.count()
    client.post(f"/admin/tickets/{name}/add/", {"ticket": ticket.pk, "text": "a mano"})
    assert model.objects.count() == before
    row = model.objects.filter(ticket=ticket).first()
    page = client.get(f"/admin/tickets/{name}/{row.pk}/change/")
    assert page.status_code == 200  # still readable
    assert b'name="_save"' not in page.content
    client.post(f"/admin/tickets/{name}/{row.pk}/delete/", {"post": "yes"})
    assert model.objects.filter(pk=row.pk).exists()
