"""SPORTELLO_SITE_URL: unset, it follows where the web server listens; production insists."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sportello.core.siteurl import site_url_for_bind

SPORTELLO = [sys.executable, "-m", "sportello"]
PRINT_SITE_URL = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SPORTELLO_SITE_URL)"
)


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("0.0.0.0:8000", "http://127.0.0.1:8000"),  # noqa: S104
        ("[::]:9000", "http://127.0.0.1:9000"),
        ("[::1]:9000", "http://[::1]:9000"),
        ("helpdesk.lan:80", "http://helpdesk.lan:80"),
    ],
)
def test_it_builds_an_address_people_can_open_from_the_bind(bind, url):
    assert site_url_for_bind(bind) == url


def site_url_in(tmp_path, **env) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SPORTELLO_")}
    full.update(SPORTELLO_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="sportello.settings")
    full.update(env)
    out = subprocess.run(
        [sys.executable, "-c", PRINT_SITE_URL], env=full, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_it_follows_sportello_bind_when_unset_and_wins_when_set(tmp_path):
    assert site_url_in(tmp_path) == "http://127.0.0.1:8000"
    assert site_url_in(tmp_path, SPORTELLO_BIND="127.0.0.1:8123") == "http://127.0.0.1:8123"
    assert (
        site_url_in(
            tmp_path, SPORTELLO_BIND="127.0.0.1:8123", SPORTELLO_SITE_URL="https://a.example.it/"
        )
        == "https://a.example.it"
    )


def deploy_check(tmp_path, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SPORTELLO_")}
    full.update(
        SPORTELLO_DATA_DIR=str(tmp_path),
        SECRET_KEY="a-long-random-production-key-" + "x7Qz9" * 10,
        ALLOWED_HOSTS="assistenza.example.it",
        SPORTELLO_HTTPS="1",
    )
    full.update(env)
    return subprocess.run(
        [*SPORTELLO, "check", "--deploy", "--fail-level", "WARNING"],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_insists_on_the_site_url_in_production(tmp_path):
    missing = deploy_check(tmp_path)
    assert missing.returncode != 0
    assert "sportello.E001" in missing.stderr and "SPORTELLO_SITE_URL is not set" in missing.stderr
    plain = deploy_check(tmp_path, SPORTELLO_SITE_URL="http://assistenza.example.it")
    assert plain.returncode != 0 and "sportello.E003" in plain.stderr
    good = deploy_check(tmp_path, SPORTELLO_SITE_URL="https://assistenza.example.it")
    assert good.returncode == 0, good.stderr
