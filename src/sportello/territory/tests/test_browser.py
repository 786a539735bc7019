"""A technician's agenda in a real browser: Debian's chromium driven by Playwright,
against ``sportello serve`` on loopback. Once on a 1280 px window and once on a 360 px
phone: open "La mia agenda", close yesterday's pick-up, create the calendar address and
read it with a real iCalendar parser (no cookies, as a phone would), then take the
suggested ticket and plan its return. Screenshots under test-artifacts/territory-browser/;
every page passes the portal's accessibility audit and nothing is wider than the screen.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import urllib.request
from datetime import datetime
from pathlib import Path

import icalendar
import pytest

from sportello.portal.tests.browser import A11Y_AUDIT, free_port, page_errors, serving

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "territory-browser"
PASSWORD = "Agenda-browser-2026!"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``sportello serve`` with one technician per device, each with visits yesterday,
    today and tomorrow, and an unassigned network ticket in their zone."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SPORTELLO_SMTP_BIND", "SPORTELLO_LMTP_BIND")
    }
    env.update(
        SPORTELLO_DATA_DIR=str(tmp_path_factory.mktemp("territory-server")),
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
        from datetime import datetime, time, timedelta
        from decimal import Decimal
        from django.contrib.auth import get_user_model
        from django.utils import timezone
        from sportello.customers.models import Contact, ContactEmail, Organisation
        from sportello.staff.models import Agent, Role, Skill, Team, Zone
        from sportello.staff.services import agent_save, zone_save
        from sportello.territory.services import visit_schedule
        from sportello.tickets.inputs import MessageInput
        from sportello.tickets.services import ticket_open
        narni = zone_save(zone=Zone(name="Narni-Amelia", comuni=["Narni", "Amelia"]))
        rete = Skill.objects.create(name="Rete")
        org = Organisation(name="Ferramenta Narnese S.n.c.", comune="Narni", province="TR",
                           address="Via Garibaldi 12", postcode="05035",
                           hourly_rate=Decimal("60.00"))
        org.full_clean()
        org.save()
        alice = Contact.objects.create(organisation=org, first_name="Alice", last_name="Rossi")
        ContactEmail.objects.create(contact=alice, address="alice@ferramenta.example.it",
                                    primary=True)
        team = Team.objects.create(name="Reti")
        today = timezone.localdate()

        def at(day, hour, minute=0):
            moment = datetime.combine(today + timedelta(days=day), time(hour, minute))
            return timezone.make_aware(moment)

        for name in ("desktop", "phone"):
            user = get_user_model().objects.create_user(
                f"lucia-{{name}}", f"lucia-{{name}}@init-s.it", "{PASSWORD}",
                first_name="Lucia", last_name=name.capitalize())
            lucia = agent_save(agent=Agent(user=user, role=Role.SUPERVISOR, team=team,
                                           home_zone=narni))
            lucia.skills.add(rete)
            ticket = ticket_open(subject=f"Portatile da riparare ({{name}})", channel="email",
                                 contact=alice, message=MessageInput(
                                     text="Il portatile non si accende.",
                                     sender="alice@ferramenta.example.it"))
            visit_schedule(ticket=ticket, technician=lucia, kind="pickup",
                           scheduled_at=at(-1, 9, 30), notes="Citofono Rossi", user=user)
            visit_schedule(ticket=ticket, technician=lucia, kind="return",
                           scheduled_at=at(0, 15), duration_minutes=30, user=user)
            visit_schedule(ticket=ticket, technician=lucia, kind="pickup",
                           scheduled_at=at(1, 11), notes="Secondo PC", user=user)
            ticket_open(subject=f"Il Wi-Fi cade ({{name}})", channel="email",
                        contact=alice, category="rete", message=MessageInput(
                            text="Il Wi-Fi cade ogni dieci minuti.",
                            sender="alice@ferramenta.example.it"))
        """,
    )
    with serving(env, port):
        yield {"url": url}


@pytest.fixture(scope="module")
def shots():
    folder = ARTIFACTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_technicians_agenda(browser, server, shots, device):
    url = server["url"]
    context = browser.new_context(viewport=VIEWPORTS[device], locale="it-IT")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = page_errors(page)
    step = iter(range(1, 100))

    def shot(name):
        page.screenshot(path=str(shots / f"{device}-{next(step):02d}-{name}.png"), full_page=True)

    def checked():
        assert page.evaluate(A11Y_AUDIT) == []
        # Usable on the phone: nothing makes the page scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(f"{url}/desk/login/")
    page.get_by_label("Nome utente").fill(f"lucia-{device}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(re.compile(r"/desk/$"))

    # La mia agenda: yesterday's pick-up still to close, today's return, tomorrow's pick-up.
    page.get_by_role("link", name="La mia agenda").click()
    page.wait_for_url(re.compile(r"/desk/agenda/$"))
    assert page.locator("h1").inner_text() == "La mia agenda"
    overdue = page.locator(".overdue .visit")
    assert overdue.count() == 1 and "Citofono Rossi" in overdue.inner_text()
    assert "15:00–15:30" in page.locator(".agenda-day.today .visit").inner_text()
    assert "Via Garibaldi 12, Narni (TR)" in page.locator(".agenda-day.today").inner_text()
    checked()
    shot("agenda")

    # Close yesterday's pick-up: the real leg is recorded on the ticket.
    overdue.get_by_text("Segna come fatta").click()
    shot("mark-done")
    overdue.get_by_role("button", name="Fatta: registra l'uscita").click()
    page.wait_for_selector("text=Visita fatta: l'uscita è registrata sul ticket.")
    assert page.locator(".overdue").count() == 0
    checked()
    shot("done")

    # The calendar address, shown once; a phone reads it without a session.
    page.get_by_role("button", name="Crea l'indirizzo del calendario").click()
    address = page.get_by_label("Indirizzo del calendario").input_value()
    assert address.startswith(f"{url}/calendar/") and address.endswith(".ics")
    checked()
    shot("feed-address")
    with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310
        assert response.headers.get_content_type() == "text/calendar"
        assert response.headers.get("Set-Cookie") is None
        cal = icalendar.Calendar.from_ical(response.read())
    summaries = sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))
    assert len(summaries) == 3 and any(s.endswith("(fatta)") for s in summaries)

    # The unassigned network ticket suggests Lucia (her zone, her skill): she takes it.
    page.goto(f"{url}/desk/?queue=unassigned")
    page.get_by_role("link", name=f"Il Wi-Fi cade ({device})").click()
    suggestion = page.locator("#suggest")
    assert "Zona: Narni-Amelia" in suggestion.inner_text()
    assert re.search(
        r"zona Narni-Amelia, competenza rete, \d ticket apert", suggestion.inner_text()
    )
    checked()
    shot("suggestion")
    suggestion.get_by_role("button", name="Assegna a me").click()
    page.wait_for_selector("text=Assegnazione salvata.")

    # Plan the return from the ticket page: it is on the ticket and in the agenda.
    page.get_by_text("Pianifica un ritiro o una riconsegna").click()
    page.get_by_label("Tipo di visita").select_option("return")
    page.get_by_label("Quando").fill("2030-01-08T10:30")
    page.get_by_label("Note per il tecnico").fill("Router nuovo in macchina")
    shot("plan-visit")
    page.get_by_role("button", name="Pianifica la visita").click()
    page.wait_for_selector("text=Riconsegna: visita pianificata per Lucia")
    assert page.locator("#visits").get_by_text("Riconsegna").count() >= 1
    checked()
    shot("visit-planned")
    page.goto(f"{url}/desk/agenda/?from=2030-01-07")
    assert "Router nuovo in macchina" in page.locator(".agenda-day").nth(1).inner_text()
    shot("agenda-2030")
    assert errors == []
    context.close()
