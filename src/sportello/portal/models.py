"""What the portal adds to tickets and accounts: privacy consents and ratings."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportello.customers.models import Contact


class PrivacyConsent(models.Model):
    """A customer accepted the privacy notice of ``policy_version`` (GDPR art. 7(1):
    the controller must be able to show that consent was given)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="privacy_consents",
        verbose_name=_("account"),
    )
    policy_version = models.CharField(_("privacy notice version"), max_length=20)
    accepted_at = models.DateTimeField(_("accepted at"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("privacy consent")
        verbose_name_plural = _("privacy consents")
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.policy_version} {self.accepted_at:%Y-%m-%d %H:%M}"


class TicketRating(models.Model):
    """The customer's satisfaction with a resolved ticket: one rating per ticket."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="rating",
        verbose_name=_("ticket"),
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rated by"),
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("ticket rating")
        verbose_name_plural = _("ticket ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5),
                name="ticket_rating_1_to_5",
                violation_error_message=_("A rating goes from 1 (bad) to 5 (excellent)."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.rating}/5"


class Registration(models.Model):
    """What a customer typed when signing up, kept for the agent who approves the account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="portal_registration",
        verbose_name=_("account"),
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    tax_id = models.CharField(_("partita IVA or codice fiscale"), max_length=16, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    match = models.CharField(
        _("organisation found by"),
        max_length=60,
        blank=True,
        help_text=_("How the account was matched to an organisation at registration."),
    )
    created_at = models.DateTimeField(_("registered"))

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self) -> str:
        return f"{self.user} {self.company}"


# Registration.match codes, as agents read them.
MATCH_LABELS = {
    "tax id": _("partita IVA or codice fiscale"),
    "e-mail domain": _("e-mail domain"),
    "no match": _("nothing matched: choose the organisation"),
    "tax id matches several organisations": _(
        "the partita IVA matches several organisations: choose one"
    ),
    "tax id and e-mail domain disagree": _(
        "partita IVA and e-mail domain point to two organisations: choose one"
    ),
}


def match_label(code: str) -> str:
    return str(MATCH_LABELS.get(code, code))


class PendingAccount(Contact):
    """Portal accounts an agent must approve: the admin's view of ``needs_review`` contacts
    that have an account (no match, or an ambiguous one, at registration)."""

    class Meta:
        proxy = True
        verbose_name = _("account awaiting approval")
        verbose_name_plural = _("accounts awaiting approval")
