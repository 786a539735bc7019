"""Prepaid hours in a real browser (Debian's chromium via Playwright) against
``sportello serve`` on loopback: a billing user opens an organisation's monte ore from
the month close, records a bundle, and reads balance and movements; on a 1280 px window
and on a 360 px phone. Screenshots under test-artifacts/prepaid-browser/; every page
passes the portal's accessibility audit."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from sportello.portal.tests.browser import A11Y_AUDIT

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "prepaid-browser"
PASSWORD = "Prepaid-browser-2026!"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


def loopback_port() -> int:
    """A free port of 18700-18799 (the range this suite's servers use), else any."""
    for port in range(18700, 18800):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = loopback_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SPORTELLO_SMTP_BIND", "SPORTELLO_LMTP_BIND")
    }
    env.update(
        SPORTELLO_DATA_DIR=str(tmp_path_factory.mktemp("prepaid-server")),
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
        from datetime import date, datetime, timedelta
        from decimal import Decimal
        from zoneinfo import ZoneInfo
        from django.contrib.auth import get_user_model
        from sportello.billing import prepaid, statements as st
        from sportello.customers.models import Contact, ContactEmail, Organisation
        from sportello.staff.models import Agent, Role, Team
        from sportello.staff.services import agent_save
        from sportello.tickets import services as t
        from sportello.tickets.inputs import MessageInput
        org = Organisation.objects.create(name="Studio Rossi S.r.l.", hourly_rate=Decimal("60.00"),
            vat_number="01234567897", sdi_code="M5UXCR1", address="Via Roma 1", postcode="05100",
            comune="Terni", province="TR")
        alice = Contact.objects.create(organisation=org, first_name="Alice", last_name="Rossi")
        ContactEmail.objects.create(contact=alice, address="alice@studio-rossi.example.it",
                                    primary=True)
        team = Team.objects.create(name="Sistemi")
        carla = get_user_model().objects.create_user(
            "carla", "carla@init-s.it", "{PASSWORD}", first_name="Carla")
        agent_save(agent=Agent(user=carla, role=Role.BILLING, team=team))
        rome = ZoneInfo("Europe/Rome")
        prepaid.bundle_buy(organisation=org, hours="3", purchased_on=date(2026, 10, 1),
                           reference="FT 2026/0042")
        for day, minutes in ((3, 40), (10, 70), (17, 50)):
            when = datetime(2026, 11, day, 10, tzinfo=rome)
            ticket = t.ticket_open(subject=f"Assistenza remota del {{day}}/11", channel="email",
                                   message=MessageInput(text="Il PC non si avvia."),
                                   contact=alice, created_at=when)
            t.intervention_add(ticket=ticket, kind="remote", started_at=when,
                               duration_seconds=minutes * 60)
            t.ticket_change_status(ticket=ticket, status="closed", when=when + timedelta(hours=2))
        draft = st.statement_draft(organisation=org, period=date(2026, 11, 1)).statement
        st.statement_issue(statement=draft, issue_date=date(2026, 12, 1))
        print(org.pk)
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "sportello", "serve", "--bind", f"127.0.0.1:{port}",
         "--no-migrate", "--no-worker", "--web-workers", "1"],
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
    yield {"url": url}
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
def test_a_billing_user_records_a_bundle_and_reads_the_balance(browser, server, shots, device):
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
    page.goto(f"{server['url']}/desk/login/")
    page.get_by_label("Nome utente").fill("carla")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(re.compile(r"/desk/$"))
    page.goto(f"{server['url']}/desk/billing/?month=2026-11")
    page.get_by_role("link", name="Monte ore").click()
    page.wait_for_url(re.compile(r"/desk/billing/prepaid/$"))
    assert page.locator(".billing table", has_text="Studio Rossi S.r.l.").is_visible()
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-1-list.png"), full_page=True)

    page.get_by_role("link", name="Studio Rossi S.r.l.").click()
    page.wait_for_url(re.compile(r"/desk/billing/prepaid/\d+/$"))
    balance = page.locator(".prepaid-balance")
    before = balance.inner_text()
    # 3 h bought; November's three remote sessions used 60 + 75 + 60 = 195.00 of 180.00.
    assert "0,00 h" in before or device == "phone"
    page.get_by_label("Ore (se acquistato in ore)").fill("5")
    page.get_by_label("Riferimento (per esempio la fattura che l'ha venduto)").fill(
        f"FT 2026/0100 {device}"
    )
    page.get_by_role("button", name="Registra il pacchetto").click()
    page.wait_for_url(re.compile(r"/desk/billing/prepaid/\d+/$"))
    assert page.get_by_text("Pacchetto di 5,00 h (300,00 EUR) registrato.").is_visible()
    assert page.locator("table", has_text=f"FT 2026/0100 {device}").first.is_visible()
    assert page.locator("table", has_text="Usato da un documento").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-2-organisation.png"), full_page=True)
    assert errors == []
    context.close()
