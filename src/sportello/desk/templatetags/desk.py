"""How the desk writes figures: money ``30,00 €``, durations ``12 min``, local times."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sportello.staff import roles

from ..models import DeskPreference

register = template.Library()


@register.filter
def euro(value) -> str:
    """``Decimal("30")`` -> ``30,00 €`` in Italian, ``€30.00`` in English."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    if (get_language() or "it").startswith("en"):
        return f"€{text}"
    return f"{text}\u00a0€"


@register.filter
def duration(seconds) -> str:
    """Seconds as a person reads them: ``12 min``, ``5 min 20 s``, ``1 h 05 min``."""
    if seconds in (None, ""):
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    if secs:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def local(value, fmt: str = "d/m/Y H:i") -> str:
    """An aware datetime in the site's time zone (Europe/Rome)."""
    if not value:
        return ""
    from django.utils.dateformat import format as date_format

    return date_format(timezone.localtime(value), fmt)


@register.filter
def isoformat(value) -> str:
    return value.isoformat() if value else ""


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed (empty removes them)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def can_supervise(user) -> bool:
    return roles.can_supervise(user)


@register.filter
def can_bill(user) -> bool:
    return roles.can_bill(user)


@register.filter
def shortcuts_on(user) -> bool:
    """The agent's choice; on unless they switched the single-key shortcuts off."""
    agent = roles.agent_for(user)
    if agent is None:
        return False
    return DeskPreference.objects.filter(agent=agent, shortcuts=False).first() is None


@register.simple_tag
def language_choices(user) -> list[tuple[str, str, bool]]:
    """The desk's language menu: ``(value, label, chosen)``; ``""`` is the site's default.

    Each language is named in itself (Italiano, English), so an agent finds their own
    whatever the page's language."""
    agent = roles.agent_for(user)
    chosen = agent.language if agent is not None else ""
    default = translation.get_language_info(settings.LANGUAGE_CODE)["name_local"]
    choices = [("", _("Site default (%(language)s)") % {"language": default}, not chosen)]
    for code, _name in settings.LANGUAGES:
        info = translation.get_language_info(code)
        choices.append((code, info["name_local"], chosen == code))
    return choices
