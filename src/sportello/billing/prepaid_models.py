"""Prepaid hours (*monte ore*): bundles an organisation buys, and their movements.

Imported by ``billing.models`` (so Django finds them); written only through
``billing.prepaid`` (services), never edited in the admin.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PrepaidBundle(models.Model):
    """Hours bought in advance, at the organisation's agreed rate on the purchase day.

    Both the euro value and the hours are stored as bought; the euro value is what the
    charges (in euro) draw down, the hours are that value at ``rate``.
    """

    class BoughtIn(models.TextChoices):
        HOURS = "hours", _("hours")
        EURO = "euro", _("euro")

    organisation = models.ForeignKey(
        "customers.Organisation",
        on_delete=models.PROTECT,
        related_name="prepaid_bundles",
        verbose_name=_("organisation"),
    )
    bought_in = models.CharField(
        _("bought in"), max_length=5, choices=BoughtIn.choices, default=BoughtIn.HOURS
    )
    hours = models.DecimalField(_("hours bought"), max_digits=8, decimal_places=2)
    amount = models.DecimalField(
        _("value bought (EUR, net of VAT)"), max_digits=12, decimal_places=2
    )
    rate = models.DecimalField(_("hourly rate at purchase (EUR)"), max_digits=12, decimal_places=2)
    purchased_on = models.DateField(_("purchased on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        help_text=_("E.g. the number of the invoice that sold the bundle."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("prepaid hours bundle")
        verbose_name_plural = _("prepaid hours bundles")
        ordering = ["organisation", "purchased_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(amount__gt=0) & Q(rate__gt=0),
                name="prepaid_bundle_positive",
                violation_error_message=_(
                    "A bundle needs more than zero hours, a value above zero and an hourly "
                    "rate above zero: correct the figures."
                ),
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=F("purchased_on")),
                name="prepaid_bundle_expiry_after_purchase",
                violation_error_message=_(
                    "A bundle cannot expire before it was bought: choose an expiry date on or "
                    "after the purchase date, or none."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.hours} h ({self.purchased_on:%d/%m/%Y})"


class PrepaidMovement(models.Model):
    """One change of a bundle's balance (EUR and hours, signed): the purchase, a
    correction, a draw by a statement, hours returned by a credit note."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("purchase")
        CORRECTION = "correction", _("correction")
        DRAW = "draw", _("used by a statement")
        RETURN = "return", _("returned by a credit note")

    bundle = models.ForeignKey(
        PrepaidBundle,
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("bundle"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("amount (EUR)"), max_digits=12, decimal_places=2)
    hours = models.DecimalField(_("hours"), max_digits=8, decimal_places=2)
    balance_after = models.DecimalField(
        _("balance after (EUR)"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    statement = models.ForeignKey(
        "billing.Statement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prepaid_movements",
        verbose_name=_("statement"),
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who (as shown)"), max_length=320, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("prepaid hours movement")
        verbose_name_plural = _("prepaid hours movements")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0),
                name="prepaid_movement_balance_not_negative",
                violation_error_message=_(
                    "A bundle's balance cannot go below zero: what is not covered is billed "
                    "as overdraft instead."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class PrepaidAccount(models.Model):
    """An organisation's prepaid settings: the low-balance threshold and whether the
    balance is under it now (so the e-mail goes once per crossing)."""

    organisation = models.OneToOneField(
        "customers.Organisation",
        on_delete=models.CASCADE,
        related_name="prepaid_account",
        verbose_name=_("organisation"),
    )
    threshold_hours = models.DecimalField(
        _("warn under (hours)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("An e-mail goes to the managers and to billing when the balance falls under."),
    )
    below_threshold = models.BooleanField(_("under the threshold"), default=False)
    alerted_at = models.DateTimeField(_("last warned"), null=True, blank=True)

    class Meta:
        verbose_name = _("prepaid hours account")
        verbose_name_plural = _("prepaid hours accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold_hours__isnull=True) | Q(threshold_hours__gte=0),
                name="prepaid_threshold_not_negative",
                violation_error_message=_(
                    "The warning threshold is a number of hours, zero or more: correct it or "
                    "leave it empty."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.threshold_hours}"


class PrepaidStatementUse(models.Model):
    """What an issued statement drew from the organisation's bundles, as shown on it."""

    statement = models.OneToOneField(
        "billing.Statement",
        on_delete=models.CASCADE,
        related_name="prepaid_use",
        verbose_name=_("statement"),
    )
    balance_before = models.DecimalField(_("balance before (EUR)"), max_digits=12, decimal_places=2)
    used = models.DecimalField(_("used (EUR)"), max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(_("balance after (EUR)"), max_digits=12, decimal_places=2)
    hours_before = models.DecimalField(_("hours before"), max_digits=8, decimal_places=2)
    hours_used = models.DecimalField(_("hours used"), max_digits=8, decimal_places=2)
    hours_after = models.DecimalField(_("hours after"), max_digits=8, decimal_places=2)
    overdraft = models.DecimalField(_("overdraft (EUR)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("prepaid hours on a statement")
        verbose_name_plural = _("prepaid hours on statements")

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.used}"
