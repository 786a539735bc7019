"""An agent's day in a real browser: Debian's chromium driven by Playwright, against
``sportello serve`` on loopback, with a real SMTP server (aiosmtpd) catching the reply.

Sign in, take an unassigned ticket, log a 12-minute call, see the preview say 30,00 € at
a 60 € rate, reply with a canned reply, resolve; then take a new call from a known caller. Once on a
1280 px window and once on a 360 px phone; every step leaves a screenshot under
test-artifacts/desk-browser/. Every desk page passes the portal's accessibility audit.
"""

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
from aiosmtpd.controller import Controller

from sportello.portal.tests.browser import A11Y_AUDIT, Mailbox, body_of, free_port

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "desk-browser"
PASSWORD = "Desk-browser-2026!"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(scope="module")
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, smtp):
    """``sportello serve`` with two customers' tickets waiting, unassigned."""
    controller, mailbox = smtp
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SPORTELLO_SMTP_BIND", "SPORTELLO_LMTP_BIND")
    }
    env.update(
        SPORTELLO_DATA_DIR=str(tmp_path_factory.mktemp("desk-server")),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(controller.port),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
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
        from decimal import Decimal
        from django.contrib.auth import get_user_model
        from sportello.customers.models import Contact, ContactEmail, ContactPhone, Organisation
        from sportello.staff.models import Agent, Role, Team
        from sportello.staff.services import agent_save
        from sportello.tickets.inputs import MessageInput
        from sportello.tickets.services import ticket_open
        org = Organisation.objects.create(name="Studio Rossi S.r.l.", hourly_rate=Decimal("60.00"))
        alice = Contact.objects.create(organisation=org, first_name="Alice", last_name="Rossi")
        ContactEmail.objects.create(contact=alice, address="alice@studio-rossi.example.it",
                                    primary=True)
        ContactPhone.objects.create(contact=alice, number="+390744123456")
        from sportello.desk.models import CannedReply
        CannedReply.objects.create(title="Risolto",
            body="Gentile {{{{ contatto.nome }}}}, il ticket {{{{ ticket.numero }}}} è risolto. "
                 "{{{{ operatore.nome }}}}")
        team = Team.objects.create(name="Sistemi")
        for name in ("desktop", "phone"):
            user = get_user_model().objects.create_user(
                f"bob-{{name}}", f"bob-{{name}}@init-s.it", "{PASSWORD}", first_name="Bob")
            agent_save(agent=Agent(user=user, role=Role.AGENT, team=team))
            ticket_open(subject=f"La stampante non stampa ({{name}})", channel="email",
                        message=MessageInput(text="Da stamattina la stampante non stampa.",
                                             sender="alice@studio-rossi.example.it"),
                        contact=alice)
        carla = get_user_model().objects.create_user(
            "carla", "carla@init-s.it", "{PASSWORD}", first_name="Carla")
        agent_save(agent=Agent(user=carla, role=Role.ADMIN, team=team))
        from sportello.tickets.services import ticket_change_status
        done = ticket_open(subject="Il router si riavvia", channel="email",
                           message=MessageInput(text="Il router si riavvia da solo.",
                                                sender="alice@studio-rossi.example.it"),
                           contact=alice)
        for status in ("open", "resolved"):
            ticket_change_status(ticket=done, status=status, notify=False)
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
    yield {"url": url, "mailbox": mailbox, "manage": manage}
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
def test_an_agents_day(browser, server, shots, device):
    url, mailbox = server["url"], server["mailbox"]
    context = browser.new_context(viewport=VIEWPORTS[device], locale="it-IT")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Every script, stylesheet and htmx request answers (the browser's own favicon
    # request aside).
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    step = iter(range(1, 100))

    def shot(name):
        page.screenshot(path=str(shots / f"{device}-{next(step):02d}-{name}.png"), full_page=True)

    def audited():
        assert page.evaluate(A11Y_AUDIT) == []

    # Sign in.
    page.goto(f"{url}/desk/")
    page.wait_for_url(re.compile(r"/desk/login/"))
    audited()
    shot("login")
    page.get_by_label("Nome utente").fill(f"bob-{device}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(re.compile(r"/desk/$"))
    assert page.get_by_role("link", name=re.compile("I miei ticket")).is_visible()
    audited()
    shot("my-tickets")

    # Take an unassigned ticket.
    page.get_by_role("link", name=re.compile("Non assegnati")).click()
    page.get_by_role("link", name=f"La stampante non stampa ({device})").click()
    audited()
    shot("ticket")
    page.get_by_role("button", name="Prendilo tu").click()
    page.wait_for_selector("text=Assegnazione salvata.")
    assert page.locator(".entry.event", has_text="Assegnato a Bob").count() == 1

    # Log a 12-minute call (Wednesday 2 December 2026, 10:00, in hours).
    page.get_by_text("Registra un intervento a mano").click()
    page.get_by_label("Cosa").select_option("phone")
    page.get_by_label("Inizio").fill("2026-12-02T10:00")
    page.get_by_label("Minuti (telefonate e sessioni)").fill("12")
    shot("log-call")
    page.get_by_role("button", name="Registra", exact=True).click()
    page.wait_for_selector("text=Intervento registrato.")
    preview = page.locator("#preview")
    assert "Assistenza telefonica: 12 min" in preview.inner_text()
    assert re.search(r"= 30,00\s€", preview.inner_text())
    assert "36,60\u00a0€" in preview.locator(".total").inner_text()  # with 22% VAT
    shot("preview")

    # Reply with a canned reply, its placeholders filled on the server; then resolve.
    page.get_by_label("Risposta predefinita").select_option(label="Risolto")
    page.get_by_role("button", name="Inserisci").click()
    reply = page.locator("#reply-text")
    assert re.fullmatch(r"Gentile Alice, il ticket 2026-\d+ è risolto\. Bob", reply.input_value())
    reply.press("End")
    reply.press_sequentially(" Abbiamo sistemato il driver.")
    shot("canned-reply")
    page.get_by_role("button", name="Invia risposta").click()
    page.wait_for_selector("text=Risposta in coda per l'invio per e-mail.")
    sent = mailbox.wait_for(lambda m: "Abbiamo sistemato il driver" in body_of(m))
    assert body_of(sent).startswith("Gentile Alice, il ticket")
    assert sent["To"] == "alice@studio-rossi.example.it"
    page.get_by_label("Stato", exact=True).select_option(label="risolto")
    page.locator("#f-status").evaluate("el => el.form.requestSubmit()")
    page.wait_for_selector("text=Ticket aggiornato.")
    assert page.locator(".ticket-head .badge").inner_text() == "risolto"
    audited()
    shot("resolved")

    # A known caller phones: the number finds her, the timer starts at the first key.
    page.get_by_role("link", name="Nuova chiamata").first.click()
    audited()
    page.get_by_label("Numero di chi chiama").press_sequentially("0744 123456")
    page.wait_for_selector("#call-timer input[name=timer]", state="attached")
    page.wait_for_selector("#caller >> text=Alice Rossi")
    page.get_by_label("No: e-mail e portale non erano utilizzabili").check()
    page.get_by_label("Oggetto").fill("Il gestionale non si apre")
    shot("new-call")
    page.get_by_role("button", name="Salva").click()
    page.wait_for_selector("text=salvato.")
    assert page.locator("h1").inner_text() == "Il gestionale non si apre"
    assert page.locator(".entry.work", has_text="Telefonata").count() == 1
    shot("call-saved")
    assert errors == []
    context.close()


@pytest.mark.slow
def test_two_agents_on_one_ticket_see_each_other_and_confirm_a_stale_send(browser, server, shots):
    server["manage"](
        "shell",
        code=f"""
        from django.contrib.auth import get_user_model
        from sportello.customers.models import Contact
        from sportello.staff.models import Agent, Role, Team
        from sportello.staff.services import agent_save
        from sportello.tickets.inputs import MessageInput
        from sportello.tickets.services import ticket_open
        for name in ("anna", "bruno"):
            user = get_user_model().objects.create_user(name, f"{{name}}@init-s.it",
                "{PASSWORD}", first_name=name.capitalize())
            agent_save(agent=Agent(user=user, role=Role.AGENT, team=Team.objects.get()))
        ticket_open(subject="Due operatori", channel="email", contact=Contact.objects.get(),
                    message=MessageInput(text="Aiuto", sender="alice@studio-rossi.example.it"))
        """,
    )
    url = server["url"]
    pages = {}
    for name in ("anna", "bruno"):
        context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="it-IT")
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(f"{url}/desk/login/")
        page.get_by_label("Nome utente").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Accedi").click()
        page.goto(f"{url}/desk/?queue=open")
        page.get_by_role("link", name="Due operatori").click()
        pages[name] = page
    anna, bruno = pages["anna"], pages["bruno"]
    # Bruno begins a reply; Anna is told, without reloading.
    bruno.locator("#reply-text").fill("Riavviate il router, per favore.")
    anna.wait_for_selector("#presence >> text=Bruno sta scrivendo una risposta")
    bruno.wait_for_selector("#presence >> text=Anna sta guardando questo ticket")
    anna.screenshot(path=str(shots / "two-agents-1-anna-sees-bruno.png"), full_page=True)
    # Anna adds a note meanwhile; Bruno's send asks first and shows what changed.
    anna.locator("#note-text").fill("Il cliente ha già riavviato il router.")
    anna.get_by_role("button", name="Aggiungi nota").click()
    anna.wait_for_selector("text=Nota interna aggiunta.")
    bruno.get_by_role("button", name="Invia risposta").click()
    bruno.wait_for_selector("text=Il ticket è cambiato da quando hai iniziato questa risposta:")
    assert "Anna" in bruno.locator(".alert").inner_text()
    assert bruno.locator("#reply-text").input_value() == "Riavviate il router, per favore."
    bruno.screenshot(path=str(shots / "two-agents-2-bruno-confirms.png"), full_page=True)
    bruno.get_by_role("button", name="Invia comunque").click()
    bruno.wait_for_selector("text=Risposta in coda per l'invio per e-mail.")
    for page in pages.values():
        page.context.close()


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_search_and_month_close_are_pages_of_the_desk(browser, server, shots, device):
    """The header's search box leads to results in the desk's layout, the query still in
    the box; the month close is reached from the same menu and keeps the header."""
    url = server["url"]
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

    header_box = page.locator("header #desk-q")
    header_box.fill("stampante")
    header_box.press("Enter")
    page.wait_for_url(re.compile(r"/desk/search/\?q=stampante"))
    assert page.locator("header #desk-q").input_value() == "stampante"
    assert page.locator("header").get_by_role("link", name="Code").is_visible()
    hits = page.locator(".search-hits li")
    assert hits.count() >= 2
    assert hits.first.locator(".badge").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-search.png"), full_page=True)

    page.get_by_role("link", name="Chiusura del mese").first.click()
    page.wait_for_url(re.compile(r"/desk/billing/"))
    assert page.locator("header.bar .brand").is_visible()
    assert page.locator(".billing table, .billing p").count() >= 1
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-month-close.png"), full_page=True)
    # December, where the resolved router ticket waits: billing.css's table.
    page.get_by_role("link", name=re.compile("Dicembre 2026")).click()
    page.wait_for_url(re.compile(r"month=2026-12"))
    assert page.locator(".billing table", has_text="Studio Rossi S.r.l.").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-month-close-december.png"), full_page=True)
    assert errors == []
    context.close()
