"""The tariff as versioned data, and the charges of each ticket (SPEC 5 and 6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from sportello.core import identifiers
from sportello.tariff import DEFAULT_TARIFF, TariffInputError, TariffParams

# The policy's figures have one source, the engine's DEFAULT_TARIFF: a new version starts
# from them, and a test holds a default TariffVersion's params equal to DEFAULT_TARIFF.
POLICY = DEFAULT_TARIFF


def _bands_as_json(bands) -> list:
    return [[band.up_to_minutes, str(band.percent)] for band in bands]


def default_phone_bands() -> list:
    return _bands_as_json(POLICY.phone_bands)


def default_remote_bands() -> list:
    return _bands_as_json(POLICY.remote_bands)


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
    phone_bands = models.JSONField(
        _("phone bands"),
        default=default_phone_bands,
        help_text=_('[[up to minutes, % of R], ...], e.g. [[5, "25"], [15, "50"], [60, "100"]]'),
    )
    remote_bands = models.JSONField(
        _("remote bands"),
        default=default_remote_bands,
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
        if self.valid_from <= date(2000, 1, 1):  # the default version: a date nobody chose
            return str(self.label)
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
        """The district's comuni as ``identifiers.comune_key`` compares them."""
        return frozenset(identifiers.comune_key(c) for c in self.district_comune_list)

    def in_district(self, comune: str) -> bool | None:
        """Whether ``comune`` is inside this version's district; None when either is
        empty, so the organisation's own flag decides (SPEC 5: the tariff lists the
        district's comuni, the comune decides, not a checkbox)."""
        comune = identifiers.comune_key(comune)
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
            phone_bands=_band_pairs(self.phone_bands, "phone_bands"),
            remote_bands=_band_pairs(self.remote_bands, "remote_bands"),
            over_step_minutes=self.over_step_minutes,
            over_step_percent=Decimal(self.over_step_percent),
            leg_in_district_percent=Decimal(self.leg_in_district_percent),
            leg_per_km=Decimal(self.leg_per_km),
            call_fee=Decimal(self.call_fee),
            out_of_hours_factor=Decimal(self.out_of_hours_factor),
            vat_percent=Decimal(self.vat_percent),
        )


def _band_pairs(raw, field: str) -> tuple:
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


# --- The month close: statements, credit and debit notes (issue 13) -------------------

REGIME_FISCALE_CHOICES = [
    ("RF01", "RF01 Ordinario"),
    ("RF02", "RF02 Contribuenti minimi"),
    ("RF04", "RF04 Agricoltura e attività connesse e pesca"),
    ("RF05", "RF05 Vendita sali e tabacchi"),
    ("RF06", "RF06 Commercio fiammiferi"),
    ("RF07", "RF07 Editoria"),
    ("RF08", "RF08 Gestione servizi telefonia pubblica"),
    ("RF09", "RF09 Rivendita documenti di trasporto pubblico e di sosta"),
    ("RF10", "RF10 Intrattenimenti, giochi e altre attività"),
    ("RF11", "RF11 Agenzie viaggi e turismo"),
    ("RF12", "RF12 Agriturismo"),
    ("RF13", "RF13 Vendite a domicilio"),
    ("RF14", "RF14 Rivendita beni usati, oggetti d'arte, d'antiquariato o da collezione"),
    ("RF15", "RF15 Agenzie di vendite all'asta"),
    ("RF16", "RF16 IVA per cassa P.A."),
    ("RF17", "RF17 IVA per cassa"),
    ("RF18", "RF18 Altro"),
    ("RF19", "RF19 Regime forfettario"),
]

# FatturaPA 1.2.2 NaturaType; N2, N3 and N6 without a sub-code are refused since 2021.
NATURA_CHOICES = [
    ("N1", "N1 Escluse ex art. 15"),
    ("N2.1", "N2.1 Non soggette ad IVA ai sensi degli artt. da 7 a 7-septies del DPR 633/72"),
    ("N2.2", "N2.2 Non soggette - altri casi"),
    ("N3.1", "N3.1 Non imponibili - esportazioni"),
    ("N3.2", "N3.2 Non imponibili - cessioni intracomunitarie"),
    ("N3.3", "N3.3 Non imponibili - cessioni verso San Marino"),
    ("N3.4", "N3.4 Non imponibili - operazioni assimilate alle cessioni all'esportazione"),
    ("N3.5", "N3.5 Non imponibili - a seguito di dichiarazioni d'intento"),
    (
        "N3.6",
        "N3.6 Non imponibili - altre operazioni che non concorrono alla formazione del plafond",
    ),
    ("N4", "N4 Esenti"),
    ("N5", "N5 Regime del margine / IVA non esposta in fattura"),
    ("N6.1", "N6.1 Inversione contabile - cessione di rottami e altri materiali di recupero"),
    ("N6.2", "N6.2 Inversione contabile - cessione di oro e argento"),
    ("N6.3", "N6.3 Inversione contabile - subappalto nel settore edile"),
    ("N6.4", "N6.4 Inversione contabile - cessione di fabbricati"),
    ("N6.5", "N6.5 Inversione contabile - cessione di telefoni cellulari"),
    ("N6.6", "N6.6 Inversione contabile - cessione di prodotti elettronici"),
    ("N6.7", "N6.7 Inversione contabile - prestazioni comparto edile e settori connessi"),
    ("N6.8", "N6.8 Inversione contabile - operazioni settore energetico"),
    ("N6.9", "N6.9 Inversione contabile - altri casi"),
    ("N7", "N7 IVA assolta in altro stato UE"),
]

PAYMENT_METHOD_CHOICES = [
    ("MP05", "MP05 Bonifico"),
    ("MP12", "MP12 RIBA"),
    ("MP19", "MP19 SEPA Direct Debit"),
    ("MP08", "MP08 Carta di pagamento"),
    ("MP01", "MP01 Contanti"),
]


class BillingSettings(models.Model):
    """The company's fiscal data for statements, PDFs and FatturaPA (one row).

    The defaults are the demo company's, so a trial run can export; a real installation
    edits them in the admin (*Fatturazione -> Dati fiscali dell'azienda*).
    """

    legal_name = models.CharField(_("legal name"), max_length=80, default="INIT S.r.l.")
    vat_number = models.CharField(_("partita IVA"), max_length=11, default="01234567897")
    fiscal_code = models.CharField(_("codice fiscale"), max_length=16, blank=True)
    regime_fiscale = models.CharField(
        _("regime fiscale"), max_length=4, choices=REGIME_FISCALE_CHOICES, default="RF01"
    )
    address = models.CharField(_("address"), max_length=60, default="Via del Rivo 12")
    postcode = models.CharField(_("postcode"), max_length=5, default="05100")
    comune = models.CharField(_("comune"), max_length=60, default="Terni")
    province = models.CharField(_("province"), max_length=2, default="TR")
    country = models.CharField(_("country"), max_length=2, default="IT")
    email = models.EmailField(_("e-mail"), default="amministrazione@init-s.it")
    phone = models.CharField(_("phone"), max_length=20, default="+390744752000")
    letterhead = models.TextField(
        _("letterhead"),
        default="Assistenza informatica · Terni",
        blank=True,
        help_text=_("Lines printed under the company name at the top of every PDF."),
    )
    bank_name = models.CharField(_("bank"), max_length=80, blank=True, default="Banca di Terni")
    iban = models.CharField(
        _("IBAN"), max_length=34, blank=True, default="IT60X0542811101000000123456"
    )
    payment_method = models.CharField(
        _("payment method"), max_length=4, choices=PAYMENT_METHOD_CHOICES, default="MP05"
    )
    payment_days = models.PositiveSmallIntegerField(
        _("payment terms (days from the statement date)"), default=30
    )
    billing_start = models.DateField(
        _("bill tickets resolved from"),
        null=True,
        blank=True,
        help_text=_(
            "Tickets resolved before this day were billed outside Sportello and never come "
            "onto a statement. Empty: every unbilled ticket does."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("company fiscal data")
        verbose_name_plural = _("company fiscal data")

    def __str__(self) -> str:
        return str(self.legal_name)

    def save(self, *args, **kwargs):
        self.pk = 1  # one company per installation, as SupportSettings
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> BillingSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    def clean(self) -> None:
        errors = {}
        try:
            self.vat_number = identifiers.normalize_partita_iva(self.vat_number)
        except identifiers.IdentifierError as exc:
            errors["vat_number"] = str(exc)
        if self.iban:
            self.iban = self.iban.replace(" ", "").upper()
            if not (15 <= len(self.iban) <= 34 and self.iban[:2].isalpha()):
                errors["iban"] = _("An IBAN starts with two letters and has 15 to 34 characters.")
        if errors:
            raise ValidationError(errors)

    def snapshot(self) -> dict:
        """What an issued statement keeps of the supplier, as it was on the day."""
        return {
            name: getattr(self, name)
            for name in (
                "legal_name",
                "vat_number",
                "fiscal_code",
                "regime_fiscale",
                "address",
                "postcode",
                "comune",
                "province",
                "country",
                "email",
                "phone",
                "letterhead",
                "bank_name",
                "iban",
                "payment_method",
                "payment_days",
            )
        }


class StatementSequence(models.Model):
    """The last number issued per year: bumped in the issuing transaction, so a
    rolled-back issue gives its number back and the series has no gaps."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("statement sequence")
        verbose_name_plural = _("statement sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Statement(models.Model):
    """A monthly statement of one organisation, or a credit/debit note correcting one.

    A draft is rebuilt freely; an issued one is numbered (per year, no gaps) and never
    changes again: corrections are notes that reference it (``corrects``).
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("statement")
        CREDIT_NOTE = "credit_note", _("credit note")
        DEBIT_NOTE = "debit_note", _("debit note")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        ISSUED = "issued", _("issued")

    organisation = models.ForeignKey(
        "customers.Organisation",
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.DRAFT, db_index=True
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month billed."))
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notes",
        verbose_name=_("corrects statement"),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    number_year = models.PositiveIntegerField(_("year of the number"), null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    issue_date = models.DateField(_("date"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    sdi_progressive = models.CharField(
        _("SdI file progressive"),
        max_length=5,
        null=True,
        blank=True,
        unique=True,
        error_messages={
            "unique": _(
                "This SdI file progressive is already used: it comes from the statement's id, "
                "never typed."
            )
        },
    )
    net = money_field(_("net"), Decimal("0.00"))
    vat = money_field(_("VAT"), Decimal("0.00"))
    total = money_field(_("total"), Decimal("0.00"))
    fatturapa_sha256 = models.CharField(
        _("SHA-256 of the validated FatturaPA"),
        max_length=64,
        blank=True,
        help_text=_("The same bytes built again need no second validation."),
    )
    supplier = models.JSONField(_("supplier as issued"), default=dict, blank=True)
    customer = models.JSONField(_("customer as issued"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-period", "organisation__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["number_year", "number"],
                condition=Q(number__isnull=False),
                name="statement_number_unique",
                violation_error_message=_(
                    "This number is already taken in that year: numbers are handed out at "
                    "issue, never typed; issue the draft again."
                ),
            ),
            models.UniqueConstraint(
                fields=["organisation", "period"],
                condition=Q(state="draft", kind="invoice"),
                name="statement_one_draft_per_month",
                violation_error_message=_(
                    "This organisation already has a draft for that month: open it and draft "
                    "again instead of creating a second one."
                ),
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(number__isnull=False, issue_date__isnull=False),
                name="statement_issued_has_number",
                violation_error_message=_(
                    "An issued statement needs its number and date: issue it from the month "
                    "close, which gives both."
                ),
            ),
        ]
        indexes = [models.Index(fields=["period", "state"], name="statement_period_state")]

    def __str__(self) -> str:
        return self.display_number or f"{self.get_kind_display()} ({_('draft')})"

    @property
    def display_number(self) -> str:
        """``2026/0007`` once issued, empty for a draft."""
        if self.number is None:
            return ""
        return f"{self.number_year}/{self.number:04d}"

    @property
    def is_issued(self) -> bool:
        return self.state == self.State.ISSUED


class StatementTicket(models.Model):
    """A ticket billed on a statement; a ticket is on one statement at most (unique)."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="ticket_rows", verbose_name=_("statement")
    )
    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        related_name="statement_row",
        verbose_name=_("ticket"),
    )
    provisional = models.BooleanField(
        _("reopen window still open"),
        default=False,
        help_text=_("Resolved, not yet closed: billed now at its current charges."),
    )
    covered = models.BooleanField(
        _("covered by contract"), default=False, help_text=_("Listed at zero for the record.")
    )
    net = money_field(_("net"), Decimal("0.00"))

    class Meta:
        verbose_name = _("ticket on a statement")
        verbose_name_plural = _("tickets on statements")
        ordering = ["statement", "ticket__number"]

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.ticket_id}"


class StatementLine(models.Model):
    """One line of a statement: a ticket's charge line as frozen, or a manual line."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("statement")
    )
    position = models.PositiveIntegerField(_("position"))
    ticket_row = models.ForeignKey(
        StatementTicket,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("ticket"),
    )
    code = models.CharField(_("code"), max_length=10)
    description = models.CharField(_("description"), max_length=1000)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    vat_percent = models.DecimalField(_("VAT %"), max_digits=6, decimal_places=2)
    natura = models.CharField(_("Natura"), max_length=4, choices=NATURA_CHOICES, blank=True)
    manual = models.BooleanField(_("manual"), default=False)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "position"],
                name="statement_line_position",
                violation_error_message=_(
                    "Two lines of the statement have the same position: draft it again."
                ),
            ),
            models.CheckConstraint(
                condition=Q(manual=False) | ~Q(reason=""),
                name="statement_manual_line_reason",
                violation_error_message=_(
                    "A manual line needs a reason: write why it is added by hand."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.amount}"


class TicketDeferral(models.Model):
    """A ticket moved to a later month's close by a billing user (with who and when)."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="billing_deferral",
        verbose_name=_("ticket"),
    )
    until = models.DateField(_("bill from month"), help_text=_("First day of that month."))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved by"),
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket moved to a later month")
        verbose_name_plural = _("tickets moved to a later month")

    def __str__(self) -> str:
        return f"{self.ticket_id} -> {self.until:%Y-%m}"


class BillingAudit(models.Model):
    """Append-only trail of statement changes: who, when, what, before and after."""

    statement = models.ForeignKey(
        Statement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit",
        verbose_name=_("statement"),
    )
    action = models.CharField(_("action"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who (as shown)"), max_length=320, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("billing audit entry")
        verbose_name_plural = _("billing audit trail")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.created_at:%Y-%m-%d %H:%M}"
