"""The portal in a real browser: Debian's chromium driven by Playwright, against
``sportello serve`` on loopback, with a real SMTP server (aiosmtpd) catching the mail.

A customer registers, opens the verification link from the captured e-mail, opens a
ticket with an attachment, sees the confirmation and receives the acknowledgement; an
agent answers through the service layer; the customer sees the answer, replies, closes
and rates. Once on a desktop window and once on a 360 px phone. Every step leaves a
screenshot in the folder printed at the end of the run. The public pages are audited in
the browser for labels, tab order, a visible focus and WCAG colour contrast.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from .browser import A11Y_AUDIT, body_of, served_with_mailbox
from .support import SCREENSHOTS_KEY

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "portal-browser"
DOMAIN = "cliente-browser.example.it"
PASSWORD = "Sportello-browser-2025!"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
    b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``sportello serve`` on a free loopback port, with its own SQLite data directory."""
    setup = f"""
        from sportello.customers.models import Organisation, OrganisationDomain
        from sportello.tickets.tests.factories import AgentFactory, UserFactory
        org = Organisation.objects.create(name="Cliente Browser S.r.l.", hourly_rate=60)
        OrganisationDomain.objects.create(organisation=org, domain="{DOMAIN}")
        AgentFactory(user=UserFactory(username="bob", first_name="Bob", is_staff=True))
        """
    with served_with_mailbox(tmp_path_factory.mktemp("portal-server"), setup=setup) as server:
        yield server


@pytest.fixture(scope="module")
def shots(request):
    folder = ARTIFACTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[SCREENSHOTS_KEY] = folder
    return folder


VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_customer_registers_opens_follows_and_rates_a_ticket(browser, server, shots, device):
    url, mailbox = server["url"], server["mailbox"]
    address = f"elena.{device}@{DOMAIN}"
    context = browser.new_context(viewport=VIEWPORTS[device], locale="it-IT")
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Whatever the Content-Security-Policy blocks, Chromium reports on the console.
    blocked = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    step = iter(range(1, 100))

    def shot(name):
        path = shots / f"{device}-{next(step):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)

    # The support page: how to get support, then register.
    page.goto(f"{url}/assistenza/")
    assert page.locator("ol.channels > li").count() == 4
    shot("support")
    page.locator("ol.channels").get_by_role("link", name="Registrati").click()
    page.get_by_label(re.compile(r"^Nome")).fill("Elena")
    page.get_by_label("Cognome").fill("Gialli")
    page.get_by_label("Azienda").fill("Cliente Browser S.r.l.")
    page.get_by_label("Partita IVA o codice fiscale").fill("RSSMRA85T10A562S")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Telefono").fill("0744 123456")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("Ho letto l'informativa").check()
    shot("signup")
    page.get_by_role("button", name="Registrati").click()
    page.wait_for_url(re.compile(r"/account/confirm-email/$"))
    shot("verification-sent")

    # The verification link, from the e-mail the real SMTP server received.
    verification = mailbox.wait_for(lambda m: address in m["To"] and "confirm-email" in body_of(m))
    link = re.search(r"http://\S+/account/confirm-email/\S+", body_of(verification)).group(0)
    page.goto(link)
    shot("confirm-email")
    page.get_by_role("button", name=re.compile("Conferma", re.I)).click()
    page.wait_for_url(re.compile(r"/portale/$"))
    assert page.get_by_role("heading", name="I miei ticket").is_visible()
    shot("my-tickets-empty")

    # A new ticket with an attachment, its confirmation and its acknowledgement.
    page.get_by_role("main").get_by_role("link", name="Apri un ticket").first.click()
    page.get_by_label("Oggetto").fill(f"La stampante non stampa ({device})")
    page.get_by_label("Descrizione").fill("Da stamattina la stampante dell'ufficio è ferma.")
    page.get_by_label("Categoria").select_option("stampanti")
    page.get_by_label("Priorità").select_option("high")
    page.get_by_label("Allegati").set_input_files(
        [{"name": "errore.png", "mimeType": "image/png", "buffer": PNG}]
    )
    shot("new-ticket")
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_url(re.compile(r"/ricevuto/$"))
    number = page.locator(".ticket-number strong").inner_text()
    assert re.fullmatch(r"\d{4}-\d{6}", number)
    shot("confirmation")
    ack = mailbox.wait_for(lambda m: number in m["Subject"] and address in m["To"])
    assert f"{url}/portale/ticket/{number}/" in body_of(ack)

    # An agent answers through the service layer (no agent desk yet).
    server["manage"](
        "shell",
        code=f"""
        from django.contrib.auth.models import User
        from sportello.mail.outbound import reply_send
        from sportello.tickets.models import Ticket
        from sportello.tickets.services import Actor, ticket_change_status
        ticket = Ticket.objects.get(number="{number}")
        bob = User.objects.get(username="bob")
        reply_send(ticket=ticket, text="Buongiorno, provate a spegnerla e riaccenderla.",
                   actor=Actor(user=bob))
        ticket_change_status(ticket=ticket, status="waiting", actor=Actor(user=bob))
        """,
    )
    mailbox.wait_for(lambda m: number in m["Subject"] and "riaccenderla" in body_of(m))
    page.get_by_role("link", name="Segui il ticket").click()
    page.get_by_text("provate a spegnerla e riaccenderla").wait_for()  # the ticket's page
    assert page.get_by_role("link", name="errore.png").is_visible()
    shot("agent-answer")
    assert page.evaluate(A11Y_AUDIT) == []  # the ticket page, with its forms

    # The customer replies with a file, closes and rates.
    page.get_by_label("La vostra risposta").fill("Fatto, ora funziona. Grazie!")
    page.locator("#reply ~ form input[type=file]").set_input_files(
        [{"name": "prova.txt", "mimeType": "text/plain", "buffer": b"stampa ok"}]
    )
    page.get_by_role("button", name="Invia la risposta").click()
    page.get_by_text("La vostra risposta è stata aggiunta al ticket.").wait_for()
    assert page.get_by_role("link", name="prova.txt").is_visible()
    shot("replied")
    page.get_by_role("button", name="Chiudi il ticket").click()
    page.get_by_text("Il ticket è chiuso. Grazie.").wait_for()
    shot("closed")
    page.get_by_label("5 – molto soddisfatti").check()
    page.get_by_label("Commento (facoltativo)").fill("Rapidi e gentili.")
    page.get_by_role("button", name="Invia la valutazione").click()
    page.get_by_text("Avete valutato questo ticket 5 su 5").wait_for()  # swapped in by htmx
    assert "/valuta/" not in page.url
    shot("rated")
    assert blocked == []  # htmx and every page ran under the policy, nothing refused

    # The list, filtered by htmx as the customer types.
    page.get_by_role("link", name="I miei ticket").first.click()
    page.get_by_label("Stato").select_option("closed")
    page.wait_for_url(re.compile(r"status=closed"))
    page.get_by_role("link", name=number).wait_for()
    shot("list-closed")
    assert page.evaluate(A11Y_AUDIT) == []
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the page scrolls sideways"
    context.close()


PUBLIC_PAGES = [
    "/assistenza/",
    "/assistenza/contatti/",
    "/assistenza/init/",
    "/account/signup/",
    "/account/login/",
    "/account/password/reset/",
    "/cookie/",
    "/privacy/",
]


@pytest.mark.slow
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_labels_contrast_and_a_visible_focus_order(browser, server, path):
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="it-IT")
    page = context.new_page()
    page.goto(server["url"] + path)
    assert page.evaluate(A11Y_AUDIT) == []
    # Tab walks the page in reading order, and the focused element shows it.
    seen = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focus = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                       return [e.tagName, s.outlineStyle !== "none" || s.boxShadow !== "none",
                               e.getBoundingClientRect().top + window.scrollY]; }"""
        )
        assert focus[0] != "BODY", f"Tab left the page after {seen}"
        assert focus[1], f"{focus[0]} has no visible focus indicator on {path}"
        seen.append(focus)
    context.close()


@pytest.mark.slow
def test_the_accessibility_audit_catches_what_it_looks_for(browser):
    page = browser.new_page()
    page.set_content(
        '<p style="color:#999;background:#fff">pale text</p>'
        '<input name="q"><a href="#" tabindex="3">jump</a>'
        '<label>Named <input name="ok"></label>'
    )
    problems = page.evaluate(A11Y_AUDIT)
    assert len(problems) == 3, problems
    assert problems[0].startswith("no label") and 'name="q"' in problems[0]
    assert problems[1].startswith("positive tabindex")
    assert problems[2].startswith("contrast 2.85 < 4.5")
    page.close()
