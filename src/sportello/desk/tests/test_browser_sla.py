"""SLA badges in a queue and the dashboard in a real browser (Debian's chromium, Playwright)
against ``sportello serve`` on loopback, at 1280 px and on a 360 px phone. Screenshots
under test-artifacts/desk-browser-sla/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from sportello.portal.tests.browser import A11Y_AUDIT, free_port

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "desk-browser-sla"
PASSWORD = "Desk-browser-2026!"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SPORTELLO_SMTP_BIND", "SPORTELLO_LMTP_BIND")
    }
    env.update(
        SPORTELLO_DATA_DIR=str(tmp_path_factory.mktemp("sla-server")),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        SPORTELLO_SITE_URL=url,
        SPORTELLO_HUEY_IMMEDIATE="1",
        SPORTELLO_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="sportello.settings",
    )

    def manage(*args, code=None):
        cmd = [sys.executable, "-m", "sportello", *args]
        if code:
            cmd += ["-c", textwrap.dedent(code)]
        done = subprocess.run(cmd, env=env, timeout=180, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "-v0")
    manage(
        "shell",
        code=f"""
        from datetime import timedelta
        from decimal import Decimal
        from django.contrib.auth import get_user_model
        from django.utils import timezone
        from sportello.customers.models import Contact, ContactEmail, Organisation
        from sportello.sla.models import SlaPolicy
        from sportello.staff.models import Agent, Role, Team
        from sportello.staff.services import agent_save
        from sportello.tickets.inputs import MessageInput
        from sportello.tickets.services import (
            intervention_add, ticket_assign, ticket_change_status, ticket_open)
        SlaPolicy.objects.create(name="Urgente", priority="urgent", response_minutes=60,
                                 resolution_minutes=510)
        # A target far away, warned after 1%: a ticket of ten days ago is "about to breach".
        SlaPolicy.objects.create(name="Normale", priority="normal", resolution_minutes=50000,
                                 warn_percent=1)
        SlaPolicy.objects.create(name="Bassa", priority="low", resolution_minutes=50000)
        org = Organisation.objects.create(name="Studio Rossi S.r.l.", hourly_rate=Decimal("60"))
        alice = Contact.objects.create(organisation=org, first_name="Alice", last_name="Rossi")
        ContactEmail.objects.create(contact=alice, address="alice@studio-rossi.example.it",
                                    primary=True)
        team = Team.objects.create(name="Sistemi")
        users = {{}}
        for name, role in (("bob", Role.AGENT), ("carla", Role.BILLING)):
            user = get_user_model().objects.create_user(
                name, f"{{name}}@init-s.it", "{PASSWORD}", first_name=name.title())
            users[name] = agent_save(agent=Agent(user=user, role=role, team=team))
        now = timezone.now()
        def opened(subject, priority, days):
            return ticket_open(subject=subject, channel="email", contact=alice,
                               message=MessageInput(text="Testo",
                                                    sender="alice@studio-rossi.example.it"),
                               priority=priority,
                               created_at=now - timedelta(days=days))
        late = opened("Server fermo, nessuna risposta", "urgent", 20)
        warn = opened("Backup lento da giorni", "normal", 10)
        fine = opened("Nuova stampante da configurare", "low", 0)
        paused = opened("Attendiamo la password del Wi-Fi", "low", 3)
        ticket_change_status(ticket=paused, status="waiting")
        done = opened("Posta non sincronizzata", "low", 2)
        ticket_change_status(ticket=done, status="resolved")
        ticket_assign(ticket=late, assignee=users["bob"])
        ticket_assign(ticket=warn, assignee=users["bob"])
        intervention_add(ticket=warn, kind="phone", started_at=now, duration_seconds=300,
                         technician=users["bob"])
        intervention_add(ticket=late, kind="remote", started_at=now, duration_seconds=1800,
                         technician=users["bob"])
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "sportello", "serve", "--bind", f"127.0.0.1:{port}",
         "--no-migrate", "--no-worker", "--web-workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("sportello serve did not answer /health within 30 s")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def shots():
    folder = ARTIFACTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_sla_badges_and_the_dashboard(browser, server, shots, device):
    url = server
    context = browser.new_context(viewport=VIEWPORTS[device], locale="it-IT")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{url}/desk/login/")
    page.get_by_label("Nome utente").fill("carla")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(re.compile(r"/desk/$"))

    page.goto(f"{url}/desk/?queue=all&sort=due")
    rows = page.locator("table.tickets tr[data-row]")
    assert rows.count() == 5
    # Due first: the breached one on top, its badge in words.
    assert "Server fermo" in rows.nth(0).inner_text()
    assert rows.nth(0).locator(".sla-breached").inner_text().strip().endswith("violato")
    assert rows.filter(has_text="Backup lento").locator(".sla-warning").is_visible()
    assert rows.filter(has_text="Attendiamo").get_by_text("in pausa").is_visible()
    assert rows.filter(has_text="Posta non").locator(".sla-met").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-queue-sla.png"), full_page=True)

    page.locator("header").get_by_role("link", name="Cruscotto").click()
    page.wait_for_url(re.compile(r"/desk/dashboard/"))
    assert page.get_by_role("heading", name="Cruscotto").is_visible()
    assert page.locator("#h-unbilled").is_visible()  # carla bills
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-dashboard.png"), full_page=True)
    # The breach count leads to the queue of breached tickets.
    page.get_by_role("link", name=re.compile("SLA violato")).click()
    page.wait_for_url(re.compile(r"sla=breached"))
    rows = page.locator("table.tickets tr[data-row]")
    assert rows.count() == 1 and "Server fermo" in rows.first.inner_text()

    page.goto(f"{url}/desk/dashboard/")
    page.get_by_role("link", name=re.compile("chiamate")).click()
    page.wait_for_url(re.compile(r"work=phone"))
    rows = page.locator("table.tickets tr[data-row]")
    assert rows.count() == 1 and "Backup lento" in rows.first.inner_text()

    page.goto(f"{url}/desk/?queue=all")
    page.get_by_role("link", name="Server fermo, nessuna risposta").click()
    page.locator("#h-sla").wait_for()  # the ticket's page, once it has loaded
    page.screenshot(path=str(shots / f"{device}-ticket-sla.png"), full_page=True)
    assert errors == []
    context.close()
