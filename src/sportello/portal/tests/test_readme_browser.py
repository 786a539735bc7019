"""The README, followed from its first line on other ports than the defaults (issue 14).

What ``make run`` runs (migrate, demo, serve, with the mail receiver on and outgoing
mail written to files), on free ports instead of 8000 and 2525, with no
SPORTELLO_SITE_URL: the links must follow where the server listens. Then the README's
own SMTP example, a mail to a technician's address, a sign-up in Debian's chromium and a
resolved ticket; every link of every e-mail produced is opened in the browser.
Screenshots go to ``test-artifacts/first-hour/``.
"""

from __future__ import annotations

import email
import email.policy
import re
import smtplib
import subprocess
import sys
import time
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from .browser import Sportello, body_of, free_port

REPO = Path(__file__).resolve().parents[4]
README = REPO / "README.md"
ARTIFACTS = REPO / "test-artifacts" / "first-hour"
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Django's file e-mail backend writes between mails
PASSWORD = "Sportello-readme-2026!"


def readme_smtp_example(port: int) -> str:
    """The README's Python SMTP example, verbatim but for the port."""
    text = README.read_text()
    script = re.search(r"python3 - <<'EOF'\n(.*?)\nEOF\n", text, re.S).group(1)
    assert 'smtplib.SMTP("127.0.0.1", 2525)' in script
    return script.replace('smtplib.SMTP("127.0.0.1", 2525)', f'smtplib.SMTP("127.0.0.1", {port})')


class SentMail:
    """The messages Django's file backend wrote (``var/sent-mail`` in the README)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def all(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.log")) if self.folder.exists() else []:
            for chunk in path.read_bytes().split(SEPARATOR):
                if chunk.strip():
                    found.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return found

    def wait_for(self, predicate, timeout: float = 60) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.all():
                if predicate(message):
                    return message
            time.sleep(0.2)
        subjects = [m["Subject"] for m in self.all()]
        raise AssertionError(f"no matching e-mail within {timeout}s; got {subjects}")


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """``make run``'s three commands on free ports, in a data directory of its own."""
    data = tmp_path_factory.mktemp("first-hour")
    smtp = free_port()
    site = Sportello(
        data,
        SPORTELLO_SMTP_BIND=f"127.0.0.1:{smtp}",
        # What the Makefile's run target sets.
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    )
    site.manage("migrate", "--no-input")
    demo = site.manage("demo")
    with site.serve(ports=(smtp,)):
        yield {
            "url": site.url,
            "smtp": smtp,
            "demo": demo,
            "manage": site.manage,
            "mail": SentMail(data / "sent-mail"),
        }


@pytest.mark.slow
def test_the_readme_from_its_first_line_on_other_ports(browser, desk):
    url, sent = desk["url"], desk["mail"]
    shots = ARTIFACTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="it-IT")
    context.set_default_timeout(15_000)
    page = context.new_page()
    step = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{next(step):02d}-{name}.png"), full_page=True)

    # The demo's start-up line names this server, not 127.0.0.1:8000.
    assert f"Agents sign in at {url}/desk/login/" in desk["demo"]

    # The README's SMTP example, as written: the acknowledgement arrives in sent-mail.
    subprocess.run(
        [sys.executable, "-c", readme_smtp_example(desk["smtp"])], check=True, timeout=60
    )
    ack = sent.wait_for(lambda m: "giulia.bianchi@studiobianchi.it" in m["To"])
    number = re.search(r"\[Ticket#(\d{4}-\d{6})\]", ack["Subject"]).group(1)
    assert f"{url}/portale/ticket/{number}/" in body_of(ack)

    # A customer writes to a technician's own address: the technician hears of it.
    note = EmailMessage()
    note["From"] = "Giulia Bianchi <giulia.bianchi@studiobianchi.it>"
    note["To"] = "mario@init-s.it"
    note["Subject"] = "Mario, ci richiami per il server?"
    note.set_content("Buongiorno Mario, il server non risponde da stamattina.")
    with smtplib.SMTP("127.0.0.1", desk["smtp"], timeout=30) as client:
        client.send_message(note)
    notice = sent.wait_for(lambda m: m["To"] == "mario@init-s.it")
    assert "Nuovo ticket scritto a te" in notice["Subject"]

    # A new customer registers on the portal; nothing tells which company: it waits.
    page.goto(f"{url}/")
    shot("home")
    page.get_by_role("link", name="registratevi").click()
    page.get_by_label(re.compile(r"^Nome")).fill("Nadia")
    page.get_by_label("Cognome").fill("Nuovi")
    page.get_by_label("Azienda").fill("Nuovi Clienti S.r.l.")
    page.get_by_label("Partita IVA o codice fiscale").fill("NVONDA80A41L117V")
    page.get_by_label("Email").fill("nadia.nuovi@gmail.com")
    page.get_by_label("Telefono").fill("0744 654321")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("Ho letto l'informativa").check()
    page.get_by_role("button", name="Registrati").click()
    page.wait_for_url(re.compile(r"/account/confirm-email/$"))
    shot("verification-sent")
    verification = sent.wait_for(lambda m: m["To"] == "nadia.nuovi@gmail.com")
    pending = sent.wait_for(lambda m: "in attesa di approvazione" in (m["Subject"] or ""))
    assert "bob@init-s.it" in pending["To"]  # the demo's supervisor

    # An agent resolves the README's ticket: the customer gets the "resolved" mail.
    desk["manage"](
        "shell",
        "-c",
        "from sportello.tickets.models import Ticket; from sportello.tickets import services; "
        f"services.ticket_change_status(ticket=Ticket.objects.get(number='{number}'), "
        "status='resolved')",
    )
    resolved = sent.wait_for(
        lambda m: number in (m["Subject"] or "") and "risolto" in body_of(m).lower()
    )

    # Every link of every e-mail produced: on this server, and each one opens.
    produced = sent.all()
    assert {ack["Message-ID"], notice["Message-ID"], resolved["Message-ID"]} <= {
        m["Message-ID"] for m in produced
    }
    assert verification["Message-ID"] in {m["Message-ID"] for m in produced}
    links = sorted(
        {u.rstrip(".,)") for m in produced for u in re.findall(r"https?://\S+", body_of(m))}
    )
    assert links, "the e-mails carry no link"
    foreign = [link for link in links if not link.startswith(f"{url}/")]
    assert foreign == [], f"links to another server: {foreign}"
    for n, link in enumerate(links):
        response = page.goto(link)
        assert response is not None and response.ok, f"{link}: {response and response.status}"
        page.screenshot(path=str(shots / f"link-{n:02d}.png"), full_page=True)
    # The verification link: confirm, then open it again: it says it was used.
    [confirm] = [link for link in links if "/account/confirm-email/" in link]
    page.goto(confirm)
    page.get_by_role("button", name="Conferma").click()
    page.wait_for_url(re.compile(r"/portale/$"))
    page.goto(confirm)
    assert "Questo collegamento è già stato usato" in page.locator("main").inner_text()
    shot("confirm-again")
    # Signed in after confirming, the portal says the account waits for approval.
    page.goto(f"{url}/portale/")
    assert "in attesa di approvazione" in page.locator("main").inner_text()
    shot("pending")
    # The favicon the browser asks for, and the support page with the tariff.
    assert page.goto(f"{url}/favicon.ico").ok
    page.goto(f"{url}/assistenza/")
    assert "01/01/2000" not in page.content()
    shot("support")
    context.close()
