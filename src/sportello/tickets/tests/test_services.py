from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from sportello.tickets import services
from sportello.tickets.errors import InvalidTransitionError, TicketInputError
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Message, Status, Ticket, TicketEvent

ROME = ZoneInfo("Europe/Rome")
pytestmark = pytest.mark.django_db


def open_ticket(people, **kw):
    defaults = dict(
        subject="Stampante guasta",
        channel="email",
        message=MessageInput(text="Non stampa.", sender="alice@alice.example.it"),
        contact=people["alice"],
    )
    defaults.update(kw)
    return services.ticket_open(**defaults)


def test_it_numbers_tickets_by_year_without_gaps(people):
    # 2031: a year no other test opens tickets in (on PostgreSQL a committed year's
    # sequence outlives the tests that used it).
    first = open_ticket(people, created_at=datetime(2031, 3, 2, 10, tzinfo=ROME))
    second = open_ticket(people, created_at=datetime(2031, 3, 2, 11, tzinfo=ROME))
    other_year = open_ticket(people, created_at=datetime(2032, 1, 1, 0, 30, tzinfo=ROME))
    assert first.number == "2031-000001"
    assert second.number == "2031-000002"
    assert other_year.number == "2032-000001"


def test_it_takes_the_year_from_local_time_not_utc(people):
    # 00:30 on 1 January in Rome is still 31 December in UTC.
    ticket = open_ticket(people, created_at=datetime(2027, 1, 1, 0, 30, tzinfo=ROME))
    assert ticket.number.startswith("2027-")


def test_it_never_reuses_the_number_of_a_deleted_ticket(people):
    first = open_ticket(people)
    number = first.number
    first.delete()
    assert open_ticket(people).number != number


def test_it_opens_a_ticket_with_its_first_message_and_event(people):
    ticket = open_ticket(people)
    assert ticket.organisation == people["org_a"]  # taken from the contact
    message = ticket.messages.get()
    assert message.kind == "email" and message.direction == "in"
    assert message.author_contact == people["alice"]
    assert message.counts_as_written
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["created", "message"]


def test_it_refuses_an_unknown_channel_naming_the_field(people):
    with pytest.raises(TicketInputError) as exc:
        open_ticket(people, channel="fax")
    assert exc.value.field == "channel"
    assert "fax" in str(exc.value) and "email" in str(exc.value)
    assert not Ticket.objects.exists()


def test_it_refuses_a_blank_subject(people):
    with pytest.raises(TicketInputError) as exc:
        open_ticket(people, subject="   ")
    assert exc.value.field == "subject"


@pytest.mark.parametrize(
    "path, ok",
    [
        (["open", "waiting", "open", "resolved", "closed", "open"], True),
        (["resolved", "open"], True),
        (["closed", "waiting"], False),
        (["resolved", "waiting"], False),
        (["open", "new"], False),
    ],
)
def test_it_validates_status_transitions(people, path, ok):
    ticket = open_ticket(people)
    if ok:
        for status in path:
            services.ticket_change_status(ticket=ticket, status=status)
        assert ticket.status == path[-1]
    else:
        with translation.override("en"), pytest.raises(InvalidTransitionError) as exc:
            for status in path:
                services.ticket_change_status(ticket=ticket, status=status)
            assert f"cannot go from {ticket.get_status_display()} to" in str(exc.value)


def test_it_records_who_changed_the_status_and_when(people):
    ticket = open_ticket(people)
    bob = services.Actor(user=people["bob"].user)
    services.ticket_change_status(ticket=ticket, status=Status.RESOLVED, actor=bob)
    event = ticket.events.filter(kind="status").get()
    assert event.actor == people["bob"].user
    assert event.data == {"status": ["new", "resolved"]}
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None
    services.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=bob)
    ticket.refresh_from_db()
    assert ticket.resolved_at is None  # reopened: no longer resolved


def test_it_requires_a_reason_to_waive_the_call_fee_or_skip_billing(people):
    ticket = open_ticket(people, channel="whatsapp")
    with pytest.raises(TicketInputError) as exc:
        services.ticket_update(ticket=ticket, waive_call_fee=True)
    assert exc.value.field == "waive_reason"
    ticket.refresh_from_db()
    with pytest.raises(TicketInputError) as exc:
        services.ticket_update(ticket=ticket, billable=False)
    assert exc.value.field == "non_billable_reason"
    ticket.refresh_from_db()
    services.ticket_update(
        ticket=ticket, waive_call_fee=True, waive_reason="Cliente senza connessione"
    )
    event = ticket.events.filter(kind="billing").get()
    assert event.data["waive_call_fee"] == [False, True]
    assert event.data["waive_reason"] == ["", "Cliente senza connessione"]


def test_a_contact_of_another_organisation_is_refused_in_every_service(people):
    with pytest.raises(TicketInputError) as exc:
        open_ticket(people, organisation=people["org_a"], contact=people["charlie"])
    assert exc.value.field == "contact"
    assert "Charlie Verdi è un contatto di Charlie S.p.A., non di Alice & Co. S.r.l." in str(
        exc.value
    )
    ticket = open_ticket(people)
    with pytest.raises(TicketInputError) as exc:
        services.ticket_update(ticket=ticket, contact=people["charlie"])
    assert exc.value.field == "contact"
    with pytest.raises(TicketInputError):
        services.ticket_update(ticket=ticket, organisation=people["org_b"])
    ticket.refresh_from_db()
    assert (ticket.organisation, ticket.contact) == (people["org_a"], people["alice"])
    # Moving both together is a correction, and a contact still to be placed fits anywhere.
    services.ticket_update(ticket=ticket, organisation=people["org_b"], contact=people["charlie"])
    people["alice"].organisation = None
    people["alice"].save()
    services.ticket_update(ticket=ticket, contact=people["alice"])


def test_the_database_refuses_a_waiver_without_reason(people):
    ticket = open_ticket(people)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(waive_call_fee=True, waive_reason="")


def test_it_records_interventions_and_their_override_reasons(people):
    ticket = open_ticket(people)
    start = datetime(2026, 3, 2, 20, 0, tzinfo=ROME)
    call = services.intervention_add(
        ticket=ticket, kind="phone", started_at=start, duration_seconds=320
    )
    with pytest.raises(TicketInputError) as exc:
        services.intervention_override_out_of_hours(
            intervention=call, out_of_hours=False, reason=" "
        )
    assert exc.value.field == "override_reason"
    services.intervention_override_out_of_hours(
        intervention=call, out_of_hours=False, reason="Reperibilità concordata"
    )
    event = ticket.events.filter(kind="intervention_changed").get()
    assert event.data["out_of_hours_override"] == [None, False]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(kind="phone", duration_seconds=None), "duration_seconds"),
        (dict(kind="remote", duration_seconds=0), "duration_seconds"),
        (dict(kind="fax", duration_seconds=10), "kind"),
        (
            dict(kind="phone", duration_seconds=60, started_at=datetime(2026, 3, 2, 10)),
            "started_at",
        ),
    ],
)
def test_it_refuses_bad_interventions_naming_the_field(people, kwargs, field):
    ticket = open_ticket(people)
    kwargs.setdefault("started_at", datetime(2026, 3, 2, 10, tzinfo=ROME))
    with pytest.raises(TicketInputError) as exc:
        services.intervention_add(ticket=ticket, **kwargs)
    assert exc.value.field == field
    assert not ticket.interventions.exists()


def test_a_leg_outside_the_district_takes_the_organisations_distance(people):
    org = people["org_a"]
    org.in_district, org.distance_km = False, 37
    org.save()
    ticket = open_ticket(people)
    leg = services.intervention_add(
        ticket=ticket, kind="pickup", started_at=datetime(2026, 3, 9, 9, 30, tzinfo=ROME)
    )
    assert leg.km == 37 and leg.duration_seconds is None


def test_internal_notes_are_never_public_nor_written(people):
    ticket = open_ticket(people)
    note = services.message_add(
        ticket=ticket,
        message=MessageInput(kind="internal_note", direction="out", text="Cliente difficile"),
    )
    ack = services.message_add(
        ticket=ticket,
        message=MessageInput(kind="email", direction="out", text="Ricevuto", automatic=True),
    )
    assert note.direction == "internal" and not note.is_public and not note.counts_as_written
    assert ack.is_public and not ack.counts_as_written
    assert Message.objects.filter(ticket=ticket).count() == 3


def test_it_stores_attachments_once_by_content(people):
    ticket = open_ticket(people)
    a = services.attachment_add(
        ticket=ticket, filename="foto.jpg", content=b"\xff\xd8 jpeg", content_type="image/jpeg"
    )
    b = services.attachment_add(
        ticket=ticket, filename="copia.jpg", content=b"\xff\xd8 jpeg", content_type="image/jpeg"
    )
    assert a.file.name == b.file.name
    assert a.size == 7 and len(a.sha256) == 64
    with a.file.open("rb") as fh:
        assert fh.read() == b"\xff\xd8 jpeg"
    assert TicketEvent.objects.filter(ticket=ticket, kind="attachment").count() == 2
