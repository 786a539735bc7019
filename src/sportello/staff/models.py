"""Agents (technicians), their teams, zones and skills (SPEC section 1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("This name is taken already: choose another one.")},
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return str(self.name)


class Zone(models.Model):
    """A part of the territory the team covers; agents live in one (home zone)."""

    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("This name is taken already: choose another one.")},
    )

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["name"]

    def __str__(self) -> str:
        return str(self.name)


class Skill(models.Model):
    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("This name is taken already: choose another one.")},
    )

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]

    def __str__(self) -> str:
        return str(self.name)


class Role(models.TextChoices):
    AGENT = "agent", _("agent")
    SUPERVISOR = "supervisor", _("supervisor")
    ADMIN = "admin", _("admin")
    BILLING = "billing", _("billing")


class Agent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.AGENT)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agents",
        verbose_name=_("team"),
    )
    home_zone = models.ForeignKey(
        Zone,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agents",
        verbose_name=_("home zone"),
    )
    skills = models.ManyToManyField(Skill, blank=True, verbose_name=_("skills"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    working_windows = models.JSONField(
        _("working calendar"),
        default=dict,
        blank=True,
        help_text=_(
            'Weekday (0 = Monday) to ["HH:MM", "HH:MM"] windows; empty means the '
            "company's support hours."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    # The desk's pages and the e-mails to the agent; empty = the site's language.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text=_("Desk pages and notification e-mails; empty means the site's language."),
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def language_code(self) -> str:
        """The language this agent reads: the chosen one, else the site's default."""
        return self.language or settings.LANGUAGE_CODE
