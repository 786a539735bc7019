"""Figures of statements as people read them: ``1.234,50 €`` in Italian."""

from decimal import Decimal

from django import template
from django.utils import translation

register = template.Library()


@register.filter
def euro(value) -> str:
    if value is None or value == "":
        return ""
    text = f"{Decimal(value):,.2f}"
    if (translation.get_language() or "it").startswith("it"):
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return f"{text} €"


@register.filter
def percent(value) -> str:
    text = f"{Decimal(value).normalize():f}"
    if (translation.get_language() or "it").startswith("it"):
        text = text.replace(".", ",")
    return f"{text}%"
