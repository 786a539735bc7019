"""Brute force on every login (issue 15, findings 2 and 6): per address first, per
account only at a much higher count, at the authentication layer."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from sportello.portal.tests.support import PASSWORD, portal_cast
from sportello.tickets.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN_PASSWORD = "Amministra-2026!"
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


@pytest.fixture(autouse=True)
def _no_failures_yet(settings):
    # A fast hasher: these tests type dozens of passwords, the default takes a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_user():
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    user.set_password(ADMIN_PASSWORD)
    user.save()
    return user


def admin_login(client, password, address):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": password},
        REMOTE_ADDR=address,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_login_refuses_an_address_after_ten_wrong_passwords(client, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="sportello.auth")
    for _ in range(10):
        assert admin_login(client, "sbagliata", ATTACKER).status_code == 200
    refused = admin_login(client, ADMIN_PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert not signed_in(client)
    page = refused.content.decode()
    assert "Troppi tentativi" in page and "riprova tra 5 minuti" in page
    failed = [r for r in caplog.records if r.getMessage() == "login failed"]
    assert len(failed) == 10 and failed[0].address == ATTACKER and failed[0].login == "admin"
    assert any(r.getMessage().startswith("login refused") for r in caplog.records)
    assert "sbagliata" not in caplog.text and ADMIN_PASSWORD not in caplog.text


def test_the_owner_signs_in_from_another_address_while_a_stranger_is_refused(client, admin_user):
    for _ in range(12):
        admin_login(client, "sbagliata", ATTACKER)
    response = admin_login(client, ADMIN_PASSWORD, OWNER)
    assert response.status_code == 302 and signed_in(client)


@override_settings(
    SPORTELLO_LOGIN_FAILURES_PER_ADDRESS="3/5m", SPORTELLO_LOGIN_FAILURES_PER_ACCOUNT="8/h"
)
def test_many_addresses_together_lock_the_account_only_at_the_higher_count(client, admin_user):
    for n in range(8):  # 8 addresses, each below its own limit of 3
        admin_login(client, "sbagliata", f"192.0.2.{n}")
    refused = admin_login(client, ADMIN_PASSWORD, OWNER)
    assert refused.status_code == 429 and not signed_in(client)


def test_any_login_form_using_django_auth_is_covered(admin_user):
    """The desk's login (django.contrib.auth's LoginView) calls authenticate() too."""
    request = RequestFactory().post("/desk/login/", REMOTE_ADDR=ATTACKER)
    for _ in range(10):
        assert authenticate(request, username="admin", password="sbagliata") is None
    assert authenticate(request, username="admin", password=ADMIN_PASSWORD) is None
    other = RequestFactory().post("/desk/login/", REMOTE_ADDR=OWNER)
    assert authenticate(other, username="admin", password=ADMIN_PASSWORD) == admin_user


def portal_login(client, password, address):
    return client.post(
        "/account/login/",
        {"login": "alice@alice.example.it", "password": password},
        REMOTE_ADDR=address,
    )


def test_the_portal_owner_is_not_locked_out_by_a_strangers_wrong_passwords(client):
    portal_cast()
    for _ in range(6):
        portal_login(client, "sbagliata", ATTACKER)
    response = portal_login(client, PASSWORD, OWNER)
    assert response.status_code == 302 and signed_in(client)


def test_the_portal_refuses_the_guessing_address_in_italian(client):
    portal_cast()
    for _ in range(10):
        portal_login(client, "sbagliata", ATTACKER)
    refused = portal_login(client, PASSWORD, ATTACKER)
    assert not signed_in(client)
    assert refused.status_code in (200, 429)
    assert "Troppi" in refused.content.decode() or "troppi" in refused.content.decode()


def test_allauths_rate_limits_answer_with_our_page_in_italian(client, db, settings):
    """The 429 page was English on the Italian site (issue 15)."""
    settings.ACCOUNT_RATE_LIMITS = {"signup": "0/h/ip"}
    response = client.post("/account/signup/", {"email": "x@example.org"})
    assert response.status_code == 429
    page = response.content.decode()
    assert '<html lang="it">' in page and "Hai inviato troppe richieste" in page
    assert "Too Many Requests" not in page
