"""What a stored attachment may be shown as: the one rule for the desk and the portal.

A sender declares any type it likes ("image/png" on an HTML page); only the bytes tell.
A browser shows inline only raster images whose first bytes are that format's
signature (an SVG runs scripts, so it is never one); anything else is a download.
"""

from __future__ import annotations

SAFE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
HEAD_BYTES = 16


def is_safe_image(*, content_type: str, head: bytes) -> bool:
    """``head``: the file's first ``HEAD_BYTES`` bytes."""
    if content_type not in SAFE_IMAGE_TYPES:
        return False
    if content_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return any(head.startswith(m) for m in _MAGIC[content_type])
