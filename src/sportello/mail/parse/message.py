"""The entry point: raw bytes -> :class:`ParsedMessage`, in named steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser

from .attachments import _build_attachments
from .auto import _TEXT_RECIPIENT_RE, _bounced_ids, _classify_auto, _dsn_details
from .charsets import _clean_text, _decode_bytes, _normalise_newlines
from .headers import (
    _MSGID_RE,
    _POLICY,
    _address_pairs,
    _dedupe,
    _header_text,
    _Headers,
    _parse_date,
    _parsed_header,
    _unfold,
    _unstructured,
    parse_message_ids,
)
from .markup import html_to_text, sanitize_html
from .mime import _content_type, _Walk, _walk
from .values import BOUNCE, ParsedAttachment, ParsedMessage


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
    """The steps, in order; each one that works around a problem says so in ``defects``
    (their order is the order of the steps)."""
    raw, linesep = _prepare(_as_bytes(raw), defects)
    if not raw.strip():
        defects.append("empty message")
        return ParsedMessage(defects=defects)
    msg = _parse_tree(raw, defects)
    if msg is None:
        return _fallback_message(raw, defects)
    _collect_defects(msg, defects)
    headers = _Headers(msg)
    _note_missing_mail_headers(headers, defects)
    walk = _walk_mime(msg, raw, linesep, defects)
    body = _assemble_body(walk)
    from_name, from_address = _sender(headers, defects)
    subject = _unstructured(headers.first("Subject"))
    message_id = _own_message_id(headers)
    date = _sent_date(headers, defects)
    auto_kind = _classify_auto(
        headers,
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        bounce=walk.bounce,
    )
    bounce = (
        _bounce_report(headers, walk, body, message_id=message_id, from_address=from_address)
        if auto_kind == BOUNCE
        else _BounceReport()
    )
    return ParsedMessage(
        message_id=message_id,
        in_reply_to=parse_message_ids(headers.first("In-Reply-To")),
        references=parse_message_ids(" ".join(headers.all("References"))),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=_addresses(headers, "Reply-To"),
        to=_addresses(headers, "To"),
        cc=_addresses(headers, "Cc"),
        delivered_to=_addresses(headers, "Delivered-To"),
        x_original_to=_addresses(headers, "X-Original-To", "X-Gm-Original-To"),
        date=date,
        text=body.text,
        html=body.html,
        attachments=body.attachments,
        auto_kind=auto_kind,
        auto_submitted=headers.text("Auto-Submitted") or None,
        list_id=_list_id(headers),
        bounced_message_ids=bounce.message_ids,
        bounce_recipients=bounce.recipients,
        bounce_status=bounce.status,
        defects=defects,
    )


def _as_bytes(raw: bytes | bytearray | str) -> bytes:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return bytes(raw)


def _note_missing_mail_headers(headers: _Headers, defects: list[str]) -> None:
    if not headers.all("From") and not headers.all("Subject") and not headers.all("Date"):
        defects.append("no From, Subject or Date header: probably not an e-mail")


def _walk_mime(msg: Message, raw: bytes, linesep: str, defects: list[str]) -> _Walk:
    """The MIME walk over the parsed tree; if it fails, over a compat32 parse; if that
    fails too, everything after the header block is the plain-text body."""
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
    return walk


@dataclass(frozen=True, slots=True)
class _Body:
    text: str
    html: str
    attachments: list[ParsedAttachment]


def _assemble_body(walk: _Walk) -> _Body:
    """Text, sanitised HTML and attachments from what the walk found.

    The text is the plain parts; without any, the text of the HTML; without that, the
    body a winmail.dat carried.
    """
    html_raw = "\n".join(h for h in walk.html if h.strip())
    html = sanitize_html(html_raw)
    attachments, tnef_text = _build_attachments(walk.attachments, html, walk)
    plain = "\n\n".join(p.strip("\n") for p in walk.plain if p.strip())
    text = plain if plain.strip() else html_to_text(html_raw) if html_raw else ""
    if not text.strip() and tnef_text:
        text = tnef_text
    return _Body(text=text.rstrip().lstrip("\n"), html=html, attachments=attachments)


def _sender(headers: _Headers, defects: list[str]) -> tuple[str, str]:
    """(display name, address) of From, else of Sender."""
    from_pairs = _address_pairs(headers.all("From"), local_ok=True) or _address_pairs(
        headers.all("Sender")
    )
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    if not from_pairs and headers.all("From"):
        # "MAILER-DAEMON <>": keep the words, so a person (and classify_auto) sees them.
        from_name = _unstructured(_MSGID_RE.sub("", headers.first("From") or "")).strip('"')
        defects.append("From header has no address")
    return from_name, from_address


def _own_message_id(headers: _Headers) -> str | None:
    """The Message-ID; an id without angle brackets counts when it has no spaces."""
    message_ids = parse_message_ids(headers.first("Message-ID"))
    message_id = message_ids[0] if message_ids else None
    if message_id is None and headers.first("Message-ID"):
        bare = _header_text(headers.first("Message-ID") or "").strip()
        message_id = bare if bare and not any(c.isspace() for c in bare) else None
    return message_id


def _sent_date(headers: _Headers, defects: list[str]) -> datetime | None:
    """The Date header, else when the newest Received header says it arrived."""
    date = _parse_date(headers.first("Date"))
    if date is None:
        if headers.first("Date"):
            defects.append("Date header unparseable")
        # The newest Received header (RFC 5321 4.4) ends with when it arrived.
        for received in headers.all("Received"):
            date = _parse_date(_unfold(received).rpartition(";")[2])
            if date:
                break
    return date


@dataclass(frozen=True, slots=True)
class _BounceReport:
    message_ids: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    status: str | None = None


def _bounce_report(
    headers: _Headers, walk: _Walk, body: _Body, *, message_id: str | None, from_address: str
) -> _BounceReport:
    """What a bounce says: the mail that did not arrive, who did not get it, and why.

    Recipients come from the DSN fields, else Exim's X-Failed-Recipients, else the
    "<user@host>:" lines that qmail and Postfix write in the text.
    """
    texts = [body.text] + [
        _decode_bytes(a.payload[:262144], None)
        for a in body.attachments
        if a.content_type.startswith("text/")
    ]
    bounced_ids = _bounced_ids(walk.bounce, texts, message_id)
    recipients, status = _dsn_details(walk.bounce.dsn_text)
    if not recipients:
        recipients = [a for _, a in _address_pairs(headers.all("X-Failed-Recipients"))]
    if not recipients:
        # qmail and Postfix texts list each failed recipient as "<user@host>:".
        recipients = _dedupe(
            [a.lower() for a in _TEXT_RECIPIENT_RE.findall(body.text) if a.lower() != from_address]
        )
    return _BounceReport(message_ids=bounced_ids, recipients=recipients, status=status)


def _addresses(headers: _Headers, *names: str) -> list[str]:
    """The addresses of the headers ``names``, in order, each once."""
    return _dedupe([a for name in names for _, a in _address_pairs(headers.all(name))])


def _list_id(headers: _Headers) -> str | None:
    if not headers.first("List-Id"):
        return None
    ids = parse_message_ids(headers.first("List-Id"))  # RFC 2919: "phrase <list-id>"
    return ids[0] if ids else _unstructured(headers.first("List-Id")) or None
