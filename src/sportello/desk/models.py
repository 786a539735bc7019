"""What the desk itself keeps: running call timers.

A timer's start lives here, on the server (STYLE 2.10), so a reload or a second device
shows the same running call; stopping it records the intervention through
``tickets.services.intervention_add``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TimerKind(models.TextChoices):
    PHONE = "phone", _("phone call")
    REMOTE = "remote", _("remote session")


class RunningTimer(models.Model):
    """A call or remote session in progress. ``ticket`` is empty while a new call is
    being taken ("Nuova chiamata"): the ticket does not exist yet."""

    agent = models.ForeignKey(
        "staff.Agent", on_delete=models.CASCADE, related_name="timers", verbose_name=_("agent")
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="timers",
        verbose_name=_("ticket"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=TimerKind.choices)
    started_at = models.DateTimeField(_("start"))

    class Meta:
        verbose_name = _("running timer")
        verbose_name_plural = _("running timers")
        constraints = [
            # One running call per agent and ticket: a second click on "start" finds it.
            models.UniqueConstraint(
                fields=["agent", "ticket"],
                condition=Q(ticket__isnull=False),
                name="desk_timer_one_per_agent_ticket",
                violation_error_message=_(
                    "You already have a timer running on this ticket: stop it or discard it "
                    "before starting another."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class CannedReply(models.Model):
    """A ready answer with placeholders such as ``{{ contatto.nome }}``, rendered on the
    server when inserted and again when sent (``desk.placeholders``). Kept by
    supervisors (staff.roles.can_supervise), used by every agent."""

    title = models.CharField(
        _("title"),
        max_length=120,
        unique=True,
        error_messages={
            "unique": _("A canned reply with this title exists already: choose another title.")
        },
    )
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title"]

    def __str__(self) -> str:
        return str(self.title)


class DeskPreference(models.Model):
    """What an agent switched on or off in the desk (the keyboard shortcuts)."""

    agent = models.OneToOneField(
        "staff.Agent",
        on_delete=models.CASCADE,
        related_name="desk_preference",
        verbose_name=_("agent"),
    )
    shortcuts = models.BooleanField(_("keyboard shortcuts"), default=True)
    # Notifications (desk.notify): per kind, by e-mail and in the desk's list. Mentions
    # are always on, whatever these say.
    notify_assignment_email = models.BooleanField(_("e-mail when assigned a ticket"), default=True)
    notify_assignment_list = models.BooleanField(_("list when assigned a ticket"), default=True)
    notify_reply_email = models.BooleanField(_("e-mail when the customer replies"), default=True)
    notify_reply_list = models.BooleanField(_("list when the customer replies"), default=True)

    class Meta:
        verbose_name = _("desk preference")
        verbose_name_plural = _("desk preferences")

    def __str__(self) -> str:
        return str(self.agent)


class SavedView(models.Model):
    """A queue with its filters, order and columns, saved under a name: the agent's own
    or (supervisors and admins, ``staff.roles.can_supervise``) shared with everyone.
    Written through ``desk.services.saved_view_*``."""

    owner = models.ForeignKey(
        "staff.Agent",
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    shared = models.BooleanField(_("shared with everyone"), default=False)
    queue = models.CharField(_("queue"), max_length=16, default="open")
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    sort = models.CharField(_("order"), max_length=16, default="-created")
    columns = models.JSONField(_("columns"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="desk_saved_view_name_per_owner",
                violation_error_message=_(
                    "You already have a view with this name: choose another name."
                ),
            )
        ]

    def __str__(self) -> str:
        return str(self.name)


from .notify_models import Notification, NotificationKind  # noqa: E402, F401
