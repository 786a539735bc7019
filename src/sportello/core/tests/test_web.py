from __future__ import annotations

import json

import pytest
from django.test import override_settings

from sportello.tickets.inputs import MessageInput


@pytest.mark.django_db
def test_health_answers_ok_without_login(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "queue": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_names_the_queue_when_it_is_down(client, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def broken():
        raise OSError("queue file unreadable")

    monkeypatch.setattr(HUEY.storage, "queue_size", broken)
    response = client.get("/health")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"] == {"database": "ok", "queue": "error"}


@pytest.mark.django_db
def test_error_pages_speak_italian_by_default_and_english_on_request(client):
    italian = client.get("/non-esiste/")
    assert italian.status_code == 404
    assert "Pagina non trovata" in italian.content.decode()
    english = client.get("/en/does-not-exist/")
    assert english.status_code == 404
    assert "Page not found" in english.content.decode()


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_crash_shows_our_500_page(client, monkeypatch):
    from sportello.core import views

    def boom(request):
        raise RuntimeError("bug")

    monkeypatch.setattr(views.SupportSettings, "load", classmethod(lambda cls: boom(None)))
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert "Errore del server" in response.content.decode()


@pytest.mark.django_db
def test_home_lists_the_official_channels_in_the_policy_order(client):
    page = client.get("/").content.decode()
    assert page.index("assistenza@init-s.it") < page.index("+39 0744 752000")
    assert "Accesso operatori" in page


@pytest.mark.django_db
def test_the_admin_is_in_italian_and_english(client, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "pw-Secret-1")
    client.login(username="root", password="pw-Secret-1")
    assert "Ticket" in client.get("/admin/").content.decode()
    assert "Organizzazioni" in client.get("/admin/").content.decode()
    assert "Organisations" in client.get("/en/admin/").content.decode()


@pytest.mark.django_db
def test_the_ticket_admin_explains_each_charge(client, django_user_model):
    from sportello.tickets import services
    from sportello.tickets.tests.factories import cast

    people = cast()
    ticket = services.ticket_open(
        subject="Stampante",
        channel="whatsapp",
        contact=people["alice"],
        message=MessageInput(text="Aiuto"),
    )
    django_user_model.objects.create_superuser("root", "root@example.com", "pw-Secret-1")
    client.login(username="root", password="pw-Secret-1")
    page = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert "Diritto di chiamata" in page
    assert "40,00 €" in page  # the tariff's money format (issue 14), not "€ 40.00"


@pytest.mark.django_db
def test_agents_read_the_conversation_with_quotes_folded_and_images_inline(
    client, django_user_model
):
    from sportello.tickets import services
    from sportello.tickets.tests.factories import cast

    people = cast()
    ticket = services.ticket_open(
        subject="Stampante",
        channel="email",
        contact=people["alice"],
        message=MessageInput(
            text="Ancora guasta.\n\nIl giorno lun 2 mar 2026 alle 10:00 Assistenza ha scritto:\n"
            "> Avete provato a riavviarla?\n",
            html='<p>Ancora guasta.</p><img src="cid:foto1@alice">',
        ),
    )
    message = ticket.messages.get()
    image = services.attachment_add(
        ticket=ticket,
        message=message,
        filename="foto.png",
        content=b"\x89PNG\r\n\x1a\n fake",  # the signature: shown inline
        content_type="image/png",
        content_id="foto1@alice",
        inline=True,
    )
    services.message_add(
        ticket=ticket,
        message=MessageInput(kind="internal_note", direction="out", text="Cliente da richiamare"),
    )
    django_user_model.objects.create_superuser("root", "root@example.com", "pw-Secret-1")
    client.login(username="root", password="pw-Secret-1")
    page = client.get(f"/en/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert "Ancora guasta." in page
    folded = page.index("Show quoted text")
    assert page.index("Avete provato a riavviarla?") > folded
    assert f'src="/desk/attachment/{image.pk}/"' in page
    assert "Cliente da richiamare" in page
    picture = client.get(f"/desk/attachment/{image.pk}/")
    assert picture["Content-Type"] == "image/png"
    assert picture["X-Content-Type-Options"] == "nosniff"
    client.logout()
    assert client.get(f"/desk/attachment/{image.pk}/").status_code == 302
