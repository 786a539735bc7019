"""``sportello search rebuild``: build the search index again from every ticket.

Needed after a bulk load (``bulk_create`` sends no signals, so the index does not
follow it; ``sportello bench-data`` runs it at its end). Ordinary writes keep the index
current by themselves. The rebuild runs in one transaction: searches see the old index
until it commits. Exits 2 on bad usage.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sportello.search.index import index_rebuild
from sportello.tickets.models import Ticket


class Command(BaseCommand):
    help = "Search index: `rebuild` builds every ticket's search document again."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", help="rebuild")
        parser.add_argument("--batch", type=int, default=2000, help="Tickets per batch.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        if opts["action"] != "rebuild":
            raise CommandError(
                "Say what to do: `sportello search rebuild` builds the index again.",
                returncode=2,
            )
        if opts["batch"] <= 0:
            raise CommandError("--batch must be a positive number, e.g. 2000.", returncode=2)
        bar = tqdm(
            total=Ticket.objects.count(),
            unit="ticket",
            disable=opts["no_progress"],
            file=self.stderr._out,
        )
        report = index_rebuild(batch=opts["batch"], progress=bar.update)
        bar.close()
        return f"Indexed {report.tickets} ticket(s) in {report.seconds:.1f} s."
