"""Fixtures every app's tests share. Helpers that tests import (waiting on a condition,
a child process's output and environment, a loopback SMTP server) live in
``sportello.core.testenv``; the factories in ``sportello.tickets.tests.factories``."""

from __future__ import annotations

import pytest

from sportello.core.testenv import Capture, Loopback


@pytest.fixture
def people(db):
    """The cast (STYLE 1.1): Alice (customer of org A), Bob (agent), Charlie (org B)."""
    from sportello.tickets.tests.factories import cast  # after Django is set up

    return cast()


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback that Django's SMTP backend sends to; it keeps
    every message (``smtp.mail``, ``smtp.to(address)``)."""
    handler = Capture()
    server = Loopback(handler)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.SPORTELLO_SITE_URL = "https://assistenza.init-s.it"
    yield handler
    server.stop()


# The browser tests drive Debian's chromium, never a browser Playwright downloads.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
