"""The header's bell and the highlighted @mentions of internal notes."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .. import notify
from ..mentions import mentions_find

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    return notify.unread_count(user=user)


@register.simple_tag(takes_context=True)
def mention_text(context, text: str):
    """A note's text, escaped, line breaks kept, each @mention of an agent in a
    ``<mark class="mention">``: the same spans ``desk.notify`` notified. The agents are
    read once per page."""
    cache = context.render_context
    if "desk_mention_directory" not in cache:
        cache["desk_mention_directory"] = notify.mention_directory()
    text = text or ""
    parts, last = [], 0
    for mention in mentions_find(text, cache["desk_mention_directory"]):
        parts.append(escape(text[last : mention.start]))
        parts.append(f'<mark class="mention">{escape(text[mention.start : mention.end])}</mark>')
        last = mention.end
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts).replace("\r\n", "\n").replace("\n", "<br>"))  # noqa: S308


@register.simple_tag
def mention_choices(agents) -> str:
    """``username:Full name|...`` for the note box's completion (mentions.js); the
    template escapes it into the attribute."""
    return "|".join(
        f"{a.user.get_username()}:{a.user.get_full_name()}".replace("|", " ") for a in agents
    )
