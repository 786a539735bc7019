"""Template filters of the portal: sanitised message HTML, phone numbers, money."""

from __future__ import annotations

from decimal import Decimal

import nh3
import phonenumbers
from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from sportello.tariff.text import format_money, language_of

register = template.Library()

# What a message may keep of its HTML when shown to a customer. No images (they could
# load third-party content), no styles, no forms, no scripts: nh3 drops the rest.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


@register.filter
def message_html(value: str) -> str:
    """Sanitise stored message HTML again at render time: defence in depth (STYLE 2.8)."""
    cleaned = nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above


@register.filter
def phone(value: str) -> str:
    """+390744752000 -> +39 0744 752000."""
    try:
        number = phonenumbers.parse(value or "", "IT")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def phone_uri(value: str) -> str:
    return "tel:" + "".join(c for c in (value or "") if c.isdigit() or c == "+")


@register.filter
def euro(value) -> str:
    """Money as every page and charge explanation writes it: 1.234,50 € in Italian,
    €1,234.50 in English (one formatter, the tariff engine's; STYLE 2.10)."""
    if value is None or value == "":
        return ""
    return format_money(Decimal(str(value)), language_of(get_language()), nbsp=True)


@register.filter
def filesize(value: int) -> str:
    value = int(value or 0)
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value / (1024 * 1024):.1f} MB"
