"""Agents (technicians), their teams, zones and skills (SPEC section 1)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from sportello.core import identifiers


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
    """A part of the territory the team covers, as a list of comuni; agents live in one
    (home zone). An organisation is in the zone that lists its comune
    (``territory.selectors.organisation_zone``); a comune belongs to one zone at most.
    Names are compared as ``identifiers.comune_key`` does for the tariff's district."""

    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("This name is taken already: choose another one.")},
    )
    comuni = models.JSONField(
        _("comuni"),
        default=list,
        blank=True,
        help_text=_("One comune per line: organisations there are in this zone."),
    )

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["name"]

    def __str__(self) -> str:
        return str(self.name)

    @property
    def comune_keys(self) -> frozenset[str]:
        return frozenset(identifiers.comune_key(c) for c in self.comuni or ())

    def clean(self) -> None:
        """Comuni trimmed, each once; one listed by another zone is refused."""
        if not isinstance(self.comuni, list) or not all(isinstance(c, str) for c in self.comuni):
            raise ValidationError(
                {"comuni": _("Write the comuni as a list of names, one comune per line.")}
            )
        kept: dict[str, str] = {}
        for name in self.comuni:
            name = " ".join(name.split())
            key = identifiers.comune_key(name)
            if key and key not in kept:
                kept[key] = name
        self.comuni = list(kept.values())
        taken = []
        for other in Zone.objects.exclude(pk=self.pk).order_by("name"):
            for name in other.comuni or ():
                if identifiers.comune_key(name) in kept:
                    taken.append((kept[identifiers.comune_key(name)], other.name))
        if taken:
            raise ValidationError(
                {
                    "comuni": _(
                        "A comune belongs to one zone only: %(list)s. Remove it from this "
                        "list, or from the other zone first."
                    )
                    % {
                        "list": "; ".join(
                            _("%(comune)s is in zone %(zone)s") % {"comune": c, "zone": z}
                            for c, z in taken
                        )
                    }
                }
            )


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
