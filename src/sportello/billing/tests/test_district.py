"""The district is the one of the tariff version in force on the day the ticket was
resolved, not a flag stored on the organisation when it was last saved."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sportello.billing.models import TariffVersion, TicketCharges
from sportello.billing.selectors import tickets_priced
from sportello.tickets import services
from sportello.tickets.models import Ticket
from sportello.tickets.tests.factories import cast

ROME = ZoneInfo("Europe/Rome")
pytestmark = pytest.mark.django_db


def test_a_new_versions_district_prices_the_legs_of_a_ticket_resolved_under_it():
    people = cast()
    TariffVersion.objects.create(label="2026", valid_from=date(2026, 1, 1))  # Terni, Narni
    org = people["org_a"]
    org.comune, org.distance_km = "Narni", Decimal("14")
    org.full_clean()
    org.save()
    assert org.in_district  # Narni is in the district of the version in force today
    TariffVersion.objects.create(label="2027", valid_from=date(2027, 1, 1), district_comuni="Terni")
    ticket = services.ticket_open(
        subject="Portatile da ritirare",
        channel="phone",
        official_channels_possible=False,
        contact=people["alice"],
    )
    services.intervention_add(
        ticket=ticket, kind="pickup", started_at=datetime(2027, 1, 11, 9, 30, tzinfo=ROME)
    )

    services.ticket_change_status(
        ticket=ticket, status="resolved", when=datetime(2026, 12, 30, 10, tzinfo=ROME)
    )
    lines = TicketCharges.objects.get(ticket=ticket).lines.all()
    assert [(line.code, line.amount) for line in lines] == [("leg", Decimal("30.00"))]

    services.ticket_change_status(ticket=ticket, status="open")
    services.ticket_change_status(
        ticket=ticket, status="resolved", when=datetime(2027, 1, 12, 10, tzinfo=ROME)
    )
    charges = TicketCharges.objects.get(ticket=ticket)
    assert charges.tariff_version.label == "2027"
    # Narni is outside the 2027 district: the leg is charged by the km.
    assert [(line.code, line.amount) for line in charges.lines.all()] == [("leg", Decimal("14.00"))]
    # Pricing many tickets at once decides the district the same way.
    [(_ticket, quote, problem)] = tickets_priced(Ticket.objects.filter(pk=ticket.pk))
    assert problem == "" and quote.net == Decimal("14.00")


def test_an_organisation_without_a_comune_keeps_its_own_district_flag():
    people = cast()
    TariffVersion.objects.create(label="2026", valid_from=date(2026, 1, 1), district_comuni="")
    org = people["org_a"]
    org.in_district, org.distance_km = False, Decimal("37")
    org.save()
    ticket = services.ticket_open(
        subject="Ritiro", channel="phone", official_channels_possible=False, contact=people["alice"]
    )
    services.intervention_add(
        ticket=ticket, kind="pickup", started_at=datetime(2026, 3, 9, 9, 30, tzinfo=ROME)
    )
    lines = TicketCharges.objects.get(ticket=ticket).lines.all()
    assert [(line.code, line.amount) for line in lines] == [("leg", Decimal("37.00"))]


def test_a_default_tariff_version_is_the_engines_policy_figure_for_figure():
    """One source for the policy's figures: the engine's DEFAULT_TARIFF."""
    from dataclasses import fields

    from sportello.tariff import DEFAULT_TARIFF

    params = TariffVersion(label="Listino", valid_from=date(2000, 1, 1)).to_params()
    differ = [
        f.name
        for f in fields(DEFAULT_TARIFF)
        if f.name not in ("version",) and getattr(params, f.name) != getattr(DEFAULT_TARIFF, f.name)
    ]
    assert differ == []
