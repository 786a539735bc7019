"""What the parser returns: :class:`ParsedMessage` and its :class:`ParsedAttachment`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .headers import _dedupe

AUTO_REPLY = "auto-reply"
BOUNCE = "bounce"
MAILING_LIST = "mailing-list"


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One attachment, its bytes exactly as they were sent (transfer encoding removed).

    ``inline`` is True only for a part with a ``Content-ID`` that the HTML body
    references through a ``cid:`` URL (RFC 2392), so a view can swap the URL for
    the attachment's and hide it from the list. An image nothing references stays
    a normal attachment: it is never hidden.
    """

    filename: str
    content_type: str
    payload: bytes
    content_id: str | None = None
    inline: bool = False
    size: int = 0


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What the help desk needs from one e-mail. Addresses are lower-cased.

    ``auto_kind`` is None for mail written by a person, else ``"auto-reply"``,
    ``"bounce"`` or ``"mailing-list"`` (rules: ``auto._classify_auto``). For a bounce,
    ``bounced_message_ids`` are the Message-IDs of the mail that did not arrive,
    ``bounce_recipients`` who did not get it, ``bounce_status`` the first RFC 3463
    status code (``"5.1.1"``) when the report has one.
    """

    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    x_original_to: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_kind: str | None = None
    auto_submitted: str | None = None
    list_id: str | None = None
    bounced_message_ids: list[str] = field(default_factory=list)
    bounce_recipients: list[str] = field(default_factory=list)
    bounce_status: str | None = None
    defects: list[str] = field(default_factory=list)

    @property
    def thread_message_ids(self) -> list[str]:
        """Message-IDs this mail answers, most likely parent first.

        RFC 5322 3.6.4: In-Reply-To names the parent; References lists the thread
        oldest first, so it is read backwards.
        """
        return _dedupe([*self.in_reply_to, *reversed(self.references)])

    @property
    def recipients(self) -> list[str]:
        """Every address the mail was delivered to, envelope headers first.

        The envelope headers (X-Original-To, Delivered-To) name the mailbox that
        really received it, which To/Cc do not when the desk was Bcc'd or the mail
        came through an alias.
        """
        return _dedupe([*self.x_original_to, *self.delivered_to, *self.to, *self.cc])
