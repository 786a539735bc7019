"""Raw mail as received, the mailboxes we poll, and what became of each message."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class RawMessage(models.Model):
    """Every message exactly as received, stored before anything parses it.

    Unique by the SHA-256 of its bytes, so the same delivery arriving twice is one row;
    the same Message-ID arriving by two paths (different Received headers) is caught
    when processing. Nothing is ever deleted: a message that fails goes to quarantine
    with the error and can be reprocessed.
    """

    class Source(models.TextChoices):
        IMAP = "imap", "IMAP"
        POP3 = "pop3", "POP3"
        SMTP = "smtp", "SMTP"
        LMTP = "lmtp", "LMTP"
        PIPE = "pipe", _("MTA pipe")
        IMPORT = "import", _("file import")
        WEBHOOK = "webhook", _("provider webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting to be processed")
        CREATED = "created", _("opened a ticket")
        APPENDED = "appended", _("added to a ticket")
        DUPLICATE = "duplicate", _("duplicate")
        IGNORED = "ignored", _("ignored (automatic mail)")
        QUARANTINED = "quarantined", _("quarantined")

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    file = models.FileField(_("raw message"), upload_to="raw/", max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=255, blank=True)
    envelope_from = models.CharField(_("envelope sender"), max_length=320, blank=True)
    envelope_to = models.JSONField(_("envelope recipients"), default=list, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING, db_index=True
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="raw_messages",
        verbose_name=_("ticket"),
    )
    filed_as = models.ForeignKey(
        "tickets.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="raw_messages",
        verbose_name=_("filed as message"),
    )
    received_at = models.DateTimeField(_("received"), db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("received e-mail")
        verbose_name_plural = _("received e-mails")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.sender} {self.subject[:60]}"

    def read(self) -> bytes:
        with self.file.open("rb") as fh:
            return fh.read()


class Mailbox(models.Model):
    """A mailbox polled over IMAP or POP3 (one poller at a time, claimed in the row)."""

    class Protocol(models.TextChoices):
        IMAP = "imap", "IMAP"
        POP3 = "pop3", "POP3"

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", "STARTTLS"
        NONE = "none", _("none (loopback and tests only)")

    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("Another mailbox already has this name: choose another one.")},
    )
    protocol = models.CharField(
        _("protocol"), max_length=4, choices=Protocol.choices, default=Protocol.IMAP
    )
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=8, choices=Security.choices, default=Security.SSL
    )
    username = models.CharField(_("user"), max_length=255)
    password = models.CharField(_("password"), max_length=255, blank=True)
    oauth2_token = models.TextField(
        _("OAuth2 access token"),
        blank=True,
        help_text=_(
            "For Microsoft 365 and Gmail (XOAUTH2); used instead of the password. With a "
            "refresh token it is renewed automatically and may be left empty."
        ),
    )
    oauth2_token_expires_at = models.DateTimeField(_("access token expires"), null=True, blank=True)
    oauth2_token_url = models.URLField(
        _("OAuth2 token URL"),
        max_length=500,
        blank=True,
        help_text=_(
            "The provider's token endpoint, e.g. "
            "https://login.microsoftonline.com/TENANT-ID/oauth2/v2.0/token or "
            "https://oauth2.googleapis.com/token."
        ),
    )
    oauth2_client_id = models.CharField(_("OAuth2 client ID"), max_length=255, blank=True)
    oauth2_client_secret = models.CharField(
        _("OAuth2 client secret"),
        max_length=500,
        blank=True,
        help_text=_(
            "For confidential clients (Gmail asks for it); without a refresh token, the "
            "application's own access to the mailbox (Microsoft 365 client credentials)."
        ),
    )
    oauth2_refresh_token = models.TextField(
        _("OAuth2 refresh token"),
        blank=True,
        help_text=_("Renews the access token before it expires; replaced when rotated."),
    )
    oauth2_scope = models.CharField(
        _("OAuth2 scope"),
        max_length=500,
        blank=True,
        help_text=_(
            "Asked with every refresh when the provider needs it, e.g. "
            "https://outlook.office.com/IMAP.AccessAsUser.All offline_access."
        ),
    )
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    done_folder = models.CharField(
        _("move processed mail to"),
        max_length=255,
        blank=True,
        help_text=_("Empty: processed mail stays where it is, flagged as seen."),
    )
    poll_interval = models.PositiveIntegerField(_("poll interval (seconds)"), default=60)
    active = models.BooleanField(_("active"), default=True)
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    last_uid = models.BigIntegerField(_("last UID processed"), default=0)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=100, blank=True)
    last_polled_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.username}@{self.host})"

    @property
    def oauth2_refreshable(self) -> bool:
        """A new access token can be asked for: with the refresh token, or with the client
        secret alone (client credentials)."""
        return bool(
            self.oauth2_token_url
            and self.oauth2_client_id
            and (self.oauth2_refresh_token or self.oauth2_client_secret)
        )

    @property
    def uses_oauth2(self) -> bool:
        return bool(self.oauth2_token or self.oauth2_refreshable)

    def clean(self) -> None:
        grant = {
            "oauth2_token_url": self.oauth2_token_url,
            "oauth2_client_id": self.oauth2_client_id,
        }
        credentials = self.oauth2_refresh_token or self.oauth2_client_secret
        if any(grant.values()) or credentials or self.oauth2_scope:
            missing = {
                name: _("Needed to refresh the OAuth2 access token.")
                for name, value in grant.items()
                if not value
            }
            if not credentials:
                missing["oauth2_refresh_token"] = _(
                    "Give a refresh token, or a client secret for the application's own access."
                )
            if missing:
                raise ValidationError(missing)
            url = urlsplit(self.oauth2_token_url)
            if url.scheme != "https" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise ValidationError(
                    {"oauth2_token_url": _("Use https: tokens and secrets travel in it.")}
                )
        if not self.password and not self.uses_oauth2:
            raise ValidationError(
                {"password": _("Give a password, or an OAuth2 access or refresh token.")}
            )
