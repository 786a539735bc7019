"""Content-Security-Policy on every page and no caching of private pages (issue 15,
finding 8), checked over HTTP and over every template we ship."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from sportello.portal.tests.support import open_portal_ticket, portal_cast
from sportello.tickets import services as tickets

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def people(db):
    people = portal_cast()
    ticket = open_portal_ticket(people["alice"], subject="Stampante guasta")
    people["ticket"] = ticket
    people["attachment"] = tickets.attachment_add(
        ticket=ticket,
        message=ticket.messages.first(),
        filename="foto.png",
        content=PNG,
        content_type="image/png",
    )
    admin = get_user_model().objects.create_superuser("root", "root@init-s.it", "x")
    people["admin_user"] = admin
    return people


def test_every_html_page_sends_a_strict_policy(client, people):
    for url in ("/assistenza/", "/account/login/", "/account/signup/", "/admin/login/",
                "/pagina-che-non-esiste/"):  # fmt: skip
        response = client.get(url)
        assert response["Content-Type"].startswith("text/html"), url
        rules = policy(response)
        assert rules["default-src"] == ["'self'"], url
        assert rules["script-src"] == ["'self'"], url
        assert rules["style-src"] == ["'self'"], url
        assert rules["object-src"] == ["'none'"] and rules["frame-ancestors"] == ["'none'"]
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_downloads_keep_their_own_stricter_policy(client, people):
    client.force_login(people["alice_user"])
    ticket, attachment = people["ticket"], people["attachment"]
    response = client.get(f"/portale/ticket/{ticket.number}/allegati/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_no_template_of_ours_has_inline_script_style_or_handlers():
    patterns = [
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
        re.compile(r"<style\b", re.I),
        re.compile(r"\sstyle\s*=", re.I),
        re.compile(r"\son[a-z]+\s*=", re.I),
    ]
    offenders = []
    for path in SRC.rglob("templates/**/*.html"):
        text = path.read_text()
        for pattern in patterns:
            if pattern.search(text):
                offenders.append(f"{path.relative_to(SRC)}: {pattern.pattern}")
    assert offenders == []


def test_every_page_behind_a_login_is_private_and_not_stored(client, people):
    ticket, attachment = people["ticket"], people["attachment"]
    client.force_login(people["dora_user"])  # contact-manager: the charges page too
    for url in ("/portale/", f"/portale/ticket/{ticket.number}/", "/portale/addebiti/",
                "/portale/ticket/nuovo/", "/portale/account/", "/account/email/", "/account/2fa/",
                f"/portale/ticket/{ticket.number}/allegati/{attachment.pk}/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url
    client.force_login(people["admin_user"])
    for url in ("/admin/", f"/admin/tickets/ticket/{ticket.pk}/change/",
                f"/desk/attachment/{attachment.pk}/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_public_pages_may_be_cached(client, people):
    assert "no-store" not in client.get("/assistenza/").get("Cache-Control", "")


@pytest.mark.parametrize(
    ("declared", "content", "inline"),
    [
        ("image/png", PNG, True),
        ("image/png", b"<html><script>alert(1)</script></html>", False),
        ("image/jpeg", b"%PDF-1.4 not a picture", False),
        ("image/svg+xml", b"<svg onload='alert(1)'/>", False),
    ],
)
def test_staff_see_inline_only_what_the_bytes_prove_is_an_image(
    client, people, declared, content, inline
):
    """Issue 15, finding 10: the type a sender declared is not proof."""
    attachment = tickets.attachment_add(
        ticket=people["ticket"], filename="foto.png", content=content, content_type=declared
    )
    client.force_login(people["admin_user"])
    response = client.get(f"/desk/attachment/{attachment.pk}/")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    if inline:
        assert response["Content-Type"] == declared and disposition.startswith("inline")
    else:
        assert response["Content-Type"] == "application/octet-stream"
        assert disposition.startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
