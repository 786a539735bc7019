"""The customer's e-mail the mail tests send in, built like a mail client would."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid


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
