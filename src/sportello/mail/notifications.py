"""E-mail notifications that follow ticket changes (receivers of tickets.signals).

- The customer hears when a ticket is resolved, with how to reopen it.
- Agents hear of their tickets (the customer wrote, a colleague assigned it to them or
  mentioned them in a note) through ``agent_notify``, in the language the agent chose
  (``staff.Agent.language``; the site's when empty). Who hears what is decided by the
  desk (``desk.notify``, receivers of the same signals), which calls in here.

Both are stored messages with their own Message-ID, sent by the ``message_send`` task
with retries like every outbound mail, so a failed delivery shows on the ticket. The
agent's notice is a *system* message: it never appears in the portal and never counts
as a written message of the tariff.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from sportello.core.models import SupportSettings
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import (
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
    Status,
    Ticket,
)

from . import outbound
from .tasks import message_send

CUSTOMER_KINDS = (MessageKind.EMAIL, MessageKind.PORTAL, MessageKind.CHAT)


def on_status_changed(sender, *, ticket: Ticket, old: str, new: str, actor, notify: bool, **kw):
    if notify and new == Status.RESOLVED:
        resolved_notify(ticket=ticket)


def customer_wrote(message: Message) -> bool:
    """A message the customer wrote themselves (not an auto-reply): the one the assigned
    agent hears of."""
    return (
        message.direction == Direction.INBOUND
        and message.kind in CUSTOMER_KINDS
        and not message.automatic
    )


def resolved_notify(*, ticket: Ticket) -> Message | None:
    """Tell the customer the ticket is resolved and how to reopen it."""
    to = outbound.customer_addresses(ticket)
    if not to:
        return None  # a phone-only contact: the agent told them on the phone
    text = outbound.render_for_customer(ticket, "mail/resolved.txt")
    return outbound.queue_email(ticket=ticket, to=to, text=text, automatic=True)


def assignee_notify(
    *, ticket: Ticket, message: Message, new_ticket: bool = False
) -> Message | None:
    """Tell the assigned agent that the customer wrote; nobody when unassigned.

    ``new_ticket``: the customer opened the ticket by writing to the agent's own address."""
    if ticket.assignee is None:
        return None
    if new_ticket:
        headline = gettext_lazy("New ticket written to you")
    else:
        headline = gettext_lazy("New message from the customer")
    return agent_notify(
        agent=ticket.assignee,
        ticket=ticket,
        headline=headline,
        template="mail/agent_notice.txt",
        context={"message": message, "excerpt": message.text[:2000]},
    )


def agent_notify(
    *, agent, ticket: Ticket, headline, template: str, context: dict
) -> Message | None:
    """An e-mail to an agent about a ticket, in the agent's own language
    (``staff.Agent.language``, the site's by default): stored on the ticket as a system
    message, sent after the commit by ``message_send`` with its retries. ``headline`` is
    a lazy translation, rendered in that language; ``template`` gets ``ticket``, ``link``
    (the desk's ticket page) and ``context``. Nobody when the agent has no address."""
    address = agent.user.email if agent is not None else ""
    if not address:
        return None
    support = SupportSettings.load()
    with translation.override(agent.language_code):
        text = render_to_string(
            template,
            {
                "ticket": ticket,
                "link": settings.SPORTELLO_SITE_URL.rstrip("/")
                + reverse("desk:ticket", args=[ticket.pk]),
                **context,
            },
        )
        subject = outbound.subject_for(ticket, f"{headline}: {ticket.subject}")
    notice = tickets.message_add(
        ticket=ticket,
        reprice=False,
        message=MessageInput(
            kind=MessageKind.SYSTEM,
            direction=Direction.INTERNAL,
            text=text,
            sender=outbound.support_address(support),
            recipients=[address],
            subject=subject,
            message_id=outbound.new_message_id(support),
            automatic=True,
            delivery_status=DeliveryStatus.PENDING,
        ),
    )
    transaction.on_commit(lambda: message_send(notice.pk))
    return notice
