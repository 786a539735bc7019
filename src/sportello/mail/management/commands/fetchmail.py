"""``sportello fetchmail``: poll the IMAP and POP3 mailboxes configured in the admin.

Mailboxes are rows (admin: E-mail > Mailboxes): host, port, security, user, password or
OAuth2 token, folder, poll interval. Without ``--once`` this is a loop, started by
``sportello serve`` when at least one mailbox is active: every mailbox is polled when its
interval has passed; a mailbox added later in the admin is picked up by the loop. With
``--once`` every active mailbox (or each ``--mailbox``) is polled now, and the command
exits.

Any number of fetchmail processes may run, on any number of machines: a mailbox is
claimed in its row before it is polled, so it is polled by one of them at a time.
SIGTERM or SIGINT: the message in hand is finished, the claims are released, the summary
line is printed, exit 0.

Exit status: 0; 1 when ``--once`` could not poll a mailbox (the error is printed and kept
in the mailbox's "last error"; the loop only logs it and tries again at the next
interval); 2 for bad usage, such as an unknown ``--mailbox``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from sportello.mail.models import Mailbox
from sportello.mail.poller import PollSummary, poll_due_mailboxes

log = logging.getLogger(__name__)

TICK = 2.0  # seconds between looks at which mailbox is due


class Command(BaseCommand):
    help = (
        "Poll the IMAP/POP3 mailboxes configured in the admin (E-mail > Mailboxes) and file "
        "their messages as tickets; runs until SIGTERM unless --once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Poll now, once, then exit (1 if a mailbox could not be polled).",
        )
        parser.add_argument(
            "--mailbox",
            action="append",
            dest="mailboxes",
            metavar="NAME",
            default=[],
            help="Only this mailbox, even an inactive one (to try its settings); repeatable.",
        )

    def handle(self, *args, **options):
        names = options["mailboxes"]
        self.verbosity = options["verbosity"]
        if names:
            found = set(Mailbox.objects.filter(name__in=names).values_list("name", flat=True))
            missing = [name for name in names if name not in found]
            if missing:
                raise CommandError(
                    f"No mailbox named {', '.join(missing)}: see E-mail > Mailboxes in the admin.",
                    returncode=2,
                )
        self.shutdown = False
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.fetched = 0
        self.polled: set[str] = set()
        previous = {}
        if threading.current_thread() is threading.main_thread():  # signal.signal's rule
            previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
            for sig in previous:
                signal.signal(sig, self.on_signal)
        try:
            if options["once"]:
                return self.once(names)
            return self.loop(names)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def on_signal(self, signum, frame):
        self.shutdown = True

    def stopping(self) -> bool:
        return self.shutdown

    def summary(self) -> str:
        return f"Fetched {self.fetched} message(s) from {len(self.polled)} mailbox(es)."

    def count(self, summaries: list[PollSummary]) -> None:
        for summary in summaries:
            self.fetched += summary.fetched
            self.polled.add(summary.mailbox)

    def once(self, names: list[str]) -> str:
        if not names and not Mailbox.objects.filter(active=True).exists():
            self.stdout.write("No active mailbox: add one in the admin under E-mail > Mailboxes.")
            return self.summary()
        summaries = poll_due_mailboxes(
            self.owner, names=names or None, force=True, should_stop=self.stopping
        )
        self.count(summaries)
        for summary in summaries:
            if self.verbosity >= 2 or summary.fetched or summary.error:
                self.stdout.write(summary.line())
        failed = [s for s in summaries if s.error]
        if failed:
            self.stdout.write(self.summary())
            raise CommandError("; ".join(f"{s.mailbox}: {s.error}" for s in failed), returncode=1)
        return self.summary()

    def loop(self, names: list[str]) -> str:
        while not self.shutdown:
            try:
                close_old_connections()  # a long-lived process: honour CONN_MAX_AGE
                summaries = poll_due_mailboxes(
                    self.owner, names=names or None, should_stop=self.stopping
                )
            except DatabaseError as exc:
                # The database is down: say so, wait, try again; the mail stays on the server.
                log.warning("fetchmail: database unavailable", extra={"error": str(exc)})
                summaries = []
                close_old_connections()
            self.count(summaries)
            for summary in summaries:
                if summary.fetched or self.verbosity >= 2:
                    self.stdout.write(summary.line())
            self.sleep(TICK)
        return self.summary()

    def sleep(self, seconds: float) -> None:
        """Sleep in small steps, so SIGTERM is honoured at once."""
        deadline = time.monotonic() + seconds
        while not self.shutdown and time.monotonic() < deadline:
            time.sleep(0.1)
