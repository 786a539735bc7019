"""A technician's agenda as an iCalendar feed (RFC 5545), built with ``icalendar``.

One VEVENT per visit: a stable UID (``visit-<pk>@<site host>``, so a phone updates the
event instead of adding a second one), DTSTART/DTEND in UTC (the phone shows them in
its own zone, DST included), SUMMARY with the kind, the ticket number and the
organisation, LOCATION with the organisation's address, DESCRIPTION with the ticket's
subject, the contact and the notes, URL to the ticket's desk page. A visit done is
still in the feed (the day as it went); a cancelled one is left out, so it disappears
from the phone at the next refresh.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from sportello.staff.models import Agent

from .models import Visit, VisitState

PRODID = "-//Sportello//Agenda dei tecnici//IT"


def site_url() -> str:
    return settings.SPORTELLO_SITE_URL.rstrip("/")


def ticket_url(visit: Visit) -> str:
    return site_url() + reverse("desk:ticket", args=[visit.ticket_id])


def visit_summary(visit: Visit) -> str:
    ticket = visit.ticket
    parts = [str(visit.get_kind_display()).capitalize(), ticket.number]
    if ticket.organisation:
        parts.append(ticket.organisation.name)
    summary = " · ".join(parts)
    if visit.state == VisitState.DONE:
        summary += " (" + _("done") + ")"
    return summary


def visit_location(visit: Visit) -> str:
    org = visit.ticket.organisation
    if org is None:
        return ""
    place = " ".join(p for p in (org.postcode, org.comune) if p)
    if org.province:
        place += f" ({org.province})"
    return ", ".join(p for p in (org.address, place.strip()) if p)


def visit_description(visit: Visit) -> str:
    ticket = visit.ticket
    lines = [f"{ticket.number} {ticket.subject}"]
    if ticket.contact:
        lines.append(_("Contact: %(name)s") % {"name": ticket.contact})
    if visit.notes:
        lines.append(visit.notes)
    lines.append(ticket_url(visit))
    return "\n".join(lines)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def agenda_calendar(*, agent: Agent, visits: list[Visit], now: datetime) -> bytes:
    """The feed's bytes: ``text/calendar`` with CRLF line ends, folded at 75 octets."""
    host = urlsplit(site_url()).hostname or "sportello"
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Sportello: agenda of %(name)s") % {"name": agent})
    # Calendars that honour it re-read the feed every hour.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for visit in visits:
        event = icalendar.Event()
        event.add("uid", f"visit-{visit.pk}@{host}")
        event.add("dtstamp", _utc(now))
        event.add("last-modified", _utc(visit.updated_at))
        event.add("dtstart", _utc(visit.scheduled_at))
        event.add("dtend", _utc(visit.ends_at))
        event.add("summary", visit_summary(visit))
        location = visit_location(visit)
        if location:
            event.add("location", location)
        event.add("description", visit_description(visit))
        event.add("url", ticket_url(visit))
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()
