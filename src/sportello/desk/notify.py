"""Notifications to agents: who hears of what, in the desk's list and by e-mail.

Three kinds (``NotificationKind``):

- **assignment**: someone else gave me the ticket (taking one myself, or the mail
  intake routing a message written to my own address, is not "someone else": the
  latter has its own e-mail, ``mail.notifications.assignee_notify(new_ticket=True)``);
- **customer reply**: the customer wrote (e-mail, portal, chat; not an auto-reply) on a
  ticket assigned to me;
- **mention**: a colleague named me in an internal note (``desk.mentions``).

Each one is an entry in the desk's list (``Notification``) and an e-mail in the agent's
language through the one outbound path (``mail.notifications.agent_notify``). Assignment
and customer reply follow the agent's switches (``DeskPreference.notify_*``); a mention
always does both, whatever the switches say. Nobody is notified of what they did
themselves. The receivers run in the service's transaction (tickets.signals); the e-mail
leaves after the commit.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportello.mail import notifications as mail_notifications
from sportello.staff import roles
from sportello.staff.models import Agent
from sportello.tickets.models import Message, MessageKind, Ticket

from . import services
from .errors import DeskPermissionError
from .mentions import MentionTarget, mentioned_agents, mentions_find
from .models import DeskPreference, Notification, NotificationKind

EXCERPT_CHARS = 2000
# Shown in the list: enough to recognise the message.
LIST_EXCERPT_CHARS = 300

# (list switch, e-mail switch) of each kind; None = always on.
SWITCHES = {
    NotificationKind.ASSIGNMENT: ("notify_assignment_list", "notify_assignment_email"),
    NotificationKind.CUSTOMER_REPLY: ("notify_reply_list", "notify_reply_email"),
    NotificationKind.MENTION: (None, None),
}


def wants(preference: DeskPreference | None, kind: str) -> tuple[bool, bool]:
    """(in the list, by e-mail) for this kind, as the agent switched them."""
    list_field, email_field = SWITCHES[kind]
    if preference is None:
        return True, True
    return (
        True if list_field is None else getattr(preference, list_field),
        True if email_field is None else getattr(preference, email_field),
    )


def mention_directory() -> list[MentionTarget]:
    """The active agents, as the mention parser reads them."""
    return [
        MentionTarget(agent_id=pk, username=username, first_name=first)
        for pk, username, first in Agent.objects.filter(active=True).values_list(
            "pk", "user__username", "user__first_name"
        )
    ]


def _actor_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def notify(
    *,
    agent: Agent,
    kind: str,
    ticket: Ticket,
    actor_label: str,
    text: str = "",
    email_template: str,
    headline,
) -> Notification | None:
    """One notification of ``kind`` to ``agent``: the list entry and the e-mail, each as
    the agent's switches say. Returns the list entry (None when switched off)."""
    preference = DeskPreference.objects.filter(agent=agent).first()
    in_list, by_email = wants(preference, kind)
    entry = None
    if in_list:
        entry = Notification.objects.create(
            agent=agent,
            kind=kind,
            ticket=ticket,
            actor_label=actor_label[:200],
            text=text[:LIST_EXCERPT_CHARS],
            created_at=timezone.now(),
        )
    if by_email:
        mail_notifications.agent_notify(
            agent=agent,
            ticket=ticket,
            headline=headline,
            template=email_template,
            context={"actor": actor_label, "excerpt": text[:EXCERPT_CHARS]},
        )
    return entry


# --- receivers of tickets.signals (connected in desk.apps) -------------------------------


def on_ticket_assigned(sender, *, ticket: Ticket, old, new: Agent | None, actor, **kw):
    """A ticket given to ``new`` by someone else."""
    if new is None or actor is None or actor.user is None:
        return
    if actor.user.pk == new.user_id:
        return  # taken by the agent themselves
    notify(
        agent=new,
        kind=NotificationKind.ASSIGNMENT,
        ticket=ticket,
        actor_label=_actor_name(actor.user),
        text="",
        email_template="mail/agent_assigned.txt",
        headline=gettext_lazy("Ticket assigned to you"),
    )


def on_message_added(sender, *, ticket: Ticket, message: Message, notify: bool, **kw):
    if not notify:
        return  # imports and demo data write to nobody
    if message.kind == MessageKind.INTERNAL_NOTE and not message.automatic:
        mentions_notify(ticket=ticket, message=message)
    elif mail_notifications.customer_wrote(message) and ticket.assignee_id is not None:
        customer_reply_notify(ticket=ticket, message=message)


def customer_reply_notify(*, ticket: Ticket, message: Message) -> Notification | None:
    agent = ticket.assignee
    preference = DeskPreference.objects.filter(agent=agent).first()
    in_list, by_email = wants(preference, NotificationKind.CUSTOMER_REPLY)
    entry = None
    if in_list:
        entry = Notification.objects.create(
            agent=agent,
            kind=NotificationKind.CUSTOMER_REPLY,
            ticket=ticket,
            actor_label=str(message.author_contact or message.sender)[:200],
            text=message.text[:LIST_EXCERPT_CHARS],
            created_at=timezone.now(),
        )
    if by_email:
        # The customer's notice keeps its own wording and template (mail.notifications).
        mail_notifications.assignee_notify(ticket=ticket, message=message)
    return entry


def mentions_notify(*, ticket: Ticket, message: Message) -> list[Notification]:
    """Everyone the note names, except its author: always in the list and by e-mail."""
    found = mentioned_agents(mentions_find(message.text, mention_directory()))
    if not found:
        return []
    author = message.author_user
    entries = []
    for agent in Agent.objects.filter(pk__in=found).select_related("user"):
        if author is not None and agent.user_id == author.pk:
            continue
        entries.append(
            notify(
                agent=agent,
                kind=NotificationKind.MENTION,
                ticket=ticket,
                actor_label=_actor_name(author) or message.sender,
                text=message.text,
                email_template="mail/agent_mention.txt",
                headline=gettext_lazy("You were mentioned"),
            )
        )
    return entries


# --- the agent's own list (services and selectors of the views) --------------------------


def _me(user) -> Agent:
    return services._agent(user)  # the desk's one "only an agent can do this"


def notifications_for(*, user, unread_only: bool = False, limit: int = 100):
    """The agent's notifications, newest first, with their tickets (one query)."""
    rows = Notification.objects.filter(agent=_me(user)).select_related("ticket")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return list(rows[:limit])


def unread_count(*, user) -> int:
    agent = roles.agent_for(user)
    if agent is None:
        return 0
    return Notification.objects.filter(agent=agent, read_at__isnull=True).count()


def notification_get(*, user, pk: int) -> Notification:
    """The agent's own notification; another agent's is not found (404)."""
    return Notification.objects.select_related("ticket").get(pk=pk, agent=_me(user))


def notification_read(*, user, notification: Notification) -> Notification:
    if notification.agent_id != _me(user).pk:
        raise DeskPermissionError(_("This notification belongs to another agent."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_read_all(*, user) -> int:
    """Mark every unread notification of the agent read; returns how many."""
    return Notification.objects.filter(agent=_me(user), read_at__isnull=True).update(
        read_at=timezone.now()
    )


PREFERENCE_FIELDS = (
    "notify_assignment_list",
    "notify_assignment_email",
    "notify_reply_list",
    "notify_reply_email",
)


def notify_preferences_set(*, user, **switches: bool) -> DeskPreference:
    """The agent's per-kind switches (``PREFERENCE_FIELDS``); mentions have none."""
    unknown = set(switches) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValueError(f"unknown switches: {sorted(unknown)}")
    agent = _me(user)
    with transaction.atomic():
        preference, _created = DeskPreference.objects.update_or_create(
            agent=agent, defaults=switches
        )
    return preference
