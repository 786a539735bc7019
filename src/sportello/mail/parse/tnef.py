"""TNEF (``winmail.dat``): Outlook's wrapping of attachments and body, unpacked when the
optional ``tnefparse`` package is installed."""

from __future__ import annotations

from .charsets import _clean_text, _decode_bytes, _normalise_newlines
from .markup import html_to_text

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
