"""Unix mbox files (RFC 4155): one upload, many messages."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
