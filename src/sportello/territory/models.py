"""The technicians' agenda: scheduled pick-ups and returns (``Visit``), and the secret
address of each technician's calendar feed (``AgendaFeed``).

A visit is a plan, not work: scheduling bills nothing. Marking it done records the real
leg as an intervention through ``tickets.services.intervention_add`` (which prices it),
and the visit keeps a link to that intervention.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VisitKind(models.TextChoices):
    # The same codes as tickets.InterventionKind's legs: a done visit becomes that leg.
    PICKUP = "pickup", _("pick-up")
    RETURN = "return", _("return")


class VisitState(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class Visit(models.Model):
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="visits", verbose_name=_("ticket")
    )
    technician = models.ForeignKey(
        "staff.Agent",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("technician"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=VisitKind.choices)
    scheduled_at = models.DateTimeField(_("scheduled start"))
    duration_minutes = models.PositiveIntegerField(_("expected duration (minutes)"), default=60)
    notes = models.TextField(_("notes"), blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=VisitState.choices, default=VisitState.SCHEDULED
    )
    intervention = models.OneToOneField(
        "tickets.Intervention",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit",
        verbose_name=_("recorded leg"),
    )
    cancel_reason = models.CharField(_("why cancelled"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scheduled by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["scheduled_at", "pk"]
        indexes = [
            models.Index(fields=["technician", "scheduled_at"], name="visit_technician_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0),
                name="visit_duration_positive",
                violation_error_message=_(
                    "A visit needs an expected duration of at least one minute, e.g. 60."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pickup", "return"]),
                name="visit_kind_is_a_leg",
                violation_error_message=_("A visit is a pick-up or a return."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.scheduled_at):%d/%m/%Y %H:%M}"

    @property
    def ends_at(self) -> datetime:
        # In UTC: an aware Europe/Rome datetime plus a timedelta is wall-clock arithmetic,
        # an hour off across the DST change; the elapsed minutes are what is meant.
        return self.scheduled_at.astimezone(UTC) + timedelta(minutes=self.duration_minutes)


class AgendaFeed(models.Model):
    """The secret address of a technician's calendar feed: only the SHA-256 of the token
    is kept, so a copy of the database does not open anybody's agenda. Deleting the row
    revokes the address; issuing again replaces it."""

    agent = models.OneToOneField(
        "staff.Agent",
        on_delete=models.CASCADE,
        related_name="agenda_feed",
        verbose_name=_("technician"),
    )
    token_sha256 = models.CharField(
        _("token (SHA-256)"),
        max_length=64,
        unique=True,
        error_messages={
            "unique": _(
                "This calendar address belongs to another technician already: issue a new "
                "address from the agenda page."
            )
        },
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last read"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.agent)
