"""Outbound mail: acknowledgements, answers and agent replies.

A message to send is first a ``Message`` row (outbound, ``delivery_status=pending``)
with its own Message-ID, written in the caller's transaction; a Huey task sends it after
the commit, with retries, and records ``sent`` or ``failed`` on the row (the sending
itself is in ``delivery.py``). So a reply is
never lost when the SMTP server is down, and threading headers are known before sending.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from sportello.core.hours import support_hours_text
from sportello.core.models import SupportSettings
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import DeliveryStatus, Direction, Message, MessageKind, Ticket

from .delivery import deliverable, is_address
from .tasks import message_send

log = logging.getLogger(__name__)


def support_address(support: SupportSettings) -> str:
    addresses = support.support_address_list
    return addresses[0] if addresses else settings.DEFAULT_FROM_EMAIL


def new_message_id(support: SupportSettings | None = None) -> str:
    support = support or SupportSettings.load()
    domain = support_address(support).rsplit("@", 1)[-1]
    return make_msgid(domain=domain).strip("<>")


def thread_headers(ticket: Ticket) -> tuple[str, str]:
    """In-Reply-To and References for a new outbound message of ``ticket`` (RFC 5322 3.6.4)."""
    rows = list(
        ticket.messages.exclude(message_id="")
        .exclude(kind=MessageKind.SYSTEM)
        .order_by("created_at", "pk")
        .values_list("message_id", "direction", "automatic")
    )
    if not rows:
        return "", ""
    ids = [message_id for message_id, _, _ in rows]
    # We answer what the customer wrote last, not our own acknowledgement sent after it.
    customer_ids = [
        message_id
        for message_id, direction, automatic in rows
        if direction == Direction.INBOUND and not automatic
    ]
    parent = customer_ids[-1] if customer_ids else ids[-1]
    return parent, " ".join(ids[-20:])


def subject_for(ticket: Ticket, subject: str | None = None) -> str:
    subject = subject or ticket.subject
    if ticket.tag in subject:
        return subject
    return f"{ticket.tag} {subject}"


def queue_email(
    *,
    ticket: Ticket,
    to: list[str],
    text: str,
    subject: str | None = None,
    automatic: bool = False,
    actor: tickets.Actor = tickets.SYSTEM,
    html: str = "",
    cc: list[str] | None = None,
    thread: tuple[str, str] | None = None,
) -> Message:
    """Record an outbound e-mail on the ticket and send it once the transaction commits.

    ``thread``: In-Reply-To and References when the caller knows them already."""
    support = SupportSettings.load()
    in_reply_to, references = thread if thread is not None else thread_headers(ticket)
    message = tickets.message_add(
        ticket=ticket,
        actor=actor,
        message=MessageInput(
            kind=MessageKind.EMAIL,
            direction=Direction.OUTBOUND,
            text=text,
            html=html,
            sender=support_address(support),
            recipients=to,
            cc=cc or [],
            subject=subject_for(ticket, subject),
            message_id=new_message_id(support),
            in_reply_to=in_reply_to,
            references=references,
            automatic=automatic,
            delivery_status=DeliveryStatus.PENDING,
        ),
    )
    transaction.on_commit(lambda: message_send(message.pk))
    return message


def acknowledgement(
    *, ticket: Ticket, to: str, limit_per_hour: int, thread: tuple[str, str] | None = None
) -> Message | None:
    """The immediate answer to a new ticket (SPEC 2), at most N per sender per hour."""
    if not is_address(to):
        return None
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = Message.objects.filter(
        direction=Direction.OUTBOUND,
        automatic=True,
        created_at__gte=hour_ago,
    )
    # Narrowed to the sender's own tickets, so that the check stays one small query however
    # much mail the desk receives (recipients is a JSON list, not portably searchable).
    if ticket.contact_id:
        recent = recent.filter(ticket__contact_id=ticket.contact_id)
    recent = recent.values_list("recipients", flat=True)
    if sum(1 for recipients in recent if to in recipients) >= limit_per_hour:
        log.info("acknowledgement rate-limited", extra={"ticket": ticket.number})
        return None
    support = SupportSettings.load()
    text = render_for_customer(
        ticket,
        "mail/acknowledgement.txt",
        support=support,
        hours=support_hours_text(support.support_windows),
    )
    return queue_email(ticket=ticket, to=[to], text=text, automatic=True, thread=thread)


def render_for_customer(ticket: Ticket, template: str, **context) -> str:
    """A customer e-mail's text, in the contact's language, with the ticket, the support
    settings and the portal link in its context."""
    context.setdefault("support", SupportSettings.load())
    language = ticket.contact.language if ticket.contact else settings.LANGUAGE_CODE
    with translation.override(language):
        return render_to_string(
            template, {"ticket": ticket, "link": portal_link(ticket), **context}
        )


def answer_new_ticket(*, ticket: Ticket, to: str, texts: tuple[str, ...]) -> Message | None:
    """The first answer to a new request, whatever its channel: the out-of-scope answer
    (and the ticket closed, not billable) when ``texts`` match the configured rule, else
    the acknowledgement."""
    support = SupportSettings.load()
    thread = _opening_thread(ticket)
    to = to if is_address(to) else ""  # "giulia" from a broken From: never an answer
    if support.out_of_scope_pattern:
        pattern = re.compile(support.out_of_scope_pattern, re.IGNORECASE)
        if any(pattern.search(text[:5000]) for text in texts if text):
            return out_of_scope_answer(
                ticket=ticket, to=to, text=support.out_of_scope_reply, thread=thread
            )
    if not to:
        return None
    return acknowledgement(
        ticket=ticket, to=to, limit_per_hour=support.ack_limit_per_hour, thread=thread
    )


def _opening_thread(ticket: Ticket) -> tuple[str, str] | None:
    """Threading headers for the answer to a ticket just opened, without a query: its
    first message, in memory, is the only one (None when the caller did not keep it)."""
    first = getattr(ticket, "first_message", None)
    if first is None:
        return None
    return (first.message_id, first.message_id) if first.message_id else ("", "")


def portal_link(ticket: Ticket) -> str:
    return f"{settings.SPORTELLO_SITE_URL.rstrip('/')}/portale/ticket/{ticket.number}/"


def out_of_scope_answer(
    *, ticket: Ticket, to: str, text: str, thread: tuple[str, str] | None = None
) -> Message | None:
    """Answer a request we cannot serve (the state's INIT system), close it, no charge.

    Without an address to answer, the ticket is closed all the same."""
    message = None
    if is_address(to):
        message = queue_email(ticket=ticket, to=[to], text=text, automatic=True, thread=thread)
    tickets.ticket_update(ticket=ticket, billable=False, non_billable_reason="out_of_scope")
    tickets.ticket_change_status(ticket=ticket, status="closed")
    return message


def reply_send(
    *,
    ticket: Ticket,
    text: str,
    actor: tickets.Actor,
    to: list[str] | None = None,
    cc: list[str] | None = None,
) -> Message:
    """An agent's answer to the customer, by e-mail."""
    if to is None:
        to = customer_addresses(ticket)
    return queue_email(ticket=ticket, to=to, cc=cc, text=text, actor=actor)


def customer_addresses(ticket: Ticket) -> list[str]:
    if ticket.contact_id:
        addresses = list(
            ticket.contact.emails.order_by("-primary").values_list("address", flat=True)[:1]
        )
        if addresses:
            return addresses
    last = (
        ticket.messages.filter(direction=Direction.INBOUND, sender__contains="@")
        .order_by("-created_at")
        .first()
    )
    return deliverable([last.sender]) if last else []
