"""What an agent sees of the territory on the desk: the zone and the suggested assignee
on the ticket page (one click assigns), visits planned there, the agenda by day with its
forms, and the caller's zone in the phone flow."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from sportello.desk.tests.support import PASSWORD
from sportello.staff.models import Skill, Zone
from sportello.staff.services import zone_save
from sportello.territory import services
from sportello.territory.models import Visit
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Intervention, TicketEvent

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def territory(people):
    """Narni is Mario's zone and he knows networks; Bob is in Terni with two open tickets."""
    narni = zone_save(zone=Zone(name="Narni", comuni=["Narni", "Amelia"]))
    terni = zone_save(zone=Zone(name="Terni", comuni=["Terni"]))
    reti = Skill.objects.create(name="Rete")
    mario, bob = people["mario"], people["bob"]
    mario.home_zone, bob.home_zone = narni, terni
    mario.save()
    bob.save()
    mario.skills.add(reti)
    org = people["org_a"]
    org.comune = "Narni"
    org.save()
    for i in range(3):
        busy = open_ticket(people, subject=f"Altro {i}")
        tickets.ticket_assign(ticket=busy, assignee=mario)
    return {"narni": narni, "terni": terni}


def open_ticket(people, subject="Il Wi-Fi cade", category="rete", contact="alice"):
    return tickets.ticket_open(
        subject=subject,
        channel="email",
        contact=people[contact],
        category=category,
        message=MessageInput(
            text="Da ieri il Wi-Fi dell'ufficio cade ogni dieci minuti.",
            sender="alice@alice.example.it",
        ),
    )


def test_the_ticket_page_suggests_who_should_take_it_with_the_reason(client, people, territory):
    ticket = open_ticket(people)
    client.login(username="sara", password=PASSWORD)  # a supervisor assigns anyone
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "Zona: <strong>Narni</strong>" in html
    assert "Assegnatario suggerito" in html
    assert "(zona Narni, competenza rete, 3 ticket aperti)" in html
    suggested = html[html.index("Assegnatario suggerito") :]
    assert suggested.index("Mario Test") < suggested.index("Bob")
    assert "Assegna a Mario Test" in html

    # One click assigns, through the desk's assignment (tickets.services.ticket_assign).
    response = client.post(
        reverse("desk:assign", args=[ticket.pk]), {"assignee": people["mario"].pk}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == people["mario"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="assigned").count() == 1
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "Assegnatario suggerito" not in html  # assigned: nothing to suggest


def test_an_agent_sees_the_suggestion_but_may_only_take_it_themselves(client, people, territory):
    ticket = open_ticket(people)
    client.login(username="bob", password=PASSWORD)
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "competenza rete" in html
    assert "Assegna a Mario Test" not in html  # only a supervisor assigns someone else
    assert "Assegna a me" in html  # Bob is in the list: he may take it


def test_an_organisation_in_no_zone_is_shown_as_such(client, people, territory):
    ticket = open_ticket(people, contact="charlie")  # Charlie S.p.A. has no comune
    client.login(username="bob", password=PASSWORD)
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "nessuna (l'organizzazione non ha un comune)" in html
    people["org_b"].comune = "Orvieto"
    people["org_b"].save()
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "nessuna (Orvieto non è in nessuna zona)" in html


def test_a_visit_is_planned_from_the_ticket_page_and_closed_from_the_agenda(
    client, people, territory
):
    ticket = open_ticket(people)
    client.login(username="bob", password=PASSWORD)
    html = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "Pianifica un ritiro o una riconsegna" in html
    when = timezone.localtime() - timedelta(hours=2)
    response = client.post(
        reverse("territory:visit-schedule", args=[ticket.pk]),
        {
            "kind": "pickup",
            "technician": "me",
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "30",
            "notes": "Portare lo scatolone",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/desk/ticket/{ticket.pk}/#visits")
    visit = Visit.objects.get()
    assert (visit.technician, visit.duration_minutes) == (people["bob"], 30)
    assert Intervention.objects.count() == 0
    page = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "Ritiro: visita pianificata per il" in page  # the timeline
    # Closed from the ticket page too, back to its visits.
    assert f'name="next" value="/desk/ticket/{ticket.pk}/#visits"' in page
    assert "Fatta: registra l&#x27;uscita" in page or "Fatta: registra l'uscita" in page

    agenda = client.get(reverse("territory:agenda")).content.decode()
    assert "La mia agenda" in agenda
    assert ticket.number in agenda and "Portare lo scatolone" in agenda
    assert when.strftime("%H:%M") in agenda
    done = client.post(
        reverse("territory:visit-done", args=[visit.pk]),
        {"started_at": when.strftime("%Y-%m-%dT%H:%M"), "km": "", "next": "/desk/agenda/"},
    )
    assert done.status_code == 302 and done["Location"] == "/desk/agenda/"
    visit.refresh_from_db()
    assert visit.state == "done" and visit.intervention.kind == "pickup"
    assert (
        "Visita fatta: l&#x27;uscita è registrata sul ticket."
        in client.get(reverse("territory:agenda")).content.decode()
    )


def test_a_bad_form_says_what_to_fix_and_plans_nothing(client, people, territory):
    ticket = open_ticket(people)
    client.login(username="bob", password=PASSWORD)
    response = client.post(
        reverse("territory:visit-schedule", args=[ticket.pk]),
        {"kind": "pickup", "scheduled_at": "domani", "duration_minutes": "30"},
        follow=True,
    )
    assert "Scrivi la data e l&#x27;ora, per esempio 04/12/2026 09:30." in response.content.decode()
    assert not Visit.objects.exists()


def test_the_agenda_lists_the_week_by_day_and_what_is_left_to_close(client, people, territory):
    ticket = open_ticket(people)
    bob = people["bob"]
    today = timezone.localdate()
    at = datetime.combine(today, datetime.min.time()).replace(hour=9, tzinfo=ROME)
    services.visit_schedule(
        ticket=ticket, technician=bob, kind="return", scheduled_at=at, user=bob.user
    )
    services.visit_schedule(
        ticket=ticket,
        technician=bob,
        kind="pickup",
        scheduled_at=at - timedelta(days=3),
        user=bob.user,
    )
    client.login(username="bob", password=PASSWORD)
    html = client.get(reverse("territory:agenda")).content.decode()
    assert html.count('class="agenda-day') == 8  # seven days and the overdue box
    assert "Ancora da chiudere" in html
    assert "Riconsegna" in html and "oggi" in html
    later = client.get(reverse("territory:agenda") + "?from=2030-01-07").content.decode()
    assert "Lunedì 7 Gennaio" in later and "Nessuna visita." in later


def test_the_phone_flow_shows_the_callers_zone_and_who_is_there(client, people, territory):
    client.login(username="bob", password=PASSWORD)
    lookup = client.get(reverse("desk:call-lookup") + "?phone=0744 123456").content.decode()
    assert "Zona: <strong>Narni</strong>" in lookup
    assert "tecnico suggerito: Mario Test (zona Narni, 3 ticket aperti)" in lookup
