"""An agent's day in a real browser: Debian's chromium driven by Playwright, against
``sportello serve`` on loopback, with a real SMTP server (aiosmtpd) catching the reply.

Sign in, take an unassigned ticket, log a 12-minute call, see the preview say 30,00 € at
a 60 € rate, reply with a canned reply, resolve; then take a new call from a known caller. Once on a
1280 px window and once on a 360 px phone; every step leaves a screenshot under
test-artifacts/desk-browser/. Every desk page passes the portal's accessibility audit.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from sportello.portal.tests.browser import (
    A11Y_AUDIT,
    body_of,
    desk_signed_in,
    htmx_settled,
    served_with_mailbox,
)

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "desk-browser"
PASSWORD = "Desk-browser-2026!"
# The phone flow for a known caller, from the first keystroke to the saved ticket
# (docs/desk.md): the number, the policy's answer, a subject, Salva.
PHONE_FLOW_MAX_KEYS = 36
PHONE_FLOW_MAX_CLICKS = 2
# Every trusted key press and click after COUNT_START, until COUNT_READ; the first key
# press opens the count. An init script: it runs before the page's own (CSP 'self'
# applies to the page's scripts, not to the test's instrumentation).
COUNT_INPUT = """
(() => {
  const key = "sportello-test-count";
  const read = () => JSON.parse(sessionStorage.getItem(key) || "null");
  addEventListener("keydown", (e) => {
    const c = read();
    if (!e.isTrusted || !c) return;
    if (!c.started) { c.started = true; c.t0 = Date.now(); }
    c.keys += 1; sessionStorage.setItem(key, JSON.stringify(c));
  }, true);
  addEventListener("click", (e) => {
    const c = read();
    if (!e.isTrusted || !c || !c.started) return;
    c.clicks += 1; sessionStorage.setItem(key, JSON.stringify(c));
  }, true);
})();
"""
COUNT_START = (
    "sessionStorage.setItem('sportello-test-count',"
    " JSON.stringify({keys: 0, clicks: 0, started: false}))"
)
COUNT_READ = (
    "(() => { const c = JSON.parse(sessionStorage.getItem('sportello-test-count'));"
    " return {keys: c.keys, clicks: c.clicks, browser_seconds: (Date.now() - c.t0) / 1000}; })()"
)
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``sportello serve`` with two customers' tickets waiting, unassigned."""
    setup = f"""
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
        """
    with served_with_mailbox(tmp_path_factory.mktemp("desk-server"), setup=setup) as server:
        yield server


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
    context.add_init_script(COUNT_INPUT)
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
    # From the first keystroke to the saved ticket, the page counts every real key and
    # click (COUNT_INPUT, kept in sessionStorage across the save's redirect).
    page.get_by_role("link", name="Nuova chiamata").first.click()
    audited()
    page.evaluate(COUNT_START)
    number_field = page.get_by_label("Numero di chi chiama")
    number_field.press_sequentially("0744 123456")
    page.wait_for_selector("#call-timer input[name=timer]", state="attached")
    page.wait_for_selector("#caller >> text=Alice Rossi")
    page.get_by_label("No: e-mail e portale non erano utilizzabili").check()
    page.get_by_label("Oggetto").press_sequentially("Il gestionale non si apre")
    shot("new-call")
    page.get_by_role("button", name="Salva").click()
    page.wait_for_selector("text=salvato.")
    assert page.locator("h1").inner_text() == "Il gestionale non si apre"
    call_entry = page.locator(".entry.work", has_text="Telefonata")
    assert call_entry.count() == 1
    counted = page.evaluate(COUNT_READ)
    # The server's timer, started by the first keystroke, stopped by the save.
    m = re.search(r"(\d+) min(?: (\d+) s)?", call_entry.inner_text())
    elapsed = int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    report = {"device": device, **counted, "server_timer_seconds": elapsed}
    (shots / f"phone-flow-{device}.json").write_text(json.dumps(report) + "\n")
    print(f"phone flow, known caller ({device}): {report}")
    # 11 keys of the number, 25 of the subject; one click on the answer, one on Salva.
    assert counted["keys"] <= PHONE_FLOW_MAX_KEYS, report
    assert counted["clicks"] <= PHONE_FLOW_MAX_CLICKS, report
    assert 0 < elapsed < 30 and counted["browser_seconds"] < 30, report
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
    context, page, errors = _signed_in(browser, server, "carla", device)

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


def _signed_in(browser, server, username, device):
    return desk_signed_in(browser, server["url"], username, PASSWORD, VIEWPORTS[device])


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_notifications_of_an_assignment_and_a_mention(browser, server, shots, device):
    """Carla (admin) gives Bob a ticket and names him in a note: Bob's bell counts two,
    the list links the ticket, the note shows the mention highlighted."""
    server["manage"](
        "shell",
        code="""
        from sportello.customers.models import Contact
        from sportello.desk import services
        from sportello.staff.models import Agent
        from sportello.tickets.services import ticket_open
        carla = Agent.objects.get(user__username="carla").user
        bob = Agent.objects.get(user__username="bob-DEVICE")
        alice = Contact.objects.get(first_name="Alice")
        from sportello.tickets.inputs import MessageInput
        ticket = ticket_open(subject="Il NAS è pieno (DEVICE)", channel="email",
                             message=MessageInput(text="Non riusciamo a salvare.",
                                                  sender="alice@studio-rossi.example.it"),
                             contact=alice)
        services.ticket_assign_checked(ticket=ticket, assignee=bob, user=carla)
        services.note_add(ticket=ticket, user=carla,
                          text="@bob-DEVICE puoi richiamare il cliente? Grazie.")
        """.replace("DEVICE", device),
    )
    context, page, errors = _signed_in(browser, server, f"bob-{device}", device)
    bell = page.locator("#notify-bell")
    assert bell.locator(".count").inner_text() == "2"
    bell.click()
    page.wait_for_url(re.compile(r"/desk/notifications/$"))
    entries = page.locator(".notification.unread")
    assert entries.count() == 2
    assert "Carla ti ha menzionato sul ticket" in entries.nth(0).inner_text()
    assert "Carla ti ha assegnato il ticket" in entries.nth(1).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-notifications.png"), full_page=True)
    entries.nth(0).get_by_role("button", name=f"Il NAS è pieno ({device})").click()
    page.wait_for_selector("h1 >> text=Il NAS è pieno")
    mark = page.locator(".msg-internal_note mark.mention")
    assert mark.inner_text() == f"@bob-{device}"
    assert page.locator("#notify-bell .count").inner_text() == "1"
    page.screenshot(path=str(shots / f"{device}-mention-highlighted.png"), full_page=True)
    # The note box completes a mention: "@car" offers Carla, Enter inserts her username.
    note = page.locator("#note-text")
    note.press_sequentially("Fatto, @car")
    page.wait_for_selector("#note-text-mentions >> text=@carla")
    note.press("Enter")
    assert note.input_value() == "Fatto, @carla "
    note.press_sequentially("richiamato.")
    page.get_by_role("button", name="Aggiungi nota").click()
    page.wait_for_selector("text=Nota interna aggiunta.")
    assert page.locator(".msg-internal_note mark.mention", has_text="@carla").count() == 1
    page.goto(f"{server['url']}/desk/notifications/settings/")
    assert page.evaluate(A11Y_AUDIT) == []
    page.screenshot(path=str(shots / f"{device}-notification-settings.png"), full_page=True)
    page.goto(f"{server['url']}/desk/notifications/")
    page.get_by_role("button", name="Segna tutte come lette").click()
    page.wait_for_selector("text=1 notifiche segnate come lette.")
    assert page.locator("#notify-bell .count").count() == 0
    assert errors == []
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_an_unknown_callers_number_is_linked_to_a_contact(browser, server, shots, device):
    """On the desktop the number goes to Alice, found by her organisation; on the phone
    to a new contact. The next call from the number finds the contact."""
    number, shown = {
        "desktop": ("0744 555111", "+39 0744 555111"),
        "phone": ("335 7654321", "+39 335 765 4321"),
    }[device]
    context, page, errors = _signed_in(browser, server, f"bob-{device}", device)
    page.get_by_role("link", name="Nuova chiamata").first.click()
    page.get_by_label("Numero di chi chiama").press_sequentially(number)
    # The lookup of the whole number (an earlier, partial one may answer first).
    page.wait_for_selector(f"#caller >> text=Il {shown} non è ancora di nessun contatto")
    htmx_settled(page)
    page.get_by_role("button", name="Collega il numero a un contatto").click()
    # The search box and the new-contact form arrive by htmx: type once they are wired.
    page.get_by_label("Cerca per nome o organizzazione").wait_for()
    htmx_settled(page)
    if device == "desktop":
        page.get_by_label("Cerca per nome o organizzazione").press_sequentially("studio rossi")
        page.wait_for_selector("#link-found >> text=Alice Rossi")
        assert page.evaluate(A11Y_AUDIT) == []
        page.screenshot(path=str(shots / f"{device}-unknown-caller-search.png"), full_page=True)
        page.get_by_role("button", name=re.compile("al contatto scelto")).click()
        who = "Alice Rossi"
    else:
        page.get_by_label("Nome", exact=True).fill("Piero")
        page.get_by_label("Cognome").fill("Neri")
        page.get_by_label("Organizzazione", exact=True).select_option(label="Studio Rossi S.r.l.")
        assert page.evaluate(A11Y_AUDIT) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(shots / f"{device}-unknown-caller-new.png"), full_page=True)
        page.get_by_role("button", name="Crea il contatto con questo numero").click()
        who = "Piero Neri"
    page.wait_for_selector(f"#caller >> text=ora è un numero di {who}")
    assert page.locator("#caller input[name=contact]:checked").count() == 1
    page.screenshot(path=str(shots / f"{device}-unknown-caller-linked.png"), full_page=True)
    page.get_by_label("No: e-mail e portale non erano utilizzabili").check()
    page.get_by_label("Oggetto").fill(f"Chiamata da un numero nuovo ({device})")
    page.get_by_role("button", name="Salva").click()
    page.wait_for_selector("text=salvato.")
    assert who in page.locator("main").inner_text()
    # The next call from the number is a known caller's.
    page.get_by_role("link", name="Nuova chiamata").first.click()
    page.get_by_label("Numero di chi chiama").press_sequentially(number)
    page.wait_for_selector(f"#caller >> text={who}")
    assert page.locator("#caller >> text=non è ancora di nessun contatto").count() == 0
    assert errors == []
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_tag_save_a_view_and_merge_two_tickets(browser, server, shots, device):
    """Tag a ticket on its page and another from the bulk bar, filter the queue by the
    tag with chosen columns, save it as a view, then merge the two from the view: the
    call of the merged ticket is billed on the one kept, which links back."""
    server["manage"](
        "shell",
        code=f"""
        from datetime import datetime
        from zoneinfo import ZoneInfo
        from sportello.customers.models import Contact
        from sportello.staff.models import Agent
        from sportello.tickets.inputs import MessageInput
        from sportello.tickets.services import intervention_add, ticket_open
        alice = Contact.objects.get(first_name="Alice")
        sender = "alice@studio-rossi.example.it"
        ticket_open(subject="Toner esaurito ({device})", channel="email", contact=alice,
                    message=MessageInput(text="Il toner è finito.", sender=sender))
        again = ticket_open(subject="Toner ancora esaurito ({device})", channel="email",
                            contact=alice,
                            message=MessageInput(text="Vi avevo scritto del toner.", sender=sender))
        intervention_add(ticket=again, kind="phone", duration_seconds=12 * 60,
                         started_at=datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Rome")),
                         technician=Agent.objects.get(user__username="bob-{device}"))
        """,
    )
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

    def shot(name):
        page.screenshot(path=str(shots / f"{device}-organise-{name}.png"), full_page=True)

    def audited():
        assert page.evaluate(A11Y_AUDIT) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(f"{url}/desk/login/")
    page.get_by_label("Nome utente").fill(f"bob-{device}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(re.compile(r"/desk/$"))
    first, second = f"Toner esaurito ({device})", f"Toner ancora esaurito ({device})"
    tag = f"toner-{device}"  # both viewports share the server

    def filters_open():
        if not page.locator("details.filters-box").evaluate("d => d.open"):
            page.get_by_text("Filtri e ordine").click()

    # Tag the first on its page.
    page.goto(f"{url}/desk/?queue=open")
    page.get_by_role("link", name=first).click()
    page.get_by_label("Tag, separati da virgole").fill(f"Toner-{device}, stampante")
    page.get_by_role("button", name="Salva tag").click()
    page.wait_for_selector("text=Tag salvati.")
    assert page.locator(".entry.event", has_text=f"Tag aggiunti: stampante, {tag}").count() == 1
    audited()
    shot("ticket-tagged")

    # Tag the second from the bulk bar.
    page.goto(f"{url}/desk/?queue=open")
    page.locator("tr", has_text=second).locator("input[name=ids]").check()
    page.locator("#bulk-action").select_option("tag")
    page.locator("#bulk-text").fill(tag)
    page.get_by_role("button", name="Applica").click()
    page.wait_for_selector("text=1 ticket aggiornati.")

    # Filter by the tag, choose the columns, save the view.
    filters_open()
    page.get_by_role("combobox", name="Tag", exact=True).fill(tag)
    for column in ("Organizzazione", "Assegnatario", "Aperto il"):
        box = page.locator("fieldset.columns").get_by_label(column, exact=True)
        if box.is_checked():
            box.uncheck()
    page.locator("fieldset.columns").get_by_label("Numero", exact=True).check()
    page.get_by_role("button", name="Filtra").click()
    page.wait_for_url(re.compile(rf"tag={tag}"))
    assert page.locator("tr[data-row]").count() == 2
    filters_open()
    page.get_by_label("Salva come vista di nome").fill(f"Toner {device}")
    page.get_by_role("button", name="Salva vista").click()
    page.wait_for_selector(f"text=Vista Toner {device} salvata.")
    page.wait_for_url(re.compile(r"\?view=\d+$"))
    view = page.locator(".saved-views a[aria-current=page]")
    assert (
        view.inner_text().startswith(f"Toner {device}")
        and view.locator(".count").inner_text() == "2"
    )
    assert (
        page.locator("th.col-number").count() == 1
        and page.locator("th.col-organisation").count() == 0
    )
    assert page.locator("tr[data-row] .tag", has_text=tag).count() == 2
    audited()
    shot("saved-view")

    # Merge the two from the view: keep the first, the second's call moves to it.
    for subject in (first, second):
        page.locator("tr", has_text=subject).locator("input[name=ids]").check()
    page.locator("#bulk-action").select_option("merge")
    page.get_by_role("button", name="Applica").click()
    page.wait_for_url(re.compile(r"/desk/merge/"))
    page.locator("label", has_text=first).click()
    audited()
    shot("merge-confirm")
    page.get_by_role("button", name="Unisci", exact=True).click()
    page.wait_for_selector("text=1 ticket unito a")
    assert page.locator("h1").inner_text() == first
    assert page.locator(".entry.event", has_text="unito qui").count() == 1
    assert page.locator(".entry.work", has_text="Telefonata").count() == 1
    assert re.search(r"= 30,00\s€", page.locator("#preview").inner_text())
    audited()
    shot("merged-kept")
    page.locator("#organise").get_by_role("link", name=re.compile("Toner ancora")).click()
    # A new page: wait for it (is_visible() alone reads the page the click left).
    page.wait_for_selector(".notice.merged")
    assert "Unito in" in page.locator(".notice.merged").inner_text()
    audited()
    shot("merged-gone")
    assert errors == []
    context.close()
