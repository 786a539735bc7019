"""Attachments as the desk keeps them: names for the unnamed, ``inline`` for the parts
the HTML shows, a winmail.dat unpacked."""

from __future__ import annotations

import html as htmlmod
import mimetypes
import re
from urllib.parse import unquote

from .mime import _safe_filename, _Walk
from .tnef import _TNEF_TYPES, _unpack_tnef
from .values import ParsedAttachment

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


def _extension_for(content_type: str) -> str:
    if content_type in _EXTENSIONS:
        return _EXTENSIONS[content_type]
    if content_type.startswith("message/"):
        return ".txt"
    return _MIMETYPES.guess_extension(content_type) or ".bin"


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
