"""The technician's iCalendar feed at a secret address: parsed back by a real parser
(``icalendar``), refused (404) with a wrong, revoked or replaced token, no cookies."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from sportello.desk.tests.support import PASSWORD
from sportello.territory import services
from sportello.territory.models import AgendaFeed
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(people):
    org = people["org_a"]
    org.address, org.postcode, org.comune, org.province = "Via Roma 4", "05035", "Narni", "TR"
    org.save()
    ticket = tickets.ticket_open(
        subject="Portatile da ritirare",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="Il portatile non si accende.", sender="alice@alice.example.it"),
    )
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    bob = people["bob"].user
    pickup = services.visit_schedule(
        ticket=ticket,
        technician=people["bob"],
        kind="pickup",
        scheduled_at=start,
        duration_minutes=45,
        notes="Citofono Rossi, secondo piano",
        user=bob,
    )
    back = services.visit_schedule(
        ticket=ticket,
        technician=people["bob"],
        kind="return",
        scheduled_at=start + timedelta(days=2),
        user=bob,
    )
    gone = services.visit_schedule(
        ticket=ticket, technician=people["bob"], kind="return", scheduled_at=start, user=bob
    )
    services.visit_cancel(visit=gone, user=bob)
    services.visit_schedule(  # Mario's: never in Bob's feed
        ticket=ticket,
        technician=people["mario"],
        kind="pickup",
        scheduled_at=start,
        user=people["mario"].user,
    )
    token = services.agenda_feed_issue(agent=people["bob"])
    return {"ticket": ticket, "pickup": pickup, "back": back, "start": start, "token": token}


def feed_url(token: str) -> str:
    return reverse("territory:feed", args=[token])


def test_the_feed_is_a_calendar_a_real_parser_reads(client, planned):
    response = client.get(feed_url(planned["token"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"\r\n" in response.content  # RFC 5545 line ends
    cal = icalendar.Calendar.from_ical(response.content)
    assert str(cal["VERSION"]) == "2.0"
    events = cal.walk("VEVENT")
    # Bob's pick-up and return; the cancelled one and Mario's are not there.
    assert len(events) == 2
    first, second = events
    ticket, start = planned["ticket"], planned["start"]
    assert str(first["UID"]) == f"visit-{planned['pickup'].pk}@assistenza.init-s.it"
    assert str(second["UID"]) == f"visit-{planned['back'].pk}@assistenza.init-s.it"
    assert first.decoded("DTSTART") == start.astimezone(UTC)
    assert first.decoded("DTSTART").utcoffset() == timedelta(0)
    assert first.decoded("DTEND") - first.decoded("DTSTART") == timedelta(minutes=45)
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content
    assert str(first["SUMMARY"]) == f"Ritiro · {ticket.number} · Alice & Co. S.r.l."
    assert str(second["SUMMARY"]).startswith("Riconsegna · ")
    assert str(first["LOCATION"]) == "Via Roma 4, 05035 Narni (TR)"
    description = str(first["DESCRIPTION"])
    assert f"{ticket.number} Portatile da ritirare" in description
    assert "Contatto: Alice Rossi" in description
    assert "Citofono Rossi, secondo piano" in description
    ticket_url = f"https://assistenza.init-s.it/desk/ticket/{ticket.pk}/"
    assert str(first["URL"]) == ticket_url


def test_the_feed_sends_no_cookie_and_may_not_be_stored(client, planned):
    assert client.head(feed_url(planned["token"])).status_code == 200
    assert client.post(feed_url(planned["token"])).status_code == 405
    response = client.get(feed_url(planned["token"]))
    assert response.cookies == {}
    assert "Set-Cookie" not in response.headers
    assert "no-store" in response["Cache-Control"]


def test_a_wrong_token_is_not_found(client, planned):
    real = planned["token"]
    one_off = real[:-1] + ("A" if real[-1] != "A" else "B")
    for token in ("x" * 43, one_off, real.upper() if real.upper() != real else "y" * 43, "short"):
        response = client.get(feed_url(token))
        assert response.status_code == 404, token
        assert b"BEGIN:VCALENDAR" not in response.content
        assert response.cookies == {}
    assert client.get(feed_url("a" * 300)).status_code == 404


def test_a_revoked_token_is_not_found(client, people, planned):
    assert client.get(feed_url(planned["token"])).status_code == 200
    assert services.agenda_feed_revoke(agent=people["bob"])
    assert client.get(feed_url(planned["token"])).status_code == 404


def test_a_new_token_replaces_the_old_one(client, people, planned):
    new = services.agenda_feed_issue(agent=people["bob"])
    assert client.get(feed_url(planned["token"])).status_code == 404
    assert client.get(feed_url(new)).status_code == 200


def test_only_a_fingerprint_of_the_token_is_stored(people, planned):
    feed = AgendaFeed.objects.get(agent=people["bob"])
    assert planned["token"] not in feed.token_sha256
    assert len(feed.token_sha256) == 64


def test_a_deactivated_technicians_feed_is_not_found(client, people, planned):
    bob = people["bob"]
    bob.active = False
    bob.save()
    assert client.get(feed_url(planned["token"])).status_code == 404


def test_a_done_visit_stays_in_the_feed_marked_done(client, people, planned):
    visit = planned["pickup"]
    visit.scheduled_at = timezone.now() - timedelta(hours=3)
    visit.save()
    services.visit_done(visit=visit, user=people["bob"].user, km=Decimal("0"))
    cal = icalendar.Calendar.from_ical(client.get(feed_url(planned["token"])).content)
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert any(s.endswith("(fatta)") for s in summaries)


def test_the_feed_is_written_in_the_technicians_language(client, people, planned):
    bob = people["bob"]
    bob.language = "en"
    bob.save()
    cal = icalendar.Calendar.from_ical(client.get(feed_url(planned["token"])).content)
    assert str(cal.walk("VEVENT")[0]["SUMMARY"]).startswith("Pick-up · ")


def test_the_agenda_page_issues_shows_once_and_revokes_the_address(client, people, planned):
    client.login(username="bob", password=PASSWORD)
    page = client.post(reverse("territory:feed-token"), {"action": "issue"})
    assert page.status_code == 200
    html = page.content.decode()
    start = html.index('id="feed-url"')
    url = html[start:].split('value="', 1)[1].split('"', 1)[0]
    assert url.startswith("https://assistenza.init-s.it/calendar/") and url.endswith(".ics")
    assert "webcal://assistenza.init-s.it/calendar/" in html
    client.logout()
    path = url.removeprefix("https://assistenza.init-s.it")
    assert client.get(path).status_code == 200
    assert client.get(feed_url(planned["token"])).status_code == 404  # the old one stopped
    # Seen again later, the page does not show the address any more.
    client.login(username="bob", password=PASSWORD)
    again = client.get(reverse("territory:agenda")).content.decode()
    assert 'id="feed-url"' not in again and "Ultima lettura da un calendario" in again
    client.post(reverse("territory:feed-token"), {"action": "revoke"})
    client.logout()
    assert client.get(path).status_code == 404


def test_the_desk_preferences_replace_and_revoke_the_address_too(client, people, planned):
    client.login(username="bob", password=PASSWORD)
    page = client.get(reverse("desk:notify-settings")).content.decode()
    assert "Questa agenda sul telefono" in page and "Revoca l&#x27;indirizzo" not in page
    assert "Revoca l'indirizzo" in page
    assert reverse("territory:feed-token") in page
    client.post(reverse("territory:feed-token"), {"action": "revoke"})
    client.logout()
    assert client.get(feed_url(planned["token"])).status_code == 404
