"""The agents' notifications in the desk (``desk.notify`` writes them).

Imported by ``desk.models``; its own module so that the desk's other models stay
readable and merges stay small."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    ASSIGNMENT = "assignment", _("assigned to you")
    CUSTOMER_REPLY = "customer_reply", _("customer reply")
    MENTION = "mention", _("mention")


class Notification(models.Model):
    """Something an agent should know: a ticket given to them by someone else, the
    customer writing on their ticket, a colleague naming them in an internal note."""

    agent = models.ForeignKey(
        "staff.Agent",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("agent"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("ticket"),
    )
    # Who did it, as shown (an agent's name, the customer's address).
    actor_label = models.CharField(_("by"), max_length=200, blank=True)
    # An excerpt of the message or note, empty for an assignment.
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["agent", "created_at"],
                condition=Q(read_at__isnull=True),
                name="desk_notification_unread",
            ),
            models.Index(fields=["agent", "-created_at", "-id"], name="desk_notification_list"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["assignment", "customer_reply", "mention"]),
                name="desk_notification_kind_known",
                violation_error_message=_(
                    "Unknown notification kind: use assignment, customer reply or mention."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.kind} {self.ticket_id}"
