"""Header values: the parsing policy, RFC 2047 encoded words, addresses, Message-IDs, dates."""

from __future__ import annotations

import binascii
import functools
import re
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from .charsets import _WS_RE, _clean_text, _decode_bytes, _resurrect


class _RememberingPolicy(email_policy.EmailPolicy):
    """``policy.default`` that parses each header value once.

    The stdlib parses a header again on every read, and the feed parser and the MIME
    walk read Content-Type dozens of times per message: that was half of all parsing
    time. Header objects are immutable, so one parse can be shared.
    """

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        try:
            return _parsed_header(name, value)
        except TypeError:  # an unhashable value: parse it the ordinary way
            return super().header_fetch_parse(name, value)


_POLICY = _RememberingPolicy()


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str):
    return email_policy.EmailPolicy.header_fetch_parse(_POLICY, name, value)


_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")


def _decode_word_payload(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "bB":
            compact = "".join(text.split())
            compact = compact.rstrip("=")
            compact += "=" * (-len(compact) % 4)
            return binascii.a2b_base64(compact.encode("ascii", "ignore"))
        # RFC 2047 4.2: "_" is a space in the Q encoding.
        return binascii.a2b_qp(text.encode("utf-8", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def decode_encoded_words(value: str) -> str:
    """Decode RFC 2047 encoded words in ``value``, leniently.

    Adjacent words in the same charset are joined before decoding (clients split
    multibyte characters across words, against RFC 2047 5); the whitespace between
    adjacent words is dropped (RFC 2047 6.2). A word that does not decode stays as
    it was written.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(_decode_bytes(b"".join(pending), pending_charset))
        pending = []
        pending_charset = None

    pos = 0
    for match in _ENCODED_WORD_RE.finditer(value):
        between = value[pos : match.start()]
        if not (pending and not between.strip()):
            flush()
            out.append(between)
        pos = match.end()
        charset = match.group(1)
        payload = _decode_word_payload(match.group(2), match.group(3))
        if payload is None:
            flush()
            out.append(match.group(0))
            continue
        if pending and (charset.lower() != (pending_charset or "").lower()):
            flush()
        pending.append(payload)
        pending_charset = charset
    flush()
    out.append(value[pos:])
    return "".join(out)


def _unfold(value: str) -> str:
    # RFC 5322 2.2.3: unfolding removes the CRLF before the folding whitespace.
    return value.replace("\r", "").replace("\n", "")


def _header_text(raw: str) -> str:
    """A raw header value as text: unfolded, 8-bit bytes decoded, no encoded words."""
    return _clean_text(_resurrect(_unfold(raw)))


def _unstructured(raw: str | None) -> str:
    """An unstructured header (Subject) decoded for display, whitespace normalised."""
    if raw is None:
        return ""
    text = decode_encoded_words(_header_text(raw))
    return _WS_RE.sub(" ", _clean_text(text)).strip()


_BARE_ADDRESS_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


def _address_pairs(raws: list[str], *, local_ok: bool = False) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs from address headers, never raising.

    Encoded words are decoded after the address list is split, so an encoded comma
    in a display name ("Rossi, Mario") does not split the address. ``local_ok``
    keeps a bare local part such as sendmail's "From: MAILER-DAEMON".
    """
    pairs: list[tuple[str, str]] = []
    for raw in raws:
        text = _header_text(raw)
        try:
            found = getaddresses([text])
        except Exception:  # the stdlib parser has raised on odd input before
            found = []
        good = [
            (n, a)
            for n, a in found
            if a and ("@" in a or local_ok) and not any(c.isspace() for c in a)
        ]
        if local_ok and any("@" not in a for _n, a in good):
            # "Giulia <ufficio> giulia@example.it": an unquoted <...> in the display name
            # looks like an address to the parser. A bare local part is kept only when
            # the header holds no real address at all (sendmail's "MAILER-DAEMON").
            real = [(n, a) for n, a in good if "@" in a]
            if not real:
                real = [("", a) for a in _BARE_ADDRESS_RE.findall(text)]
            if real:
                name = " ".join(n for n, _a in good if n and "@" not in _a)
                good = [(real[0][0] or name, real[0][1]), *real[1:]]
        if not good:
            # Broken syntax ("Name <a@b", unbalanced quotes): keep any bare address.
            good = [("", a) for a in _BARE_ADDRESS_RE.findall(text)]
        for name, address in good:
            name = _WS_RE.sub(" ", decode_encoded_words(name)).strip().strip("\"'").strip()
            pairs.append((_clean_text(name), address.strip().strip("<>").lower()))
    return pairs


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _strip_comments(value: str) -> str:
    """Drop RFC 5322 comments and quoted phrases outside angle brackets."""
    out: list[str] = []
    depth = 0
    in_angle = False
    in_quote = False
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0 and not in_quote:
                out.append(ch)
            continue
        if ch == "\\" and (depth or in_quote):
            escaped = True
            continue
        if in_angle:
            out.append(ch)
            in_angle = ch != ">"
        elif in_quote:
            in_quote = ch != '"'
        elif depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        elif ch == "(":
            depth = 1
        elif ch == '"':
            in_quote = True
        else:
            out.append(ch)
            in_angle = ch == "<"
    return "".join(out)


_MSGID_RE = re.compile(r"<([^<>]*)>")


def parse_message_ids(value: str | None) -> list[str]:
    """Message-IDs in a Message-ID / In-Reply-To / References value, without ``<>``.

    Tolerates folding inside ids, comments, phrases such as ``(Mario's message of
    ...)``, missing angle brackets and duplicates; order is kept (RFC 5322 3.6.4).
    """
    if not value:
        return []
    text = _strip_comments(_header_text(value))
    found = _MSGID_RE.findall(text)
    if not found:
        # Obsolete or broken syntax: bare ids separated by spaces or commas.
        found = [tok for tok in re.split(r"[\s,;]+", text) if "@" in tok]
    return _dedupe([_WS_RE.sub("", mid).strip("<>") for mid in found])


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(_header_text(value).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or not 1970 <= parsed.year <= 2200:
        return None
    if parsed.tzinfo is None:
        # RFC 5322 3.3: "-0000" means UTC with no known local zone.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class _Headers:
    """Case-insensitive access to the raw header values of one message."""

    def __init__(self, msg: Message) -> None:
        self._values: dict[str, list[str]] = {}
        try:
            items = list(msg.raw_items())
        except Exception:  # a header block we cannot even list counts as empty
            items = []
        for name, value in items:
            self._values.setdefault(str(name).strip().lower(), []).append(str(value))

    def all(self, name: str) -> list[str]:
        return self._values.get(name.lower(), [])

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def text(self, name: str) -> str:
        """The first value, decoded, lower-cased, whitespace-normalised."""
        return _unstructured(self.first(name)).lower()

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values
