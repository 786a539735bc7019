"""Tags on tickets: the one writer of ``Ticket.tags`` (STYLE 1.4).

A tag is a lower-cased name of at most 50 characters, without commas (a form lists
several separated by commas). Every change writes one ``tags`` event holding the tags
before and after, so the timeline says what was added and removed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import TicketInputError
from .events import SYSTEM, Actor, record_event
from .models import Tag, Ticket, TicketEvent

TAG_MAX_CHARS = 50


def tag_names_parse(text: str) -> list[str]:
    """``"VPN, stampante "`` -> ``["vpn", "stampante"]``: what an agent typed, cleaned,
    in order, each once. Raises ``TicketInputError`` for a name that is too long."""
    names: list[str] = []
    for part in (text or "").split(","):
        name = " ".join(part.split()).lower()
        if not name:
            continue
        if len(name) > TAG_MAX_CHARS:
            raise TicketInputError(
                _("The tag %(name)s is longer than %(max)d characters: shorten it.")
                % {"name": name, "max": TAG_MAX_CHARS},
                field="tags",
            )
        if name not in names:
            names.append(name)
    return names


def _tags_for(names: Iterable[str]) -> list[Tag]:
    names = list(names)
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [n for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    return [existing[n] for n in names]


def ticket_tags_change(
    *,
    ticket: Ticket,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    actor: Actor = SYSTEM,
) -> list[str]:
    """Add and remove tags (names already parsed or raw); returns the ticket's tags after.

    Nothing changes, and no event is written, when the ticket already has the tags added
    and none of the tags removed.
    """
    add = tag_names_parse(",".join(add))
    remove = set(tag_names_parse(",".join(remove)))
    with transaction.atomic(savepoint=False):
        before = sorted(ticket.tags.values_list("name", flat=True))
        after = sorted((set(before) | set(add)) - remove)
        if after == before:
            return before
        gone = set(before) - set(after)
        if gone:
            ticket.tags.remove(*Tag.objects.filter(name__in=gone))
        new = [n for n in after if n not in before]
        if new:
            ticket.tags.add(*_tags_for(new))
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        record_event(
            ticket=ticket, kind=TicketEvent.Kind.TAGS, actor=actor, data={"tags": [before, after]}
        )
    return after


def ticket_tags_set(*, ticket: Ticket, names: Iterable[str], actor: Actor = SYSTEM) -> list[str]:
    """Make the ticket's tags exactly ``names``."""
    wanted = tag_names_parse(",".join(names))
    current = list(ticket.tags.values_list("name", flat=True))
    return ticket_tags_change(
        ticket=ticket, add=wanted, remove=[n for n in current if n not in wanted], actor=actor
    )
