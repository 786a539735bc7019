"""The customer's e-mail the mail tests send in, built like a mail client would, and
the shared corpus of real-world messages (``corpus_messages``)."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from email.utils import make_msgid

from sportello.core.testenv import shared_dir
from sportello.mail.parse import is_mbox, iter_mbox

CORPUS = shared_dir() / "mail-corpus"

# The ticket tag in the subject of what the desk sends.
TAG = re.compile(r"\[Ticket#(\d{4}-\d{6})\]")


def customer_mail(
    subject: str = "Stampante guasta",
    body: str = "La stampante non stampa.",
    sender: str = "alice@alice.example.it",
    to: str = "assistenza@init-s.it",
    *,
    crlf: bool = False,
    **headers: str,
) -> bytes:
    """One message with a fresh Message-ID; ``In_Reply_To="..."`` adds ``In-Reply-To``.

    ``crlf`` gives the line ends SMTP carries (RFC 5321 2.3.8)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if "Message-ID" not in msg:
        msg["Message-ID"] = make_msgid(domain="alice.example.it")
    msg.set_content(body)
    if crlf:
        return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    return msg.as_bytes()


def mail(
    subject="Stampante guasta",
    body="La stampante dell'ufficio non stampa più.",
    sender="Alice Rossi <alice@alice.example.it>",
    to="assistenza@init-s.it",
    **headers,
) -> bytes:
    """A customer's message with a fixed date (Monday 12 January 2026, in hours)."""
    return customer_mail(
        subject, body, sender, to, Date="Mon, 12 Jan 2026 10:00:00 +0100", **headers
    )


def ticket_of(result):
    """The ticket an ingest result names."""
    from sportello.tickets.models import Ticket

    assert result.ticket_number, result
    return Ticket.objects.get(number=result.ticket_number)


def corpus_messages():
    """``(name, raw bytes)`` of every corpus message, an mbox split into its messages."""
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    for entry in manifest:
        raw = (CORPUS / entry["file"]).read_bytes()
        if is_mbox(raw):
            for n, message in enumerate(iter_mbox(raw)):
                yield f"{entry['file']}#{n}", message
        else:
            yield entry["file"], raw
