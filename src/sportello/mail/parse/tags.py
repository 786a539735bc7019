"""Ticket tags in subjects: ``[Ticket#2026-000123]``."""

from __future__ import annotations

import re
import unicodedata

from .charsets import _WS_RE


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
