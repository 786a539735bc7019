"""HTML bodies: readable plain text from them (:func:`html_to_text`) and HTML safe to
show inside Sportello's pages (:func:`sanitize_html`)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from .charsets import _WS_RE, _clean_text


class _TextExtractor(HTMLParser):
    """Plain text from HTML: paragraphs, line breaks, lists, links and quotes kept."""

    _BLOCKS = frozenset(
        "address article aside center dd div dl dt fieldset figcaption figure footer form "
        "h1 h2 h3 h4 h5 h6 header main nav ol section table tbody thead tfoot ul caption".split()
    )
    _PARAGRAPHS = frozenset("p h1 h2 h3 h4 h5 h6 table ul ol dl pre hr".split())
    _SKIP = frozenset("script style title noscript template head object iframe svg".split())
    _LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:", "ftp://")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.link: tuple[str, list[str]] | None = None
        self.list_counters: list[int | None] = []

    # -- line model
    def _flush(self) -> None:
        self.lines.append((self.depth, "".join(self.current).rstrip()))
        self.current = []

    def _break(self, blank_lines: int = 0) -> None:
        if "".join(self.current).strip():
            self._flush()
        else:
            self.current = []
        if not self.lines:
            return
        trailing = 0
        for _, text in reversed(self.lines):
            if text:
                break
            trailing += 1
        while trailing < blank_lines:
            self.lines.append((self.depth, ""))
            trailing += 1

    def _write(self, text: str) -> None:
        if self.link is not None:
            self.link[1].append(text)
        self.current.append(text)

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip += 1
            return
        if tag == "body":
            self.skip = 0
        if self.skip:
            return
        attributes = {k: (v or "") for k, v in attrs}
        if tag == "br":
            self._flush()
        elif tag == "blockquote":
            self._break(0)
            self.depth += 1
        elif tag in ("ul", "ol"):
            self._break(1 if not self.list_counters else 0)
            self.list_counters.append(0 if tag == "ol" else None)
        elif tag == "li":
            self._break(0)
            indent = "  " * max(len(self.list_counters) - 1, 0)
            counter = self.list_counters[-1] if self.list_counters else None
            if counter is None:
                self._write(f"{indent}- ")
            else:
                self.list_counters[-1] = counter + 1
                self._write(f"{indent}{counter + 1}. ")
        elif tag == "pre":
            self._break(1)
            self.pre += 1
        elif tag == "hr":
            self._break(1)
        elif tag in self._PARAGRAPHS:
            self._break(1)
        elif tag in self._BLOCKS or tag == "tr":
            self._break(0)
        elif tag in ("td", "th"):
            if "".join(self.current).strip():
                self._write("  ")
        elif tag == "a":
            href = attributes.get("href", "").strip()
            self.link = (href, [])
        elif tag == "img":
            alt = _WS_RE.sub(" ", attributes.get("alt", "")).strip()
            if alt:
                self._write(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip = max(self.skip - 1, 0)
            return
        if self.skip:
            return
        if tag == "blockquote":
            self._break(0)
            self.depth = max(self.depth - 1, 0)
        elif tag in ("ul", "ol"):
            if self.list_counters:
                self.list_counters.pop()
            self._break(1 if not self.list_counters else 0)
        elif tag == "pre":
            self._break(1)
            self.pre = max(self.pre - 1, 0)
        elif tag in self._PARAGRAPHS:
            self._break(1)
        elif tag in self._BLOCKS or tag in ("tr", "li"):
            self._break(0)
        elif tag == "a" and self.link is not None:
            href, parts = self.link
            self.link = None
            label = "".join(parts).strip()
            shown = href[7:] if href.lower().startswith("mailto:") else href
            if href.lower().startswith(self._LINK_SCHEMES) and shown not in label:
                self.current.append(f" ({shown})" if label else shown)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            chunks = data.replace("\r\n", "\n").split("\n")
            for i, chunk in enumerate(chunks):
                if i:
                    self._flush()
                self._write(chunk)
            return
        text = _WS_RE.sub(" ", data.replace("\xa0", " "))
        if not "".join(self.current).strip():
            text = text.lstrip()
        elif self.current and self.current[-1].endswith(" "):
            text = text.lstrip()
        if text:
            self._write(text)

    def result(self) -> str:
        self._break(0)
        out: list[str] = []
        blank = 0
        for depth, text in self.lines:
            text = text.replace("\xa0", " ").rstrip()
            if not text.strip(_INVISIBLE + " \t"):
                text = ""
            if not text:
                blank += 1
                if blank > 1:
                    continue
            else:
                blank = 0
            prefix = ">" * depth + " " if depth else ""
            out.append((prefix + text).rstrip())
        return "\n".join(out).strip("\n")


_INVISIBLE = "\u200b\u200c\u200e\u200f\ufeff\u034f\u00ad"


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (stdlib html.parser, never raises).

    Block elements become line breaks, paragraphs blank lines, list items ``- ``
    or ``1. ``, links ``label (url)``, and blockquotes ``> `` prefixes, so that
    :func:`sportello.tickets.quotes.split_reply` can fold the quoted part.
    """
    parser = _TextExtractor()
    try:
        parser.feed(_clean_text(html))
        parser.close()
    except Exception:  # html.parser is lenient, but keep the promise
        return _WS_RE.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
    return parser.result()


# Tags: nh3's defaults (formatting, lists, tables, images) plus <font>, which mail
# clients still write. Never: script, style, iframe, object, form, input, svg, math.
_HTML_TAGS = set(nh3.ALLOWED_TAGS) | {"font"}
_HTML_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
_HTML_ATTRIBUTES.setdefault("*", set()).update({"style", "title", "dir", "lang"})
_HTML_ATTRIBUTES.setdefault("font", set()).update({"color", "face", "size"})
for _tag in ("table", "td", "th", "tr", "tbody", "thead", "tfoot"):
    _HTML_ATTRIBUTES.setdefault(_tag, set()).update(
        {"width", "height", "valign", "bgcolor", "border", "cellpadding", "cellspacing"}
    )
_HTML_ATTRIBUTES["img"].update({"title"})
# Presentational CSS only: no position/display (overlays, hidden text), no url()
# properties (background, list-style-image: remote loads).
_STYLE_PROPERTIES = set(
    """color background-color font font-family font-size font-style font-weight line-height
    text-align text-decoration text-indent vertical-align white-space width height max-width
    margin margin-top margin-bottom margin-left margin-right padding padding-top padding-bottom
    padding-left padding-right border border-top border-bottom border-left border-right
    border-collapse border-color border-style border-width""".split()
)
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_DATA_IMAGE_RE = re.compile(r"data:image/(png|jpe?g|gif|webp|bmp);base64,", re.IGNORECASE)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "src":
        # Only images that travel with the mail: cid: parts (RFC 2392) and inline
        # data: rasters. A remote image is a tracking beacon; SVG can carry script.
        lowered = value.strip().lower()
        if lowered.startswith("cid:") or _DATA_IMAGE_RE.match(lowered):
            return value
        return None
    if attribute == "href":
        # data: and cid: URLs are for images, not for navigation (phishing pages).
        if value.strip().lower().startswith(("data:", "cid:")):
            return None
    return value


def sanitize_html(html: str) -> str:
    """HTML safe to show inside Sportello's pages (nh3/ammonia, never raises).

    Kept: text formatting, lists, tables, links (http, https, mailto, tel; with
    ``rel="noopener noreferrer nofollow"``), presentational inline CSS, images
    whose source is a ``cid:`` part or a ``data:image/...`` raster.
    Removed: scripts, styles, event handlers, forms, frames, ``javascript:`` and
    relative URLs (they would point at Sportello itself), remote images (they
    report to the sender that the desk opened the mail), ids and classes (they
    could collide with the page's own).
    """
    if not html.strip():
        return ""
    try:
        return nh3.clean(
            _clean_text(html),
            tags=_HTML_TAGS,
            clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
            attributes=_HTML_ATTRIBUTES,
            attribute_filter=_filter_attribute,
            strip_comments=True,
            link_rel="noopener noreferrer nofollow",
            url_schemes=_URL_SCHEMES,
            filter_style_properties=_STYLE_PROPERTIES,
            url_relative="deny",
        ).strip()
    except Exception:  # nh3 is robust; if it ever fails, show no HTML at all
        return ""
