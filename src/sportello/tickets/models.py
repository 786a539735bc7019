"""Tickets and everything that hangs off them (SPEC sections 3 and 4).

Rows here are written only through ``tickets.services``; that is what keeps the
event trail (``TicketEvent``) complete.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """How a ticket reached us. The first two are the policy's official channels."""

    EMAIL = "email", _("e-mail")
    PORTAL = "portal", _("portal")
    PHONE = "phone", _("phone")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    OTHER_EMAIL = "other_email", _("e-mail to another address")
    OTHER = "other", _("other")
    CONTACT_FORM = "contact_form", _("contact form")


class Status(models.TextChoices):
    NEW = "new", _("new")
    OPEN = "open", _("open")
    WAITING = "waiting", _("waiting for customer")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


# A ticket still being worked (or waiting for the customer): what "open" means in the
# queues, the agents' load and the month close.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)

# Which status may follow which. Reopening (resolved/closed -> open) is allowed: the
# customer may answer after we thought we were done.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.WAITING, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.WAITING, Status.RESOLVED, Status.CLOSED}),
    Status.WAITING: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")


class NonBillableReason(models.TextChoices):
    WARRANTY = "warranty", _("warranty")
    CONTRACT = "contract", _("covered by contract")
    OUT_OF_SCOPE = "out_of_scope", _("out of scope")
    DUPLICATE = "duplicate", _("duplicate")
    SPAM = "spam", _("spam")
    INFORMATION = "information", _("information request (contact form)")


class TicketSequence(models.Model):
    """The last ticket number handed out per year: bumped in one atomic statement on
    SQLite; on PostgreSQL, where a sequence per year hands numbers out, the starting point
    of that sequence (see ``tickets.services.ticket_number_next``)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket sequence")
        verbose_name_plural = _("ticket sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Tag(models.Model):
    """A label agents put on tickets (``vpn``, ``stampante``): one lower-cased name, kept
    through ``tickets.tagging``."""

    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="tag_name_unique",
                violation_error_message=_("A tag with this name exists already: use it."),
            ),
            models.CheckConstraint(
                condition=Q(name=Lower("name")),
                name="tag_name_lower_case",
                violation_error_message=_("Write the tag in lower case, e.g. vpn rather than VPN."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.name)


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    organisation = models.ForeignKey(
        "customers.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("organisation"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("contact"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    official_channels_possible = models.BooleanField(
        _("e-mail or portal were possible"),
        null=True,
        blank=True,
        help_text=_(
            "For phone requests: could the customer have written instead? "
            "If so, the call-out fee applies."
        ),
    )
    channel_justification = models.CharField(
        _("why an official channel was not used"), max_length=255, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    category = models.CharField(_("category"), max_length=100, blank=True)
    team = models.ForeignKey(
        "staff.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        "staff.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("assignee"),
    )
    billable = models.BooleanField(_("billable"), default=True)
    non_billable_reason = models.CharField(
        _("why not billable"), max_length=16, choices=NonBillableReason.choices, blank=True
    )
    waive_call_fee = models.BooleanField(_("call-out fee waived"), default=False)
    waive_reason = models.CharField(_("waiver reason"), max_length=255, blank=True)
    out_of_hours_requested = models.BooleanField(
        _("out-of-hours service requested"),
        default=False,
        help_text=_(
            "Written requests are surcharged only when the customer asked for out-of-hours service."
        ),
    )
    linked_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )
    # Merging B into A (tickets.merging) moves B's conversation and work to A and closes
    # B, not billable (duplicate), pointing here; B's number stays findable.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
    )
    related = models.ManyToManyField(
        "self", blank=True, symmetrical=True, verbose_name=_("related tickets")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="ticket_org_created"),
            models.Index(fields=["contact", "-created_at"], name="ticket_contact_created"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(billable=True) | ~Q(non_billable_reason=""),
                name="ticket_non_billable_has_reason",
                violation_error_message=_(
                    "Say why the ticket is not billable (warranty, contract, out of scope, "
                    "duplicate, spam)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(waive_call_fee=False) | ~Q(waive_reason=""),
                name="ticket_waiver_has_reason",
                violation_error_message=_(
                    "Waiving the call-out fee needs a reason, e.g. why the customer could not "
                    "write."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def clean(self) -> None:
        errors = {}
        if not self.billable and not self.non_billable_reason:
            errors["non_billable_reason"] = _(
                "Say why the ticket is not billable (warranty, contract, out of scope, "
                "duplicate, spam)."
            )
        if self.waive_call_fee and not (self.waive_reason or "").strip():
            errors["waive_reason"] = _(
                "Waiving the call-out fee needs a reason, e.g. why the customer could not write."
            )
        if self.contact_id and self.organisation_id:
            mismatch = contact_organisation_error(self.contact, self.organisation)
            if mismatch:
                errors["contact"] = mismatch
        if errors:
            raise ValidationError(errors)

    @property
    def tag(self) -> str:
        """The subject tag that threads replies, e.g. ``[Ticket#2026-000123]``."""
        return f"[{settings.SPORTELLO_TICKET_TAG}{self.number}]"


def contact_organisation_error(contact, organisation) -> str:
    """Why ``contact`` cannot be on a ticket of ``organisation`` ("" when it can).

    A contact still without an organisation (a new sender waiting for review) fits any.
    """
    if contact is None or organisation is None or contact.organisation_id is None:
        return ""
    if contact.organisation_id == organisation.pk:
        return ""
    return _(
        "%(contact)s is a contact of %(theirs)s, not of %(org)s: choose a contact "
        "of %(org)s, or change the ticket's organisation to %(theirs)s."
    ) % {"contact": contact, "theirs": contact.organisation, "org": organisation}


class Direction(models.TextChoices):
    INBOUND = "in", _("inbound")
    OUTBOUND = "out", _("outbound")
    INTERNAL = "internal", _("internal")


class MessageKind(models.TextChoices):
    EMAIL = "email", _("e-mail")
    PORTAL = "portal", _("portal message")
    CHAT = "chat", _("SMS or chat message")
    PHONE_NOTE = "phone_note", _("phone note")
    INTERNAL_NOTE = "internal_note", _("internal note")
    SYSTEM = "system", _("system")


# Written messages in the sense of SPEC 5 (the tariff's N): public messages by people, in
# either direction; SMS and WhatsApp requests are written too; automatic mail and internal
# notes are not. Asked of one message in memory (Message.counts_as_written) or of many in
# the database (written_messages()): both read these two lines.
WRITTEN_KINDS = (MessageKind.EMAIL, MessageKind.PORTAL, MessageKind.CHAT)
WRITTEN_DIRECTIONS = (Direction.INBOUND, Direction.OUTBOUND)


def written_messages(prefix: str = "") -> Q:
    """The SPEC 5 written messages as a filter, on Message (``prefix=""``) or across a
    relation (``prefix="messages__"`` on Ticket, for a Count)."""
    return Q(
        **{
            f"{prefix}kind__in": WRITTEN_KINDS,
            f"{prefix}direction__in": WRITTEN_DIRECTIONS,
            f"{prefix}automatic": False,
        }
    )


class DeliveryStatus(models.TextChoices):
    NONE = "", _("not applicable")
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Message(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=14, choices=MessageKind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author (staff)"),
    )
    author_contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("author (customer)"),
    )
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("sanitised HTML"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True, db_index=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=998, blank=True)
    references = models.TextField(_("References"), blank=True)
    automatic = models.BooleanField(
        _("automatic"),
        default=False,
        help_text=_("Acknowledgements and notifications: never counted as written messages."),
    )
    delivery_status = models.CharField(
        _("delivery"), max_length=8, choices=DeliveryStatus.choices, blank=True, default=""
    )
    delivery_error = models.TextField(_("delivery error"), blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]
        constraints = [
            # One inbound mail is filed once, even when it arrives by two paths at once.
            models.UniqueConstraint(
                fields=["message_id"],
                condition=Q(direction="in") & ~Q(message_id=""),
                name="message_inbound_message_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.subject or self.get_kind_display()}"

    @property
    def is_public(self) -> bool:
        """Seen by the customer: everything but internal notes and system events."""
        return self.kind not in (MessageKind.INTERNAL_NOTE, MessageKind.SYSTEM)

    @property
    def counts_as_written(self) -> bool:
        """SPEC 5: the rule of ``written_messages()``, for this message in memory."""
        return (
            self.kind in WRITTEN_KINDS
            and self.direction in WRITTEN_DIRECTIONS
            and not self.automatic
        )


def attachment_path(instance: Attachment, filename: str) -> str:
    # Content-addressed: the same file attached twice is stored once, and a name
    # chosen by a stranger never decides where we write.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("message"),
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    content_id = models.CharField(_("Content-ID"), max_length=255, blank=True)
    inline = models.BooleanField(_("inline"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return str(self.filename)


class InterventionKind(models.TextChoices):
    PHONE = "phone", _("phone call")
    REMOTE = "remote", _("remote session")
    PICKUP = "pickup", _("pick-up leg")
    RETURN = "return", _("return leg")


LEG_KINDS = (InterventionKind.PICKUP, InterventionKind.RETURN)


class Intervention(models.Model):
    """What a technician did: the input of billing (SPEC section 4)."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="interventions", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=InterventionKind.choices)
    started_at = models.DateTimeField(_("start"))
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"),
        null=True,
        blank=True,
        help_text=_("Phone calls and remote sessions; exact, a call of 5 min 20 s is over 5."),
    )
    km = models.DecimalField(
        _("km (one way)"),
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Pick-up and return legs outside the district."),
    )
    technician = models.ForeignKey(
        "staff.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interventions",
        verbose_name=_("technician"),
    )
    notes = models.TextField(_("notes"), blank=True)
    out_of_hours_override = models.BooleanField(
        _("out of hours (override)"),
        null=True,
        blank=True,
        help_text=_("Empty: decided by the calendar. Set it only with a reason."),
    )
    override_reason = models.CharField(_("override reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(out_of_hours_override__isnull=True) | ~Q(override_reason=""),
                name="intervention_override_has_reason",
                violation_error_message=_(
                    "Overriding the out-of-hours decision needs a reason, recorded on the ticket."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pickup", "return"]) | Q(duration_seconds__isnull=False),
                name="intervention_call_has_duration",
                violation_error_message=_(
                    "A phone call or remote session needs its duration in seconds (e.g. 600 "
                    "for 10 minutes); only pick-ups and returns have none."
                ),
            ),
        ]

    def __str__(self) -> str:
        # In the site's time zone (Europe/Rome), as every time a person reads.
        return f"{self.get_kind_display()} {timezone.localtime(self.started_at):%d/%m/%Y %H:%M}"

    def clean(self) -> None:
        # The constraints' sentences, on the field to fix (forms show them beside it).
        errors = {}
        if self.kind not in LEG_KINDS and not self.duration_seconds:
            errors["duration_seconds"] = _(
                "A phone call or remote session needs its duration in seconds (e.g. 600 "
                "for 10 minutes); only pick-ups and returns have none."
            )
        if self.out_of_hours_override is not None and not (self.override_reason or "").strip():
            errors["override_reason"] = _(
                "Overriding the out-of-hours decision needs a reason, recorded on the ticket."
            )
        if errors:
            raise ValidationError(errors)


class TicketEvent(models.Model):
    """Append-only audit trail: who changed what on a ticket, and when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        STATUS = "status", _("status changed")
        ASSIGNED = "assigned", _("assigned")
        CHANGED = "changed", _("fields changed")
        MESSAGE = "message", _("message added")
        ATTACHMENT = "attachment", _("attachment added")
        INTERVENTION = "intervention", _("intervention recorded")
        INTERVENTION_CHANGED = "intervention_changed", _("intervention changed")
        BILLING = "billing", _("billing")
        VISIT = "visit", _("visit planned or closed")
        TAGS = "tags", _("tags changed")
        MERGED = "merged", _("merged")
        SPLIT = "split", _("split")
        LINKED = "linked", _("link changed")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who (as shown)"), max_length=320, blank=True)
    data = models.JSONField(_("what changed"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.created_at):%d/%m/%Y %H:%M}"
