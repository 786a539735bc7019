"""The built-in SMTP and LMTP receiver: a thin aiosmtpd adapter around ``process_envelope``.

Two ways to use it (``sportello smtpd``, started by ``sportello serve`` when
``SPORTELLO_SMTP_BIND`` or ``SPORTELLO_LMTP_BIND`` is set):

- as the MX of the support domain (SMTP), or behind Postfix/Exim, which hand mail over
  with their ``lmtp:`` / ``smtp:`` transports (LMTP, RFC 2033).

It accepts mail only for ``SPORTELLO_MAIL_DOMAINS`` and never relays: any other
recipient is refused at RCPT with ``550 5.1.1``. On DATA it stores the bytes exactly as
received (``raw_store``, which commits) and only then queues the filing task, so a
``250`` means the message is safe. When the store fails (database or storage down) it
answers ``451 4.3.0`` and the sending MTA keeps the message and retries; the same bytes
stored twice are one row (SHA-256), so a retry after a lost reply duplicates nothing.

Stored bytes are the DATA as delivered, with the SMTP transparency dots removed
(RFC 5321 4.5.2) and line endings left as CRLF, the wire form. Nothing is normalised and no
``Received`` header is added, so the stored copy is byte for byte what the MTA sent.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from sportello.core.models import SupportSettings

from . import services, tasks
from .models import RawMessage

log = logging.getLogger(__name__)

REPLY_OK = "250 2.0.0 OK: queued as {raw_id}"
REPLY_RCPT_OK = "250 2.1.5 OK"
REPLY_BAD_MAILBOX = "550 5.1.1 Bad destination mailbox address: {address}"
REPLY_TRY_LATER = "451 4.3.0 Temporary failure storing the message: try again later"
REPLY_TOO_BIG = "552 5.3.4 Message too big"

# aiosmtpd words its own size replies without RFC 3463 enhanced status codes; MTAs log
# the enhanced code, so we answer with the standard one for "message too big".
_REWORDED = {
    "552 Error: Too much mail data": REPLY_TOO_BIG,
    "552 Error: message size exceeds fixed maximum message size": REPLY_TOO_BIG,
}


def mail_domains() -> list[str]:
    """The domains we receive for: SPORTELLO_MAIL_DOMAINS, else the company's own.

    Without the setting, they are read from the support settings at every call, so an
    address added in the admin works at once: the company domains plus the domains of
    the official support addresses.
    """
    configured = [d.strip().lower().rstrip(".") for d in settings.SPORTELLO_MAIL_DOMAINS]
    if configured:
        return [d for d in configured if d]
    support = SupportSettings.load()
    domains = [*support.company_domain_list]
    for address in support.support_address_list:
        domain = address.rpartition("@")[2]
        if domain and domain not in domains:
            domains.append(domain)
    return domains


def tls_context() -> ssl.SSLContext | None:
    """STARTTLS for senders that ask (a direct MX), from SPORTELLO_SMTP_TLS_CERT and _KEY
    (PEM files; the certificate file may hold the chain). None when not configured.
    Raises ValueError naming the setting when a file cannot be used."""
    cert, key = settings.SPORTELLO_SMTP_TLS_CERT, settings.SPORTELLO_SMTP_TLS_KEY
    if not cert and not key:
        return None
    if not cert or not key:
        raise ValueError("Set both SPORTELLO_SMTP_TLS_CERT and SPORTELLO_SMTP_TLS_KEY.")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"SPORTELLO_SMTP_TLS_CERT={cert} / SPORTELLO_SMTP_TLS_KEY={key}: {exc}. "
            "Give a readable PEM certificate and its private key."
        ) from exc
    return context


def accepts_recipient(address: str, domains: Iterable[str]) -> bool:
    """True when ``address`` is a mailbox of one of ``domains`` (we never relay).

    Exact domain match, case-insensitive, ignoring a trailing root dot; a subdomain is
    another domain. The local part must not be empty.
    """
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local:
        return False
    wanted = {d.strip().lower().rstrip(".") for d in domains}
    return domain.lower().rstrip(".") in wanted


def process_envelope(
    mail_from: str,
    rcpt_tos: list[str],
    data: bytes,
    peer: Any,
    *,
    source: str = RawMessage.Source.SMTP,
) -> str:
    """Store one received message and queue its filing; return the SMTP reply line.

    ``250 2.0.0 OK: queued as <raw id>`` once the bytes are committed; ``451 4.3.0`` when
    they cannot be stored or the filing cannot be queued (the sender retries, and the
    same bytes are found again, so nothing is stored twice).
    """
    try:
        row, created = services.raw_store(
            data,
            source=source,
            source_detail=f"{source} from {_peer_host(peer)}",
            envelope_from=(mail_from or "").strip("<>"),  # "<>": the null sender of a bounce
            envelope_to=list(rcpt_tos),
        )
    except Exception:
        # Ours, not the sender's (IntakeError in STYLE 2.3): a 4xx keeps it in their queue.
        log.exception(
            "mail receiver could not store a message",
            extra={"peer": _peer_host(peer), "bytes": len(data), "recipients": len(rcpt_tos)},
        )
        return REPLY_TRY_LATER
    if created or row.state == RawMessage.State.PENDING:
        try:
            tasks.raw_process(row.pk)
        except Exception:
            # Stored but not queued: a retry finds the same row, still pending, and queues it.
            log.exception("mail receiver could not queue a message", extra={"raw_id": row.pk})
            return REPLY_TRY_LATER
    log.info(
        "mail received",
        extra={"raw_id": row.pk, "new": created, "source": str(source), "bytes": len(data)},
    )
    return REPLY_OK.format(raw_id=row.pk)


def _peer_host(peer: Any) -> str:
    if isinstance(peer, tuple | list) and peer:
        return str(peer[0])
    return str(peer or "unknown")


def _fresh_connections(fn: Callable) -> Callable:
    """Run ``fn`` as Django runs a request: broken or expired connections (CONN_MAX_AGE)
    closed before and after, healthy ones kept for the next message on this thread."""

    def run(*args, **kwargs):
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return run


async def _in_thread(fn: Callable, *args, **kwargs):
    # Django's ORM is synchronous: never call it from the event loop itself.
    return await sync_to_async(_fresh_connections(fn), thread_sensitive=False)(*args, **kwargs)


class Handler:
    """aiosmtpd hooks: recipients checked at RCPT, the message handed to ``process_envelope``.

    ``received`` counts messages answered with 250, for the command's summary line;
    ``busy`` the messages being stored right now, which a graceful stop waits for.
    """

    def __init__(self, *, source: str = RawMessage.Source.SMTP, domains=mail_domains):
        self.source = source
        self.domains = domains
        self.received = 0
        self.busy = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options
    ) -> str:
        try:
            domains = await _in_thread(self.domains)
        except Exception:
            log.exception("mail receiver could not read its domains")
            return REPLY_TRY_LATER
        if not accepts_recipient(address, domains):
            # No relaying: the authoritative routing happens when the message is filed.
            return REPLY_BAD_MAILBOX.format(address=address)
        envelope.rcpt_tos.append(address)
        return REPLY_RCPT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.busy += 1
        try:
            reply = await _in_thread(
                process_envelope,
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or b""),
                session.peer,
                source=self.source,
            )
        finally:
            self.busy -= 1
        if reply.startswith("250"):
            self.received += 1
        return reply


class _EnhancedCodes:
    # RFC 5321 4.5.3.1.6 caps a line at 1000 octets, but real senders write longer ones
    # (two messages of the test corpus do) and aiosmtpd would answer "500 Line too
    # long", a permanent refusal that bounces the customer's mail. Accept long lines and
    # store them untouched; the message size limit still bounds the memory used.
    line_length_limit = 1024 * 1024

    async def push(self, status):
        if isinstance(status, str):
            status = _REWORDED.get(status, status)
        await super().push(status)


class Receiver(_EnhancedCodes, SMTP):
    """SMTP (RFC 5321) with enhanced status codes on the size replies."""


class LMTPReceiver(_EnhancedCodes, LMTP):
    """LMTP: after the data, one reply per accepted recipient, in RCPT order (RFC 2033 4.2).

    aiosmtpd's LMTP answers DATA once, like SMTP; a client waiting for N replies would
    hang. Every reply that ends the data phase (stored, too big, line too long) is
    repeated for each recipient: one stored copy serves them all, so each gets the same.
    """

    _replies_owed = 0

    async def smtp_DATA(self, arg: str) -> None:
        self._replies_owed = 0
        await super().smtp_DATA(arg)

    async def push(self, status):
        text = status if isinstance(status, str) else status.decode("ascii", "replace")
        if text.startswith("354"):
            self._replies_owed = len(self.envelope.rcpt_tos) if self.envelope else 0
            return await super().push(status)
        owed, self._replies_owed = self._replies_owed, 0
        for _n in range(max(owed, 1)):
            await super().push(status)


def make_protocol(
    handler: Handler,
    *,
    lmtp: bool = False,
    max_bytes: int | None = None,
    hostname: str | None = None,
    **kwargs,
) -> SMTP:
    """The aiosmtpd protocol for one connection (the command and the tests share it)."""
    cls = LMTPReceiver if lmtp else Receiver
    return cls(
        handler,
        data_size_limit=max_bytes if max_bytes is not None else settings.SPORTELLO_SMTP_MAX_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
        hostname=hostname or socket.gethostname(),
        **kwargs,
    )
