"""Organisations (customers) and their contacts (SPEC section 1)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportello.core import identifiers

from . import signals

# Gmail and friends are shared by millions: a sender's domain there says nothing about
# which customer they work for, so those domains never match an organisation.
FREE_MAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com libero.it virgilio.it alice.it tim.it tin.it hotmail.com
    hotmail.it outlook.com outlook.it live.com live.it msn.com yahoo.com yahoo.it
    icloud.com me.com mac.com aol.com tiscali.it fastwebnet.it email.it inwind.it
    iol.it gmx.com gmx.de gmx.net web.de proton.me protonmail.com pec.it legalmail.it
    aruba.it poste.it""".split()
)


class BillingMode(models.TextChoices):
    PER_TICKET = "per_ticket", _("per ticket")
    CONTRACT = "contract", _("covered by contract")


class Organisation(models.Model):
    name = models.CharField(_("legal name"), max_length=200)
    vat_number = models.CharField(
        _("partita IVA"),
        max_length=20,
        blank=True,
        help_text=_(
            "Checked by the rule of the country below: 11 digits for Italy, the EU VAT "
            "number with its prefix (e.g. DE136695976) for the other member states."
        ),
    )
    fiscal_code = models.CharField(_("codice fiscale"), max_length=16, blank=True)
    sdi_code = models.CharField(_("SDI code"), max_length=7, blank=True)
    pec = models.EmailField(_("PEC"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    comune = models.CharField(_("comune"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=2, blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        default="IT",
        help_text=_("ISO 3166 code of two letters (IT, DE, FR...); it decides the VAT rule."),
    )
    hourly_rate = models.DecimalField(
        _("agreed hourly rate (EUR, net of VAT)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("60.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    in_district = models.BooleanField(
        _("inside the lab's district"),
        default=True,
        help_text=_("Terni and Narni by default; outside, pick-ups are charged by the km."),
    )
    distance_km = models.DecimalField(
        _("one-way distance from the lab (km)"),
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    billing_mode = models.CharField(
        _("billing mode"),
        max_length=12,
        choices=BillingMode.choices,
        default=BillingMode.PER_TICKET,
    )
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["vat_number"],
                condition=~Q(vat_number=""),
                name="org_vat_unique",
                violation_error_message=_(
                    "Another organisation already has this partita IVA: open that one, "
                    "or check the number for a typing error."
                ),
            ),
            models.CheckConstraint(
                condition=Q(in_district=True) | Q(distance_km__isnull=False),
                name="org_outside_district_has_distance",
                violation_error_message=_(
                    "An organisation outside the district needs its distance in km (one way), "
                    "which prices pick-ups and returns: fill in the distance, or tick "
                    "'in the district'."
                ),
            ),
        ]

    def __str__(self) -> str:
        return str(self.name)

    def clean_fields(self, exclude=None) -> None:
        # Normalise before the length checks, so "IT 01234 567890" is accepted as typed.
        errors: dict[str, list[str]] = {}
        excluded = set(exclude or ())
        country_ok = True
        if "country" not in excluded:
            try:
                self.country = identifiers.normalize_country(self.country)
            except identifiers.IdentifierError as exc:
                errors["country"] = [exc.translated()]
                country_ok = False
        checks = [
            ("fiscal_code", identifiers.normalize_codice_fiscale),
            ("sdi_code", identifiers.normalize_sdi_code),
        ]
        if country_ok:  # the country decides which VAT rule applies
            checks.insert(
                0,
                (
                    "vat_number",
                    lambda value: identifiers.normalize_vat_number(value, self.country),
                ),
            )
        for field, normalise in checks:
            value = getattr(self, field)
            if value and field not in excluded:
                try:
                    setattr(self, field, normalise(value))
                except identifiers.IdentifierError as exc:
                    errors[field] = [exc.translated()]
        try:
            super().clean_fields(exclude=excluded | set(errors))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        district = _district_comuni()
        if self.comune and district:
            # The tariff lists the district's comuni: the comune decides, not a checkbox.
            self.in_district = identifiers.comune_key(self.comune) in district
        if not self.in_district and self.distance_km is None:
            message = _(
                "An organisation outside the district needs its one-way distance in km, "
                "used to charge pick-ups and returns."
            )
            if self.comune and district:
                message = _(
                    "%(comune)s is outside the district (%(district)s, from the tariff): give "
                    "its one-way distance in km, used to charge pick-ups and returns."
                ) % {"comune": self.comune, "district": ", ".join(sorted(district)).title()}
            raise ValidationError({"distance_km": message})


def _district_comuni() -> frozenset[str]:
    """Today's district, from the tariff (billing answers the signal); empty when no app
    answers, and then the organisation's own flag stands."""
    for _receiver, comuni in signals.district_wanted.send(Organisation, on=timezone.localdate()):
        if comuni:
            return frozenset(comuni)
    return frozenset()


class OrganisationDomain(models.Model):
    """An e-mail domain whose unknown senders become contacts of the organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="domains",
        verbose_name=_("organisation"),
    )
    domain = models.CharField(
        _("e-mail domain"),
        max_length=253,
        unique=True,
        error_messages={
            "unique": _(
                "This e-mail domain already belongs to another organisation: a domain "
                "can point to one organisation only. Remove it there first."
            )
        },
    )

    class Meta:
        verbose_name = _("e-mail domain")
        verbose_name_plural = _("e-mail domains")

    def __str__(self) -> str:
        return str(self.domain)

    def clean(self) -> None:
        try:
            self.domain = identifiers.normalize_email_domain(self.domain)
        except identifiers.IdentifierError as exc:
            raise ValidationError({"domain": exc.translated()})
        if self.domain in FREE_MAIL_DOMAINS:
            raise ValidationError(
                {
                    "domain": _(
                        "%(domain)s is a free-mail domain shared by many people; it "
                        "cannot identify an organisation."
                    )
                    % {"domain": self.domain}
                }
            )


class Contact(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("organisation"),
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
        verbose_name=_("portal account"),
    )
    is_manager = models.BooleanField(
        _("contact-manager"),
        default=False,
        help_text=_("Sees every ticket and charge of the organisation."),
    )
    needs_review = models.BooleanField(
        _("needs review"),
        default=False,
        help_text=_("Created automatically from an unknown sender: an agent should check it."),
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="it"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        if name:
            return name
        email = self.emails.first()
        return email.address if email else f"#{self.pk}"


class ContactEmail(models.Model):
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="emails", verbose_name=_("contact")
    )
    address = models.EmailField(
        _("e-mail address"),
        unique=True,
        error_messages={
            "unique": _(
                "This e-mail address already belongs to another contact: find that contact "
                "(search by address) and merge or correct it there."
            )
        },
    )
    primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("e-mail address")
        verbose_name_plural = _("e-mail addresses")

    def __str__(self) -> str:
        return str(self.address)

    def clean(self) -> None:
        self.address = (self.address or "").strip().lower()


class ContactPhone(models.Model):
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="phones", verbose_name=_("contact")
    )
    number = models.CharField(_("phone number (E.164)"), max_length=20, db_index=True)
    label = models.CharField(_("label"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "number"],
                name="contact_phone_unique",
                violation_error_message=_(
                    "This contact already has this phone number: remove the repeated row."
                ),
            )
        ]

    def __str__(self) -> str:
        return str(self.number)

    def clean(self) -> None:
        try:
            self.number = identifiers.normalize_phone(self.number)
        except identifiers.IdentifierError as exc:
            raise ValidationError({"number": exc.translated()})
