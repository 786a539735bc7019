"""Visits: planning bills nothing; done records the real leg through the ticket services
(priced like any leg), with an event on the ticket for each step."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from sportello.billing.models import TicketCharges
from sportello.desk.selectors import ticket_timeline
from sportello.territory import selectors, services
from sportello.territory.errors import TerritoryInputError, TerritoryPermissionError
from sportello.territory.models import Visit
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Intervention, TicketEvent

ROME = ZoneInfo("Europe/Rome")
# A Wednesday morning, in support hours.
IN_HOURS = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)

pytestmark = pytest.mark.django_db


def open_ticket(people, **kw):
    return tickets.ticket_open(
        subject="Portatile da ritirare",
        channel="email",
        contact=people["alice"],
        **kw,
        message=MessageInput(
            text="Il portatile non si accende: passate a ritirarlo?",
            sender="alice@alice.example.it",
        ),
    )


def lines(ticket):
    charges = TicketCharges.objects.get(ticket=ticket)
    return [(line.code, line.amount) for line in charges.lines.all()]


def schedule(people, ticket, who="bob", **kw):
    return services.visit_schedule(
        ticket=ticket,
        technician=people[kw.pop("technician", who)],
        kind=kw.pop("kind", "pickup"),
        scheduled_at=kw.pop("scheduled_at", IN_HOURS),
        duration_minutes=kw.pop("duration_minutes", 45),
        notes=kw.pop("notes", "Citofono Rossi"),
        user=people[who].user,
    )


def test_planning_a_visit_bills_nothing_and_says_so_on_the_ticket(people):
    ticket = open_ticket(people)
    before = lines(ticket)
    visit = schedule(people, ticket)
    assert Visit.objects.get().state == "scheduled"
    assert Intervention.objects.count() == 0
    assert lines(ticket) == before
    event = TicketEvent.objects.filter(ticket=ticket, kind="visit").get()
    assert event.data["visit"] == visit.pk and event.data["visit_state"] == "scheduled"
    with translation.override("it"):
        texts = [e.text for e in ticket_timeline(ticket=ticket) if e.kind == "event"]
    assert "Ritiro: visita pianificata per il 02/12/2026 10:00, tecnico Bob" in texts


def test_done_records_the_real_leg_with_the_organisations_distance(people):
    org = people["org_a"]
    org.comune, org.distance_km = "Amelia", Decimal("24")
    org.full_clean()
    org.save()
    assert not org.in_district
    ticket = open_ticket(people)
    visit = schedule(people, ticket)
    real = IN_HOURS + timedelta(minutes=20)
    leg = services.visit_done(visit=visit, user=people["bob"].user, started_at=real)
    visit.refresh_from_db()
    assert visit.state == "done" and visit.intervention == leg
    assert (leg.kind, leg.started_at, leg.km, leg.technician) == (
        "pickup",
        real,
        Decimal("24.0"),
        people["bob"],
    )
    assert leg.notes == "Citofono Rossi"
    assert ("leg", Decimal("24.00")) in lines(ticket)  # 1,00 € per km outside the district
    states = [
        e.data.get("visit_state") for e in TicketEvent.objects.filter(ticket=ticket, kind="visit")
    ]
    assert states == ["scheduled", "done"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="intervention").count() == 1


def test_done_takes_the_km_typed_and_defaults_to_the_planned_start(people):
    ticket = open_ticket(people)
    visit = schedule(people, ticket, kind="return")
    leg = services.visit_done(visit=visit, user=people["bob"].user, km=Decimal("7.5"))
    assert (leg.kind, leg.started_at, leg.km) == ("return", IN_HOURS, Decimal("7.5"))
    # In the district a leg is half the hourly rate, whatever the km (SPEC 4).
    assert ("leg", Decimal("30.00")) in lines(ticket)


def test_a_visit_is_closed_once(people):
    ticket = open_ticket(people)
    visit = schedule(people, ticket)
    services.visit_done(visit=visit, user=people["bob"].user)
    with pytest.raises(TerritoryInputError):
        services.visit_done(visit=visit, user=people["bob"].user)
    with pytest.raises(TerritoryInputError):
        services.visit_cancel(visit=visit, user=people["bob"].user)
    assert Intervention.objects.count() == 1


def test_cancelling_bills_nothing_and_keeps_the_reason(people):
    ticket = open_ticket(people)
    before = lines(ticket)
    visit = schedule(people, ticket)
    services.visit_cancel(visit=visit, user=people["bob"].user, reason="Cliente chiuso per ferie")
    visit.refresh_from_db()
    assert (visit.state, visit.cancel_reason) == ("cancelled", "Cliente chiuso per ferie")
    assert Intervention.objects.count() == 0 and lines(ticket) == before
    with translation.override("it"):
        texts = [e.text for e in ticket_timeline(ticket=ticket) if e.kind == "event"]
    assert "Ritiro: visita del 02/12/2026 10:00 annullata: Cliente chiuso per ferie" in texts


def test_a_leg_in_the_future_is_not_done_yet(people):
    ticket = open_ticket(people)
    visit = schedule(people, ticket, scheduled_at=timezone.now() + timedelta(days=1))
    with pytest.raises(TerritoryInputError) as caught:
        services.visit_done(visit=visit, user=people["bob"].user)
    assert caught.value.field == "started_at"
    assert Visit.objects.get().state == "scheduled" and Intervention.objects.count() == 0


def test_an_agent_plans_and_closes_only_their_own_visits(people):
    ticket = open_ticket(people)
    with pytest.raises(TerritoryPermissionError):
        services.visit_schedule(
            ticket=ticket,
            technician=people["mario"],
            kind="pickup",
            scheduled_at=IN_HOURS,
            user=people["bob"].user,
        )
    visit = schedule(people, ticket)  # Bob's own
    for action in (services.visit_done, services.visit_cancel):
        with pytest.raises(TerritoryPermissionError):
            action(visit=visit, user=people["mario"].user)
    assert Visit.objects.get().state == "scheduled"


def test_a_supervisor_plans_and_closes_anyones(people):
    ticket = open_ticket(people)
    visit = schedule(people, ticket, who="sara", technician="mario")
    assert visit.technician == people["mario"] and visit.created_by == people["sara"].user
    services.visit_done(visit=visit, user=people["sara"].user)
    assert Intervention.objects.get().technician == people["mario"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "phone"}, "kind"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 13 * 60}, "duration_minutes"),
        ({"scheduled_at": datetime(2026, 12, 2, 10, 0)}, "scheduled_at"),
    ],
)
def test_bad_input_names_the_field_to_fix(people, change, field):
    ticket = open_ticket(people)
    with pytest.raises(TerritoryInputError) as caught:
        schedule(people, ticket, **change)
    assert caught.value.field == field
    assert not Visit.objects.exists()


def test_a_closed_ticket_gets_no_new_visit(people):
    ticket = open_ticket(people)
    tickets.ticket_change_status(ticket=ticket, status="closed", notify=False)
    with translation.override("it"), pytest.raises(TerritoryInputError) as caught:
        schedule(people, ticket)
    assert "è chiuso: riaprilo" in caught.value.message


def test_the_agenda_groups_a_technicians_visits_by_local_day(people):
    ticket = open_ticket(people)
    late = datetime(2026, 12, 2, 23, 30, tzinfo=ROME)  # 22:30 UTC: still the 2nd in Rome
    first = schedule(people, ticket, scheduled_at=late)
    second = schedule(people, ticket, scheduled_at=datetime(2026, 12, 3, 8, 0, tzinfo=ROME))
    cancelled = schedule(people, ticket, scheduled_at=datetime(2026, 12, 3, 9, 0, tzinfo=ROME))
    services.visit_cancel(visit=cancelled, user=people["bob"].user)
    schedule(people, ticket, who="mario", scheduled_at=datetime(2026, 12, 3, 8, 0, tzinfo=ROME))
    days = selectors.agenda_days(agent=people["bob"], start=late.date(), days=3)
    assert [(d.day.day, [v.pk for v in d.visits]) for d in days] == [
        (2, [first.pk]),
        (3, [second.pk]),
        (4, []),
    ]
    overdue = selectors.agenda_overdue(agent=people["bob"], before=datetime(2026, 12, 3).date())
    assert overdue == [first]


def test_a_visit_ends_its_minutes_later_across_the_dst_change():
    # 28 March 2027: at 02:00 the clocks in Rome jump to 03:00.
    visit = Visit(scheduled_at=datetime(2027, 3, 28, 1, 30, tzinfo=ROME), duration_minutes=60)
    assert timezone.localtime(visit.ends_at).strftime("%H:%M") == "03:30"
