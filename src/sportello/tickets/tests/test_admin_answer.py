"""Agents answer in the ticket admin: reply by e-mail, internal note, status change.

The form is posted as a browser would: every field of the change page as it was
rendered (inline management forms included), plus what the agent typed."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.core import mail

from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Direction, MessageKind, Status

from .factories import cast

pytestmark = pytest.mark.django_db


class FormFields(HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data[name] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def change_page(client, ticket) -> tuple[str, dict[str, str]]:
    url = f"/admin/tickets/ticket/{ticket.pk}/change/"
    parser = FormFields()
    parser.feed(client.get(url).content.decode())
    return url, parser.data


@pytest.fixture
def desk(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people = cast()
    bob = people["bob"].user
    bob.is_superuser = True
    bob.save()
    client.force_login(bob)
    ticket = services.ticket_open(
        subject="Stampante guasta",
        channel="email",
        organisation=people["org_a"],
        contact=people["alice"],
        message=MessageInput(text="La stampante non stampa."),
    )
    return client, ticket, people


def test_an_agent_replies_notes_and_resolves_in_one_save(desk, django_capture_on_commit_callbacks):
    client, ticket, people = desk
    url, data = change_page(client, ticket)
    assert [k for k in ("reply", "internal_note", "new_status") if k not in data] == []
    data.update(
        reply="Abbiamo sostituito il toner: ora stampa.",
        internal_note="Toner HP 26A dal magazzino.",
        new_status=Status.OPEN,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    reply = ticket.messages.get(direction=Direction.OUTBOUND, automatic=False)
    note = ticket.messages.get(kind=MessageKind.INTERNAL_NOTE)
    assert reply.author_user == people["bob"].user and "toner" in reply.text
    assert note.text == "Toner HP 26A dal magazzino."
    [sent] = [m for m in mail.outbox if "alice@alice.example.it" in m.to]
    assert "toner" in sent.body and ticket.number in sent.subject


def test_only_the_allowed_next_statuses_are_offered_and_accepted(desk):
    client, ticket, _people = desk
    services.ticket_change_status(ticket=ticket, status=Status.RESOLVED)
    url, data = change_page(client, ticket)
    page = client.get(url)
    offered = [v for v, _label in page.context["adminform"].form.fields["new_status"].choices]
    assert offered == ["", Status.OPEN, Status.CLOSED]
    data["new_status"] = Status.WAITING  # resolved -> waiting is not a transition
    response = client.post(url, data)
    assert response.status_code == 200
    assert "new_status" in response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_a_reply_with_nobody_to_send_to_is_refused_with_the_reason(desk):
    client, ticket, people = desk
    people["alice"].emails.all().delete()
    url, data = change_page(client, ticket)
    data["reply"] = "Risposta che non potrebbe partire."
    response = client.post(url, data)
    assert response.status_code == 200
    assert "non ha un indirizzo e-mail" in str(response.context["adminform"].form.errors["reply"])
    assert not ticket.messages.filter(direction=Direction.OUTBOUND).exists()


def test_a_contact_of_another_organisation_is_refused_in_the_admin(desk):
    client, ticket, people = desk
    url, data = change_page(client, ticket)
    data["contact"] = str(people["charlie"].pk)
    response = client.post(url, data)
    assert response.status_code == 200
    error = str(response.context["adminform"].form.errors["contact"])
    assert "Charlie Verdi è un contatto di Charlie S.p.A., non di Alice &amp; Co. S.r.l." in error
    ticket.refresh_from_db()
    assert ticket.contact == people["alice"]


def test_the_ticket_page_reads_events_and_charges_as_people_write_them(desk):
    from datetime import UTC, datetime

    client, ticket, people = desk
    services.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=datetime(2026, 3, 2, 8, 5, tzinfo=UTC),  # 09:05 in Rome
        duration_seconds=720,
    )
    services.ticket_change_status(ticket=ticket, status=Status.OPEN)
    page = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert "stato: nuovo → aperto" in page
    assert "tipo: telefonata; inizio: 02/03/2026 09:05; durata: 12 min" in page
    assert '{"status"' not in page and "&quot;status&quot;" not in page
    assert "2026-03-02T08:05" not in page
    # Each charge line names its amount once, in the Italian format; no "€ 15.00".
    import re

    assert not re.search(r"€\s*\d", page)
    assert re.search(r"= <strong>\d+,\d\d €</strong>", page)
    assert "01/01/2000" not in page  # the default tariff version names no date
