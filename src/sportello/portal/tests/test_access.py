"""Charlie (org B) must never reach Alice's (org A) tickets, messages, attachments or
charges: every portal URL with an id in it answers 404 to him, for GET and POST.

The URLs come from the URL conf, not from a list written by hand: a new id URL is
tested the day it is added, and one whose kwargs this test cannot fill fails loudly.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sportello.tickets import services as tickets
from sportello.tickets.models import Message, Status

from .support import open_portal_ticket

pytestmark = pytest.mark.django_db


def portal_id_routes() -> list[tuple[str, set[str]]]:
    """(name, kwargs) of every pattern of the "portal" namespace that takes kwargs."""
    found = []

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace == "portal":
                kwargs = set(p.pattern.converters)
                if kwargs:
                    found.append((p.name, kwargs))

    walk(get_resolver().url_patterns, None)
    return sorted(found)


ROUTES = portal_id_routes()


def test_the_url_conf_has_the_id_urls_we_expect_to_guard():
    names = {name for name, _kwargs in ROUTES}
    assert {"ticket", "ticket_reply", "ticket_close", "ticket_rate", "attachment"} <= names


@pytest.fixture
def alice_ids(people):
    ticket = open_portal_ticket(people["alice"])
    message = ticket.messages.first()
    attachment = tickets.attachment_add(
        ticket=ticket, message=message, filename="a.pdf", content=b"%PDF-1.4 Alice"
    )
    tickets.ticket_change_status(ticket=ticket, status=Status.RESOLVED)
    return {"number": ticket.number, "pk": attachment.pk, "ticket": ticket}


@pytest.mark.parametrize("name,kwargs", ROUTES, ids=[name for name, _kw in ROUTES])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_charlie_gets_404_for_every_id_url_of_alice(client, people, alice_ids, name, kwargs,
                                                    method, prefix):  # fmt: skip
    unknown = kwargs - {"number", "pk"}
    assert not unknown, f"teach this test the kwargs {unknown} of portal:{name}"
    url = prefix + reverse(f"portal:{name}", kwargs={k: alice_ids[k] for k in kwargs})
    if prefix:
        url = url.replace("/en/en/", "/en/")
    client.force_login(people["charlie_user"])
    before = Message.objects.count()
    response = getattr(client, method)(url, {"text": "Charlie was here", "rating": "1"})
    assert response.status_code == 404, f"{method.upper()} {url}"
    assert Message.objects.count() == before
    ticket = alice_ids["ticket"]
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert not hasattr(ticket, "rating")


def test_alice_reaches_the_same_urls(client, people, alice_ids):
    client.force_login(people["alice_user"])
    for name, kwargs in ROUTES:
        url = reverse(f"portal:{name}", kwargs={k: alice_ids[k] for k in kwargs})
        assert client.get(url).status_code in (200, 302), url
