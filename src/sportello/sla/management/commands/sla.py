"""``sportello sla check``: send the SLA warnings and escalations that are due, once (for
cron, instead of or beside the worker's periodic task); ``sportello sla refresh``: store
every open ticket's clock again (after a bulk load, which sends no signals). Exits 2 on
bad usage."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sportello.sla.services import clocks_refresh_open, notices_send


class Command(BaseCommand):
    help = "SLA: `check` sends the due warnings and escalations; `refresh` recomputes clocks."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", help="check or refresh")

    def handle(self, *args, **opts):
        if opts["action"] == "check":
            sent = notices_send()
            for s in sent:
                self.stdout.write(
                    f"{s.kind} {s.target} ticket {s.ticket}: {', '.join(s.recipients)}"
                )
            return f"Sent {len(sent)} SLA e-mail(s)."
        if opts["action"] == "refresh":
            return f"Refreshed {clocks_refresh_open()} open ticket clock(s)."
        raise CommandError(
            "Say what to do: `sportello sla check` sends the due SLA e-mails, "
            "`sportello sla refresh` recomputes the open tickets' clocks.",
            returncode=2,
        )
