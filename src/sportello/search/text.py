"""Words, stems, queries and highlighted snippets: the text side of search, no ORM.

Both databases see the same words: ``words()`` splits text on anything that is not a
letter or a digit (the underscore included, as FTS5's ``unicode61`` tokenizer does), so
PostgreSQL's parser never turns ``mario@example.org`` or ``fattura_2026.pdf`` into one
opaque token that a search for ``mario`` or ``fattura`` would miss.

Stemming: PostgreSQL stems with its own Snowball dictionaries (``italian_stem`` and
``english_stem`` behind ``unaccent``, see the migration); SQLite's FTS5 has no Italian
stemmer, so on SQLite the index holds the stems computed here by the same Snowball
algorithms (``snowballstemmer``), and so does the query. Every word is folded first
(lower case, accents removed), then stemmed as Italian and as English: "perché" and
"perche" give one stem, "stampanti" and "stampante" give ``stampant``, "printers" and
"printer" give ``printer``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from django.utils.html import escape

# Letters and digits, not the underscore: the same split as FTS5's unicode61.
WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

# Input is cut here: a query is a few words, never a pasted e-mail.
MAX_QUERY_CHARS = 256
MAX_TERMS = 12
# Longest word kept: longer runs (base64, hashes) match nothing useful.
MAX_WORD_CHARS = 64
# What one ticket's messages contribute to the index, in characters of indexed text
# (PostgreSQL's tsvector is capped at 1 MB; a ticket past this is still found by its
# subject, people, file names and the first 100,000 characters of its conversation).
MAX_BODY_CHARS = 100_000

_IT = snowballstemmer.stemmer("italian")
_EN = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower case without accents: "Perché" -> "perche" (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of ``text`` as typed (case and accents kept), in order."""
    return [w for w in WORD_RE.findall(text or "") if len(w) <= MAX_WORD_CHARS]


@lru_cache(maxsize=200_000)
def stems(word: str) -> tuple[str, ...]:
    """The Italian and English stems of one word, folded; one entry when they agree."""
    folded = fold(word)
    it = _IT.stemWord(folded)
    en = _EN.stemWord(folded)
    return (it,) if it == en else (it, en)


def stemmed(text: str) -> str:
    """Text as the SQLite index stores it: every stem of every word, space separated."""
    out: list[str] = []
    for w in words(text):
        out.extend(stems(w))
    return " ".join(out)


def plain(text: str) -> str:
    """Text as the PostgreSQL index reads it: the words only, space separated."""
    return " ".join(words(text))


@dataclass
class Query:
    """A parsed search box: what to look for, what to leave out, and the raw text."""

    raw: str
    terms: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.terms

    def stem_set(self) -> set[str]:
        return {s for t in self.terms for s in stems(t)}


def parse_query(raw: str) -> Query:
    """Read what a person typed; never fails.

    Syntax: words are ANDed; ``-word`` leaves out tickets with that word. Everything else
    (quotes, ``AND``/``OR``/``NOT``/``NEAR``, ``*``, ``:``, parentheses, a lone ``-``) is
    punctuation: it separates words and means nothing, so no input can break the query
    that the database runs. Input past 256 characters or 12 words is cut.
    """
    raw = (raw or "").replace("\x00", "").strip()
    if len(raw) > MAX_QUERY_CHARS:
        # Cut at a space when there is one: half a word would match nothing.
        cut = raw[: MAX_QUERY_CHARS + 1]
        raw = (cut.rsplit(None, 1)[0] if " " in cut else cut[:MAX_QUERY_CHARS]).strip()
    query = Query(raw=raw)
    for chunk in raw.split():
        negative = chunk.startswith("-") and len(chunk) > 1
        found = words(chunk)
        if not found:
            continue
        if negative:
            query.excluded.extend(found)
        else:
            query.terms.extend(found)
    # FTS operators typed as words are words here, since every term is quoted.
    query.terms = _unique(query.terms)[:MAX_TERMS]
    query.excluded = _unique(query.excluded)[:MAX_TERMS]
    return query


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = fold(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def fts5_match(query: Query) -> str:
    """An FTS5 MATCH expression over the stems: each term (Italian OR English stem), ANDed.

    Every stem is a double-quoted FTS5 string (a quote inside doubled), so nothing the user
    typed is read as FTS5 syntax.
    """

    def group(term: str) -> str:
        alternatives = " OR ".join(_fts5_string(s) for s in stems(term))
        return f"({alternatives})"

    positive = " AND ".join(group(t) for t in query.terms)
    for term in query.excluded:
        positive += f" NOT {group(term)}"
    return positive


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def highlight(text: str, stem_set: set[str], *, width: int = 180) -> tuple[str, bool]:
    """An HTML-escaped snippet of ``text`` around its first matching word, matches in
    ``<mark>``. Returns (html, matched). Without a match, the start of the text."""
    text = " ".join((text or "").split())
    spans = [
        (m.start(), m.end())
        for m in WORD_RE.finditer(text)
        if len(m.group()) <= MAX_WORD_CHARS and set(stems(m.group())) & stem_set
    ]
    if not spans:
        cut = text[:width]
        return escape(cut) + ("…" if len(text) > width else ""), False
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.find(" ", end)
        end = space if 0 <= space - end < 20 else end
    out = ["…"] if start else []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out), True
