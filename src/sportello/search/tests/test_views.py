"""The search page at /desk/search/: HTML, the htmx partial, JSON, and who may use it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from sportello.customers.models import Contact
from sportello.search.models import SearchDocument
from sportello.search.selectors import ticket_search
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Ticket
from sportello.tickets.services import ticket_open
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db

URL = "/desk/search/"


@pytest.fixture
def people():
    return cast()


@pytest.fixture
def agent_client(client, people):
    client.force_login(people["bob"].user)
    return client


def test_the_url_is_named_and_sits_under_the_desk():
    assert reverse("search:results") == URL


def test_an_agent_sees_ranked_highlighted_results_in_italian(agent_client, people):
    ticket_open(
        subject="La stampante <b>non</b> stampa",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="Da stamattina la stampante è ferma."),
    )
    response = agent_client.get(URL, {"q": "stampanti"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<mark>stampante</mark>" in page
    assert "&lt;b&gt;non&lt;/b&gt;" in page  # the subject's markup is text, not HTML
    assert "1 ticket trovato" in page
    assert response["Cache-Control"] == "private, no-store"


def test_a_ticket_number_redirects_to_the_ticket(agent_client, people):
    t = ticket_open(
        subject="Monitor",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="nero"),
    )
    response = agent_client.get(URL, {"q": t.number})
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:ticket", kwargs={"pk": t.pk})


def test_htmx_gets_the_partial_and_json_the_data(agent_client, people):
    t = ticket_open(
        subject="Backup fallito",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="x"),
    )
    partial = agent_client.get(URL, {"q": "backup"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.startswith('<section id="search-results"') and "<html" not in body
    data = agent_client.get(URL, {"q": "backup", "format": "json"}).json()
    assert data["mode"] == "text" and data["total"] == 1
    assert data["results"][0]["number"] == t.number
    assert data["results"][0]["subject_html"] == "<mark>Backup</mark> fallito"
    number = agent_client.get(URL, {"q": t.number, "format": "json"}).json()
    assert number["redirect"] == reverse("desk:ticket", kwargs={"pk": t.pk})


def test_a_bad_filter_is_explained_not_a_crash(agent_client):
    response = agent_client.get(URL, {"q": "x", "status": "boh"})
    assert response.status_code == 400
    assert "Stato sconosciuto" in response.content.decode() or "boh" in response.content.decode()
    response = agent_client.get(URL, {"q": "x", "team": "uno", "format": "json"})
    assert response.status_code == 400
    assert "team" in response.json()["error"]


@pytest.mark.parametrize("typed", ['"', "-", "a AND", "NOT", "'%_", "x" * 3000, "\x00"])
def test_hostile_input_answers_200(agent_client, typed):
    assert agent_client.get(URL, {"q": typed}).status_code == 200
    assert agent_client.get(URL, {"q": typed, "page": "99999999999"}).status_code == 200


def test_customers_get_403_and_strangers_the_login(client, people):
    ticket_open(
        subject="Stampante",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="x"),
    )
    response = client.get(URL, {"q": "stampante"})
    assert response.status_code == 302 and "/desk/login/" in response["Location"]
    alice = User.objects.create_user("alice-portal", "alice@alice.example.it", "x")
    Contact.objects.filter(pk=people["alice"].pk).update(user=alice)
    client.force_login(alice)
    response = client.get(URL, {"q": "stampante"})
    assert response.status_code == 403
    assert "Stampante" not in response.content.decode()


def test_bench_data_leaves_a_searchable_index(people):
    call_command("bench_data", tickets=200, organisations=5, no_progress=True)
    assert SearchDocument.objects.count() == Ticket.objects.count()
    found = ticket_search(user=people["bob"].user, q="stampanti")
    assert found.total > 0
    assert all("tampant" in h.subject_html.lower() + h.snippet_html for h in found.hits)
