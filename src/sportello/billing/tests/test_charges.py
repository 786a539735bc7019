"""Charges of real tickets: computed from the ticket's own data, frozen on close."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sportello.billing.models import TariffVersion, TicketCharges
from sportello.billing.services import tariff_version_in_force
from sportello.core.models import CalendarDay
from sportello.customers.models import BillingMode
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput

ROME = ZoneInfo("Europe/Rome")
pytestmark = pytest.mark.django_db


def open_ticket(people, channel="email", **kw):
    return services.ticket_open(
        subject="Stampante",
        channel=channel,
        message=MessageInput(text="Non stampa"),
        contact=people["alice"],
        **kw,
    )


def reply(ticket, text="Risolto", direction="out"):
    return services.message_add(
        ticket=ticket, message=MessageInput(kind="email", direction=direction, text=text)
    )


def charges(ticket) -> TicketCharges:
    return TicketCharges.objects.get(ticket=ticket)


def codes(ticket):
    return [(line.code, line.amount) for line in charges(ticket).lines.all()]


def test_an_email_ticket_is_priced_from_its_written_messages(people):
    ticket = open_ticket(people)
    assert codes(ticket) == [("written", Decimal("15.00"))]
    reply(ticket)
    reply(ticket, "Grazie", "in")
    assert charges(ticket).net == Decimal("15.00")  # 3 messages: still 25%
    reply(ticket, "Prego")
    assert codes(ticket) == [("written", Decimal("30.00"))]  # 4 messages: 50%
    c = charges(ticket)
    assert (c.net, c.vat, c.total) == (Decimal("30.00"), Decimal("6.60"), Decimal("36.60"))


def test_automatic_mail_and_internal_notes_do_not_count(people):
    ticket = open_ticket(people)
    services.message_add(
        ticket=ticket,
        message=MessageInput(kind="email", direction="out", text="Ricevuto", automatic=True),
    )
    for _ in range(3):
        services.message_add(
            ticket=ticket, message=MessageInput(kind="internal_note", direction="out", text="nota")
        )
    assert codes(ticket) == [("written", Decimal("15.00"))]


def test_a_phone_call_turned_remote_is_billed_as_remote_with_an_explanation(people):
    ticket = open_ticket(people, channel="phone", official_channels_possible=False)
    start = datetime(2026, 3, 5, 10, 0, tzinfo=ROME)
    services.intervention_add(
        ticket=ticket, kind="phone", started_at=start, duration_seconds=8 * 60
    )
    services.intervention_add(
        ticket=ticket,
        kind="remote",
        started_at=datetime(2026, 3, 5, 10, 8, tzinfo=ROME),
        duration_seconds=10 * 60,
    )
    lines = list(charges(ticket).lines.all())
    assert [(line.code, line.amount) for line in lines] == [("remote", Decimal("60.00"))]
    assert "60,00" in lines[0].description_it
    assert lines[0].description_en


def test_whatsapp_carries_the_call_fee_until_waived_with_a_reason(people):
    ticket = open_ticket(people, channel="whatsapp")
    assert ("call_fee", Decimal("25.00")) in codes(ticket)
    bob = services.Actor(user=people["bob"].user)
    services.ticket_update(
        ticket=ticket,
        actor=bob,
        waive_call_fee=True,
        waive_reason="Il cliente era senza connessione",
    )
    assert [c for c, _ in codes(ticket)] == ["written"]
    assert ticket.events.filter(kind="billing", actor=people["bob"].user).exists()


def test_a_phone_request_is_fee_free_only_when_an_agent_says_writing_was_impossible(people):
    ticket = open_ticket(people, channel="phone")
    services.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=datetime(2026, 3, 2, 11, tzinfo=ROME),
        duration_seconds=12 * 60,
    )
    assert [c for c, _ in codes(ticket)] == ["phone", "call_fee"]
    services.ticket_update(
        ticket=ticket,
        official_channels_possible=False,
        channel_justification="Linea internet guasta",
    )
    assert codes(ticket) == [("phone", Decimal("30.00"))]


def test_out_of_hours_override_changes_the_price_and_is_recorded(people):
    ticket = open_ticket(people, channel="phone", official_channels_possible=False)
    call = services.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=datetime(2026, 3, 2, 20, tzinfo=ROME),
        duration_seconds=12 * 60,
    )
    assert codes(ticket) == [("phone", Decimal("45.00"))]
    services.intervention_override_out_of_hours(
        intervention=call, out_of_hours=False, reason="Reperibilità inclusa nel contratto"
    )
    assert codes(ticket) == [("phone", Decimal("30.00"))]


def test_a_company_closure_makes_a_weekday_out_of_hours(people):
    CalendarDay.objects.create(date=date(2026, 8, 14), kind="closure", note="Ponte")
    ticket = open_ticket(people, channel="phone", official_channels_possible=False)
    services.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=datetime(2026, 8, 14, 10, tzinfo=ROME),
        duration_seconds=4 * 60,
    )
    assert codes(ticket) == [("phone", Decimal("22.50"))]


def test_non_billable_and_contract_tickets_have_no_charges(people):
    ticket = open_ticket(people)
    services.ticket_update(ticket=ticket, billable=False, non_billable_reason="warranty")
    assert codes(ticket) == [] and charges(ticket).total == Decimal("0.00")
    org = people["org_b"]
    org.billing_mode = BillingMode.CONTRACT
    org.save()
    covered = services.ticket_open(
        subject="x", channel="email", contact=people["charlie"], message=MessageInput(text="y")
    )
    assert codes(covered) == []


def test_a_ticket_without_organisation_says_why_it_cannot_be_priced(people):
    ticket = services.ticket_open(
        subject="Chi sono?", channel="email", message=MessageInput(text="?")
    )
    assert "organisation" in charges(ticket).problem or "organizzazione" in charges(ticket).problem
    assert codes(ticket) == []


def test_closing_freezes_charges_against_later_tariff_edits(people):
    ticket = open_ticket(people)
    services.ticket_change_status(ticket=ticket, status="closed")
    frozen = charges(ticket)
    assert frozen.frozen and frozen.total == Decimal("18.30")
    version = tariff_version_in_force(on=date.today())
    version.written_low_percent = Decimal("40")
    version.save()
    reply(ticket, "Un'ultima cosa", "in")  # a late message does not reprice a closed ticket
    assert charges(ticket).total == Decimal("18.30")
    # Reopening unfreezes, records it, and prices with the edited tariff.
    services.ticket_change_status(ticket=ticket, status="open")
    assert not charges(ticket).frozen
    assert charges(ticket).net == Decimal("24.00")  # 2 messages at 40% of 60
    assert ticket.events.filter(kind="billing", data__charges="unfrozen").exists()


def test_a_ticket_is_priced_by_the_tariff_in_force_when_it_was_resolved(people):
    TariffVersion.objects.create(label="2025", valid_from=date(2025, 1, 1))
    TariffVersion.objects.create(
        label="2027", valid_from=date(2027, 1, 1), written_low_percent=Decimal("30")
    )
    ticket = open_ticket(people)
    services.ticket_change_status(
        ticket=ticket, status="resolved", when=datetime(2026, 6, 1, 10, tzinfo=ROME)
    )
    assert charges(ticket).tariff_version.label == "2025"
    assert charges(ticket).net == Decimal("15.00")
    ticket.refresh_from_db()
    services.ticket_change_status(ticket=ticket, status="open")
    services.ticket_change_status(
        ticket=ticket, status="resolved", when=datetime(2027, 2, 1, 10, tzinfo=ROME)
    )
    assert charges(ticket).tariff_version.label == "2027"
    assert charges(ticket).net == Decimal("18.00")


def test_a_pickup_outside_the_district_is_charged_per_km(people):
    org = people["org_a"]
    org.in_district, org.distance_km = False, Decimal("37")
    org.save()
    ticket = open_ticket(people)
    services.intervention_add(
        ticket=ticket, kind="pickup", started_at=datetime(2026, 3, 9, 9, 30, tzinfo=ROME)
    )
    services.intervention_add(
        ticket=ticket, kind="return", started_at=datetime(2026, 3, 12, 17, 0, tzinfo=ROME)
    )
    assert codes(ticket) == [
        ("written", Decimal("15.00")),
        ("leg", Decimal("37.00")),
        ("leg", Decimal("37.00")),
    ]
