"""``sportello smtpd [--bind HOST:PORT] [--lmtp]``: the built-in SMTP or LMTP receiver.

SMTP for a direct MX, LMTP (``--lmtp``) behind Postfix or Exim (``lmtp:`` transport).
It accepts mail only for SPORTELLO_MAIL_DOMAINS (default: the company's domains from
the support settings) and never relays; each message is stored before it is
acknowledged and filed by the background worker (see ``sportello.mail.smtpd``).

SIGTERM or Ctrl-C stops it: it stops listening, lets messages being stored finish
(up to 30 seconds), drops idle sessions (their senders retry) and prints
"Received N message(s)." Exit status 2 for bad configuration (no address to listen on,
a malformed --bind, no domains, a port it cannot bind).
"""

from __future__ import annotations

import asyncio
import signal
import time
import weakref

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sportello.mail import smtpd as receiver
from sportello.mail.models import RawMessage

GRACE_SECONDS = 30


def parse_bind(value: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` to (host, port); CommandError (status 2) otherwise."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise CommandError(
            f"--bind {value!r} is not HOST:PORT, e.g. 127.0.0.1:2525 or [::1]:2525.",
            returncode=2,
        )
    return host, int(port)


class Command(BaseCommand):
    help = (
        "Receive mail by SMTP (or LMTP with --lmtp) for the configured domains, store it "
        "and queue it for filing; SIGTERM or Ctrl-C stops it with a summary line."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default="",
            help="HOST:PORT to listen on (default SPORTELLO_SMTP_BIND, or "
            "SPORTELLO_LMTP_BIND with --lmtp). Port 0 picks a free port.",
        )
        parser.add_argument(
            "--lmtp",
            action="store_true",
            help="Speak LMTP (RFC 2033), for a Postfix/Exim lmtp transport.",
        )

    def handle(self, *args, **options):
        lmtp = options["lmtp"]
        bind = options["bind"] or (
            settings.SPORTELLO_LMTP_BIND if lmtp else settings.SPORTELLO_SMTP_BIND
        )
        if not bind:
            variable = "SPORTELLO_LMTP_BIND" if lmtp else "SPORTELLO_SMTP_BIND"
            raise CommandError(
                f"Nothing to listen on: set {variable} (e.g. 127.0.0.1:2525) or pass --bind.",
                returncode=2,
            )
        host, port = parse_bind(bind)
        domains = receiver.mail_domains()
        if not domains:
            raise CommandError(
                "No mail domains: set SPORTELLO_MAIL_DOMAINS (e.g. example.it) or the "
                "company domains in the admin (Configurazione).",
                returncode=2,
            )
        try:
            tls = None if lmtp else receiver.tls_context()
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        source = RawMessage.Source.LMTP if lmtp else RawMessage.Source.SMTP
        handler = receiver.Handler(source=source)
        self.tls = tls
        self.shutdown = False
        asyncio.run(self.serve(handler, host, port, lmtp=lmtp, domains=domains))
        return f"Received {handler.received} message(s)."

    async def serve(self, handler, host, port, *, lmtp, domains):
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def on_signal():
            self.shutdown = True
            stop.set()

        loop.add_signal_handler(signal.SIGTERM, on_signal)
        loop.add_signal_handler(signal.SIGINT, on_signal)
        sessions: weakref.WeakSet[receiver.SMTP] = weakref.WeakSet()  # open connections

        def protocol():
            proto = receiver.make_protocol(handler, lmtp=lmtp, loop=loop, tls_context=self.tls)
            sessions.add(proto)
            return proto

        try:
            server = await loop.create_server(protocol, host, port)
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Pick another --bind "
                "or stop what is using it.",
                returncode=2,
            )
        bound = server.sockets[0].getsockname()
        self.stdout.write(
            f"Receiving {'LMTP' if lmtp else 'SMTP'} on {bound[0]}:{bound[1]} for "
            f"{', '.join(domains)} (at most {settings.SPORTELLO_SMTP_MAX_BYTES} bytes"
            f"{', STARTTLS offered' if self.tls else ''}); "
            "SIGTERM or Ctrl-C stops."
        )
        self.stdout.flush()
        await stop.wait()
        server.close()
        # Let a message being stored get its reply; the rest are idle or mid-dialogue,
        # and an SMTP client retries whatever was not answered with 250.
        deadline = time.monotonic() + GRACE_SECONDS
        while handler.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for session in list(sessions):
            if session.transport is not None:
                session.transport.close()
        await asyncio.sleep(0)
