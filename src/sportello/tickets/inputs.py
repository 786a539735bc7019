"""Plain values the ticket services take (issue 10: ``ticket_open`` had 22 parameters).

:class:`MessageInput` is what a message *says*: its kind, direction, text and envelope.
``ticket_open(..., message=MessageInput(...))`` opens a ticket with it as the first
message, ``message_add(ticket=..., message=MessageInput(...))`` adds it to a ticket; who
writes it (``actor``, ``author_contact``) and what the service does after (``reprice``,
``notify``) stay parameters of the service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .models import Direction

__all__ = ["MessageInput"]


@dataclass(frozen=True, slots=True)
class MessageInput:
    """One message's content and envelope, before it is saved.

    - ``kind``: a ``MessageKind`` value; ``None`` lets ``ticket_open`` choose it from the
      channel (e-mail, portal, chat, otherwise a phone note); ``message_add`` needs it;
    - ``direction``: a ``Direction`` value (inbound unless said otherwise);
    - ``text`` / ``html``: the body; ``html`` must already be sanitised (the mail parser
      does it with nh3). ``ticket_open`` opens without a message when both are empty;
    - ``sender``, ``recipients``, ``cc``, ``subject``, ``message_id``, ``in_reply_to``,
      ``references``: the envelope (``ticket_open`` uses the ticket's subject when
      ``subject`` is empty);
    - ``automatic``: an auto-reply or bounce (not a written message of the tariff);
    - ``delivery_status``: for outbound mail;
    - ``created_at``: when it was written (now when None; ``ticket_open`` uses the
      ticket's own ``created_at``).
    """

    text: str = ""
    html: str = ""
    kind: str | None = None
    direction: str = Direction.INBOUND
    sender: str = ""
    recipients: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    automatic: bool = False
    delivery_status: str = ""
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        # Lists and generators are welcome; the value keeps tuples, so it stays frozen.
        for name in ("recipients", "cc"):
            value: Iterable[str] = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))

    @property
    def has_body(self) -> bool:
        return bool(self.text or self.html)
