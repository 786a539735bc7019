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
* ``auto_kind`` says whether a machine sent the mail (rules: ``_classify_auto``).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import functools
import html as htmlmod
import io
import mimetypes
import quopri
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.utils import collapse_rfc2231_value, getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import unquote

import nh3

__all__ = [
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
    "ticket_tag_in",
]


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
    ``"bounce"`` or ``"mailing-list"`` (rules: ``_classify_auto``). For a bounce,
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


# --------------------------------------------------------------------------- charsets

# WHATWG practice: mail labelled Latin-1 is nearly always Windows-1252 (curly quotes,
# euro sign in 0x80-0x9F); GB2312 text is decoded with its superset.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "x-user-defined": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "default": "",
    "charset": "",
}
# Labels whose text is often really UTF-8 (mislabelled by the sending client).
_MISLABEL_PRONE = {"ascii", "cp1252", "latin-1", "iso8859-15"}


def _codec_name(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown."""
    if not charset:
        return None
    label = str(charset).strip().strip("\"'").lower()
    # RFC 2231 5: a language may follow the charset, "utf-8*it".
    label = label.split("*", 1)[0]
    label = _CHARSET_ALIASES.get(label, label)
    if not label:
        return None
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # "base64", "rot13", "zlib"... are codecs too, but not text encodings.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Decode ``data`` by its declared charset, never raising.

    RFC 6657 makes US-ASCII the default for text/* without a charset; undeclared or
    unknown charsets are tried as UTF-8 (a superset of ASCII), then Windows-1252,
    then Latin-1, which maps every byte. A known charset whose bytes do not fit is
    decoded with U+FFFD replacements, after trying UTF-8 for labels that clients
    often get wrong.
    """
    data = data.replace(b"\x00", b"")
    name = _codec_name(charset)
    if charset and name is None and defects is not None:
        defects.append(f"unknown charset {str(charset)[:40]!r}: decoded as UTF-8 or Windows-1252")
    if name is None or name == "ascii":
        candidates = ["utf-8", "cp1252"]
    else:
        candidates = [name, "utf-8"] if name in _MISLABEL_PRONE else [name]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            if candidate == "utf-8" and name in (None, "ascii"):
                # Mostly UTF-8 with a few broken bytes (a truncated header, a
                # stray Latin-1 byte): better one U+FFFD than mojibake everywhere.
                text = data.decode("utf-8", errors="replace")
                high = sum(1 for byte in data if byte > 0x7F)
                if text.count("\ufffd") * 4 <= high:
                    return text
            continue
    if name and name != "ascii":
        if defects is not None:
            defects.append(f"bytes not valid in charset {name}: replaced")
        try:
            return data.decode(name, errors="replace")
        except LookupError:
            pass
    return data.decode("latin-1")


def _resurrect(value: str) -> str:
    """Undo ``surrogateescape``: 8-bit bytes the stdlib could not decode, as text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return _decode_bytes(raw, None)


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def _clean_text(value: str) -> str:
    """Remove NULs, other C0 controls but tab/newline, and stray surrogates."""
    value = _CONTROL_RE.sub("", value)
    return _SURROGATE_RE.sub("\ufffd", value)


# --------------------------------------------------------------------------- headers

_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")
_WS_RE = re.compile(r"\s+")


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


# --------------------------------------------------------------------------- HTML


class _TextExtractor(HTMLParser):
    """Plain text from HTML: paragraphs, line breaks, lists, links and quotes kept."""

    _BLOCKS = frozenset(
        "address article aside center dd div dl dt fieldset figcaption figure footer form "
        "h1 h2 h3 h4 h5 h6 header main nav ol section table tbody thead tfoot ul caption".split()
    )
    _PARAGRAPHS = frozenset("p h1 h2 h3 h4 h5 h6 table ul ol dl pre hr".split())
    _SKIP = frozenset("script style title noscript template head object iframe svg".split())
    _LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:", "ftp://")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.link: tuple[str, list[str]] | None = None
        self.list_counters: list[int | None] = []

    # -- line model
    def _flush(self) -> None:
        self.lines.append((self.depth, "".join(self.current).rstrip()))
        self.current = []

    def _break(self, blank_lines: int = 0) -> None:
        if "".join(self.current).strip():
            self._flush()
        else:
            self.current = []
        if not self.lines:
            return
        trailing = 0
        for _, text in reversed(self.lines):
            if text:
                break
            trailing += 1
        while trailing < blank_lines:
            self.lines.append((self.depth, ""))
            trailing += 1

    def _write(self, text: str) -> None:
        if self.link is not None:
            self.link[1].append(text)
        self.current.append(text)

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip += 1
            return
        if tag == "body":
            self.skip = 0
        if self.skip:
            return
        attributes = {k: (v or "") for k, v in attrs}
        if tag == "br":
            self._flush()
        elif tag == "blockquote":
            self._break(0)
            self.depth += 1
        elif tag in ("ul", "ol"):
            self._break(1 if not self.list_counters else 0)
            self.list_counters.append(0 if tag == "ol" else None)
        elif tag == "li":
            self._break(0)
            indent = "  " * max(len(self.list_counters) - 1, 0)
            counter = self.list_counters[-1] if self.list_counters else None
            if counter is None:
                self._write(f"{indent}- ")
            else:
                self.list_counters[-1] = counter + 1
                self._write(f"{indent}{counter + 1}. ")
        elif tag == "pre":
            self._break(1)
            self.pre += 1
        elif tag == "hr":
            self._break(1)
        elif tag in self._PARAGRAPHS:
            self._break(1)
        elif tag in self._BLOCKS or tag == "tr":
            self._break(0)
        elif tag in ("td", "th"):
            if "".join(self.current).strip():
                self._write("  ")
        elif tag == "a":
            href = attributes.get("href", "").strip()
            self.link = (href, [])
        elif tag == "img":
            alt = _WS_RE.sub(" ", attributes.get("alt", "")).strip()
            if alt:
                self._write(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip = max(self.skip - 1, 0)
            return
        if self.skip:
            return
        if tag == "blockquote":
            self._break(0)
            self.depth = max(self.depth - 1, 0)
        elif tag in ("ul", "ol"):
            if self.list_counters:
                self.list_counters.pop()
            self._break(1 if not self.list_counters else 0)
        elif tag == "pre":
            self._break(1)
            self.pre = max(self.pre - 1, 0)
        elif tag in self._PARAGRAPHS:
            self._break(1)
        elif tag in self._BLOCKS or tag in ("tr", "li"):
            self._break(0)
        elif tag == "a" and self.link is not None:
            href, parts = self.link
            self.link = None
            label = "".join(parts).strip()
            shown = href[7:] if href.lower().startswith("mailto:") else href
            if href.lower().startswith(self._LINK_SCHEMES) and shown not in label:
                self.current.append(f" ({shown})" if label else shown)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            chunks = data.replace("\r\n", "\n").split("\n")
            for i, chunk in enumerate(chunks):
                if i:
                    self._flush()
                self._write(chunk)
            return
        text = _WS_RE.sub(" ", data.replace("\xa0", " "))
        if not "".join(self.current).strip():
            text = text.lstrip()
        elif self.current and self.current[-1].endswith(" "):
            text = text.lstrip()
        if text:
            self._write(text)

    def result(self) -> str:
        self._break(0)
        out: list[str] = []
        blank = 0
        for depth, text in self.lines:
            text = text.replace("\xa0", " ").rstrip()
            if not text.strip(_INVISIBLE + " \t"):
                text = ""
            if not text:
                blank += 1
                if blank > 1:
                    continue
            else:
                blank = 0
            prefix = ">" * depth + " " if depth else ""
            out.append((prefix + text).rstrip())
        return "\n".join(out).strip("\n")


_INVISIBLE = "\u200b\u200c\u200e\u200f\ufeff\u034f\u00ad"


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (stdlib html.parser, never raises).

    Block elements become line breaks, paragraphs blank lines, list items ``- ``
    or ``1. ``, links ``label (url)``, and blockquotes ``> `` prefixes, so that
    :func:`sportello.tickets.quotes.split_reply` can fold the quoted part.
    """
    parser = _TextExtractor()
    try:
        parser.feed(_clean_text(html))
        parser.close()
    except Exception:  # html.parser is lenient, but keep the promise
        return _WS_RE.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
    return parser.result()


# Tags: nh3's defaults (formatting, lists, tables, images) plus <font>, which mail
# clients still write. Never: script, style, iframe, object, form, input, svg, math.
_HTML_TAGS = set(nh3.ALLOWED_TAGS) | {"font"}
_HTML_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
_HTML_ATTRIBUTES.setdefault("*", set()).update({"style", "title", "dir", "lang"})
_HTML_ATTRIBUTES.setdefault("font", set()).update({"color", "face", "size"})
for _tag in ("table", "td", "th", "tr", "tbody", "thead", "tfoot"):
    _HTML_ATTRIBUTES.setdefault(_tag, set()).update(
        {"width", "height", "valign", "bgcolor", "border", "cellpadding", "cellspacing"}
    )
_HTML_ATTRIBUTES["img"].update({"title"})
# Presentational CSS only: no position/display (overlays, hidden text), no url()
# properties (background, list-style-image: remote loads).
_STYLE_PROPERTIES = set(
    """color background-color font font-family font-size font-style font-weight line-height
    text-align text-decoration text-indent vertical-align white-space width height max-width
    margin margin-top margin-bottom margin-left margin-right padding padding-top padding-bottom
    padding-left padding-right border border-top border-bottom border-left border-right
    border-collapse border-color border-style border-width""".split()
)
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_DATA_IMAGE_RE = re.compile(r"data:image/(png|jpe?g|gif|webp|bmp);base64,", re.IGNORECASE)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "src":
        # Only images that travel with the mail: cid: parts (RFC 2392) and inline
        # data: rasters. A remote image is a tracking beacon; SVG can carry script.
        lowered = value.strip().lower()
        if lowered.startswith("cid:") or _DATA_IMAGE_RE.match(lowered):
            return value
        return None
    if attribute == "href":
        # data: and cid: URLs are for images, not for navigation (phishing pages).
        if value.strip().lower().startswith(("data:", "cid:")):
            return None
    return value


def sanitize_html(html: str) -> str:
    """HTML safe to show inside Sportello's pages (nh3/ammonia, never raises).

    Kept: text formatting, lists, tables, links (http, https, mailto, tel; with
    ``rel="noopener noreferrer nofollow"``), presentational inline CSS, images
    whose source is a ``cid:`` part or a ``data:image/...`` raster.
    Removed: scripts, styles, event handlers, forms, frames, ``javascript:`` and
    relative URLs (they would point at Sportello itself), remote images (they
    report to the sender that the desk opened the mail), ids and classes (they
    could collide with the page's own).
    """
    if not html.strip():
        return ""
    try:
        return nh3.clean(
            _clean_text(html),
            tags=_HTML_TAGS,
            clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
            attributes=_HTML_ATTRIBUTES,
            attribute_filter=_filter_attribute,
            strip_comments=True,
            link_rel="noopener noreferrer nofollow",
            url_schemes=_URL_SCHEMES,
            filter_style_properties=_STYLE_PROPERTIES,
            url_relative="deny",
        ).strip()
    except Exception:  # nh3 is robust; if it ever fails, show no HTML at all
        return ""


# --------------------------------------------------------------------------- MIME walk

_MIMETYPES = mimetypes.MimeTypes()  # built-in table only: same result on every machine
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "text/rfc822-headers": ".txt",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/pjpeg": ".jpg",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/news": ".eml",
    "application/ms-tnef": ".dat",
    "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".asc",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/pkcs7-mime": ".p7m",
    "application/x-pkcs7-mime": ".p7m",
    "application/octet-stream": ".bin",
}
_GENERATED_STEMS = {
    "message/rfc822": "forwarded-message",
    "message/global": "forwarded-message",
    "message/news": "forwarded-message",
    "message/delivery-status": "delivery-status",
    "message/global-delivery-status": "delivery-status",
    "message/feedback-report": "feedback-report",
    "message/disposition-notification": "disposition-notification",
    "text/rfc822-headers": "original-headers",
    "application/pgp-signature": "signature",
    "application/pkcs7-signature": "smime",
    "application/x-pkcs7-signature": "smime",
    "text/calendar": "invite",
}
_MAX_DEPTH = 40
_BODY_TYPES = ("text/plain", "text/html")


def _extension_for(content_type: str) -> str:
    if content_type in _EXTENSIONS:
        return _EXTENSIONS[content_type]
    if content_type.startswith("message/"):
        return ".txt"
    return _MIMETYPES.guess_extension(content_type) or ".bin"


def _safe_filename(name: str) -> str:
    """A filename that is never a path, a hidden file or unprintable."""
    name = unicodedata.normalize("NFC", _clean_text(_resurrect(name)))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    name = _WS_RE.sub(" ", name).strip(" .")
    if len(name.encode("utf-8")) > 200:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and stem else ""
        keep = name[: len(name) - len(ext) - 1] if ext else name
        while len(keep.encode("utf-8")) > 200 - len(ext) - 1:
            keep = keep[:-1]
        name = f"{keep}.{ext}" if ext else keep
    return name


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        try:
            value = collapse_rfc2231_value(value)
        except Exception:
            value = value[2]
    return _resurrect(str(value)).strip()


def _charset(part: Message) -> str | None:
    return _param(part, "charset")


def _disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:
        return None
    return value.lower() if value else None


def _raw_filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        name = _param(part, "filename", "content-disposition") or _param(part, "name")
    if not name:
        return ""
    name = _resurrect(str(name))
    if "=?" in name:
        # Not standard in parameters (RFC 2047 5), but Outlook and Gmail do it.
        name = decode_encoded_words(name)
    return name


def _content_id(part: Message) -> str | None:
    value = None
    with contextlib.suppress(Exception):
        value = part.get("Content-ID")
    if not value:
        return None
    cid = _WS_RE.sub("", _header_text(str(value))).strip("<>")
    return cid or None


def _payload_bytes(part: Message) -> bytes:
    """The decoded body of a leaf part (base64/quoted-printable removed)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _serialize(msg: Message, linesep: str) -> bytes:
    """Bytes of a parsed (sub)message, with headers as received."""
    pol = msg.policy
    with contextlib.suppress(Exception):
        pol = pol.clone(linesep=linesep)
    with contextlib.suppress(Exception):
        pol = pol.clone(refold_source="none")
    buffer = io.BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=pol).flatten(msg)
        return buffer.getvalue()
    except Exception:
        try:
            return msg.as_string().encode("utf-8", "surrogateescape")
        except Exception:
            return b""


def _body_bytes_of_container(part: Message, linesep: str) -> bytes:
    """Body bytes of a message/* part, whose payload the parser turned into Messages."""
    payload = part.get_payload()
    if isinstance(payload, list):
        if len(payload) == 1 and _content_type(part) in ("message/rfc822", "message/global"):
            body = _serialize(payload[0], linesep)
        else:
            # message/delivery-status: one "message" of fields per block.
            sep = linesep.encode()
            body = sep.join(_serialize(block, linesep) for block in payload)
    else:
        body = _payload_bytes(part)
        return body
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    # RFC 2046 5.2.1 forbids encoding message/rfc822, but Outlook base64-encodes it.
    if cte == "base64":
        with contextlib.suppress(binascii.Error, ValueError):
            body = base64.b64decode(b"".join(body.split()), validate=False)
    elif cte == "quoted-printable":
        body = quopri.decodestring(body)
    return body


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft line breaks, remove space-stuffing."""
    out: list[str] = []
    buffer = ""
    buffer_depth: int | None = None
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # RFC 3676 4.4: space-stuffing
        if buffer_depth is not None and depth != buffer_depth:
            out.append((">" * buffer_depth + " " if buffer_depth else "") + buffer)
            buffer, buffer_depth = "", None
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        buffer += content
        buffer_depth = depth
        if not flowed:
            out.append((">" * depth + " " if depth else "") + buffer)
            buffer, buffer_depth = "", None
    if buffer_depth is not None:
        out.append((">" * buffer_depth + " " if buffer_depth else "") + buffer)
    return "\n".join(out)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class _Bounce:
    """What the walk saw that a bounce report is made of."""

    dsn_text: list[str] = field(default_factory=list)
    # Headers of the returned message: from the report's message/rfc822 or
    # text/rfc822-headers part (RFC 6522 3), else from any embedded message.
    original_headers: list[str] = field(default_factory=list)
    embedded_ids: list[str] = field(default_factory=list)
    report_types: list[str] = field(default_factory=list)


@dataclass
class _Walk:
    linesep: str
    defects: list[str]
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    bounce: _Bounce = field(default_factory=_Bounce)
    in_report: bool = False

    def sub(self) -> _Walk:
        return _Walk(self.linesep, self.defects, bounce=self.bounce, in_report=self.in_report)

    def absorb(self, other: _Walk, *, plain: bool = True, html: bool = True) -> None:
        if plain:
            self.plain.extend(other.plain)
        if html:
            self.html.extend(other.html)
        self.attachments.extend(other.attachments)


def _add_attachment(walk: _Walk, part: Message, payload: bytes, content_type: str) -> None:
    walk.attachments.append(
        {
            "filename": _safe_filename(_raw_filename(part)),
            "content_type": content_type,
            "payload": payload,
            "content_id": _content_id(part),
            "in_report": walk.in_report,
        }
    )


def _text_of(part: Message, walk: _Walk) -> str:
    data = _payload_bytes(part)
    charset = _charset(part)
    content_type = _content_type(part)
    if charset is None and content_type == "text/html":
        # HTML may declare its charset in a <meta> tag instead of the MIME header.
        meta = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", data[:4096], re.IGNORECASE)
        if meta:
            charset = meta.group(1).decode("ascii", "ignore")
    text = _normalise_newlines(_clean_text(_decode_bytes(data, charset, walk.defects)))
    text = text.lstrip("\ufeff")
    if content_type == "text/plain" and (_param(part, "format") or "").lower() == "flowed":
        text = _unflow(text, (_param(part, "delsp") or "").lower() == "yes")
    return text


def _walk(part: Message, walk: _Walk, depth: int = 0) -> None:
    content_type = _content_type(part)
    if depth > _MAX_DEPTH:
        walk.defects.append(f"MIME nesting deeper than {_MAX_DEPTH}: rest kept as one attachment")
        _add_attachment(walk, part, _serialize(part, walk.linesep), content_type)
        return
    if depth and "message-id" in {str(k).lower() for k in part.keys()}:
        # A part that carries a whole message's headers: a returned original.
        walk.bounce.embedded_ids.extend(parse_message_ids(str(part.get("Message-ID", ""))))
    payload = part.get_payload()
    if content_type.startswith("multipart/") and isinstance(payload, str):
        recovered = _recover_multipart(part, content_type, walk.defects)
        if recovered is not None:
            _walk(recovered, walk, depth + 1)
            return
        # No usable boundary: show the body as text rather than hide it.
        walk.plain.append(_text_of(part, walk))
        return
    if content_type.startswith("message/") or (
        isinstance(payload, list) and not content_type.startswith("multipart/")
    ):
        _walk_message_part(part, walk, content_type)
        return
    if part.is_multipart() and isinstance(payload, list):
        _walk_multipart(part, walk, content_type, payload, depth)
        return
    disposition = _disposition(part)
    if content_type in _BODY_TYPES and disposition != "attachment" and not _raw_filename(part):
        text = _text_of(part, walk)
        (walk.plain if content_type == "text/plain" else walk.html).append(text)
        return
    if content_type == "text/rfc822-headers":
        walk.bounce.original_headers.append(_text_of(part, walk))
    _add_attachment(walk, part, _payload_bytes(part), content_type)


def _walk_message_part(part: Message, walk: _Walk, content_type: str) -> None:
    body = _body_bytes_of_container(part, walk.linesep)
    if content_type in ("message/delivery-status", "message/global-delivery-status"):
        walk.bounce.dsn_text.append(_decode_bytes(body, "utf-8"))
    elif content_type not in ("message/feedback-report", "message/disposition-notification"):
        # message/rfc822, message/global, and the misspelt message/rfc822-headers.
        head = _decode_bytes(re.split(rb"\r?\n\r?\n", body, maxsplit=1)[0], None)
        if walk.in_report:
            walk.bounce.original_headers.append(head)
        else:
            walk.bounce.embedded_ids.extend(_message_id_in_headers(head))
    _add_attachment(walk, part, body, content_type)


def _message_id_in_headers(head: str) -> list[str]:
    try:
        parsed = HeaderParser(policy=email_policy.compat32).parsestr(head.lstrip())
        return parse_message_ids(parsed.get("Message-ID"))
    except Exception:  # a broken header block has no usable id
        return []


_BOUNDARY_LINE_RE = re.compile(rb"^--([^\s][^\r\n]{0,200}?)(--)?[ \t]*\r?$", re.MULTILINE)


def _recover_multipart(part: Message, content_type: str, defects: list[str]) -> Message | None:
    """Re-parse a multipart whose boundary was not found, with the boundary its body uses.

    Truncated or mismatched boundary parameters are common in bounces and spam; the
    delimiter lines themselves (RFC 2046 5.1.1: "--" boundary) usually survive.
    """
    body = part.get_payload()
    data = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else b""
    counts: dict[bytes, int] = {}
    for match in _BOUNDARY_LINE_RE.finditer(data):
        candidate = match.group(1).rstrip()
        # A delimiter is followed by a header line or a blank line, never by prose.
        after = data[match.end() : match.end() + 200].lstrip(b"\r\n")
        if match.group(2) or re.match(rb"[!-9;-~]+:|\r?\n", after) or not after:
            counts[candidate] = counts.get(candidate, 0) + 1
    if not counts:
        return None
    boundary = max(counts, key=lambda b: (counts[b], len(b)))
    if b'"' in boundary or counts[boundary] < 2:
        return None
    params = "".join(
        f'; {name}="{value}"'
        for name in ("report-type", "type", "start")
        if (value := _param(part, name)) and '"' not in value
    )
    header = f'Content-Type: {content_type}; boundary="{boundary.decode("latin-1")}"{params}'
    defects.append(f"{content_type}: boundary not found; used the delimiter lines of the body")
    try:
        recovered = BytesParser(policy=part.policy).parsebytes(
            header.encode("latin-1", "replace") + b"\n\n" + data
        )
    except Exception:  # give up: the caller shows the body as text
        return None
    # Only a real split counts, or the caller would try again, and again.
    return recovered if isinstance(recovered.get_payload(), list) else None


def _walk_multipart(
    part: Message, walk: _Walk, content_type: str, children: list, depth: int
) -> None:
    subtype = content_type.split("/", 1)[1]
    if subtype == "alternative":
        # RFC 2046 5.1.4: parts are in increasing order of preference: take the last
        # plain and the last HTML rendering; keep attachments of every rendering.
        subs = []
        for child in children:
            sub = walk.sub()
            _walk(child, sub, depth + 1)
            subs.append(sub)
        best_plain = next((s for s in reversed(subs) if "".join(s.plain).strip()), None)
        best_html = next((s for s in reversed(subs) if "".join(s.html).strip()), None)
        for sub in subs:
            walk.absorb(sub, plain=sub is best_plain, html=sub is best_html)
        return
    if subtype == "related":
        # RFC 2387 3.2: the root is the part named by "start", else the first one.
        start = (_param(part, "start") or "").strip("<> ")
        root_index = 0
        if start:
            for i, child in enumerate(children):
                if _content_id(child) == start:
                    root_index = i
                    break
        for i, child in enumerate(children):
            if i == root_index:
                _walk(child, walk, depth + 1)
            else:
                _add_attachment(walk, child, _leaf_or_serialized(child, walk), _content_type(child))
        return
    if subtype == "report":
        report_type = (_param(part, "report-type") or "").lower()
        walk.bounce.report_types.append(report_type)
        # RFC 6522 3: the first part is for humans; the rest is machine-readable.
        for i, child in enumerate(children):
            if i == 0:
                _walk(child, walk, depth + 1)
            else:
                sub = walk.sub()
                sub.in_report = True
                _walk(child, sub, depth + 1)
                walk.absorb(sub)
        return
    for child in children:
        _walk(child, walk, depth + 1)


def _leaf_or_serialized(part: Message, walk: _Walk) -> bytes:
    if isinstance(part.get_payload(), list):
        return _body_bytes_of_container(part, walk.linesep)
    return _payload_bytes(part)


# --------------------------------------------------------------------------- TNEF

_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")


def _unpack_tnef(payload: bytes, defects: list[str]) -> tuple[list[dict], str] | None:
    """Attachments and body text of a winmail.dat, or None to keep it as it is.

    Needs the optional ``tnefparse`` package; without it, or when it fails, the
    winmail.dat file stays an attachment so nothing is lost.
    """
    try:
        from tnefparse import TNEF  # optional dependency
    except ImportError:
        return None
    try:
        tnef = TNEF(payload, do_checksum=False)
        found = []
        for item in tnef.attachments:
            name = item.long_filename() or item.name
            if isinstance(name, bytes):
                name = _decode_bytes(name, None)
            data = item.data if isinstance(item.data, bytes) else b""
            found.append({"filename": str(name).strip("\x00"), "payload": data})
        body = tnef.body or ""
        if isinstance(body, bytes):
            body = _decode_bytes(body, None)
        if not body and tnef.htmlbody:
            html = tnef.htmlbody
            body = html_to_text(html if isinstance(html, str) else _decode_bytes(html, None))
    except Exception as exc:  # tnefparse raises many kinds of errors on bad input
        defects.append(f"winmail.dat not unpacked ({type(exc).__name__}): kept as is")
        return None
    return found, _normalise_newlines(_clean_text(str(body))).strip()


# --------------------------------------------------------------------------- bounces & auto

_DSN_FIELD_RE = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*)$", re.MULTILINE)
_STATUS_RE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BODY_MSGID_RE = re.compile(r"^[ \t>]*Message-ID[ \t]*:[ \t]*(<[^<>\r\n]+>|\S+@\S+)", re.I | re.M)


def _dsn_details(texts: list[str]) -> tuple[list[str], str | None]:
    """Failed recipients and the first status code from RFC 3464 report fields."""
    recipients: list[str] = []
    statuses: list[tuple[str, str]] = []
    for text in texts:
        # RFC 3464 2.1: blocks are separated by blank lines; each recipient has one.
        for block in re.split(r"\r?\n[ \t]*\r?\n", _normalise_newlines(text)):
            fields: dict[str, str] = {}
            for name, value in _DSN_FIELD_RE.findall(block):
                fields.setdefault(name.lower(), value.strip())
            recipient = fields.get("final-recipient") or fields.get("original-recipient")
            if recipient:
                # "rfc822; user@example.com" (RFC 3464 2.3.2: address-type ; address)
                address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
                if "@" in address:
                    recipients.append(address)
            status = _STATUS_RE.search(fields.get("status", ""))
            if status:
                statuses.append((fields.get("action", "").lower(), status.group(1)))
    failed = [code for action, code in statuses if action.startswith("failed")]
    status = (failed or [code for _, code in statuses] or [None])[0]
    return _dedupe(recipients), status


def _bounced_ids(bounce: _Bounce, texts: list[str], own_id: str | None) -> list[str]:
    """Message-IDs of the mail that bounced: from the returned headers, else the text.

    The returned headers are trusted even when the id equals the bounce's own:
    some MTAs (Lotus Domino) reuse the original Message-ID for the report.
    """
    ids: list[str] = []
    for headers in bounce.original_headers:
        ids.extend(_message_id_in_headers(headers))
    if not ids:
        ids.extend(bounce.embedded_ids)
    if ids:
        return _dedupe(ids)
    # Bounces without a machine-readable part (qmail, old Exim, appliances) quote
    # the original headers in their text or in a text attachment.
    for found in _BODY_MSGID_RE.findall("\n".join([*texts, *bounce.dsn_text])):
        ids.extend(parse_message_ids(found) or [found.strip("<>")])
    return [mid for mid in _dedupe(ids) if mid != own_id]


_TEXT_RECIPIENT_RE = re.compile(r"^[ \t]*<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>:", re.M)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_BOUNCE_SUBJECT_RE = re.compile(
    r"^(?:undeliver(?:ed|able)|delivery (?:status notification|"
    r"failure|failed|has failed|report|notification)|mail delivery (?:failed|failure|system)|"
    r"returned mail|failure notice|non[- ]?remis|mancato recapito|unzustellbar|"
    r"nicht zustellbar|message (?:not delivered|delivery failure|undeliverable)|"
    r"undelivered mail|delivery notification|warning: could not send|"
    r"mail system error|could not deliver|delivery problem)",
    re.IGNORECASE,
)
# Display names MTAs give their bounces ("Mail Delivery Subsystem <MAILER-DAEMON>").
_BOUNCE_NAME_RE = re.compile(
    r"^\s*(?:mail delivery (?:subsystem|system|service)|mailer[- ]?daemon|postmaster|"
    r"mail administrator)\s*$",
    re.IGNORECASE,
)
# Subject prefixes of out-of-office replies, as Outlook/Exchange and others write them.
_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(?:automatic reply|auto(?:matische)?[- ]?(?:reply|response|respuesta|antwort)|"
    r"autoreply|out of (?:the )?office|risposta automatica|fuori sede|"
    r"abwesenheitsnotiz|réponse automatique|respuesta automática|absence)\b",
    re.IGNORECASE,
)
# Pre-RFC 2369 list managers (Majordomo, ezmlm, LISTSERV) mark their mail through
# the envelope sender: "owner-list@", "list-owner@", "list-request@".
_LIST_OWNER_RE = re.compile(r"(?:^|[<\s])(?:owner-[^@\s]+|[^@\s<]+-(?:owner|request|bounces?))@")


def _classify_auto(
    headers: _Headers,
    *,
    from_address: str,
    from_name: str = "",
    subject: str = "",
    bounce: _Bounce | None = None,
) -> str | None:
    """None for a person's mail, else "bounce", "auto-reply" or "mailing-list".

    First match wins:

    1. bounce: a multipart/report (RFC 6522) or a message/delivery-status part
       (RFC 3464 DSN; ARF complaints, RFC 5965, count too), or mail from
       mailer-daemon/postmaster, or a null envelope sender (``Return-Path: <>``)
       with a delivery-failure subject. Read receipts (RFC 8098 MDNs) are not
       bounces: the mail arrived. They are "auto-reply".
    2. auto-reply: RFC 3834 ``Auto-Submitted`` other than "no" (auto-replied and
       auto-generated alike: look at ``auto_submitted`` to tell them apart),
       ``X-Autoreply``/``X-Autorespond``, Apple's ``X-Apple-Action: VACATION``,
       ``Precedence: auto_reply``. ``X-Auto-Response-Suppress`` alone does NOT
       count: it only asks others not to answer, and Outlook, CRMs and many
       senders put it on mail that people wrote. It counts, with ``All``/``OOF``,
       together with an out-of-office subject ("Automatic reply:", "Risposta
       automatica:"). A null envelope sender (``Return-Path: <>``, RFC 3834 3.3)
       counts with such a subject or with Exchange's
       ``X-MS-Exchange-Inbox-Rules-Loop`` (the out-of-office assistant).
    3. mailing-list: RFC 2919 ``List-Id``, RFC 2369 ``List-Unsubscribe`` /
       ``List-Post``, ``Precedence: list``, or ``Precedence: bulk``/``junk`` from a
       list manager's owner address (Majordomo "owner-x@", ezmlm "x-owner@").
    4. auto-reply: remaining ``Precedence: bulk``/``junk`` (RFC 3834 2: do not
       answer it; vacation programs set it).
    """
    bounce = bounce or _Bounce()
    local = from_address.split("@", 1)[0]
    return_path = (headers.first("Return-Path") or "").strip()
    null_sender = "return-path" in headers and return_path.replace(" ", "") in ("<>", "")
    content_type = headers.text("Content-Type")
    report_types = [*bounce.report_types]
    if "multipart/report" in content_type:
        match = re.search(r"report-type\s*=\s*\"?([\w-]+)", content_type)
        report_types.append(match.group(1) if match else "")
    is_mdn = report_types and all(t == "disposition-notification" for t in report_types)
    if is_mdn and not bounce.dsn_text:
        return AUTO_REPLY
    if report_types or bounce.dsn_text:
        return BOUNCE
    if local in _BOUNCE_SENDERS or local.startswith("mailer-daemon"):
        return BOUNCE
    if _BOUNCE_NAME_RE.match(from_name):
        return BOUNCE
    if null_sender and _BOUNCE_SUBJECT_RE.search(subject):
        return BOUNCE
    if "x-failed-recipients" in headers:  # Exim, on every bounce it writes
        return BOUNCE

    # "auto-replied; owner-email=...", "no (a person wrote this)": the first token counts.
    auto_submitted = re.split(r"[\s;(]", headers.text("Auto-Submitted"), maxsplit=1)[0]
    if auto_submitted and auto_submitted != "no":
        # RFC 3834 5: anything but "no" means a program sent it.
        return AUTO_REPLY
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        value = headers.text(name)
        if name in headers and value not in ("no", "false", "0"):
            return AUTO_REPLY
    if headers.text("X-Apple-Action") == "vacation":
        return AUTO_REPLY
    precedence = headers.text("Precedence")
    if precedence in ("auto_reply", "auto-reply"):
        return AUTO_REPLY
    suppress = headers.text("X-Auto-Response-Suppress")
    if suppress and re.search(r"\b(all|oof)\b", suppress) and _AUTO_SUBJECT_RE.search(subject):
        return AUTO_REPLY
    if null_sender and (
        _AUTO_SUBJECT_RE.search(subject) or "x-ms-exchange-inbox-rules-loop" in headers
    ):
        # RFC 3834 3.3: responders send with a null envelope sender. A mail that an
        # Exchange rule forwards keeps a real sender, so it is not caught here.
        return AUTO_REPLY

    if any(name in headers for name in ("List-Id", "List-Unsubscribe", "List-Post")):
        return MAILING_LIST
    if precedence == "list":
        return MAILING_LIST
    if precedence in ("bulk", "junk"):
        envelope = " ".join(
            [return_path, headers.text("Sender"), " ".join(headers.all("X-Mailing-List"))]
        ).lower()
        if "mailing-list" in headers or "x-mailing-list" in headers:
            return MAILING_LIST
        if _LIST_OWNER_RE.search(envelope):
            return MAILING_LIST
        return AUTO_REPLY
    return None


# --------------------------------------------------------------------------- entry point


def _prepare(raw: bytes, defects: list[str]) -> tuple[bytes, str]:
    """Strip NULs and leading blank lines, make CR-only input LF; pick the linesep."""
    if b"\x00" in raw:
        defects.append("NUL bytes removed")
        raw = raw.replace(b"\x00", b"")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    stripped = raw.lstrip(b"\r\n\t ")
    if stripped is not raw and len(stripped) != len(raw):
        defects.append("blank lines before the headers removed")
        raw = stripped
    if b"\r" in raw and b"\n" not in raw:
        # Classic Mac OS line ends: the parser would see one endless header line.
        defects.append("CR-only line endings converted to LF")
        raw = raw.replace(b"\r", b"\n")
    linesep = "\r\n" if b"\r\n" in raw[:4096] else "\n"
    return raw, linesep


def _parse_tree(raw: bytes, defects: list[str]) -> Message | None:
    for pol in (_POLICY, email_policy.compat32):
        try:
            return BytesParser(policy=pol).parsebytes(raw)
        except Exception as exc:
            defects.append(f"parse with {pol.__class__.__name__} failed: {type(exc).__name__}")
    return None


def _collect_defects(msg: Message, defects: list[str]) -> None:
    try:
        for part in msg.walk():
            for defect in getattr(part, "defects", []) or []:
                defects.append(f"{_content_type(part)}: {type(defect).__name__}")
    except Exception as exc:
        defects.append(f"defect walk failed: {type(exc).__name__}")


def _fallback_message(raw: bytes, defects: list[str]) -> ParsedMessage:
    text = _normalise_newlines(_clean_text(_decode_bytes(raw, None))).strip()
    return ParsedMessage(text=text, defects=defects)


_CID_URL_RE = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)


def _cid_references(html: str) -> set[str]:
    """Content-IDs that the HTML refers to. RFC 2392: cid URLs are %-encoded."""
    return {unquote(htmlmod.unescape(ref)).strip("<>").lower() for ref in _CID_URL_RE.findall(html)}


def _generated_name(content_type: str, index: int, in_report: bool) -> str:
    stem = _GENERATED_STEMS.get(content_type)
    if stem == "forwarded-message" and in_report:
        stem = "original-message"
    if stem is None:
        stem = "image" if content_type.startswith("image/") else "attachment"
        stem = f"{stem}-{index}"
    return stem + _extension_for(content_type)


def _build_attachments(
    items: list[dict], html: str, walk: _Walk
) -> tuple[list[ParsedAttachment], str]:
    """ParsedAttachments with names and inline flags; also any text found in TNEF."""
    expanded: list[dict] = []
    tnef_text = ""
    for item in items:
        is_tnef = item["content_type"] in _TNEF_TYPES or item["filename"].lower() == "winmail.dat"
        unpacked = _unpack_tnef(item["payload"], walk.defects) if is_tnef else None
        if unpacked is None or not unpacked[0]:
            expanded.append(item)
            if unpacked is not None:
                tnef_text = tnef_text or unpacked[1]
            continue
        files, tnef_body = unpacked
        tnef_text = tnef_text or tnef_body
        for inner in files:
            name = _safe_filename(inner["filename"])
            guessed = _MIMETYPES.guess_type(name)[0] if name else None
            expanded.append(
                {
                    "filename": name,
                    "content_type": guessed or "application/octet-stream",
                    "payload": inner["payload"],
                    "content_id": None,
                    "in_report": False,
                }
            )
    referenced = _cid_references(html)
    result: list[ParsedAttachment] = []
    used: set[str] = set()
    for index, item in enumerate(expanded, start=1):
        content_type = item["content_type"]
        name = item["filename"] or _generated_name(content_type, index, item["in_report"])
        if name in used and not item["filename"]:
            stem, dot, ext = name.rpartition(".")
            name = f"{stem}-{index}.{ext}" if dot else f"{name}-{index}"
        used.add(name)
        cid = item["content_id"]
        inline = bool(cid) and cid.lower() in referenced
        payload = item["payload"]
        result.append(
            ParsedAttachment(
                filename=name,
                content_type=content_type,
                payload=payload,
                content_id=cid,
                inline=inline,
                size=len(payload),
            )
        )
    return result, tnef_text


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one raw RFC 5322 message. Never raises; problems go to ``defects``."""
    defects: list[str] = []
    # Headers are remembered within one message only: no mail lingers in memory, and a
    # benchmark replaying the same messages measures no more than real traffic gets.
    _parsed_header.cache_clear()
    try:
        return _parse(raw, defects)
    except Exception as exc:  # the promise: ingest must always get a result
        defects.append(f"parser error {type(exc).__name__}: {exc}"[:300])
        try:
            data = raw if isinstance(raw, bytes | bytearray) else str(raw).encode()
            return _fallback_message(bytes(data), defects)
        except Exception:
            return ParsedMessage(defects=defects)


def _parse(raw: bytes, defects: list[str]) -> ParsedMessage:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    raw, linesep = _prepare(bytes(raw), defects)
    if not raw.strip():
        defects.append("empty message")
        return ParsedMessage(defects=defects)
    msg = _parse_tree(raw, defects)
    if msg is None:
        return _fallback_message(raw, defects)
    _collect_defects(msg, defects)
    headers = _Headers(msg)
    if not headers.all("From") and not headers.all("Subject") and not headers.all("Date"):
        defects.append("no From, Subject or Date header: probably not an e-mail")

    walk = _Walk(linesep, defects)
    try:
        _walk(msg, walk)
    except Exception as exc:
        defects.append(f"MIME walk failed ({type(exc).__name__}): retried with compat32")
        walk = _Walk(linesep, defects)
        try:
            _walk(BytesParser(policy=email_policy.compat32).parsebytes(raw), walk)
        except Exception as exc2:
            defects.append(f"MIME walk failed again ({type(exc2).__name__}): raw text kept")
            walk = _Walk(linesep, defects)
            walk.plain.append(_decode_bytes(raw.split(b"\n\n", 1)[-1], None))

    html_raw = "\n".join(h for h in walk.html if h.strip())
    html = sanitize_html(html_raw)
    attachments, tnef_text = _build_attachments(walk.attachments, html, walk)
    plain = "\n\n".join(p.strip("\n") for p in walk.plain if p.strip())
    text = plain if plain.strip() else html_to_text(html_raw) if html_raw else ""
    if not text.strip() and tnef_text:
        text = tnef_text
    text = text.rstrip().lstrip("\n")

    from_pairs = _address_pairs(headers.all("From"), local_ok=True) or _address_pairs(
        headers.all("Sender")
    )
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    if not from_pairs and headers.all("From"):
        # "MAILER-DAEMON <>": keep the words, so a person (and classify_auto) sees them.
        from_name = _unstructured(_MSGID_RE.sub("", headers.first("From") or "")).strip('"')
        defects.append("From header has no address")
    subject = _unstructured(headers.first("Subject"))

    message_ids = parse_message_ids(headers.first("Message-ID"))
    message_id = message_ids[0] if message_ids else None
    if message_id is None and headers.first("Message-ID"):
        bare = _header_text(headers.first("Message-ID") or "").strip()
        message_id = bare if bare and not any(c.isspace() for c in bare) else None

    date = _parse_date(headers.first("Date"))
    if date is None:
        if headers.first("Date"):
            defects.append("Date header unparseable")
        # The newest Received header (RFC 5321 4.4) ends with when it arrived.
        for received in headers.all("Received"):
            date = _parse_date(_unfold(received).rpartition(";")[2])
            if date:
                break

    auto_kind = _classify_auto(
        headers,
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        bounce=walk.bounce,
    )
    bounced_ids: list[str] = []
    bounce_recipients: list[str] = []
    bounce_status = None
    if auto_kind == BOUNCE:
        texts = [text] + [
            _decode_bytes(a.payload[:262144], None)
            for a in attachments
            if a.content_type.startswith("text/")
        ]
        bounced_ids = _bounced_ids(walk.bounce, texts, message_id)
        bounce_recipients, bounce_status = _dsn_details(walk.bounce.dsn_text)
        if not bounce_recipients:
            bounce_recipients = [a for _, a in _address_pairs(headers.all("X-Failed-Recipients"))]
        if not bounce_recipients:
            # qmail and Postfix texts list each failed recipient as "<user@host>:".
            bounce_recipients = _dedupe(
                [a.lower() for a in _TEXT_RECIPIENT_RE.findall(text) if a.lower() != from_address]
            )

    list_id = None
    if headers.first("List-Id"):
        ids = parse_message_ids(headers.first("List-Id"))  # RFC 2919: "phrase <list-id>"
        list_id = ids[0] if ids else _unstructured(headers.first("List-Id")) or None
    auto_submitted = headers.text("Auto-Submitted") or None

    return ParsedMessage(
        message_id=message_id,
        in_reply_to=parse_message_ids(headers.first("In-Reply-To")),
        references=parse_message_ids(" ".join(headers.all("References"))),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=_dedupe([a for _, a in _address_pairs(headers.all("Reply-To"))]),
        to=_dedupe([a for _, a in _address_pairs(headers.all("To"))]),
        cc=_dedupe([a for _, a in _address_pairs(headers.all("Cc"))]),
        delivered_to=_dedupe([a for _, a in _address_pairs(headers.all("Delivered-To"))]),
        x_original_to=_dedupe(
            [
                a
                for name in ("X-Original-To", "X-Gm-Original-To")
                for _, a in _address_pairs(headers.all(name))
            ]
        ),
        date=date,
        text=text,
        html=html,
        attachments=attachments,
        auto_kind=auto_kind,
        auto_submitted=auto_submitted,
        list_id=list_id,
        bounced_message_ids=bounced_ids,
        bounce_recipients=bounce_recipients,
        bounce_status=bounce_status,
        defects=defects,
    )


# --------------------------------------------------------------------------- header peek


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


# --------------------------------------------------------------------------- ticket tags


def ticket_tag_in(subject: str, prefix: str = "Ticket#") -> str | None:
    """The ticket number ("2026-000123") tagged in a subject, or None.

    Finds ``[Ticket#2026-000123]`` anywhere (after "RE: AW: I:" and the like),
    tolerating case, spaces inside the tag, full-width characters (NFKC), a lost
    pair of brackets and numbers longer than six digits. The first tag wins: when
    a subject carries two, the first is the one the desk wrote most recently.
    """
    if not subject:
        return None
    text = unicodedata.normalize("NFKC", subject)
    match = _tag_pattern(prefix).search(text)
    if not match:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def _tag_pattern(prefix: str) -> re.Pattern:
    # Each character of the prefix may be followed by spaces: "Ticket #", "ticket# ".
    letters = [re.escape(ch) for ch in prefix.strip() if not ch.isspace()]
    prefix_re = r"\s*".join(letters)
    return re.compile(
        rf"(?<![\w#])(?:\[\s*)?{prefix_re}\s*(\d{{4}})\s*[-‐‑–—]\s*(\d{{6,}})(?!\d)(?:\s*\])?",
        re.IGNORECASE,
    )


def strip_ticket_tags(subject: str, prefix: str = "Ticket#") -> str:
    """``subject`` without any ``[Ticket#...]`` tag that :func:`ticket_tag_in` finds."""
    text = unicodedata.normalize("NFKC", subject or "")
    return _WS_RE.sub(" ", _tag_pattern(prefix).sub(" ", text)).strip()


# --------------------------------------------------------------------------- mbox

# RFC 4155: "From " sender, then an asctime-like date: "From a@b Thu Sep 18 17:54:04 2008".
_FROM_LINE_RE = re.compile(rb"From \S+[ \t]+.*\b\d{1,2}:\d{2}\b.*\b\d{4}\b")
_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_ESCAPED_FROM_RE = re.compile(rb"^>(>*From )", re.MULTILINE)


def is_mbox(raw: bytes) -> bool:
    """True when ``raw`` is a Unix mbox (RFC 4155): it starts with a "From " line
    followed by a header line. A single message saved with its From_ line counts
    too, and then :func:`iter_mbox` yields just that message."""
    lines = raw.lstrip(b"\r\n")[:2048].splitlines()
    return (
        len(lines) > 1
        and bool(_FROM_LINE_RE.match(lines[0]))
        and bool(_HEADER_LINE_RE.match(lines[1]))
    )


def iter_mbox(raw: bytes) -> Iterator[bytes]:
    """Yield the raw messages of an mbox (RFC 4155), From_ lines removed.

    A From_ line starts a message only at the start of the file or after a blank
    line, as mboxo/mboxrd writers guarantee. Quoted ``>From `` lines are unescaped
    the mboxrd way (one ``>`` removed). Each message loses the blank line that
    separated it from the next. CRLF files keep their CRLF.
    """
    lines = raw.splitlines(keepends=True)
    current: list[bytes] = []
    started = False
    previous_blank = True
    for line in lines:
        if previous_blank and _FROM_LINE_RE.match(line):
            if started:
                yield _finish_mbox_message(current)
            current = []
            started = True
            previous_blank = False
            continue
        current.append(line)
        previous_blank = line in (b"\n", b"\r\n", b"\r")
    if started:
        yield _finish_mbox_message(current)
    elif raw.strip():
        yield raw


def _finish_mbox_message(lines: list[bytes]) -> bytes:
    if lines and lines[-1] in (b"\n", b"\r\n", b"\r"):
        lines = lines[:-1]
    return _ESCAPED_FROM_RE.sub(rb"\1", b"".join(lines))


def split_mbox(raw: bytes) -> list[bytes]:
    """All messages of an mbox, as a list (see :func:`iter_mbox`)."""
    return list(iter_mbox(raw))


def split_messages(raw: bytes) -> list[bytes]:
    """An uploaded file as raw messages: the messages of an mbox, else ``[raw]``."""
    return split_mbox(raw) if is_mbox(raw) else [raw]
