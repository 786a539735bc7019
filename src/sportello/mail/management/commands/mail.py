"""``sportello mail``: e-mail intake from the command line.

``sportello mail ingest [FILE ...] [--jobs N]`` files messages given as .eml files, mbox
files or Maildir folders (with N processes, by default one per core, see importer.py), or one
message on standard input (the MTA pipe: Postfix
``mailbox_command`` / ``pipe`` transport, Exim ``pipe``). It prints one line per message:
``TICKET-NUMBER created|appended|duplicate|quarantined`` or ``- ignored``.

Exit status follows sysexits.h, which MTAs understand: 0 delivered (quarantined mail is
delivered too: it is stored and visible in the admin), 66 a file cannot be read, 75
temporary failure (the database cannot be reached: the MTA keeps the mail and retries).

``sportello mail verify`` reads every stored raw message (and attachment) and prints one
line for each whose file is missing or does not hold the bytes its row records (size and
SHA-256), then a summary; exit status 1 when any does not match, 0 when all do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import translation
from tqdm import tqdm

from sportello.core.files import fsync_deferred
from sportello.mail import importer
from sportello.mail.importer import TEMPFAIL
from sportello.mail.parse import is_mbox, iter_mbox
from sportello.mail.services import ingest_raw

EX_NOINPUT = 66
EX_TEMPFAIL = 75
MAX_AUTO_JOBS = 4  # beyond that the database, not the parsing, sets the pace
AUTO_JOBS_MAX_BYTES = 1 << 30
AUTO_JOBS_MIN_MESSAGES = 20  # fewer are filed sooner than worker processes start


def _size_on_disk(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        found = path.rglob("*") if path.is_dir() else [path]
        total += sum(p.stat().st_size for p in found if p.is_file())
    return total


def messages_in(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for each message in a file, an mbox or a Maildir folder."""
    if path.is_dir():
        folders = [path / "cur", path / "new"] if (path / "cur").is_dir() else [path]
        for folder in folders:
            for item in sorted(folder.iterdir()):
                if item.is_file() and not item.name.startswith("."):
                    yield str(item), item.read_bytes()
        return
    raw = path.read_bytes()
    if is_mbox(raw):
        for n, message in enumerate(iter_mbox(raw), 1):
            yield f"{path}#{n}", message
    else:
        yield str(path), raw


class Command(BaseCommand):
    help = "E-mail intake: `mail ingest [FILE ...]` files .eml, mbox or Maildir (stdin if none)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="File messages from files or standard input.")
        ingest.add_argument("files", nargs="*", help=".eml files, mbox files, Maildir folders")
        ingest.add_argument(
            "--source",
            default=None,
            help="Recorded source: pipe (stdin default) or import (files).",
        )
        ingest.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="Envelope recipient (e.g. Postfix ${recipient}); repeatable.",
        )
        ingest.add_argument("--sender", default="", help="Envelope sender (${sender}).")
        ingest.add_argument("--no-progress", action="store_true")
        ingest.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="Worker processes for imports of files (each conversation stays in order "
            f"in one of them); default: the number of cores, at most {MAX_AUTO_JOBS}.",
        )

        verify = sub.add_parser(
            "verify",
            help="List stored e-mails (and attachments) whose file does not match its row "
            "(size, SHA-256); exit status 1 when any.",
        )
        verify.add_argument(
            "--no-attachments", action="store_true", help="Check received e-mails only."
        )

    def handle(self, *args, **options):
        if options["action"] == "ingest":
            return self.ingest(options)
        if options["action"] == "verify":
            return self.verify(options)
        raise CommandError(f"Unknown action {options['action']}", returncode=2)

    def ingest(self, options):
        if not options["files"]:
            # The MTA pipe: the message is durable (fsynced) before the exit status 0.
            return self._ingest(options)
        # An import: every file is still renamed into place whole, but fsynced once for
        # the whole import, at the end (os.sync), not one by one; the source files stay
        # where they are, and a rerun after a power cut repairs what did not reach the disk.
        with fsync_deferred():
            try:
                return self._ingest(options)
            finally:
                os.sync()

    def _ingest(self, options):
        files = [Path(f) for f in options["files"]]
        for path in files:
            if not path.exists():
                raise CommandError(f"{path}: no such file or folder.", returncode=EX_NOINPUT)
        if files:
            source = options["source"] or "import"
            items: Iterator[tuple[str, bytes]] = (m for p in files for m in messages_in(p))
            total = None
        else:
            source = options["source"] or "pipe"
            items = iter([("stdin", sys.stdin.buffer.read())])
            total = 1
        jobs = options["jobs"]
        if jobs is not None and jobs < 1:
            raise CommandError(f"--jobs {jobs}: use 1 or more.", returncode=2)
        if not files:
            jobs = 1
        elif jobs is None:
            # Parallel filing holds the whole import in memory; a huge one goes one
            # message at a time instead, unless --jobs says otherwise.
            small = _size_on_disk(files) <= AUTO_JOBS_MAX_BYTES
            jobs = min(os.cpu_count() or 1, MAX_AUTO_JOBS) if small else 1
        if files and jobs > 1:
            items = list(items)
            if options["jobs"] or len(items) >= AUTO_JOBS_MIN_MESSAGES:
                return self.ingest_parallel(items, source, {**options, "jobs": jobs})
        progress = tqdm(
            items,
            total=total,
            unit="msg",
            file=sys.stderr,
            disable=options["no_progress"] or not files or not sys.stderr.isatty(),
        )
        counts: dict[str, int] = {}
        for label, raw in progress:
            try:
                result = ingest_raw(
                    raw,
                    source=source,
                    source_detail=label[:255],
                    envelope_from=options["sender"],
                    envelope_to=options["recipient"],
                )
            except DatabaseError as exc:
                # Temporary: the MTA must keep the message and try again later.
                self.stderr.write(f"{label}: database unavailable ({exc}); try again later.")
                sys.exit(EX_TEMPFAIL)
            counts[result.state] = counts.get(result.state, 0) + 1
            self.stdout.write(result.line())
        if len(files) > 0:
            summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            self.stderr.write(f"Done: {summary or 'no messages'}.")

    def ingest_parallel(self, items, source, options):
        progress = tqdm(
            total=len(items),
            unit="msg",
            file=sys.stderr,
            disable=options["no_progress"] or not sys.stderr.isatty(),
        )
        counts: dict[str, int] = {}

        def report(index: int, state: str, line: str) -> None:
            progress.update()
            counts[state] = counts.get(state, 0) + 1
            if state == TEMPFAIL:
                self.stderr.write(f"{line}; try again later.")
            else:
                self.stdout.write(line)

        importer.ingest_parallel(
            items,
            jobs=options["jobs"],
            options={
                "source": source,
                "envelope_from": options["sender"],
                "envelope_to": options["recipient"],
            },
            on_result=report,
        )
        progress.close()
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        self.stderr.write(f"Done: {summary or 'no messages'}.")
        if counts.get(TEMPFAIL):
            sys.exit(EX_TEMPFAIL)

    def verify(self, options):
        # The command speaks English, as every other command does; the reasons too.
        with translation.override("en"):
            return self._verify(options)

    def _verify(self, options):
        from sportello.mail.models import RawMessage
        from sportello.mail.selectors import attachment_file_mismatches, raw_file_mismatches
        from sportello.tickets.models import Attachment

        bad = 0
        for row, reason in raw_file_mismatches():
            bad += 1
            self.stdout.write(
                f"e-mail {row.pk} {row.file.name} ({row.state}, "
                f"Message-ID <{row.message_id}>): {reason}"
            )
        checked = f"{RawMessage.objects.count()} received e-mail(s)"
        if not options["no_attachments"]:
            for attachment, reason in attachment_file_mismatches():
                bad += 1
                self.stdout.write(
                    f"attachment {attachment.pk} {attachment.file.name} "
                    f"(ticket id {attachment.ticket_id}, {attachment.filename}): {reason}"
                )
            checked += f" and {Attachment.objects.count()} attachment(s)"
        self.stdout.write(f"Checked {checked}: {bad} file(s) do not match their rows.")
        if bad:
            sys.exit(1)
