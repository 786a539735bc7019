"""Split a plain-text reply into what the sender wrote now and the quoted history.

Pure Python: no Django. ``split_reply(text)`` returns ``(new, history)``; the view
shows ``new`` and folds ``history`` (quoted mail, signature) behind a toggle.
Nothing is ever dropped: ``new + history`` holds every non-blank line of the input.

Conservative by design: a line only starts the history when it is an unmistakable
marker. When unsure, the text stays in ``new``, because hiding what a customer
wrote is worse than showing a quote twice. Recognised markers:

* attribution lines: Gmail/Apple/Thunderbird "On <date>, <name> wrote:", Italian
  "Il giorno <date> <name> ha scritto:", German "Am <date> schrieb <name>:",
  French "Le ... a écrit :", Spanish "El ... escribió:", Android/Russian
  "... написал:", also wrapped over up to three lines;
* Outlook separators "-----Original Message-----", "-----Messaggio originale-----",
  "-----Ursprüngliche Nachricht-----" and header blocks "From:/Sent:/To:/Subject:",
  "Da:/Inviato:/A:/Oggetto:", "Von:/Gesendet:/An:/Betreff:", "De :/Envoyé :/À :";
* a trailing block of ``>`` quoted lines (RFC 3676 4.5 quote marks);
* an RFC 3676 4.3 signature: the last "-- " line, followed by a short block;
* phone signatures: "Sent from my iPhone", "Inviato da iPhone", "Von meinem iPhone
  gesendet", "Get Outlook for Android"...

Never folded: a forwarded message ("---------- Forwarded message ----------",
"Inizio messaggio inoltrato:"): what follows is what the customer wants us to read.
Inline replies (quotes interleaved with answers) are kept whole.
"""

from __future__ import annotations

import re

__all__ = ["is_forward_subject", "split_reply"]

# Attribution verbs, at the end of the line: "wrote:", "ha scritto:", "a écrit :".
_ATTRIBUTION_END_RE = re.compile(
    r"(?:wrote|writes|ha scritto|hanno scritto|scrisse|schrieb|a écrit|escribió|escreveu|"
    r"schreef|skrev|napisał|kirjoitti|написал[аи]?|пишет)\s*:\s*$",
    re.IGNORECASE,
)
# German puts the verb first and the address last: "Am 3. März 2025 schrieb Max <m@x.de>:".
_ATTRIBUTION_VERB_RE = re.compile(
    r"\b(?:wrote|ha scritto|hanno scritto|schrieb|a écrit|escribió|escreveu|schreef|skrev)\b",
    re.IGNORECASE,
)
_ATTRIBUTION_START_RE = re.compile(
    r"^\s*(?:-+\s*)?(?:on|il|il giorno|am|le|el|em|op|den|dne|w dniu)\s", re.IGNORECASE
)
_OUTLOOK_SEPARATOR_RE = re.compile(
    r"^\s*-{2,}\s*(?:original message|messaggio originale|ursprüngliche nachricht|"
    r"originalnachricht|message d'origine|mensaje original|mensagem original|"
    r"oorspronkelijk bericht|původní zpráva)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM_RE = re.compile(r"^\s*\**\s*(?:from|da|von|de|van|od|от)\s*\**\s*:\s*\**\s*\S", re.I)
_HEADER_DATE_RE = re.compile(
    r"^\s*\**\s*(?:sent|date|data|inviato|gesendet|datum|envoyé|enviado|verzonden|"
    r"отправлено|дата)\s*\**\s*:",
    re.IGNORECASE,
)
_HEADER_OTHER_RE = re.compile(
    r"^\s*\**\s*(?:to|a|an|à|para|aan|cc|subject|oggetto|betreff|objet|asunto|assunto|"
    r"onderwerp|кому|тема)\s*\**\s*:",
    re.IGNORECASE,
)
_RULE_LINE_RE = re.compile(r"^\s*(?:_{5,}|-{5,}|={5,})\s*$")
_FORWARD_RE = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|messaggio inoltrato|weitergeleitete nachricht|"
    r"message transféré|mensaje reenviado|mensagem encaminhada|doorgestuurd bericht)\s*-{2,}|"
    r"begin forwarded message\s*:|inizio messaggio inoltrato\s*:|"
    r"anfang der weitergeleiteten nachricht\s*:|début du message réexpédié\s*:)\s*$",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE_RE = re.compile(
    r"^\s*(?:sent from|sent with|sent via|get|inviato da|inviato dal|inviato con|scarica|"
    r"von meinem|gesendet von|envoy[ée] de|enviado desde|enviado do)\b"
    r".{0,40}?\b(?:iphone|ipad|android|samsung|galaxy|smartphone|cellulare|telefono|mobile|"
    r"outlook|yahoo|mail|blackberry|huawei|xiaomi|tablet|gmail|sparrow|ios)\b.{0,40}$",
    re.IGNORECASE,
)
_FORWARD_SUBJECT_RE = re.compile(r"^\s*(?:fwd?|fw|i|wg|tr|rv|enc|doorst)\s*:", re.IGNORECASE)

# A signature longer than this is probably not one (RFC 3676 4.3 has no limit;
# the old netiquette said four lines).
_SIGNATURE_MAX_LINES = 10


def is_forward_subject(subject: str) -> bool:
    """True for "Fwd:", "Fw:", Italian "I:", German "WG:", French "TR:" subjects."""
    return bool(_FORWARD_SUBJECT_RE.match(subject or ""))


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _next_nonblank(lines: list[str], start: int) -> int | None:
    for i in range(start, len(lines)):
        if lines[i].strip():
            return i
    return None


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines (1-3) from ``i`` form an attribution line, or 0."""
    if not lines[i].strip() or _is_quoted(lines[i]):
        return 0
    for span in (1, 2, 3):
        chunk = lines[i : i + span]
        if len(chunk) < span or not all(line.strip() and not _is_quoted(line) for line in chunk):
            return 0
        if span > 1 and not (_ATTRIBUTION_START_RE.match(chunk[0]) or re.match(r"\s*\d", chunk[0])):
            return 0  # a wrapped attribution starts like one: "On ...", "Il ...", a date
        joined = " ".join(line.strip() for line in chunk)
        if len(joined) > 300:
            return 0
        nxt = _next_nonblank(lines, i + span)
        followed_by_quote = nxt is not None and _is_quoted(lines[nxt])
        # Without a quote below, it must look like a client wrote it: a time or an
        # address, not just "On 3 occasions the technician wrote:".
        dated = bool(_ATTRIBUTION_START_RE.match(joined)) and bool(
            re.search(r"\d{1,2}[:.]\d{2}|@", joined)
        )
        if _ATTRIBUTION_END_RE.search(joined) and (followed_by_quote or dated):
            return span
        if dated and joined.endswith(":") and _ATTRIBUTION_VERB_RE.search(joined):
            return span
    return 0


def _is_header_block(lines: list[str], i: int) -> bool:
    """Outlook's "From: / Sent: / To: / Subject:" block starting at line ``i``."""
    if not _HEADER_FROM_RE.match(lines[i]):
        return False
    window = lines[i + 1 : i + 7]
    has_date = any(_HEADER_DATE_RE.match(line) for line in window)
    others = sum(1 for line in window if _HEADER_OTHER_RE.match(line))
    return has_date and others >= 1


def _trailing_quote_start(lines: list[str], end: int) -> int | None:
    """Start of a ``>`` block that runs, blank lines aside, to ``end``."""
    start = None
    for i in range(end - 1, -1, -1):
        line = lines[i]
        if not line.strip():
            continue
        if _is_quoted(line):
            start = i
        else:
            break
    return start


def _history_start(lines: list[str]) -> int | None:
    """Index of the first line of the quoted history, or None."""
    limit = len(lines)
    for i, line in enumerate(lines):
        if _FORWARD_RE.match(line):
            limit = i  # a forwarded message is content: never fold it
            break
    for i in range(limit):
        line = lines[i]
        if _OUTLOOK_SEPARATOR_RE.match(line) or _attribution_span(lines, i):
            return i
        if _is_header_block(lines, i):
            # Outlook draws a rule of underscores above the header block.
            prev = i - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            return prev if prev >= 0 and _RULE_LINE_RE.match(lines[prev]) else i
    if limit == len(lines):
        return _trailing_quote_start(lines, limit)
    return None


def _signature_start(lines: list[str], end: int) -> int | None:
    """Index of an RFC 3676 signature separator or a phone signature before ``end``."""
    # Phone signatures: the last non-blank line(s) before the history.
    last = end - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    mobile = None
    if last >= 0 and len(lines[last]) <= 80 and _MOBILE_SIGNATURE_RE.match(lines[last]):
        mobile = last
    # RFC 3676 4.3: "-- " (dash dash space) alone on a line. Many clients drop the
    # space, so "--" counts too, but only when it is the only such line.
    separators = [i for i in range(end) if lines[i] == "-- "]
    if not separators:
        bare = [i for i in range(end) if lines[i].rstrip() == "--"]
        separators = bare if len(bare) == 1 else []
    signature = None
    if separators:
        candidate = separators[-1]
        body = [line for line in lines[candidate + 1 : end] if line.strip()]
        if 0 < len(body) <= _SIGNATURE_MAX_LINES:
            signature = candidate
    found = [i for i in (mobile, signature) if i is not None]
    return min(found) if found else None


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n").rstrip()


def split_reply(text: str, *, forwarded: bool = False) -> tuple[str, str]:
    """Split ``text`` into (new content, folded history and signature).

    ``forwarded=True`` (see :func:`is_forward_subject`) keeps everything in the
    new content: a forwarded mail is the content. When the split would leave no
    new content, the whole text is returned as new, unless the sender wrote below
    a quote (bottom-posting), which is then split the other way round.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if forwarded or not text.strip():
        return text.strip("\n").rstrip(), ""
    lines = [line.rstrip("\n") for line in text.split("\n")]
    lines = [line if line.strip() or not line else "" for line in lines]
    cut = _history_start(lines)
    end = len(lines) if cut is None else cut
    signature = _signature_start(lines, end)
    if signature is not None:
        end = signature
    new, history = _join(lines[:end]), _join(lines[end:])
    if new.strip():
        return new, history
    bottom = _bottom_post(lines)
    if bottom is not None:
        return bottom
    return _join(lines), ""


def _bottom_post(lines: list[str]) -> tuple[str, str] | None:
    """(new, history) for "attribution, quote, then the answer", else None."""
    first = _next_nonblank(lines, 0)
    if first is None:
        return None
    i = first + _attribution_span(lines, first)
    if i == first and not _is_quoted(lines[first]):
        return None
    while i < len(lines) and (not lines[i].strip() or _is_quoted(lines[i])):
        i += 1
    rest = lines[i:]
    if not any(line.strip() for line in rest) or any(_is_quoted(line) for line in rest):
        return None  # nothing after the quote, or quotes interleaved with answers
    end = len(lines)
    signature = _signature_start(lines, end)
    if signature is not None and signature > i:
        end = signature
    history = lines[first:i] + lines[end:]
    return _join(lines[i:end]), _join(history)
