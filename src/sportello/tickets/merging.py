"""Merge, split and link tickets: the one writer of ``Ticket.merged_into`` and
``Ticket.related``, and the only code that moves messages between tickets.

Merging B into A keeps the charges right by moving the work, not copying it: B's
messages, interventions and attachments move to A, which is priced again with them;
B is closed not billable (duplicate), so its charges freeze at zero and every call or
written message is billed once, on A. A closed ticket (its charges frozen, perhaps on a
statement already) is neither merged nor merged into: reopen it first.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from . import signals
from .errors import TicketInputError
from .events import SYSTEM, Actor, record_event
from .models import (
    Attachment,
    Intervention,
    Message,
    MessageKind,
    NonBillableReason,
    Status,
    Ticket,
    TicketEvent,
)
from .services import ticket_change_status, ticket_open
from .tagging import ticket_tags_change


def _reprice(*tickets: Ticket) -> None:
    for ticket in tickets:
        signals.pricing_changed.send(Ticket, ticket=ticket, opened_with_written=None)


def _locked(*pks: int) -> dict[int, Ticket]:
    # Always in the order of the keys, so two merges of the same pair cannot deadlock.
    rows = Ticket.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    return {t.pk: t for t in rows}


def _not_closed(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise TicketInputError(
            _(
                "Ticket %(number)s is closed and its charges are frozen (they may be on a "
                "statement already): reopen it first, or link the tickets instead."
            )
            % {"number": ticket.number},
            field="ticket",
        )


def merge_check(*, source: Ticket, target: Ticket) -> None:
    """Raise ``TicketInputError`` saying why ``source`` cannot be merged into ``target``."""
    if source.pk == target.pk:
        raise TicketInputError(
            _("A ticket cannot be merged into itself: choose another ticket."), field="target"
        )
    if source.merged_into_id:
        raise TicketInputError(
            _("Ticket %(number)s was merged already.") % {"number": source.number},
            field="ticket",
        )
    if target.merged_into_id:
        raise TicketInputError(
            _("Ticket %(number)s was merged into another ticket: merge into that one instead.")
            % {"number": target.number},
            field="target",
        )
    _not_closed(source)
    _not_closed(target)


def ticket_merge(*, source: Ticket, target: Ticket, actor: Actor = SYSTEM) -> Ticket:
    """Merge ``source`` (B) into ``target`` (A); returns A, priced again.

    B's messages, interventions and attachments move to A, its tags and related tickets
    are added to A's; B becomes a closed, not billable (duplicate) ticket pointing to A
    (``merged_into``), with an event on each side.
    """
    with transaction.atomic():
        rows = _locked(source.pk, target.pk)
        source, target = rows[source.pk], rows.get(target.pk, rows[source.pk])
        merge_check(source=source, target=target)
        moved = {
            "messages": Message.objects.filter(ticket=source).update(ticket=target),
            "interventions": Intervention.objects.filter(ticket=source).update(ticket=target),
            "attachments": Attachment.objects.filter(ticket=source).update(ticket=target),
        }
        others = [t for t in source.related.all() if t.pk != target.pk]
        source.related.clear()
        if others:
            target.related.add(*others)
        Ticket.objects.filter(merged_into=source).update(merged_into=target)
        tags = list(source.tags.values_list("name", flat=True))
        if tags:
            ticket_tags_change(ticket=target, add=tags, actor=actor)
        source.merged_into = target
        source.billable = False
        source.non_billable_reason = NonBillableReason.DUPLICATE
        source.save(update_fields=["merged_into", "billable", "non_billable_reason", "updated_at"])
        record_event(
            ticket=source,
            kind=TicketEvent.Kind.MERGED,
            actor=actor,
            data={"merged_into": target.number, "ticket": target.pk},
        )
        record_event(
            ticket=target,
            kind=TicketEvent.Kind.MERGED,
            actor=actor,
            data={"merged": source.number, "ticket": source.pk, **moved},
        )
        # Not billable, then closed: B's charges are priced at zero and frozen.
        ticket_change_status(ticket=source, status=Status.CLOSED, actor=actor, notify=False)
        target.save(update_fields=["updated_at"])
        _reprice(target)
        signals.conversation_moved.send(Ticket, ticket_ids=[source.pk, target.pk])
    return target


def tickets_merge(*, sources: list[Ticket], target: Ticket, actor: Actor = SYSTEM) -> Ticket:
    """Merge several tickets into one, all or nothing (the desk's bulk merge)."""
    with transaction.atomic():
        for source in sources:
            if source.pk != target.pk:
                target = ticket_merge(source=source, target=target, actor=actor)
    return target


def message_split(*, message: Message, subject: str = "", actor: Actor = SYSTEM) -> Ticket:
    """Move ``message`` (and its attachments) out of its ticket into a new ticket.

    The new ticket keeps the message's author as contact (else the old ticket's contact)
    and their organisation, the old ticket's channel, priority and answer to the
    policy's question; the two are related both ways, with an event on each.
    """
    with transaction.atomic():
        source = _locked(message.ticket_id)[message.ticket_id]
        _not_closed(source)
        if message.kind == MessageKind.SYSTEM:
            raise TicketInputError(
                _("Automatic system messages stay with their ticket."), field="message"
            )
        if not Message.objects.filter(ticket=source).exclude(pk=message.pk).exists():
            raise TicketInputError(
                _(
                    "This is the ticket's only message: nothing would be left. Change the "
                    "ticket's subject instead."
                ),
                field="message",
            )
        contact = message.author_contact or source.contact
        organisation = (
            contact.organisation if contact and contact.organisation_id else source.organisation
        )
        subject = (subject or "").strip() or _subject_of(message) or source.subject
        new = ticket_open(
            subject=subject,
            channel=source.channel,
            organisation=organisation,
            contact=contact,
            actor=actor,
            priority=source.priority,
            category=source.category,
            official_channels_possible=source.official_channels_possible,
        )
        Message.objects.filter(pk=message.pk).update(ticket=new)
        Attachment.objects.filter(message=message).update(ticket=new)
        new.related.add(source)
        record_event(
            ticket=source,
            kind=TicketEvent.Kind.SPLIT,
            actor=actor,
            data={"split_to": new.number, "ticket": new.pk, "message": message.pk},
        )
        record_event(
            ticket=new,
            kind=TicketEvent.Kind.SPLIT,
            actor=actor,
            data={"split_from": source.number, "ticket": source.pk, "message": message.pk},
        )
        source.save(update_fields=["updated_at"])
        _reprice(source, new)
        signals.conversation_moved.send(Ticket, ticket_ids=[source.pk, new.pk])
    message.ticket = new
    return new


def _subject_of(message: Message) -> str:
    subject = (message.subject or "").strip()
    while subject.lower().startswith(("re:", "r:", "fw:", "fwd:", "i:")):
        subject = subject.split(":", 1)[1].strip()
    if subject:
        return subject[:255]
    for line in (message.text or "").splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""


def tickets_link(*, ticket: Ticket, other: Ticket, actor: Actor = SYSTEM) -> bool:
    """Relate two tickets (shown on both pages); False when they were related already."""
    if ticket.pk == other.pk:
        raise TicketInputError(
            _("A ticket cannot be related to itself: choose another ticket."), field="other"
        )
    with transaction.atomic():
        if ticket.related.filter(pk=other.pk).exists():
            return False
        ticket.related.add(other)
        for one, two in ((ticket, other), (other, ticket)):
            record_event(
                ticket=one,
                kind=TicketEvent.Kind.LINKED,
                actor=actor,
                data={"related": [None, two.number], "ticket": two.pk},
            )
    return True


def tickets_unlink(*, ticket: Ticket, other: Ticket, actor: Actor = SYSTEM) -> bool:
    """Remove the relation between two tickets; False when there was none."""
    with transaction.atomic():
        if not ticket.related.filter(pk=other.pk).exists():
            return False
        ticket.related.remove(other)
        for one, two in ((ticket, other), (other, ticket)):
            record_event(
                ticket=one,
                kind=TicketEvent.Kind.LINKED,
                actor=actor,
                data={"related": [two.number, None], "ticket": two.pk},
            )
    return True
