"""Staff sessions end when idle; customers keep theirs (issue 15, finding 9)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from sportello.portal.tests.support import portal_cast
from sportello.staff.middleware import LAST_SEEN

pytestmark = pytest.mark.django_db


def age_session(client, seconds):
    session = client.session
    session[LAST_SEEN] = time.time() - seconds
    session.save()


def test_an_idle_staff_session_ends_and_asks_for_the_login_again(client, settings):
    settings.SPORTELLO_STAFF_IDLE_TIMEOUT = 600
    people = portal_cast()
    client.force_login(people["bob"].user)
    assert client.get("/admin/").status_code == 200
    assert client.session.get_expiry_age() == 600
    age_session(client, 599)
    assert client.get("/admin/").status_code == 200  # still within the timeout
    age_session(client, 601)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session


def test_a_customer_keeps_the_usual_session_length(client, settings):
    settings.SPORTELLO_STAFF_IDLE_TIMEOUT = 600
    people = portal_cast()
    client.force_login(people["alice_user"])
    age_session(client, 3600)
    assert client.get("/portale/").status_code == 200
    assert "_auth_user_id" in client.session
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_the_default_timeout_is_half_an_hour():
    assert settings.SPORTELLO_STAFF_IDLE_TIMEOUT == 1800
