"""Raw RFC 5322 bytes -> :class:`ParsedMessage`. Pure Python: no Django, no ORM.

``parse_message(raw)`` is the one entry point that the IMAP poller, the SMTP/LMTP
receiver, the pipe command and the webhooks share. It never raises: whatever the
bytes are (empty, garbage, CR-only or CRLF line ends, 8-bit headers, broken MIME
boundaries, unknown charsets) it returns a ``ParsedMessage``, and every problem it
worked around is written, in words, to ``ParsedMessage.defects``. The raw bytes
should be stored before this runs (STYLE.md 1.2), so a bad parse can be redone.

How it parses:

* MIME structure: the stdlib ``email`` package with ``policy.default``; if that
  raises, the message is parsed again with ``policy.compat32``; if even that
  raises, the whole input becomes the plain-text body.
* Headers are decoded here, from the raw values, not through the header registry:
  8-bit bytes (RFC 6532 allows UTF-8) are read as UTF-8, else Windows-1252, and
  RFC 2047 encoded words are joined before decoding, so a multibyte character
  split across two words survives. An unknown charset falls back as RFC 6657
  suggests, but leniently: UTF-8, then Windows-1252, then Latin-1, so bytes are
  recovered rather than turned into U+FFFD.
* Body: the text/plain part; when there is only HTML, text is derived from it
  (paragraphs, lists, links, ``>`` for blockquotes). HTML is sanitised with nh3
  (see :func:`sanitize_html`) before it is returned.
* Everything else is an attachment, with its bytes as they were sent:
  ``message/rfc822`` parts are kept as ``.eml`` files, a TNEF ``winmail.dat`` is
  unpacked when the optional ``tnefparse`` package is installed.
* ``auto_kind`` says whether a machine sent the mail (rules: ``auto._classify_auto``).

The package, one module a step (each imports only the ones above it):

=============== ==============================================================
``charsets``    bytes to text whatever the label says; control characters out
``headers``     the parsing policy, encoded words, addresses, Message-IDs, dates
``values``      :class:`ParsedMessage`, :class:`ParsedAttachment`
``markup``      HTML to plain text, HTML sanitised for display
``mime``        the MIME walk: body parts, attachments, what a bounce is made of
``tnef``        winmail.dat unpacked
``attachments`` names for unnamed parts, inline flags, TNEF expanded
``auto``        bounces, auto-replies, mailing lists
``message``     :func:`parse_message`: the steps above, in order
``peek``        :func:`peek_headers`, the cheap look at the header block
``tags``        ``[Ticket#...]`` in subjects
``mbox``        mbox files split into messages
=============== ==============================================================

Callers import from ``sportello.mail.parse`` itself, never from its modules.
"""

from __future__ import annotations

from .headers import decode_encoded_words, parse_message_ids
from .markup import html_to_text, sanitize_html
from .mbox import is_mbox, iter_mbox, split_mbox, split_messages
from .message import parse_message
from .peek import HeaderPeek, peek_headers
from .tags import strip_ticket_tags, ticket_tag_in
from .values import AUTO_REPLY, BOUNCE, MAILING_LIST, ParsedAttachment, ParsedMessage

__all__ = [
    "AUTO_REPLY",
    "BOUNCE",
    "MAILING_LIST",
    "HeaderPeek",
    "ParsedAttachment",
    "ParsedMessage",
    "decode_encoded_words",
    "html_to_text",
    "is_mbox",
    "iter_mbox",
    "parse_message",
    "parse_message_ids",
    "peek_headers",
    "sanitize_html",
    "split_mbox",
    "split_messages",
    "strip_ticket_tags",
    "ticket_tag_in",
]
