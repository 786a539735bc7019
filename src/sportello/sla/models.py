"""SLA policies, each ticket's stored clock (for lists and sorting) and the e-mails sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportello.tickets.models import Priority

from .clock import BREACHED, MET, OK, RESOLUTION, RESPONSE, WARNING


class Target(models.TextChoices):
    RESPONSE = RESPONSE, _("first response")
    RESOLUTION = RESOLUTION, _("resolution")


class State(models.TextChoices):
    OK = OK, _("on time")
    WARNING = WARNING, _("about to breach")
    BREACHED = BREACHED, _("breached")
    MET = MET, _("met")


class SlaPolicy(models.Model):
    """Targets for one priority; with an organisation, that organisation's own targets,
    which win over the general policy of the priority."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    organisation = models.ForeignKey(
        "customers.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("organisation"),
        help_text=_("Empty: every organisation without a policy of its own."),
    )
    response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)"),
        null=True,
        blank=True,
        help_text=_("Empty: no target. A business day is 510 minutes (9-13, 14:30-19)."),
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (business minutes)"),
        null=True,
        blank=True,
        help_text=_("Empty: no target. Time waiting for the customer does not count."),
    )
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (% of the target)"),
        default=80,
        help_text=_("The assignee is warned once this share of the target is used."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["organisation__name", "priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority"],
                condition=Q(organisation__isnull=True),
                name="sla_policy_one_general_per_priority",
                violation_error_message=_(
                    "There is a general policy for this priority already: edit that one, or "
                    "choose an organisation for this one."
                ),
            ),
            models.UniqueConstraint(
                fields=["priority", "organisation"],
                condition=Q(organisation__isnull=False),
                name="sla_policy_one_per_organisation_priority",
                violation_error_message=_(
                    "This organisation has a policy for this priority already: edit that one."
                ),
            ),
            models.CheckConstraint(
                condition=Q(warn_percent__gte=1, warn_percent__lte=99),
                name="sla_policy_warn_percent_range",
                violation_error_message=_(
                    "The warning share is a percentage from 1 to 99, e.g. 80."
                ),
            ),
            models.CheckConstraint(
                condition=Q(response_minutes__isnull=False) | Q(resolution_minutes__isnull=False),
                name="sla_policy_has_a_target",
                violation_error_message=_(
                    "Give at least one target: first response or resolution, in business "
                    "minutes (e.g. 240 for four business hours)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return str(self.name)


class SlaClock(models.Model):
    """A ticket's clock as of its last change, kept so that lists show and sort it in
    their one query. Written only by ``sla.services.clock_refresh`` after a ticket write;
    the state a list shows is read from these instants at the moment of reading
    (``sla.clock.state_at``), never polled."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sla_clock",
        verbose_name=_("ticket"),
    )
    policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("policy"),
    )
    target = models.CharField(
        _("target now"),
        max_length=10,
        choices=Target.choices,
        blank=True,
        help_text=_("Empty: no clock runs (no policy, or resolved)."),
    )
    warn_at = models.DateTimeField(_("warning at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    paused = models.BooleanField(_("paused"), default=False)
    # The state when nothing runs (resolved: met or breached); else read from the instants.
    final_state = models.CharField(
        _("final state"), max_length=10, choices=State.choices, blank=True
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [models.Index(fields=["warn_at"], name="sla_clock_warn_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.target} {self.due_at}"


class SlaNotice(models.Model):
    """An SLA e-mail sent: the warning to the assignee, the escalation to the supervisors.
    One of each per ticket and target, whatever happens after (unique)."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("warning to the assignee")
        BREACH = "breach", _("escalation to the supervisors")

    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="sla_notices",
        verbose_name=_("ticket"),
    )
    target = models.CharField(_("target"), max_length=10, choices=Target.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    recipients = models.JSONField(_("recipients"), default=list)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("SLA e-mail")
        verbose_name_plural = _("SLA e-mails")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "kind"],
                name="sla_notice_once_per_ticket_target_kind",
                violation_error_message=_(
                    "This SLA e-mail was sent for this ticket and target already: it is sent once."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.kind}"
