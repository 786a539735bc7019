"""The portal through HTTP, with Alice (org A), Charlie (org B), Dora (org A's
contact-manager) and Bob (our agent)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from sportello.billing.models import TicketCharges
from sportello.mail import outbound
from sportello.portal.models import TicketRating
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Attachment, Message, Status, Ticket

from .support import open_portal_ticket

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def alice_ticket(people):
    ticket = open_portal_ticket(people["alice"], subject="Stampante guasta")
    first = ticket.messages.first()
    tickets.attachment_add(
        ticket=ticket, message=first, filename="foto.png", content=PNG, content_type="image/png"
    )
    note = tickets.message_add(
        ticket=ticket,
        message=MessageInput(
            kind="internal_note", direction="internal", text="NOTA-INTERNA: cliente difficile"
        ),
    )
    tickets.attachment_add(
        ticket=ticket, message=note, filename="bounce.eml", content=b"From: x", content_type="x"
    )
    return ticket


def login(client, people, who):
    client.force_login(people[f"{who}_user"])
    return client


def test_it_lists_only_my_tickets(client, people, alice_ticket):
    dora_ticket = open_portal_ticket(people["dora"], subject="Rete lenta")
    charlie_ticket = open_portal_ticket(people["charlie"], subject="Server fermo")
    page = login(client, people, "alice").get("/portale/").content.decode()
    assert alice_ticket.number in page
    assert dora_ticket.number not in page
    assert charlie_ticket.number not in page


def test_a_contact_manager_sees_every_ticket_of_the_organisation(client, people, alice_ticket):
    dora_ticket = open_portal_ticket(people["dora"], subject="Rete lenta")
    charlie_ticket = open_portal_ticket(people["charlie"], subject="Server fermo")
    page = login(client, people, "dora").get("/portale/").content.decode()
    assert alice_ticket.number in page and dora_ticket.number in page
    assert charlie_ticket.number not in page
    assert client.get(f"/portale/ticket/{alice_ticket.number}/").status_code == 200


def test_a_contact_manager_sees_the_charges_and_a_customer_does_not(client, people, alice_ticket):
    tickets.ticket_change_status(ticket=alice_ticket, status="resolved")
    charges = TicketCharges.objects.get(ticket=alice_ticket)
    assert charges.total > 0
    page = login(client, people, "dora").get(f"/portale/ticket/{alice_ticket.number}/")
    assert 'id="charges"' in page.content.decode()
    listing = client.get("/portale/addebiti/").content.decode()
    assert alice_ticket.number in listing
    client.logout()
    page = login(client, people, "alice").get(f"/portale/ticket/{alice_ticket.number}/")
    assert 'id="charges"' not in page.content.decode()
    # Same organisation without the role: 403 (STYLE 2.8); another organisation: nothing.
    assert client.get("/portale/addebiti/").status_code == 403


def test_an_account_awaiting_approval_sees_no_ticket(client, people, alice_ticket):
    alice = people["alice"]
    alice.needs_review = True
    alice.save()
    login(client, people, "alice")
    page = client.get("/portale/")
    assert page.status_code == 200
    assert "in attesa di approvazione" in page.content.decode()
    assert alice_ticket.number not in page.content.decode()
    assert client.get(f"/portale/ticket/{alice_ticket.number}/").status_code == 404
    assert client.get("/portale/ticket/nuovo/").status_code == 200  # the "pending" page
    assert client.post("/portale/ticket/nuovo/", {"subject": "x"}).status_code == 200
    assert Ticket.objects.count() == 1


def test_signed_out_visitors_are_sent_to_the_login(client, alice_ticket):
    response = client.get(f"/portale/ticket/{alice_ticket.number}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_the_ticket_page_never_shows_internal_notes(client, people, alice_ticket):
    page = login(client, people, "alice").get(f"/portale/ticket/{alice_ticket.number}/")
    body = page.content.decode()
    assert "Non stampa." in body
    assert "NOTA-INTERNA" not in body
    assert "bounce.eml" not in body
    assert "foto.png" in body


def test_search_finds_public_text_but_not_internal_notes(client, people, alice_ticket):
    login(client, people, "alice")
    assert alice_ticket.number in client.get("/portale/?q=stampa").content.decode()
    assert alice_ticket.number not in client.get("/portale/?q=NOTA-INTERNA").content.decode()


def test_the_status_filter_answers_htmx_with_the_rows_only(client, people, alice_ticket):
    login(client, people, "alice")
    full = client.get("/portale/?status=active")
    assert "<html" in full.content.decode()
    partial = client.get("/portale/?status=active", HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and 'id="ticket-results"' in body
    assert alice_ticket.number in body
    assert "HX-Request" in partial["Vary"]
    closed = client.get("/portale/?status=closed", HTTP_HX_REQUEST="true").content.decode()
    assert alice_ticket.number not in closed


def test_the_list_page_size_can_be_chosen(client, people):
    for n in range(30):
        open_portal_ticket(people["alice"], subject=f"Richiesta {n}")
    login(client, people, "alice")
    assert client.get("/portale/").content.decode().count('data-label="Numero"') == 25
    assert client.get("/portale/?per_page=50").content.decode().count('data-label="Numero"') == 30


def test_it_opens_a_ticket_with_attachments_confirms_and_acknowledges(
    client, people, django_capture_on_commit_callbacks
):
    login(client, people, "alice")
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/portale/ticket/nuovo/",
            {
                "subject": "Il PC non si accende",
                "description": "Dopo il temporale non si accende più.",
                "category": "hardware",
                "priority": "high",
                "attachments": [
                    SimpleUploadedFile("foto.png", PNG, content_type="image/png"),
                    SimpleUploadedFile("log.txt", b"errore 42", content_type="text/plain"),
                ],
            },
        )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portale/ticket/{ticket.number}/ricevuto/"
    assert (ticket.channel, ticket.priority, ticket.category) == ("portal", "high", "hardware")
    assert ticket.contact == people["alice"] and ticket.organisation == people["org_a"]
    assert sorted(ticket.attachments.values_list("filename", "content_type")) == [
        ("foto.png", "image/png"),
        ("log.txt", "text/plain"),
    ]
    confirmation = client.get(response["Location"]).content.decode()
    assert ticket.number in confirmation
    (ack,) = mail.outbox
    assert ack.to == ["alice@alice.example.it"]
    assert ticket.number in ack.subject
    assert outbound.portal_link(ticket) in ack.body


@override_settings(SPORTELLO_UPLOAD_MAX_BYTES=100, SPORTELLO_UPLOAD_TYPES=[".png", ".pdf"])
def test_it_refuses_attachments_too_large_or_of_other_types(client, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, people, "alice")
    data = {"subject": "x", "description": "y", "category": "altro", "priority": "normal"}
    big = client.post(
        "/portale/ticket/nuovo/",
        {**data, "attachments": [SimpleUploadedFile("big.png", b"x" * 101)]},
    )
    assert "il limite è" in big.content.decode()
    exe = client.post(
        "/portale/ticket/nuovo/",
        {**data, "attachments": [SimpleUploadedFile("virus.exe", b"MZ")]},
    )
    assert "non possono essere allegati" in exe.content.decode()
    assert not Ticket.objects.exists()


def test_attachments_download_safely(client, people, alice_ticket):
    login(client, people, "alice")
    png = alice_ticket.attachments.get(filename="foto.png")
    shown = client.get(f"/portale/ticket/{alice_ticket.number}/allegati/{png.pk}/")
    assert shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"].startswith("inline")
    assert shown["X-Content-Type-Options"] == "nosniff"
    fake = tickets.attachment_add(
        ticket=alice_ticket,
        message=alice_ticket.messages.first(),
        filename="page.png",
        content=b"<html><script>alert(1)</script>",
        content_type="image/png",
    )
    svg = tickets.attachment_add(
        ticket=alice_ticket,
        message=alice_ticket.messages.first(),
        filename="x.svg",
        content=b"<svg onload='alert(1)'/>",
        content_type="image/svg+xml",
    )
    for item in (fake, svg):
        response = client.get(f"/portale/ticket/{alice_ticket.number}/allegati/{item.pk}/")
        assert response["Content-Disposition"].startswith("attachment")
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_an_attachment_of_an_internal_note_is_not_found(client, people, alice_ticket):
    login(client, people, "alice")
    bounce = Attachment.objects.get(filename="bounce.eml")
    url = f"/portale/ticket/{alice_ticket.number}/allegati/{bounce.pk}/"
    assert client.get(url).status_code == 404


def test_message_html_is_rendered_sanitised(client, people, alice_ticket):
    tickets.message_add(
        ticket=alice_ticket,
        message=MessageInput(
            kind="email",
            direction="out",
            html='<p onclick="x()">Ciao <b>Alice</b><script>alert(1)</script>'
            '<img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">x</a></p>',
        ),
    )
    body = login(client, people, "alice").get(f"/portale/ticket/{alice_ticket.number}/")
    html = body.content.decode()
    assert "<b>Alice</b>" in html
    for bad in ("<script>alert", "onclick", "tracker.example", "javascript:"):
        assert bad not in html


def test_a_reply_reopens_a_ticket_waiting_for_the_customer(client, people, alice_ticket):
    tickets.ticket_change_status(ticket=alice_ticket, status="waiting")
    login(client, people, "alice")
    response = client.post(
        f"/portale/ticket/{alice_ticket.number}/rispondi/", {"text": "Ecco il modello: HP 4000"}
    )
    assert response.status_code == 302
    alice_ticket.refresh_from_db()
    assert alice_ticket.status == Status.OPEN
    reply = Message.objects.filter(ticket=alice_ticket, text__contains="HP 4000").get()
    assert (reply.kind, reply.direction, reply.author_contact) == ("portal", "in", people["alice"])


def test_an_empty_reply_is_refused(client, people, alice_ticket):
    login(client, people, "alice")
    response = client.post(f"/portale/ticket/{alice_ticket.number}/rispondi/", {"text": " "})
    assert response.status_code == 400
    assert "Scrivete un messaggio" in response.content.decode()


def test_close_reopen_and_rate_once(client, people, alice_ticket):
    login(client, people, "alice")
    base = f"/portale/ticket/{alice_ticket.number}"
    client.post(f"{base}/chiudi/")
    alice_ticket.refresh_from_db()
    assert alice_ticket.status == Status.CLOSED
    assert TicketCharges.objects.get(ticket=alice_ticket).frozen
    client.post(f"{base}/riapri/")
    alice_ticket.refresh_from_db()
    assert alice_ticket.status == Status.OPEN
    # Not resolved: no rating yet.
    client.post(f"{base}/valuta/", {"rating": "5"})
    assert not TicketRating.objects.exists()
    tickets.ticket_change_status(ticket=alice_ticket, status="resolved")
    partial = client.post(
        f"{base}/valuta/", {"rating": "4", "comment": "Veloci"}, HTTP_HX_REQUEST="true"
    )
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode() and "4 su 5" in partial.content.decode()
    again = client.post(f"{base}/valuta/", {"rating": "1"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 400
    assert TicketRating.objects.get().rating == 4


def test_a_ticket_closed_long_ago_cannot_be_reopened(client, people, alice_ticket):
    from datetime import timedelta

    from django.utils import timezone

    tickets.ticket_change_status(ticket=alice_ticket, status="closed")
    Ticket.objects.filter(pk=alice_ticket.pk).update(closed_at=timezone.now() - timedelta(days=30))
    login(client, people, "alice")
    client.post(f"/portale/ticket/{alice_ticket.number}/riapri/")
    alice_ticket.refresh_from_db()
    assert alice_ticket.status == Status.CLOSED


def test_actions_answer_a_get_with_the_ticket_page(client, people, alice_ticket):
    login(client, people, "alice")
    response = client.get(f"/portale/ticket/{alice_ticket.number}/chiudi/")
    assert response.status_code == 302
    alice_ticket.refresh_from_db()
    assert alice_ticket.status != Status.CLOSED


def test_english_by_switch(client, people, alice_ticket):
    login(client, people, "alice")
    assert "I miei ticket" in client.get("/portale/").content.decode()
    assert "My tickets" in client.get("/en/portale/").content.decode()
    assert client.get(f"/en/portale/ticket/{alice_ticket.number}/").status_code == 200


# ---------------------------------------------------------------------------
# Public pages


def test_the_support_page_lists_the_channels_in_the_policy_order(client, db):
    page = client.get("/assistenza/").content.decode()
    channels = page[page.index('class="channels"') :]
    positions = [
        channels.index(s)
        for s in ("assistenza@init-s.it", "Registrati", "+39 0744 752000", "Altri canali")
    ]
    assert positions == sorted(positions)
    assert "09:00–13:00, 14:30–19:00" in page
    assert "Lunedì – Venerdì" in page
    assert "25,00\xa0€" in page


def test_the_tariff_on_the_support_page_comes_from_the_tariff_version(client, db):
    from sportello.billing.services import tariff_version_in_force

    version = tariff_version_in_force(on=__import__("datetime").date.today())
    version.call_fee = Decimal("30.00")
    version.written_low_percent = Decimal("20")
    version.save()
    page = client.get("/assistenza/").content.decode()
    assert "30,00\xa0€" in page and "25,00" not in page
    assert "20% della tariffa oraria" in page


def _listino_rows(page: str) -> list[tuple[str, str]]:
    """The (service, price) cells of the support page's tariff table, as shown."""
    import re
    from html import unescape

    table = page[page.index('<table class="tariff">') : page.index("</table>")]
    return [
        (unescape(label), unescape(re.sub(r"<[^>]+>", "", price)).strip())
        for label, price in re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", table)
    ]


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_support_page_shows_the_tariff_texts_listino_of_the_version_in_force(
    client, db, language
):
    """Issue 10: the labels and amounts are the tariff's own text (tariff.text.listino),
    not rebuilt by the portal; change the version's figures and the page follows."""
    import datetime

    from sportello.billing.services import tariff_version_in_force
    from sportello.tariff.text import listino

    version = tariff_version_in_force(on=datetime.date.today())
    version.phone_bands = [[10, "40"], [30, "80"]]
    version.over_step_minutes = 20
    version.written_low_max_messages = 2
    version.out_of_hours_factor = Decimal("1.25")
    version.leg_per_km = Decimal("0.80")
    version.district_comuni = "Terni\nNarni\nAmelia"
    version.save()
    prefix = "/en" if language == "en" else ""
    page = client.get(f"{prefix}/assistenza/").content.decode()
    expected = listino(version.to_params(), language, district=version.district_comune_list)
    assert _listino_rows(page) == [(row.label, row.price) for row in expected]
    shown = dict(_listino_rows(page))
    if language == "it":
        assert shown["oltre 10, fino a 30 minuti"] == "80% della tariffa oraria"
        assert shown["fino a 2 messaggi"] == "25% della tariffa oraria"
        assert shown["nel circondario (Terni, Narni, Amelia)"] == "50% della tariffa oraria"
        assert shown["Assistenza fuori dall'orario lavorativo"] == "+25% sul costo orario"
        assert "oltre 5, fino a 15 minuti" not in shown  # the policy's old phone band
    else:
        assert shown["over 30 minutes, for every further started 20 minutes"] == (
            "25% of the hourly rate"
        )
        assert shown["outside the district, by the one-way distance"] == "€0.80 per km"


def test_a_manager_sees_each_share_of_the_rate_in_euro_rounded_as_a_charge(client, people):
    from sportello.tariff.money import share_of_rate

    org = people["dora"].organisation
    org.hourly_rate = Decimal("33.33")
    org.save()
    page = login(client, people, "dora").get("/assistenza/").content.decode()
    shown = dict(_listino_rows(page))
    # 25% of 33.33 = 8.3325 -> 8,33 €; 50% = 16.665 -> 16,67 € (half up, as the quote).
    assert share_of_rate(Decimal("33.33"), Decimal(50)) == Decimal("16.67")
    assert shown["fino a 3 messaggi"] == "25% della tariffa oraria (8,33\xa0€)"
    assert shown["oltre 3 messaggi"] == "50% della tariffa oraria (16,67\xa0€)"


def test_a_contact_manager_sees_the_tariff_in_euro_at_the_agreed_rate(client, people):
    page = login(client, people, "dora").get("/assistenza/").content.decode()
    assert "15,00\xa0€" in page  # 25% of 60.00


def test_other_customers_see_the_percentages_but_not_the_agreed_rate(client, people):
    """Issue 15, finding 3: the agreed rate is shown to contact-managers only."""
    page = login(client, people, "alice").get("/assistenza/").content.decode()
    assert "15,00\xa0€" not in page and "60,00" not in page
    assert "25% della tariffa oraria" in page


def test_the_public_pages_load_nothing_from_other_sites(client, db):
    import re

    for url in ("/assistenza/", "/assistenza/contatti/", "/cookie/", "/privacy/",
                "/assistenza/init/", "/account/signup/", "/account/login/"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        refs = re.findall(r'(?:src|href)="(https?:)?//', page.content.decode())
        assert not refs, url


def test_the_cookie_page_lists_every_cookie_we_set(client, people, alice_ticket):
    page = client.get("/cookie/").content.decode()
    login(client, people, "alice")
    client.get("/portale/")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    for name in client.cookies:
        assert f"<code>{name}</code>" in page


def test_the_contact_form_files_a_non_billable_request(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/assistenza/contatti/",
            {
                "name": "Giulia Neri",
                "email": "giulia@example.org",
                "company": "Neri Snc",
                "phone": "0744 123456",
                "message": "Vorrei un preventivo per la manutenzione.",
                "privacy": "on",
            },
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.billable, ticket.non_billable_reason) == (
        "contact_form",
        False,
        "information",
    )
    assert "+390744123456" in ticket.messages.first().text
    assert mail.outbox[0].to == ["giulia@example.org"]


def test_the_contact_form_ignores_bots_filling_the_honeypot(client, db):
    response = client.post(
        "/assistenza/contatti/",
        {"name": "Bot", "email": "bot@example.org", "message": "buy", "privacy": "on",
         "website": "http://spam.example"},
    )  # fmt: skip
    assert response.status_code == 302
    assert not Ticket.objects.exists()


@override_settings(ACCOUNT_RATE_LIMITS={"portal_contact_form": "2/h/ip"})
def test_the_contact_form_is_rate_limited(client, db):
    data = {"name": "Giulia", "email": "g@example.org", "message": "Ciao", "privacy": "on"}
    assert [client.post("/assistenza/contatti/", data).status_code for _ in range(3)] == [
        302,
        302,
        429,
    ]
    assert Ticket.objects.count() == 2
