"""Charsets and text clean-up: bytes to text without raising, whatever the label says."""

from __future__ import annotations

import codecs
import re

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


_WS_RE = re.compile(r"\s+")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
