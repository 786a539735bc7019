"""The header peek: a cheap look at the header block, before (or instead of) a full parse."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from .headers import decode_encoded_words, parse_message_ids


@dataclass(frozen=True)
class HeaderPeek:
    """What a cheap look at the header block tells, before (or instead of) a full parse:
    enough to summarise a stored message and to group a conversation."""

    message_ids: tuple[str, ...] = ()
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject: str = ""
    sender: str = ""

    @property
    def message_id(self) -> str:
        return self.message_ids[0] if self.message_ids else ""

    @property
    def conversation_ids(self) -> list[str]:
        """The ids that tie the message to its conversation: its own, its parents'."""
        return [*self.message_ids, *self.in_reply_to, *self.references]


def peek_headers(raw: bytes) -> HeaderPeek:
    """Message-ID, In-Reply-To, References, Subject and From, read from the first 64 KiB
    with the forgiving compat32 policy. Never raises: an unreadable header block is an
    empty peek (the full parse, later, says what is wrong with it)."""
    try:
        head = _COMPAT_HEADERS.parsebytes(raw[:65536])
        _name, sender = parseaddr(decode_encoded_words(str(head.get("From", ""))))
        return HeaderPeek(
            message_ids=tuple(parse_message_ids(str(head.get("Message-ID", "")))),
            in_reply_to=tuple(parse_message_ids(str(head.get("In-Reply-To", "")))),
            references=tuple(parse_message_ids(str(head.get("References", "")))),
            subject=decode_encoded_words(str(head.get("Subject", ""))),
            sender=sender.lower(),
        )
    except Exception:  # a header we cannot read must not stop the raw bytes being kept
        return HeaderPeek()


_COMPAT_HEADERS = BytesHeaderParser(policy=email_policy.compat32)
