"""Replies have a size and a rate limit, CR/LF in subjects and names never break the
acknowledgement, and the upload limit is told in words that add up (issue 15: 7, 11)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from sportello.errors import SportelloError
from sportello.portal import services
from sportello.tickets.models import Direction, Message, Ticket

from .support import open_portal_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(people):
    return open_portal_ticket(people["alice"], subject="Stampante guasta")


def reply(client, ticket, text):
    return client.post(f"/portale/ticket/{ticket.number}/rispondi/", {"text": text})


def test_a_reply_of_two_megabytes_is_refused_with_a_clear_message(client, people, ticket):
    client.force_login(people["alice_user"])
    before = ticket.messages.count()
    response = reply(client, ticket, "A" * 2_000_000)
    assert response.status_code == 400
    page = response.content.decode()
    assert "lungo 2.000.000 caratteri" in page and "il limite è 20.000" in page
    assert "allega il testo come file" in page
    assert ticket.messages.count() == before
    assert reply(client, ticket, "A" * 20_000).status_code == 302


def test_a_new_ticket_description_has_the_same_limit(client, people):
    client.force_login(people["alice_user"])
    response = client.post(
        "/portale/ticket/nuovo/",
        {"subject": "x", "description": "B" * 20_001, "category": "altro", "priority": "normal"},
    )
    assert response.status_code == 200 and "il limite è 20.000" in response.content.decode()
    assert not Ticket.objects.filter(subject="x").exists()


def test_the_service_refuses_too_long_text_whoever_calls_it(people, ticket):
    with pytest.raises(SportelloError) as error:
        services.portal_reply(
            user=people["alice_user"], contact=people["alice"], ticket=ticket, text="C" * 20_001
        )
    assert error.value.field == "text"


@override_settings(ACCOUNT_RATE_LIMITS={"portal_reply": "3/h/user"})
def test_replies_are_rate_limited_per_account(client, people, ticket):
    client.force_login(people["alice_user"])
    for n in range(3):
        assert reply(client, ticket, f"Risposta {n}").status_code == 302
    limited = reply(client, ticket, "Risposta 4")
    assert limited.status_code == 429
    assert "molte risposte in poco tempo" in limited.content.decode()
    assert not Message.objects.filter(text="Risposta 4").exists()


def test_the_agents_answer_in_the_admin_has_the_limit_too(
    client, people, ticket, django_user_model
):
    admin = django_user_model.objects.create_superuser("root", "root@init-s.it", "x")
    client.force_login(admin)
    url = f"/admin/tickets/ticket/{ticket.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not hasattr(v, "pk")}
    form = type(form)(instance=ticket, data={**data, "reply": "D" * 20_001})
    assert not form.is_valid()
    assert "il limite è 20.000" in " ".join(form.errors["reply"])


@override_settings(SPORTELLO_UPLOAD_MAX_BYTES=10 * 1024 * 1024)
def test_a_file_a_few_bytes_over_the_limit_is_told_in_bytes(client, people):
    client.force_login(people["alice_user"])
    big = SimpleUploadedFile("scansione.pdf", b"x" * (10 * 1024 * 1024 + 10))
    response = client.post(
        "/portale/ticket/nuovo/",
        {"subject": "x", "description": "y", "category": "altro", "priority": "normal",
         "attachments": [big]},
    )  # fmt: skip
    page = response.content.decode()
    assert "10.485.770 byte" in page and "il limite è 10.485.760 byte" in page
    assert "10,0 MB; il limite è 10,0 MB" not in page


def test_line_breaks_in_a_subject_never_break_the_acknowledgement(
    client, people, settings, tmp_path, django_capture_on_commit_callbacks
):
    """Issue 15, finding 7: the file backend left an empty file and no mail was sent."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    ticket = open_portal_ticket(people["alice"], subject="Stampante\r\nBcc: tutti@evil.example")
    with django_capture_on_commit_callbacks(execute=True):
        from sportello.mail import outbound

        outbound.answer_new_ticket(ticket=ticket, to="alice@alice.example.it", texts=("x",))
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].stat().st_size > 0
    headers = files[0].read_text().split("\n\n", 1)[0]
    assert "Subject: [Ticket#" in headers and "Stampante Bcc: tutti@evil.example" in headers
    assert "\nBcc:" not in headers
    ack = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    assert ack.delivery_status == "sent"


def test_line_breaks_in_the_contact_forms_name_never_break_the_acknowledgement(
    client, db, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.contact_request_file(
            name="Mario\nRossi", email="mario@example.org", message="Vorrei un preventivo."
        )
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert "Mario Rossi" in files[0].read_text()
    assert ticket.messages.get(direction=Direction.OUTBOUND).delivery_status == "sent"
