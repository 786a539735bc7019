"""The tariff as versioned data, and the charges of each ticket (SPEC 5 and 6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from sportello.tariff import DEFAULT_TARIFF, TariffInputError, TariffParams

# The policy's figures have one source, the engine's DEFAULT_TARIFF: a new version starts
# from them, and a test holds a default TariffVersion's params equal to DEFAULT_TARIFF.
POLICY = DEFAULT_TARIFF


def _bands_as_json(bands) -> list:
    return [[minutes, str(percent)] for minutes, percent in bands]


def default_phone_tiers() -> list:
    return _bands_as_json(POLICY.phone_tiers)


def default_remote_tiers() -> list:
    return _bands_as_json(POLICY.remote_tiers)


def money_field(verbose_name, default=None, **kwargs):
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        default=default,
        validators=[MinValueValidator(Decimal("0"))],
        **kwargs,
    )


def percent_field(verbose_name, default):
    return models.DecimalField(
        verbose_name,
        max_digits=6,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0"))],
    )


class TariffVersion(models.Model):
    """One version of the listino, in force from ``valid_from`` until the next one.

    A ticket is priced by the version in force on the day it was resolved; closing a
    ticket freezes its charges together with the version that produced them.
    """

    label = models.CharField(_("label"), max_length=100)
    valid_from = models.DateField(
        _("valid from"),
        unique=True,
        error_messages={
            "unique": _(
                "A tariff version already takes effect on this day: edit that version, "
                "or choose another date."
            )
        },
    )
    written_low_max_messages = models.PositiveSmallIntegerField(
        _("written: messages in the lower band"), default=POLICY.written_low_max_messages
    )
    written_low_percent = percent_field(_("written: lower band % of R"), POLICY.written_low_percent)
    written_high_percent = percent_field(
        _("written: upper band % of R"), POLICY.written_high_percent
    )
    phone_tiers = models.JSONField(
        _("phone bands"),
        default=default_phone_tiers,
        help_text=_('[[up to minutes, % of R], ...], e.g. [[5, "25"], [15, "50"], [60, "100"]]'),
    )
    remote_tiers = models.JSONField(
        _("remote bands"),
        default=default_remote_tiers,
        help_text=_('[[up to minutes, % of R], ...], e.g. [[15, "50"], [60, "100"]]'),
    )
    over_step_minutes = models.PositiveSmallIntegerField(
        _("beyond the last band: step (minutes)"), default=POLICY.over_step_minutes
    )
    over_step_percent = percent_field(
        _("beyond the last band: % of R per started step"), POLICY.over_step_percent
    )
    leg_in_district_percent = percent_field(
        _("pick-up/return leg in the district: % of R"), POLICY.leg_in_district_percent
    )
    leg_per_km = money_field(_("leg outside the district: EUR per km"), POLICY.leg_per_km)
    call_fee = money_field(_("call-out fee (EUR)"), POLICY.call_fee)
    out_of_hours_factor = models.DecimalField(
        _("out-of-hours factor"),
        max_digits=4,
        decimal_places=2,
        default=POLICY.out_of_hours_factor,
        validators=[MinValueValidator(Decimal("1"))],
    )
    vat_percent = percent_field(_("VAT %"), POLICY.vat_percent)
    district_comuni = models.TextField(
        _("district comuni"),
        default="Terni\nNarni",
        help_text=_("One comune per line: organisations there are inside the district."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tariff version")
        verbose_name_plural = _("tariff versions")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.label} ({self.valid_from:%d/%m/%Y})"

    def clean(self) -> None:
        try:
            self.to_params()
        except TariffInputError as exc:
            field = exc.field if exc.field in {f.name for f in self._meta.fields} else None
            raise ValidationError({field: str(exc)} if field else str(exc))

    @property
    def district_comune_list(self) -> list[str]:
        return [c.strip() for c in self.district_comuni.splitlines() if c.strip()]

    @cached_property
    def district_comuni_folded(self) -> frozenset[str]:
        return frozenset(c.casefold() for c in self.district_comune_list)

    def in_district(self, comune: str) -> bool | None:
        """Whether ``comune`` is inside this version's district; None when either is
        empty, so the organisation's own flag decides (SPEC 5: the tariff lists the
        district's comuni, the comune decides, not a checkbox)."""
        comune = (comune or "").strip().casefold()
        if not comune or not self.district_comuni_folded:
            return None
        return comune in self.district_comuni_folded

    def to_params(self) -> TariffParams:
        """The engine's plain value for this version (no Django beyond this line)."""
        return TariffParams(
            version=f"{self.pk or 'new'}:{self.label}",
            valid_from=self.valid_from or date(2000, 1, 1),
            written_low_max_messages=self.written_low_max_messages,
            written_low_percent=Decimal(self.written_low_percent),
            written_high_percent=Decimal(self.written_high_percent),
            phone_tiers=_tiers(self.phone_tiers, "phone_tiers"),
            remote_tiers=_tiers(self.remote_tiers, "remote_tiers"),
            over_step_minutes=self.over_step_minutes,
            over_step_percent=Decimal(self.over_step_percent),
            leg_in_district_percent=Decimal(self.leg_in_district_percent),
            leg_per_km=Decimal(self.leg_per_km),
            call_fee=Decimal(self.call_fee),
            out_of_hours_factor=Decimal(self.out_of_hours_factor),
            vat_percent=Decimal(self.vat_percent),
        )


def _tiers(raw, field: str) -> tuple:
    if not isinstance(raw, list):
        raise TariffInputError(f"{field} must be a list of [minutes, percent] pairs.", field=field)
    pairs = []
    for index, pair in enumerate(raw):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise TariffInputError(
                f"{field}[{index}] must be a [minutes, percent] pair, got {pair!r}.", field=field
            )
        minutes, percent = pair
        if isinstance(minutes, float) or isinstance(percent, float):
            raise TariffInputError(
                f'{field}[{index}]: write decimals as strings, e.g. "12.5".', field=field
            )
        pairs.append((minutes if isinstance(minutes, int) else str(minutes), str(percent)))
    return tuple(pairs)


class TicketCharges(models.Model):
    """The priced state of one ticket: totals, the tariff used, frozen or not."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="charges",
        verbose_name=_("ticket"),
    )
    tariff_version = models.ForeignKey(
        TariffVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("tariff version"),
    )
    net = money_field(_("net"), Decimal("0.00"))
    vat = money_field(_("VAT"), Decimal("0.00"))
    total = money_field(_("total"), Decimal("0.00"))
    problem = models.CharField(
        _("cannot price"),
        max_length=255,
        blank=True,
        help_text=_("Why the ticket could not be priced, e.g. it has no organisation."),
    )
    frozen = models.BooleanField(_("frozen"), default=False)
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("ticket charges")
        verbose_name_plural = _("ticket charges")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.total}"


class ChargeLine(models.Model):
    charges = models.ForeignKey(
        TicketCharges, on_delete=models.CASCADE, related_name="lines", verbose_name=_("charges")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    code = models.CharField(_("code"), max_length=10)
    description_it = models.CharField(_("description (Italian)"), max_length=500)
    description_en = models.CharField(_("description (English)"), max_length=500)
    amount = money_field(_("amount"))
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("charge line")
        verbose_name_plural = _("charge lines")
        ordering = ["charges", "position"]
        constraints = [
            models.UniqueConstraint(fields=["charges", "position"], name="charge_line_position")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.amount}"

    def description(self, language: str) -> str:
        return self.description_en if language.startswith("en") else self.description_it
