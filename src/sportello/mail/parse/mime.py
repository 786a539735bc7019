"""The MIME walk: which parts are the body (plain, HTML), which are attachments, and
what a bounce report is made of."""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import quopri
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import collapse_rfc2231_value

from .charsets import _WS_RE, _clean_text, _decode_bytes, _normalise_newlines, _resurrect
from .headers import _header_text, decode_encoded_words, parse_message_ids

_MAX_DEPTH = 40
_BODY_TYPES = ("text/plain", "text/html")


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
